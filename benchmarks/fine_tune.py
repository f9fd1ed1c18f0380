"""Fine-tuning a preset on one class: does `fit` move dcgan/fashion_mnist's samples to it?

    python benchmarks/fine_tune.py                      # writes docs/results/fine_tune.md
    python benchmarks/fine_tune.py --steps 50 --seeds 0

Loads the preset (`zoo.pretrained.load`, fresh optimizers), optionally with its discriminator's
body frozen, and trains it with Keras `fit` on the train split's images of one class (Sneaker,
class 7, named in the issue before any run) for `--steps` steps of 64. Before and after, 2,000
samples (sample seed 100) are labelled by the Fashion-MNIST judge (a vision transformer, not a
convolutional network like the preset's discriminator); the report gives the share labelled
Sneaker, beside the share of the real test Sneakers the judge labels so (what a perfect
generator of Sneakers would score) and the judge's own test accuracy. The budget and the class
were fixed before any run: every seed is held out. docs/results/fine_tune.png shows the preset's
samples before and after (seed 0, nothing frozen), same codes.

Each run is appended to docs/results/fine_tune.jsonl as it finishes and the report rewritten.
"""

import argparse
import json
import pathlib
import sys
import time

from reporting import counts_line, keep, now_stamp, read_records, run_child, split_runs, write_keeping_notes

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "docs" / "results"
RECORD = RESULTS_DIR / "fine_tune.jsonl"
REPORT = RESULTS_DIR / "fine_tune.md"
PICTURE = RESULTS_DIR / "fine_tune.png"
PRESET = "dcgan/fashion_mnist"
CLASS, CLASS_NAME = 7, "Sneaker"
BATCH_SIZE = 64
SAMPLES, SAMPLE_SEED = 2000, 100
FREEZE_OPTIONS = {"nothing": (), "discriminator body": ("discriminator",)}


def run(seed, freeze, steps, picture):
    """Child process: one fine-tuning run; prints its record."""
    import keras
    import numpy as np

    import keras_gan_zoo as zoo
    from keras_gan_zoo import plots

    keras.utils.set_random_seed(seed)
    judge = zoo.judges.Judge.for_dataset("fashion_mnist")
    x, y = zoo.data.load_arrays("fashion_mnist", "train")
    test_x, test_y = zoo.data.load_arrays("fashion_mnist", "test")
    real_share = float((judge.classify(test_x[test_y == CLASS]) == CLASS).mean())
    model = zoo.pretrained.load(PRESET, freeze=FREEZE_OPTIONS[freeze])
    before = model.sample(SAMPLES, seed=SAMPLE_SEED)
    share_before = float((judge.classify(before) == CLASS).mean())
    data = zoo.data.pipeline(x[y == CLASS], batch_size=BATCH_SIZE, seed=seed).repeat()
    started = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - started
    after = model.sample(SAMPLES, seed=SAMPLE_SEED)
    labels = judge.classify(after)
    if picture:
        # Before above, after below: the same 32 codes.
        grid = np.concatenate([before[:32], after[:32]])
        plots.save_image_grid(grid, picture, scale=3, columns=16)
    print(json.dumps({
        "seed": seed, "freeze": freeze, "steps": steps, "batch_size": BATCH_SIZE, "seconds": round(seconds, 1),
        "share_before": share_before, "share_after": float((labels == CLASS).mean()),
        "classes_after": np.bincount(labels, minlength=10).tolist(), "real_share": real_share,
        "judge": judge.describe()}))


def write_report(rows):
    lines = ["# Fine-tuning a preset on one class", "",
             "Command: `python benchmarks/fine_tune.py` (defaults below).", "",
             f"`{PRESET}` loaded with `zoo.pretrained.load`, then `fit` on the {CLASS_NAME} images (class {CLASS}) of "
             f"the Fashion-MNIST train split, batches of {BATCH_SIZE}. The share of {SAMPLES:,} samples (sample seed "
             f"{SAMPLE_SEED}) that the judge labels {CLASS_NAME}, before and after; the class, budget and options "
             "were fixed before any run, so every seed is held out.", ""]
    judged = [r for r in rows if "error" not in r]
    if judged:
        lines += [f"Judge: {judged[-1]['judge']}.", ""]
        real = [r["real_share"] for r in judged]
        if real:
            lines += [f"The judge labels {100 * real[-1]:.1f}% of the real test {CLASS_NAME} images {CLASS_NAME}: "
                      f"what a generator of {CLASS_NAME}s alone would score.", ""]
    lines += ["| frozen | steps | runs attempted / failed / reported | seeds | labelled " + CLASS_NAME
              + " before | after: mean (per seed) | seconds per run |", "|---|---|---|---|---|---|---|"]
    for freeze in FREEZE_OPTIONS:
        for steps in sorted({r["steps"] for r in rows if r["freeze"] == freeze}):
            runs, good, failed = split_runs(rows, [freeze, steps], key="case")
            after = [100 * r["share_after"] for r in good]
            mean = f"{sum(after) / len(after):.1f}% ({', '.join(f'{a:.1f}' for a in after)})" if good else "-"
            before = f"{100 * good[0]['share_before']:.1f}%" if good else "-"
            seconds = ", ".join(str(r["seconds"]) for r in good)
            lines.append(f"| {freeze} | {steps} | {len(runs)} / {len(failed)} / {len(good)} | "
                         f"{', '.join(str(r['seed']) for r in good)} | {before} | {mean} | {seconds} |")
    lines += ["", counts_line(rows), "",
              f"![before (top two rows) and after (bottom two rows) fine-tuning]({PICTURE.name})", ""]
    failed = [r for r in rows if "error" in r]
    for row in failed:
        lines.append(f"Failed: seed {row['seed']}, frozen {row['freeze']}: {row['error']}")
    write_keeping_notes(REPORT, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--child", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seed, freeze, steps, picture = args.child
        run(int(seed), freeze, int(steps), picture if picture != "-" else None)
        return
    rows = read_records(RECORD)
    if args.report_only:
        write_report(rows)
        return
    for seed in map(int, args.seeds.split(",")):
        for freeze in FREEZE_OPTIONS:
            picture = str(PICTURE) if (seed, freeze) == (0, "nothing") else "-"
            print(f"seed {seed}, frozen: {freeze}", flush=True)
            row = run_child([sys.executable, __file__, "--child", str(seed), freeze, str(args.steps), picture])
            keep({"started": now_stamp(), "seed": seed, "freeze": freeze, "steps": args.steps,
                  "case": [freeze, args.steps], **row}, rows, RECORD, write_report)


if __name__ == "__main__":
    main()
