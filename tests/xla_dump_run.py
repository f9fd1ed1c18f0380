"""Trains a tiny variant with XLA on one device, then under MirroredStrategy on
two logical CPUs, and lists the XLA modules each phase compiled.

Run in its own process (XLA reads its flags once): the parent sets
XLA_FLAGS=--xla_dump_to=DIR and TF_XLA_FLAGS=--tf_xla_cpu_global_jit.

    python xla_dump_run.py MODEL DUMP_DIR OUT.json
"""

import json
import pathlib
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras_gan_zoo as zoo  # noqa: E402
from conftest import tiny_data  # noqa: E402


def compiled_modules(dump_dir):
    """`{module file: its HLO text}` for every module XLA compiled so far."""
    return {p.name: p.read_text() for p in pathlib.Path(dump_dir).glob("*.before_optimizations.txt")}


def train_one_epoch(name):
    model = zoo.create(name, **zoo.get_entry(name).tiny)
    model.compile(jit_compile=True)
    history = model.fit(tiny_data(model), epochs=1, verbose=0)
    return model.xla_compiles, {k: v[-1] for k, v in history.history.items()}


def main(name, dump_dir, out):
    report = {}
    seen = {}
    for phase in ("one_device", "mirrored"):
        if phase == "mirrored":
            strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
            with strategy.scope():
                compiles, logs = train_one_epoch(name)
        else:
            compiles, logs = train_one_epoch(name)
        modules = compiled_modules(dump_dir)
        new = {k: v for k, v in modules.items() if k not in seen}
        seen.update(modules)
        report[phase] = {
            "xla_compiles": compiles,
            "logs": logs,
            "modules": sorted(new),
            "modules_with_matmul_or_conv": sorted(
                k for k, text in new.items() if " dot(" in text or " convolution(" in text
            ),
        }
    pathlib.Path(out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:])
