"""Choosing the tf.distribute strategy a run trains under."""

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "multiworker")


def make_strategy(name="auto", devices=None):
    """A `tf.distribute.Strategy` for `ganzoo train --strategy NAME`.

    Args:
        name: "auto" (every visible GPU with MirroredStrategy, else the
            default strategy), "default" (one device), "mirrored" (the given
            devices, else every GPU, else the CPU), or "multiworker"
            (MultiWorkerMirroredStrategy configured by TF_CONFIG).
        devices: device names for "mirrored", e.g. ["/gpu:0", "/gpu:1"].
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}. Choose one of: {', '.join(STRATEGIES)}.")
    if devices and name != "mirrored":
        raise ValueError("--devices applies to --strategy mirrored only.")
    if name == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy() if gpus else tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices or None)
    # Listing devices above would start TensorFlow's runtime, after which
    # MultiWorkerMirroredStrategy can no longer configure its collectives.
    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            "--strategy multiworker reads the cluster from TF_CONFIG, which is not set. "
            'Example for worker 0 of 2: TF_CONFIG=\'{"cluster": {"worker": ["host0:12345", '
            '"host1:12345"]}, "task": {"type": "worker", "index": 0}}\''
        )
    json.loads(os.environ["TF_CONFIG"])  # fail here, clearly, on malformed JSON
    return tf.distribute.MultiWorkerMirroredStrategy()


def describe(strategy):
    """One line for the run log: which strategy, how many replicas."""
    # MultiWorkerMirroredStrategy's class calls itself CollectiveAllReduceStrategy,
    # and the default strategy's class is private.
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "MultiWorkerMirroredStrategy"
    elif isinstance(strategy, tf.distribute.MirroredStrategy):
        name = "MirroredStrategy"
    else:
        return "one device (no distribution strategy)"
    return f"{name} with {strategy.num_replicas_in_sync} replica(s)"
