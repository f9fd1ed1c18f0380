"""Stacked MNIST tuning on seed 0: what a configuration (dcgan unless `--model` says otherwise)
reaches half-way and at the end.

Seed 0 is the tuning seed of benchmarks/stacked_modes.py: configurations are
compared here and the chosen one runs there at seeds no run has used. Beside
modes and KL, each reading records the share of channel digits the judge reads
with a top probability under 0.9 (`unsure`; real stacked digits about 4%), the
sign of digits too malformed for their histogram to say much.

    python benchmarks/stacked_tuning.py --tag wide128 --options '{"filters": 128}'
    python benchmarks/stacked_tuning.py --tag mnist1 --data mnist_5k   # one digit per image, for comparison
    python benchmarks/stacked_tuning.py --tag real --real              # real stacked images, the same reading
    python benchmarks/stacked_tuning.py --tag clusters100 --model cluster_cgan --options '{"clusters": 100}'

Runs one single-threaded training; appends one record per reading to
docs/results/stacked_tuning.jsonl as it goes (a failed run, its error), and
rewrites docs/results/stacked_tuning.md from the records.
"""

import argparse
import json
import pathlib
import signal
import time

import numpy as np
from reporting import keep, now_stamp, read_records

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
RECORD, REPORT = RESULTS / "stacked_tuning.jsonl", RESULTS / "stacked_tuning.md"
SEED = 0
SAMPLES = 26_000


def channels(kls, one_digit):
    """A reading's per-channel KLs as a table cell; one for a one-digit set; "-" where not recorded
    (the sure digits' KLs are recorded from 2026-12-06 on)."""
    if kls is None:
        return "-"
    return str(kls[0]) if one_digit else ", ".join(str(k) for k in kls)


def write_report(rows):
    runs = {(r["tag"], r["data"], r["started"]) for r in rows}
    failed = {(r["tag"], r["data"], r["started"]) for r in rows if "error" in r}
    lines = [
        "# Stacked MNIST tuning (seed 0)",
        "",
        "Command: `python benchmarks/stacked_tuning.py --tag TAG [--model M] --options JSON [--batch-size B] "
        "[--data mnist_5k]`, one single-threaded training per run (dcgan unless the options column names another "
        "model), two runs at a time on 2 cores. Seed 0 chooses configurations "
        "for benchmarks/stacked_modes.py and is reported nowhere as fresh. Each run is read half-way and at the end: "
        f"{SAMPLES:,} samples, each channel classified by the shipped MNIST judge; `unsure` is the share of channel "
        "digits it reads with a top probability under 0.9; the rows `real` read the data's own images the same way.",
        "",
        f"Runs attempted: {len(runs)}; failed: {len(failed)}; reported: {len(runs) - len(failed)}.",
        "",
        "| tag | data | options (dcgan's unless they name a model) | batch | steps | modes | KL | channels' digit KLs | of sure digits | unsure "
        "| judge accuracy | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["started"], r["tag"], r.get("steps", 0))):
        if "error" in r:
            lines.append(f"| {r['tag']} | {r['data']} | `{json.dumps(r['options'])}` | {r['batch_size']} | failed: "
                         f"{r['error']} | | | | | | | |")
            continue
        one_digit = r["data"].startswith("mnist_5k")
        lines.append(
            f"| {r['tag']} | {r['data']} | `{json.dumps(r['options'])}` | {r['batch_size']} | "
            f"{r['steps']:,} | "
            f"{'-' if one_digit else r['modes']} | {'-' if one_digit else r['kl']} | "
            f"{channels(r['channel_kl'], one_digit)} | {channels(r.get('sure_channel_kl'), one_digit)} | "
            f"{r['unsure']:.1%} | {r['judge_accuracy']:.1%} | {r['seconds']} |")
    lines += ["", "On mnist_5k (one digit per image) the channels' column is the digit histogram's KL from uniform. "
              "'of sure digits' is the same KL over the digits the judge reads at 0.9 or more: the model's own "
              "imbalance, without where the judge puts the digits it cannot read. "
              "Seconds are wall time with two, at times three, runs sharing the cores: not speed figures.", ""]
    REPORT.write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", required=True, help="the record's name for this configuration")
    parser.add_argument("--model", default="dcgan", help="the variant trained (dcgan, cluster_cgan, ...)")
    parser.add_argument("--options", default="{}", help="the model's options, as JSON")
    parser.add_argument("--steps", type=int, default=4000, help="generator steps; read half-way and at the end")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", default="stacked_mnist", choices=["stacked_mnist", "mnist_5k"])
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--real", action="store_true", help="read the data's own images instead of training")
    args = parser.parse_args()
    if args.report_only:
        return write_report(read_records(RECORD))
    options = json.loads(args.options)
    if args.model != "dcgan":
        # Recorded with its options, so that the table's options column says which model it was.
        options = {"model": args.model, **options}
    started = now_stamp()

    def stopped(signum, frame):
        raise KeyboardInterrupt(f"stopped by signal {signum} after {time.perf_counter() - clock:.0f} s")

    # A run stopped by hand (kill, Ctrl-C) is recorded as failed, with how long it ran.
    clock = time.perf_counter()
    signal.signal(signal.SIGTERM, stopped)
    try:
        train_and_read(args, options, started)
    except (Exception, KeyboardInterrupt) as error:
        row = {"tag": args.tag, "data": args.data, "options": options, "seed": SEED, "batch_size": args.batch_size,
               "error": f"{type(error).__name__}: {error}"[:300], "started": started}
        keep(row, read_records(RECORD), RECORD, write_report)
        raise


def train_and_read(args, options, started):

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    import keras_gan_zoo as zoo
    from keras_gan_zoo import evaluation, judges

    keras.utils.set_random_seed(SEED)
    x, _ = zoo.data.load_arrays(args.data, "train")
    judge = judges.Judge.for_dataset("stacked_mnist")
    clock, done = time.perf_counter(), 0
    if args.real:
        model, chunks = None, (0,)
    else:
        model_options = {k: v for k, v in options.items() if k != "model"}
        model = zoo.create(options.get("model", "dcgan"), data_shape=x.shape[1:], seed=SEED, **model_options)
        model.compile()
        data = model.training_data(x, batch_size=args.batch_size, seed=SEED).repeat()
        chunks = (args.steps // 2, args.steps - args.steps // 2)
    for chunk in chunks:
        if model is None:
            samples = x[np.random.default_rng(SEED).choice(len(x), SAMPLES, replace=len(x) < SAMPLES)]
        else:
            model.fit(data, epochs=1, steps_per_epoch=chunk, verbose=0)
            done += chunk
            samples = np.asarray(model.sample(SAMPLES, seed=SEED))
        if samples.shape[-1] == 1:
            # One digit per image, read as three identical channels: channel_kl[0] is the digit
            # histogram's KL from uniform (modes and kl then mean nothing).
            samples = np.repeat(samples, 3, axis=-1)
        counted, scores = evaluation.stacked_reading(judge, samples)
        row = {"tag": args.tag, "data": args.data + (" (real images)" if args.real else ""), "options": options,
               "seed": SEED, "steps": done,
               "batch_size": args.batch_size, "seconds": round(time.perf_counter() - clock),
               "modes": counted.modes, "kl": round(counted.kl, 4),
               "channel_kl": [round(k, 4) for k in counted.channel_kl], "unsure": round(scores["unsure"], 3),
               "sure_channel_kl": [round(k, 4) for k in scores["sure_channel_kl"]],
               "judge_accuracy": judge.accuracy, "started": started}
        keep(row, read_records(RECORD), RECORD, write_report)


if __name__ == "__main__":
    main()
