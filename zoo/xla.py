"""How a train step gets compiled with XLA, on one device and under tf.distribute.

On one device Keras compiles the whole step (`jit_compile=True`). Under a
tf.distribute strategy it cannot: the step holds the strategy's cross-replica
reductions and per-device variables, which one XLA computation cannot span
(keras PR #18716, issue #19005). There TensorFlow's auto-clustering compiles
the step's XLA-compatible subgraphs (the networks' forward and backward passes,
the optimizer's arithmetic) and leaves the collectives to TensorFlow.

Auto-clustering on CPUs also needs the `--tf_xla_cpu_global_jit` flag, read
once when TensorFlow starts: `ganzoo train --xla` sets it; from Python, set
`TF_XLA_FLAGS=--tf_xla_cpu_global_jit` before importing TensorFlow.
"""

import os
import warnings

import tensorflow as tf

CPU_AUTO_CLUSTERING_FLAG = "--tf_xla_cpu_global_jit"

WHOLE_STEP = "whole train step compiled by XLA (jit_compile)"
AUTO_CLUSTERING = (
    "XLA auto-clustering of the train step's compilable subgraphs "
    "(Keras cannot jit-compile a step under tf.distribute)"
)


def enable_auto_clustering(strategy):
    """Turns on auto-clustering for this process, warning when CPUs will not cluster."""
    tf.config.optimizer.set_jit("autoclustering")
    on_cpu = all("CPU" in device.upper() for device in strategy.extended.worker_devices)
    if on_cpu and CPU_AUTO_CLUSTERING_FLAG not in os.environ.get("TF_XLA_FLAGS", ""):
        warnings.warn(
            "XLA auto-clustering on CPUs needs TF_XLA_FLAGS=--tf_xla_cpu_global_jit, set "
            "before TensorFlow is imported; without it this step runs uncompiled.",
            stacklevel=3,
        )


def resolve(jit_compile, strategy):
    """Keras's `jit_compile` value for `compile`, and what XLA will compile (or None).

    Args:
        jit_compile: the value given to `compile`.
        strategy: the strategy the model was built under, None for none.
    """
    if jit_compile is True and strategy is not None:
        enable_auto_clustering(strategy)
        return False, AUTO_CLUSTERING
    return jit_compile, WHOLE_STEP if jit_compile is True else None
