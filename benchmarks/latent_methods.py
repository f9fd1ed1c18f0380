"""Latent-space methods on Fashion-MNIST: do samples asked for a class show that class?

Trains `latent_gan`, `guided_gan`, a supervised `aae` and `cgan` for a fixed
step budget each, then a held-out judge (a CNN trained here on the real
train split, not the domain classifier that guides `guided_gan`) classifies
`--per-class` samples asked for each class. Also measured: the L-GAN
basis' mean absolute cosine and the clustering accuracy of an `aae` with 16
clusters (each cluster named by the majority class of its training
examples, scored on the test split).

    python benchmarks/latent_methods.py                  # writes docs/results/latent_methods.md
    python benchmarks/latent_methods.py --models latent_gan --steps-scale 0.1

Every model trains in its own single-threaded process, `--jobs` at a time.
Runs are appended to docs/results/latent_methods.jsonl as they finish and
the report is rewritten after each, so a cut-off run keeps what it finished;
the report shows each model's latest run.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "latent_methods.md"
NOTES_HEADING = "## Notes"
RECORD = RESULTS_DIR / "latent_methods.jsonl"
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
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
JUDGE_EPOCHS = 3


def single_threaded():
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def build_judge():
    """A CNN unlike the domain classifier (5x5 kernels, a wider dense layer): images in [-1, 1] -> logits."""
    import keras

    inputs = keras.Input((28, 28, 1))
    h = inputs
    for filters in (32, 64):
        h = keras.layers.MaxPooling2D()(keras.layers.Conv2D(filters, 5, padding="same", activation="relu")(h))
    h = keras.layers.Dropout(0.5)(keras.layers.Dense(256, activation="relu")(keras.layers.Flatten()(h)))
    return keras.Model(inputs, keras.layers.Dense(10)(h), name="judge")


def train_judge(path):
    """Child process: trains the judge on the real train split, saves it, prints its test accuracy."""
    single_threaded()
    import keras

    import keras_gan_zoo as zoo

    keras.utils.set_random_seed(1)
    x, y = zoo.data.load_arrays("fashion_mnist", "train")
    test_x, test_y = zoo.data.load_arrays("fashion_mnist", "test")
    judge = build_judge()
    judge.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    started = time.perf_counter()
    judge.fit(x, y, batch_size=128, epochs=JUDGE_EPOCHS, verbose=0)
    seconds = time.perf_counter() - started
    judge.save_weights(path)
    accuracy = judge.evaluate(test_x, test_y, batch_size=512, verbose=0)[1]
    print(json.dumps({"test_accuracy": float(accuracy), "epochs": JUDGE_EPOCHS, "train_seconds": seconds}))


def clustering_accuracy(model, x, y, test_x, test_y):
    """Each cluster takes the majority class of its training examples; accuracy on the test split."""
    import numpy as np

    clusters = model.cluster(x)
    names = np.zeros(model.clusters, int)
    for cluster in range(model.clusters):
        members = y[clusters == cluster]
        names[cluster] = np.bincount(members, minlength=10).argmax() if len(members) else -1
    return float(np.mean(names[model.cluster(test_x)] == test_y)), int(len(set(clusters.tolist())))


def train_and_judge(config, steps, per_class, judge_path, seed):
    """Child process: trains one model, prints one JSON line."""
    single_threaded()
    import keras
    import numpy as np

    import keras_gan_zoo as zoo
    from keras_gan_zoo import classifiers, plots

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
        judge = build_judge()
        judge.load_weights(judge_path)
        labels = np.repeat(np.arange(10), per_class)
        samples = model.sample(len(labels), labels=labels, seed=seed)
        predicted = classifiers.classify(judge, samples)
        row["per_class_accuracy"] = [float(np.mean(predicted[labels == c] == c)) for c in range(10)]
        plots.save_image_grid(np.concatenate([samples[labels == c][:10] for c in range(10)]),
                              RESULTS_DIR / f"latent_methods_{config}.png")
    if model_name == "latent_gan":
        row["basis_mean_abs_cosine"] = [float(c.mean()) for c in model.basis_cosines(500)]
    print(json.dumps(row))


def model_lines(row):
    import numpy as np

    name = row["config"]
    budget = (f"{row['steps']:,} steps of batch {row['batch_size']} "
              f"({row['steps'] * row['batch_size'] / 60_000:.1f} epochs), {row['train_seconds']:.0f} s")
    if "error" in row:
        return [f"| {name} | failed: {row['error']} | | |"]
    if "clustering_accuracy" in row:
        return [f"| {name} | clustering accuracy {100 * row['clustering_accuracy']:.1f}% "
                f"({row['clusters_used']} of 16 clusters used) | | {budget} |"]
    per_class = np.asarray(row["per_class_accuracy"])
    extra = ""
    if "basis_mean_abs_cosine" in row:
        extra = f"; basis mean abs cosine {np.mean(row['basis_mean_abs_cosine']):.3f}"
    cells = ", ".join(f"{100 * a:.0f}" for a in per_class)
    accuracy = f"{100 * per_class.mean():.1f}% (min {100 * per_class.min():.0f}%){extra}"
    return [f"| {name} | {accuracy} | {cells} | {budget} |"]


def write_report(rows, judge):
    lines = [
        "# Latent-space methods on Fashion-MNIST",
        "",
        "Command: `python benchmarks/latent_methods.py` (budgets below; each model a single-threaded process, "
        f"two at a time on {os.cpu_count()} cores).",
        "",
        f"Judge: a CNN trained here on the real train split for {judge['epochs']} epochs "
        f"({judge['train_seconds']:.0f} s), test accuracy {100 * judge['test_accuracy']:.2f}%; it is not the "
        "domain classifier that guides guided_gan. Each model draws 100 samples per class; a cell is the share "
        "the judge puts in the class asked for.",
        "",
        "Models: registry defaults unless named: latent_gan (per-class MLP autoencoders, 256 units, 8-d codes; "
        "5 basis vectors from 8-d noise), guided_gan (DCGAN bodies, 10 dims per class subspace, the shipped "
        "domain classifier as guide), aae_supervised (2-d Gaussian code, label into the decoder), cgan (DCGAN "
        "bodies), aae_clusters16 (8-d style code, 16-way categorical head).",
        "",
        "| model | accuracy on class-asked samples (mean, min) | per class 0-9, % | budget |",
        "|---|---|---|---|",
    ]
    for config in MODELS:
        done = [r for r in rows if r["config"] == config]
        if done:
            lines += model_lines(done[-1])
    pictures = [c for c in MODELS if (RESULTS_DIR / f"latent_methods_{c}.png").exists()]
    if pictures:
        lines += ["", "Samples, one row per class (" + ", ".join(CLASS_NAMES) + "):", ""]
        lines += [f"{c}:\n\n![{c}](latent_methods_{c}.png)\n" for c in pictures]
    # Notes written by hand below the generated part are kept.
    notes = REPORT.read_text().partition(NOTES_HEADING)[2] if REPORT.exists() else ""
    REPORT.write_text("\n".join(lines).rstrip() + "\n" + (f"\n{NOTES_HEADING}{notes}" if notes else ""))


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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument("--judge", help=argparse.SUPPRESS)
    parser.add_argument("--train-judge", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_judge:
        return train_judge(args.judge)
    if args.child:
        return train_and_judge(args.child[0], int(args.child[1]), args.per_class, args.judge, args.seed)
    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"unknown model {', '.join(sorted(unknown))}; choose from {', '.join(MODELS)}.")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    judge_path = os.path.join(tempfile.mkdtemp(prefix="latent-methods-"), "judge.weights.h5")
    print("training the judge ...", flush=True)
    judge = child(["--train-judge", "--judge", judge_path])
    if "error" in judge:
        sys.exit(f"the judge failed to train: {judge['error']}")
    print(f"judge test accuracy {judge['test_accuracy']:.4f}", flush=True)
    rows = [json.loads(line) for line in RECORD.read_text().splitlines()] if RECORD.exists() else []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {}
        for config in models:
            steps = max(1, round(MODELS[config][2] * args.steps_scale))
            arguments = ["--child", config, str(steps), "--judge", judge_path, "--per-class", str(args.per_class),
                         "--seed", str(args.seed)]
            futures[pool.submit(child, arguments)] = (config, steps)
        for future in concurrent.futures.as_completed(futures):
            config, steps = futures[future]
            row = {"config": config, "steps": steps, "batch_size": BATCH_SIZE, "train_seconds": 0.0,
                   **future.result(), "started": started, "judge": judge}
            rows.append(row)
            with RECORD.open("a") as record:
                record.write(json.dumps(row) + "\n")
            write_report(rows, judge)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
