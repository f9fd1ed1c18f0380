"""Test setup: an empty TFDS cache and two logical CPU devices (for MirroredStrategy)."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# An empty TFDS cache: what the tests see never depends on this machine's downloads.
os.environ["TFDS_DATA_DIR"] = tempfile.mkdtemp(prefix="tfds-")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras_gan_zoo as zoo  # noqa: E402


@pytest.fixture(scope="session")
def two_device_strategy():
    """One MirroredStrategy for the whole session.

    A second MirroredStrategy over the same devices in one process breaks its
    collective ops ("CollectiveReduceV2 ... InvalidArgumentError"), so every
    test shares this one.
    """
    devices = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
    return tf.distribute.MirroredStrategy(devices)


def tiny_batches(data_shape, num_examples=32, batch_size=8, seed=0, num_classes=None):
    """Random examples in [-1, 1]: the tiny data every model is checked on.

    With `num_classes`, batches are `(x, y)` with random integer labels.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (num_examples, *data_shape)).astype("float32")
    y = None if num_classes is None else rng.integers(0, num_classes, num_examples).astype("int32")
    return zoo.data.pipeline(x, y, batch_size=batch_size, shuffle=False)


def tiny_data(model, data_shape=None, **options):
    """`tiny_batches` shaped for `model`, labelled when the model trains on labels."""
    num_classes = model.num_classes if model.trains_on_labels else None
    return tiny_batches(data_shape or model.data_shape, num_classes=num_classes, **options)
