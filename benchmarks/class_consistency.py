"""Do cgan's classes and infogan's categorical codes pick one garment class each?

After a short Fashion-MNIST run of each model, the shipped judge
(`zoo.judges.Judge.load("fashion_mnist")`: a vision transformer, not the
convolutional family of these models' discriminators, trained on train rows
30,000-59,999) labels `--per-code` samples asked for each class (cgan) or categorical code
(infogan). Per code the report gives the class most samples fall in and
its share; unsupervised infogan's codes are then matched one-to-one to
classes (the assignment maximizing agreement) and its accuracy under that
matching given. The semi-supervised infogan_ssN runs (Q also learns N
labelled examples) are held to code c = class c, as cgan is.

    python benchmarks/class_consistency.py --seed 1        # writes docs/results/class_consistency.md

Seed 0 chose the budgets and label counts (`TUNING_SEEDS`); headline figures come
from the other seeds.

Each model trains in its own single-threaded process, both at once, for a
fixed step budget; results are appended to docs/results/class_consistency.jsonl
as each model finishes, and the report shows the latest run of each model
and seed (`--models infogan --seed 1` adds one).
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import time

from reporting import counts_line, now_stamp, read_records

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "class_consistency.md"
RECORD = RESULTS_DIR / "class_consistency.jsonl"
# Report name -> (registry name, options). Semi-supervised infogan (Spurr et al. 2017) learns the
# classes of a few real examples, so its code c is meant to be class c, as for cgan.
MODELS = {
    "cgan": ("cgan", {}),
    "infogan": ("infogan", {}),
    "infogan_ss100": ("infogan", {"num_labelled": 100}),
    "infogan_ss1000": ("infogan", {"num_labelled": 1000}),
}
DEFAULT_MODELS = ("cgan", "infogan", "infogan_ss100", "infogan_ss1000")
# Generator steps at batch 64 unless --steps is given: one epoch for cgan, 3,000 for infogan.
STEPS = {"cgan": 937, "infogan": 3000, "infogan_ss100": 3000, "infogan_ss1000": 3000}
# The seeds whose runs chose the budgets and label counts: shown apart, never as headline figures.
TUNING_SEEDS = (0,)


def train_and_judge(model_name, steps, batch_size, per_code, seed):
    """Runs in the child process: trains one model, prints one JSON line."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import numpy as np

    import keras_gan_zoo as zoo
    from keras_gan_zoo import judges, plots

    keras.utils.set_random_seed(seed)
    x, y = zoo.data.load_arrays("fashion_mnist", "train")
    registry_name, options = MODELS[model_name]
    model = zoo.create(registry_name, seed=seed, **options)
    model.compile()
    started = time.perf_counter()
    # Repeated, so that a budget beyond one epoch (937 batches of 64) is trained in full.
    data = model.training_data(x, y, batch_size=batch_size, seed=seed).repeat()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    train_seconds = time.perf_counter() - started
    steps = int(model.g_optimizer.iterations)
    codes = np.repeat(np.arange(10), per_code)
    samples = model.sample(len(codes), labels=codes, seed=seed)
    judge = judges.Judge.load("fashion_mnist")
    predicted = judge.classify(samples)
    counts = np.zeros((10, 10), int)
    np.add.at(counts, (codes, predicted), 1)
    # Ten samples of each code, one row per code.
    rows = np.concatenate([samples[codes == c][:10] for c in range(10)])
    plots.save_image_grid(rows, RESULTS_DIR / picture_name(model_name, seed))
    print(json.dumps({"model": model_name, "steps": steps, "batch_size": batch_size, "per_code": per_code, "seed": seed,
                      "counts": counts.tolist(), "train_seconds": train_seconds,
                      "judge": judge.summary()}))


def picture_name(model_name, seed):
    return f"class_consistency_{model_name}_seed{seed}.png"


def matched_accuracy(counts):
    """Accuracy under the one-to-one code -> class matching that agrees most."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    counts = np.asarray(counts)
    codes, classes = linear_sum_assignment(-counts)
    return counts[codes, classes].sum() / counts.sum(), dict(zip(codes.tolist(), classes.tolist()))


def codes_are_classes(model_name):
    """cgan's labels and semi-supervised infogan's codes name classes; unsupervised codes must be matched."""
    registry_name, options = MODELS[model_name]
    return registry_name == "cgan" or options.get("num_labelled", 0) > 0


def code_accuracy(model_name, counts):
    """(share of samples in their code's class, code -> class) with codes read as classes where they
    name them, else under the best one-to-one matching."""
    import numpy as np

    if codes_are_classes(model_name):
        return np.trace(counts) / counts.sum(), {c: c for c in range(len(counts))}
    return matched_accuracy(counts)


def summary_table(rows):
    """One line per run: distinct majority classes and the share of samples in their code's class."""
    import numpy as np

    lines = ["| model | seed | steps | distinct majority classes | samples in their code's class |",
             "|---|---:|---:|---:|---:|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['model']} | {row.get('seed', 0)} | | failed: {row['error']} | |")
            continue
        counts = np.asarray(row["counts"])
        accuracy, _ = code_accuracy(row["model"], counts)
        how = "code c = class c" if codes_are_classes(row["model"]) else "best matching"
        lines.append(f"| {row['model']} | {row.get('seed', 0)} | {row['steps']:,} | "
                     f"{len(set(counts.argmax(axis=1).tolist()))}/10 | {100 * accuracy:.1f}% ({how}) |")
    return lines + [""]


def model_section(row):
    import numpy as np

    from keras_gan_zoo.data import class_names

    names = class_names("fashion_mnist")
    counts = np.asarray(row["counts"])
    majority = counts.argmax(axis=1)
    share = counts.max(axis=1) / counts.sum(axis=1)
    seed = row.get("seed", 0)
    lines = [f"### {row['model']}, seed {seed}", "",
             f"Budget: {row['steps']:,} steps of batch {row['batch_size']} (about "
             f"{row['steps'] * row['batch_size'] / 60_000:.1f} epochs), trained in {row['train_seconds']:.0f} s, "
             f"started {row['started']} UTC; {row['per_code']} samples per code.", ""]
    accuracy, matching = code_accuracy(row["model"], counts)
    if codes_are_classes(row["model"]):
        lines.append(f"Samples classified as the class asked for: {100 * accuracy:.1f}%; codes whose majority "
                     f"is their own class: {int((majority == np.arange(10)).sum())}/10.")
    else:
        lines.append(f"Under the best one-to-one matching of codes to classes: {100 * accuracy:.1f}% of samples "
                     f"in their code's class.")
    lines.append(f"Distinct majority classes over the 10 codes: {len(set(majority.tolist()))}.")
    lines += ["", "| code | majority class | share | matched class | share in matched class |",
              "|---:|---|---:|---|---:|"]
    for code in range(10):
        matched = matching[code]
        lines.append(f"| {code} | {names[majority[code]]} | {100 * share[code]:.0f}% | "
                     f"{names[matched]} | {100 * counts[code, matched] / counts[code].sum():.0f}% |")
    lines += ["", f"![{row['model']} samples, one row per code]({picture_name(row['model'], seed)})", ""]
    return lines


NOTES = [
    "Why unsupervised codes fall short of one class each: nothing tells InfoGAN that Fashion-MNIST's "
    "ten classes are the ten-way split to find, so its codes may settle on other splits (the distinct "
    "majority classes column counts how many classes its codes pick). "
    "ClusterGAN (Mukherjee et al. 2019), a GAN built for clustering, reports 63% accuracy on "
    "Fashion-MNIST, above infogan's matched shares on the held-out seeds here. Semi-supervised infogan (`num_labelled`) "
    "settles which split is meant; the table above shows how far 100 and 1,000 labels (0.17% and "
    "1.7% of the training set) go.",
    "",
]


def write_report(rows):
    current = [r for r in rows if "judge" in r or "error" in r]
    retired = [r for r in rows if r not in current]
    judged = [r["judge"] for r in current if "judge" in r]
    judge = judged[-1]["description"] if judged else "the shipped Fashion-MNIST judge of `zoo.judges`"
    lines = [
        "# Class consistency of cgan and infogan on Fashion-MNIST",
        "",
        "Command: `python benchmarks/class_consistency.py --seed R` (budgets: `STEPS` there, shown per run "
        "below); each model a single-threaded process, run two at a time on "
        f"{os.cpu_count()} cores.",
        "",
        "Models: the registry defaults (DCGAN bodies, 64 filters; infogan: 62 noise dims, 10-way categorical "
        "and 2 continuous codes, Adam(1e-3, 0.5) for the generator and Adam(2e-4, 0.5) for D and Q; cgan: "
        "Adam(2e-4, 0.5) for both). infogan_ssN is infogan with `num_labelled=N`: Q also learns the classes "
        "of N real examples (N/10 per class), semi-supervised as in Spurr et al. 2017, so that its code c "
        "is asked to be class c.",
        "",
        f"Judge: {judge}; a vision transformer, not the convolutional family of these models' "
        "discriminators.",
        "",
    ]
    order = lambda r: (list(MODELS).index(r["model"]), r.get("seed", 0))  # noqa: E731
    held_out = sorted((r for r in current if r.get("seed", 0) not in TUNING_SEEDS), key=order)
    tuning = sorted((r for r in current if r.get("seed", 0) in TUNING_SEEDS), key=order)
    lines += ["## Held-out seeds", "", counts_line(held_out), "", *summary_table(held_out)]
    if tuning:
        lines += ["## Tuning seed", "", f"Seed {', '.join(map(str, TUNING_SEEDS))} chose the budgets and label "
                  "counts; not headline figures.", "", counts_line(tuning), "", *summary_table(tuning)]
    if retired:
        lines += ["## Earlier runs, retired judge", "",
                  "Judged by the domain classifier as it was before 2026-12-04: a CNN trained on the whole train "
                  "split (91.03%), the family and data of these models' discriminators. Not comparable with the "
                  "tables above; kept for the record.", "", counts_line(retired), "",
                  *summary_table(sorted(retired, key=order))]
    lines += NOTES
    for row in sorted(held_out, key=order):
        lines += (model_section(row) if "error" not in row
                  else [f"### {row['model']}, seed {row.get('seed', 0)}", "", f"failed: {row['error']}", ""])
    REPORT.write_text("\n".join(lines).rstrip() + "\n")


def latest_rows():
    """The last successful run on record of each model and seed, or its last failure when none succeeded."""
    latest = {}
    for row in read_records(RECORD):
        key = (row["model"], row.get("seed", 0))
        if "error" not in row or "error" in latest.get(key, row):
            latest[key] = row
    return list(latest.values())


def run(model_name, args):
    command = [sys.executable, __file__, "--child", model_name, "--steps", str(args.steps or STEPS[model_name]),
               "--batch-size", str(args.batch_size), "--per-code", str(args.per_code), "--seed", str(args.seed)]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if result.returncode != 0:
        return {"model": model_name, "seed": args.seed, "error": (result.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="default: STEPS, per model")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--per-code", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help=f"comma-separated: {', '.join(MODELS)}")
    parser.add_argument("--child", choices=list(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        train_and_judge(args.child, args.steps, args.batch_size, args.per_code, args.seed)
        return
    if args.report_only:
        return write_report(latest_rows())
    args.started = now_stamp()
    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"unknown model {', '.join(sorted(unknown))}; choose from {', '.join(MODELS)}.")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for future in concurrent.futures.as_completed([pool.submit(run, m, args) for m in models]):
            row = {**future.result(), "started": args.started}
            with RECORD.open("a") as record:
                record.write(json.dumps(row) + "\n")
            write_report(latest_rows())
            print(json.dumps({k: v for k, v in row.items() if k != "counts"}), flush=True)


if __name__ == "__main__":
    main()
