"""Latent-space methods on Fashion-MNIST: do samples asked for a class show that class?

Trains `latent_gan`, `guided_gan`, a supervised `aae` and `cgan` for a fixed
step budget each, then the shipped Fashion-MNIST judge (`zoo.judges`: a vision
transformer trained on the half of the train split that the guide of
`guided_gan` never saw, unlike every network these models train against)
classifies `--per-class` samples asked for each class. Also measured: the L-GAN
basis' mean absolute cosine and the clustering accuracy of an `aae` with 16
clusters (each cluster named by the majority class of its training
examples, scored on the test split).

Seed 0 chose the budgets and options (`TUNING_SEEDS`); the headline figures
come from the held-out seeds 1 and 2.

    python benchmarks/latent_methods.py --seeds 1,2      # writes docs/results/latent_methods.md
    python benchmarks/latent_methods.py --models latent_gan --steps-scale 0.1 --seeds 3

Every model trains in its own single-threaded process, `--jobs` at a time.
Runs are appended to docs/results/latent_methods.jsonl as they finish and
the report is rewritten after each, so a cut-off run keeps what it finished;
the report shows each model's latest run.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
from reporting import now_stamp, read_records, split_runs, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "latent_methods.md"
NOTES_HEADING = "## Notes"
RECORD = RESULTS_DIR / "latent_methods.jsonl"
# name -> (registered model, options, generator steps at batch 64).
MODELS = {
    "latent_gan": ("latent_gan", {}, 4000),
    "guided_gan": ("guided_gan", {}, 1000),
    # A 2-d code (seed 003's) leaves the class to the label: with 8 dims the code
    # carried it and the decoder ignored the label (29% in one run of 2,000 steps).
    "aae_supervised": ("aae", {"supervised": True, "latent_dim": 2}, 2000),
    "cgan": ("cgan", {}, 1000),
    "aae_clusters16": ("aae", {"clusters": 16, "latent_dim": 8}, 2000),
}
CLUSTERING = ("aae_clusters16",)
BATCH_SIZE = 64
# The seeds whose runs chose MODELS' budgets and options: shown apart, never as headline figures.
TUNING_SEEDS = (0,)


def single_threaded():
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def judge_record():
    """The shipped judge as each row records it (`zoo.judges.Judge.summary`)."""
    from keras_gan_zoo import judges

    return judges.Judge.load("fashion_mnist").summary()


def clustering_accuracy(model, x, y, test_x, test_y):
    """Each cluster takes the majority class of its training examples; accuracy on the test split."""
    import numpy as np

    clusters = model.cluster(x)
    names = np.zeros(model.clusters, int)
    for cluster in range(model.clusters):
        members = y[clusters == cluster]
        names[cluster] = np.bincount(members, minlength=10).argmax() if len(members) else -1
    return float(np.mean(names[model.cluster(test_x)] == test_y)), int(len(set(clusters.tolist())))


def train_and_judge(config, steps, per_class, seed):
    """Child process: trains one model, prints one JSON line."""
    single_threaded()
    import keras
    import numpy as np

    import keras_gan_zoo as zoo
    from keras_gan_zoo import judges, plots

    keras.utils.set_random_seed(seed)
    x, y = zoo.data.load_arrays("fashion_mnist", "train")
    model_name, options, _ = MODELS[config]
    model = zoo.create(model_name, seed=seed, **options)
    model.compile()
    data = model.training_data(x, y, batch_size=BATCH_SIZE, seed=seed).repeat()
    started = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    row = {"config": config, "model": model_name, "options": options, "steps": steps, "batch_size": BATCH_SIZE,
           "train_seconds": time.perf_counter() - started}
    if config in CLUSTERING:
        test_x, test_y = zoo.data.load_arrays("fashion_mnist", "test")
        row["clustering_accuracy"], row["clusters_used"] = clustering_accuracy(model, x[:10_000], y[:10_000],
                                                                               test_x, test_y)
    else:
        labels = np.repeat(np.arange(10), per_class)
        samples = model.sample(len(labels), labels=labels, seed=seed)
        predicted = judges.Judge.load("fashion_mnist").classify(samples)
        row["per_class_accuracy"] = [float(np.mean(predicted[labels == c] == c)) for c in range(10)]
        plots.save_image_grid(np.concatenate([samples[labels == c][:10] for c in range(10)]),
                              RESULTS_DIR / picture_name(config, seed))
    if model_name == "latent_gan":
        row["basis_mean_abs_cosine"] = [float(c.mean()) for c in model.basis_cosines(500)]
    print(json.dumps(row))


def picture_name(config, seed):
    return f"latent_methods_{config}_seed{seed}.png"


def headline(row):
    """(the figure, the per-class cells or extra) of one finished row."""
    if "clustering_accuracy" in row:
        return 100 * row["clustering_accuracy"], f"{row['clusters_used']} of 16 clusters used"
    per_class = np.asarray(row["per_class_accuracy"])
    extra = ", ".join(f"{100 * a:.0f}" for a in per_class)
    if "basis_mean_abs_cosine" in row:
        extra += f"; basis mean abs cosine {np.mean(row['basis_mean_abs_cosine']):.3f}"
    return 100 * per_class.mean(), extra


def budget(row):
    return (f"{row['steps']:,} steps of batch {row['batch_size']} "
            f"({row['steps'] * row['batch_size'] / 60_000:.1f} epochs)")


def table(rows, seeds_label):
    """One line per config: runs attempted, failed, reported; mean and spread over seeds."""
    lines = [f"| model | seeds ({seeds_label}) | runs attempted / failed / reported | figure: mean (min, max) "
             "| per run | budget |", "|---|---|---|---|---|---|"]
    for config in MODELS:
        runs, good, failed = split_runs(rows, config)
        if not runs:
            continue
        values = [headline(r)[0] for r in good]
        kind = "clustering accuracy" if config in CLUSTERING else "in the class asked for"
        figure = (f"{np.mean(values):.1f}% ({min(values):.1f}, {max(values):.1f}) {kind}" if values else "none")
        per_run = "; ".join(f"seed {r['seed']}: {headline(r)[0]:.1f}% ({headline(r)[1]}), {r['train_seconds']:.0f} s"
                            for r in good)
        per_run += "".join(f"; seed {r['seed']} failed: {r['error']}" for r in failed)
        seeds = ",".join(str(r["seed"]) for r in runs)
        lines.append(f"| {config} | {seeds} | {len(runs)} / {len(failed)} / {len(good)} | {figure} | {per_run} | "
                     f"{budget(runs[-1])} |")
    return lines


def write_report(rows, judge):
    from keras_gan_zoo.data import class_names

    current = [r for r in rows if r.get("judge", {}).get("name") == judge["name"] and "seed" in r]
    retired = len(rows) - len(current)
    # The latest run of each (config, seed).
    latest = {}
    for row in current:
        latest[(row["config"], row["seed"])] = row
    held_out = [r for r in latest.values() if r["seed"] not in TUNING_SEEDS]
    tuning = [r for r in latest.values() if r["seed"] in TUNING_SEEDS]
    lines = [
        "# Latent-space methods on Fashion-MNIST",
        "",
        "Command: `python benchmarks/latent_methods.py --seeds 1,2` (budgets below; each model a single-threaded "
        f"process, two at a time on {os.cpu_count()} cores).",
        "",
        f"Judge: the shipped `zoo.judges` Fashion-MNIST judge ({judge['architecture']}; trained on "
        f"{judge['trained_on']}), test accuracy {100 * judge['test_accuracy']:.2f}%. guided_gan's guide is a CNN "
        "trained on the other half of the train split. Each model draws 100 samples per class; a figure is the "
        "share the judge puts in the class asked for, averaged over classes.",
        "",
        "Models: registry defaults unless named: latent_gan (per-class MLP autoencoders, 256 units, 8-d codes; "
        "5 basis vectors from 8-d noise), guided_gan (DCGAN bodies, 10 dims per class subspace, the shipped "
        "domain classifier as guide), aae_supervised (2-d Gaussian code, label into the decoder), cgan (DCGAN "
        "bodies), aae_clusters16 (8-d style code, 16-way categorical head).",
        "",
        "## Held-out seeds",
        "",
        *table(sorted(held_out, key=lambda r: r["seed"]), "held out"),
    ]
    if tuning:
        lines += ["", "## Tuning seed", "",
                  f"Seed {', '.join(map(str, TUNING_SEEDS))} chose the budgets and options above; its runs are "
                  "not headline figures.", "", *table(tuning, "tuning")]
    if retired:
        lines += ["", f"{retired} earlier rows of docs/results/latent_methods.jsonl were scored by a retired judge "
                      "(a CNN trained by this script, the guide's family and data) and are not shown."]
    pictures = [(c, r["seed"]) for c in MODELS for r in sorted(held_out, key=lambda r: r["seed"])
                if r["config"] == c and (RESULTS_DIR / picture_name(c, r["seed"])).exists()]
    if pictures:
        lines += ["", "Samples, one row per class (" + ", ".join(class_names("fashion_mnist")) + "):", ""]
        lines += [f"{c}, seed {seed}:\n\n![{c}]({picture_name(c, seed)})\n" for c, seed in pictures]
    # Notes written by hand below the generated part are kept.
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def child(arguments, timeout=None):
    command = [sys.executable, __file__, *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""})
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated names from MODELS")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="multiplies every step budget")
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", default="1,2", help="comma-separated; 0 is the tuning seed")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return train_and_judge(args.child[0], int(args.child[1]), args.per_class, args.seed)
    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"unknown model {', '.join(sorted(unknown))}; choose from {', '.join(MODELS)}.")
    judge = judge_record()
    rows = read_records(RECORD)
    if args.report_only:
        return write_report(rows, judge)
    started = now_stamp()
    print(f"judge: {judge['name']}, test accuracy {judge['test_accuracy']:.4f}", flush=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {}
        for seed in (int(s) for s in args.seeds.split(",")):
            for config in models:
                steps = max(1, round(MODELS[config][2] * args.steps_scale))
                arguments = ["--child", config, str(steps), "--per-class", str(args.per_class), "--seed", str(seed)]
                futures[pool.submit(child, arguments)] = (config, steps, seed)
        for future in concurrent.futures.as_completed(futures):
            config, steps, seed = futures[future]
            row = {"config": config, "steps": steps, "batch_size": BATCH_SIZE, "train_seconds": 0.0, "seed": seed,
                   **future.result(), "started": started, "judge": judge}
            rows.append(row)
            with RECORD.open("a") as record:
                record.write(json.dumps(row) + "\n")
            write_report(rows, judge)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
