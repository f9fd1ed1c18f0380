"""Data amplification (seed 000): does a generator trained on a small labelled set make that
set worth more to a classifier?

`amplify` takes a class-balanced fraction of a dataset's train split, trains a generator
on that fraction only (one conditional model, or one model per class for a variant that
cannot be asked for a class), and trains one fixed classifier on

- the full train split,
- the fraction,
- the fraction with each batch mixed from generated samples at each ratio,
- the fraction with classic augmentation (2-pixel shifts, and left-right flips on
  Fashion-MNIST),

every one for the same number of steps, and measures each on the test split, `runs` times
(the classifier's and the generator's seeds change with the run; the fraction does not).
A guided generator is guided by a classifier trained on the fraction alone.

The classifier: conv 32 - pool - conv 64 - pool - dense 128 - dropout 0.3 - dense 10
(`zoo.classifiers.build_classifier`), Adam 1e-3, batch 128.
"""

import dataclasses
import inspect
import json
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

import keras_gan_zoo as zoo
from keras_gan_zoo import capabilities as caps
from keras_gan_zoo import classifiers
from keras_gan_zoo.training.config import TrainConfig, load_recipe, recipe_names
from keras_gan_zoo.training.run import build_model, compile_model

FULL, FRACTION, AUGMENTED = "full train split", "fraction", "fraction + classic augmentation"
BASELINES = (FULL, FRACTION, AUGMENTED)


@dataclasses.dataclass(frozen=True)
class AmplifyConfig:
    """One amplification study.

    Attributes:
        data: an image dataset with classes.
        fraction: the share of the train split kept, the same in every class.
        generator: a variant (`ganzoo list`) or a recipe (`ganzoo recipes`).
        mix: shares of generated samples in a classifier batch.
        runs: repeats; each trains its own generator and classifiers.
        generator_steps, generator_batch_size: the generator's training on the fraction.
        classifier_steps, batch_size: every classifier's training.
        model_options: constructor options over the variant's (or recipe's).
        pool: generated samples per run, balanced over classes, that mixed batches draw from.
        seed: picks the fraction; run r seeds its models with seed + r.
        data_dir: where the dataset's files are.
    """

    data: str = "fashion_mnist"
    fraction: float = 0.1
    generator: str = "cgan"
    mix: tuple = (0.25, 0.5, 0.75)
    runs: int = 3
    generator_steps: int = 3000
    generator_batch_size: int = 64
    classifier_steps: int = 3000
    batch_size: int = 128
    model_options: dict = dataclasses.field(default_factory=dict)
    pool: int = 20_000
    seed: int = 0
    data_dir: str | None = None

    def __post_init__(self):
        spec = zoo.data.describe(self.data)
        if spec.kind != "image" or not spec.num_classes or self.data.startswith("stacked_"):
            raise ValueError(
                f"amplify needs a labelled image dataset (fashion_mnist, mnist, mnist_5k); got {self.data}.")
        if not 0.0 < self.fraction < 1.0:
            raise ValueError(f"--fraction must lie strictly between 0 and 1, got {self.fraction}.")
        if not self.mix or any(not 0.0 < r < 1.0 for r in self.mix):
            raise ValueError(f"--mix takes shares strictly between 0 and 1, got {','.join(map(str, self.mix))}.")
        for name in ("runs", "pool", "generator_steps", "generator_batch_size", "classifier_steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if self.generator not in zoo.list_models() and self.generator not in recipe_names() \
                and not self.generator.endswith(".json"):
            raise ValueError(f"Unknown generator {self.generator!r}: give a variant ({', '.join(zoo.list_models())}) "
                             f"or a recipe ({', '.join(recipe_names())}).")


def class_balanced_fraction(y, fraction, seed, num_classes):
    """Indices of round(fraction * n_k) examples of each class k, chosen with `seed`."""
    rng = np.random.default_rng(seed)
    kept = []
    for k in range(num_classes):
        members = np.flatnonzero(y == k)
        kept.append(rng.choice(members, max(1, round(fraction * len(members))), replace=False))
    return np.sort(np.concatenate(kept))


def _augment(images, flips):
    """tf.data map: each image moved by up to 2 pixels (background -1), flipped left-right at random
    when `flips`."""
    size = tf.shape(images)[1:]
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], constant_values=-1.0)
    moved = tf.map_fn(lambda image: tf.image.random_crop(image, size), padded)
    if flips:
        flip = tf.random.uniform([tf.shape(images)[0], 1, 1, 1]) < 0.5
        moved = tf.where(flip, tf.reverse(moved, axis=[2]), moved)
    return moved


def _batches(x, y, batch_size, seed):
    """Endless shuffled batches; repeated before batching, so a set smaller than a batch still fills one."""
    return (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .repeat().batch(batch_size, drop_remainder=True))


def train_classifier(x, y, test, config, seed, generated=None, share=0.0, augment=False, flips=False):
    """Trains the fixed classifier for `config.classifier_steps` steps; returns its test accuracy."""
    keras.utils.set_random_seed(seed)
    fake_per_batch = int(round(share * config.batch_size))
    data = _batches(x, y, config.batch_size - fake_per_batch, seed)
    if augment:
        data = data.map(lambda images, labels: (_augment(images, flips), labels))
    if fake_per_batch:
        fake = _batches(*generated, fake_per_batch, seed + 1)
        data = tf.data.Dataset.zip(data, fake).map(
            lambda a, b: (tf.concat([a[0], b[0]], 0), tf.concat([a[1], b[1]], 0)))
    model = classifiers.compiled_classifier(x.shape[1:], int(np.max(test[1])) + 1)
    model.fit(data.prefetch(tf.data.AUTOTUNE), epochs=1, steps_per_epoch=config.classifier_steps, verbose=0)
    return float(model.evaluate(*test, batch_size=1000, verbose=0)[1])


def _generator_config(config, seed):
    """The generator's TrainConfig: the variant's defaults or the recipe's (its batch kept), for
    `generator_steps` steps on the fraction."""
    if config.generator in zoo.list_models():
        base, batch = TrainConfig(model=config.generator, data=config.data), config.generator_batch_size
    else:
        base = load_recipe(config.generator)
        batch = base.batch_size or config.generator_batch_size
    return TrainConfig.from_dict({
        **base.to_dict(), "data": config.data, "data_dir": config.data_dir, "batch_size": batch, "epochs": 1,
        "steps_per_epoch": config.generator_steps, "seed": seed,
        "model_options": {**base.model_options, **config.model_options}})


def _new_generator(train_config, guide, num_classes):
    """A compiled, untrained generator; a guided variant gets `guide` in place of the shipped
    domain classifier, which saw more than the fraction."""
    keras.utils.set_random_seed(train_config.seed)
    if guide is None:
        model = build_model(train_config)
    else:
        spec = zoo.data.describe(train_config.data)
        model = zoo.create(train_config.model, data_shape=spec.shape, num_classes=num_classes, seed=train_config.seed,
                           classifier=guide, **train_config.model_options)
    compile_model(model, train_config, train_config.steps_per_epoch)
    return model


def _fit(model, train_config, x, y):
    # A class of a small fraction can hold fewer examples than a batch.
    batch = min(train_config.batch_size, len(x))
    data = model.training_data(x, y, batch_size=batch, seed=train_config.seed).repeat()
    model.fit(data, epochs=1, steps_per_epoch=train_config.steps_per_epoch, verbose=0)


def _conditional(model):
    return caps.LABELLED_SAMPLE in model.capabilities and model.label_kind == "class numbers"


def _sample(model, n, seed, labels=None, chunk=2000):
    parts = []
    for index, start in enumerate(range(0, n, chunk)):
        count = min(chunk, n - start)
        parts.append(model.sample(count, seed=seed + index) if labels is None
                     else model.sample(count, labels=labels[start:start + count], seed=seed + index))
    return np.concatenate(parts)


def _generate(config, x, y, seed, num_classes, progress):
    """A pool of `config.pool` labelled samples, balanced over classes, from generators trained on (x, y);
    returns (samples, labels, generators trained)."""
    train_config = _generator_config(config, seed)
    guide = None
    if "classifier" in inspect.signature(zoo.get_entry(train_config.model).cls.__init__).parameters:
        progress("training the guide on the fraction")
        guide = classifiers.compiled_classifier(x.shape[1:], num_classes)
        keras.utils.set_random_seed(seed)
        guide.fit(_batches(x, y, config.batch_size, seed), epochs=1, steps_per_epoch=config.classifier_steps,
                  verbose=0)
    labels = (np.arange(config.pool) % num_classes).astype("int32")
    model = _new_generator(train_config, guide, num_classes)
    if _conditional(model):
        progress(f"training {train_config.model} on the fraction")
        _fit(model, train_config, x, y)
        return _sample(model, config.pool, seed, labels), labels, 1
    # One model per class for a variant that cannot be asked for a class.
    parts = []
    for k in range(num_classes):
        progress(f"training {train_config.model} on class {k} of the fraction")
        if k:
            model = _new_generator(train_config, guide, num_classes)
        _fit(model, train_config, x[y == k], y[y == k])
        parts.append(_sample(model, int((labels == k).sum()), seed + 1000 * k))
    return np.concatenate(parts), np.sort(labels), num_classes


def amplify(config, progress=print, write=None, baselines=None, finished=None, on_run=None):
    """Runs the study; returns its record (a JSON-ready dict) with one row per condition.

    `write`: a folder to save the last run's amplified set in (`tf.data.Dataset.save`:
    elements {"image", "label", "generated"}; read it back with `tf.data.Dataset.load`).
    `baselines`: the accuracies per run of the conditions without generated samples (full
    set, fraction, augmentation) from an earlier study of the same data, fraction, seed and
    classifier budget; they do not depend on the generator, so they are not trained again.
    `finished`: the runs of this study that an earlier, cut-off process finished, as
    `on_run` gave them; the study goes on from the next run. `on_run(state)`: called after
    every run with {"accuracies": {condition: [one per run so far]}, "generators_per_run": n,
    "seconds": s}, for a caller to keep, so that a study of hours loses at most one run.
    """
    started = time.time() - (finished or {}).get("seconds", 0.0)
    x, y = zoo.data.load_arrays(config.data, "train", data_dir=config.data_dir, download=False)
    test = zoo.data.load_arrays(config.data, "test", data_dir=config.data_dir, download=False)
    num_classes = zoo.data.describe(config.data).num_classes
    kept = class_balanced_fraction(y, config.fraction, config.seed, num_classes)
    fx, fy = x[kept], y[kept]
    # Each condition: its name, its training set, and how its batches are made.
    conditions = {FULL: (x, y, {}), FRACTION: (fx, fy, {}),
                  **{f"fraction + generated {share:g}": (fx, fy, {"share": share}) for share in config.mix},
                  AUGMENTED: (fx, fy, {"augment": True, "flips": config.data == "fashion_mnist"})}
    accuracies = {condition: list((finished or {}).get("accuracies", {}).get(condition, [])) for condition in conditions}
    done = {len(values) for values in accuracies.values()}
    if len(done) != 1 or done.pop() > config.runs:
        raise ValueError(f"finished must hold the same number of runs, at most {config.runs}, for each of the "
                         f"conditions {list(conditions)}; got {({c: len(v) for c, v in accuracies.items()})}.")
    generators_trained = (finished or {}).get("generators_per_run")
    for run in range(len(accuracies[FULL]), config.runs):
        seed = config.seed + run
        progress(f"run {run + 1}/{config.runs}")
        samples, labels, generators_trained = _generate(config, fx, fy, seed, num_classes, progress)
        for condition, (train_x, train_y, how) in conditions.items():
            if baselines and condition in baselines:
                accuracies[condition].append(baselines[condition][run])
                continue
            progress(f"run {run + 1}/{config.runs}: classifier on the {condition}")
            generated = (samples, labels) if "share" in how else None
            accuracies[condition].append(train_classifier(train_x, train_y, test, config, seed, generated, **how))
        if write is not None and run == config.runs - 1:
            save_amplified(write, fx, fy, samples, labels)
        if on_run is not None:
            on_run({"accuracies": accuracies, "generators_per_run": generators_trained,
                    "seconds": round(time.time() - started, 1)})
    record = {"config": {**dataclasses.asdict(config), "mix": list(config.mix)}, "fraction_examples": int(len(kept)),
              "baselines_reused": sorted(baselines or {}),
              "train_examples": int(len(x)), "test_examples": int(len(test[1])),
              "generators_per_run": generators_trained, "seconds": round(time.time() - started, 1), "rows": []}
    full, fraction = np.mean(accuracies[FULL]), np.mean(accuracies[FRACTION])
    for condition in conditions:
        values = accuracies[condition]
        gap = (np.mean(values) - fraction) / (full - fraction) if full != fraction else None
        record["rows"].append({"condition": condition, "accuracies": values, "mean": float(np.mean(values)),
                               "std": float(np.std(values)),
                               "gap_closed": None if condition in (FULL, FRACTION) or gap is None else float(gap)})
    return record


def save_amplified(folder, x, y, samples, labels):
    """The fraction and the generated pool as one `tf.data` dataset saved in `folder`."""
    images = np.concatenate([x, samples]).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices({
        "image": images, "label": np.concatenate([y, labels]).astype("int32"),
        "generated": np.concatenate([np.zeros(len(x), bool), np.ones(len(samples), bool)])})
    dataset.save(str(folder))
    (pathlib.Path(folder) / "README.txt").write_text(
        f"{len(x)} real and {len(samples)} generated examples; images in [-1, 1].\n"
        "Read with: tf.data.Dataset.load(FOLDER)\n")


def markdown(record):
    config = record["config"]
    lines = [
        f"# Amplification: {config['generator']} on {config['fraction']:g} of {config['data']}", "",
        f"Fraction: {record['fraction_examples']:,} of {record['train_examples']:,} train examples, class-balanced "
        f"(seed {config['seed']}); {config['runs']} runs; {record['generators_per_run']} generator(s) per run, "
        f"{config['generator_steps']:,} steps of batch {config['generator_batch_size']} each; every classifier "
        f"{config['classifier_steps']:,} steps of batch {config['batch_size']}; {record['seconds']:.0f} s.", "",
        "| classifier trained on | test accuracy, mean +- std | per run | share of the gap closed |",
        "|---|---|---|---|",
    ]
    for row in record["rows"]:
        gap = "" if row["gap_closed"] is None else f"{100 * row['gap_closed']:.1f}%"
        runs = ", ".join(f"{100 * a:.2f}" for a in row["accuracies"])
        lines.append(f"| {row['condition']} | {100 * row['mean']:.2f} +- {100 * row['std']:.2f}% | {runs} | {gap} |")
    return "\n".join(lines) + "\n"


def write_outputs(record, out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "amplification.json").write_text(json.dumps(record, indent=2) + "\n")
    (out / "amplification.md").write_text(markdown(record))
    return out
