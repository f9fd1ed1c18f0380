"""Training speed of DCGAN and WGAN-GP across XLA, precision and replica count.

Every configuration runs in its own process (XLA flags and strategies are
fixed per process) and times `--steps` training steps inside one `fit`, after
`--warmup` steps that absorb tracing and compilation:

    model     dcgan, wgan_gp (28x28x1 images, the registry defaults)
    xla       off, on (whole-step jit_compile on one replica; auto-clustering under
              MirroredStrategy, see zoo/xla.py)
    precision float32, mixed (mixed_float16 on GPUs, mixed_bfloat16 elsewhere)
    replicas  1, 2 (GPUs when there are two, else two logical devices on the CPU)

    python benchmarks/scaling.py                 # writes docs/results/scaling.md

Rows are written as they finish, so a cut-off run keeps what it measured.
"""

import argparse
import datetime
import itertools
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results" / "scaling.md"
# What follows this heading in the report is written by hand and kept when the table is redone.
NOTES_HEADING = "## Notes"
MODELS = ("dcgan", "wgan_gp")


def measure(model_name, xla, mixed, replicas, batch_size, warmup, steps):
    """Runs in the child process: one configuration, one JSON line on stdout."""
    if xla:
        os.environ["TF_XLA_FLAGS"] = (os.environ.get("TF_XLA_FLAGS", "") + " --tf_xla_cpu_global_jit").strip()
    import keras
    import numpy as np
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if replicas > 1 and len(gpus) < replicas:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    import keras_gan_zoo as zoo

    kind = "GPU" if len(gpus) >= replicas and gpus else "CPU"
    devices = [d.name for d in tf.config.list_logical_devices(kind)][:replicas]
    strategy = tf.distribute.MirroredStrategy(devices) if replicas > 1 else tf.distribute.get_strategy()
    policy = ("mixed_float16" if kind == "GPU" else "mixed_bfloat16") if mixed else "float32"
    keras.mixed_precision.set_dtype_policy(policy)
    with strategy.scope():
        model = zoo.create(model_name, seed=0)
        model.compile(jit_compile=xla)

    x = np.random.default_rng(0).uniform(-1, 1, (batch_size * 4, *model.data_shape)).astype("float32")
    data = zoo.data.pipeline(x, batch_size=batch_size, shuffle=False).cache().repeat()
    stamps = []
    clock = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    model.fit(data, epochs=1, steps_per_epoch=warmup + steps, callbacks=[clock], verbose=0)
    timed = stamps[warmup - 1:]
    steps_per_second = (len(timed) - 1) / (timed[-1] - timed[0])
    print(json.dumps({
        "model": model_name, "xla": model.xla_compiles or "off", "precision": policy,
        "replicas": replicas, "devices": devices, "steps_per_second": steps_per_second,
        "samples_per_second": steps_per_second * batch_size,
    }))


def run_configuration(args, model_name, xla, mixed, replicas):
    command = [
        sys.executable, __file__, "--child", model_name, str(int(xla)), str(int(mixed)), str(replicas),
        "--batch-size", str(args.batch_size), "--warmup", str(args.warmup), "--steps", str(args.steps),
    ]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if result.returncode != 0:
        return {"model": model_name, "xla": "on" if xla else "off", "replicas": replicas,
                "precision": "mixed" if mixed else "float32",
                "error": result.stderr.strip().splitlines()[-1][:200], "seconds": time.time() - started}
    row = json.loads(result.stdout.strip().splitlines()[-1])
    row["seconds"] = time.time() - started
    return row


def machine_description():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        return f"{len(gpus)} GPU(s): {', '.join(names)}"
    return f"CPU only: {os.cpu_count()} cores ({platform.processor() or platform.machine()})"


def write_report(rows, args, machine, started):
    lines = [
        "# Training speed: XLA, precision and replicas",
        "",
        f"Command: `python benchmarks/scaling.py --batch-size {args.batch_size} --warmup {args.warmup} "
        f"--steps {args.steps}`  ",
        f"Machine: {machine}; TensorFlow {args.tf_version}; started {started} UTC.  ",
        f"Budget: {args.warmup} warm-up steps (tracing, compilation), then {args.steps} timed steps of "
        f"global batch {args.batch_size} per configuration, each in a fresh process, one at a time.",
        "",
        "| model | XLA | precision | replicas | steps/s | samples/s | process s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['model']} | {row['xla']} | {row['precision']} | {row['replicas']} | "
                         f"failed: {row['error']} | | {row['seconds']:.0f} |")
            continue
        xla = "off" if row["xla"] == "off" else ("whole step" if "jit_compile" in row["xla"] else "auto-clustering")
        lines.append(f"| {row['model']} | {xla} | {row['precision']} | {row['replicas']} | "
                     f"{row['steps_per_second']:.2f} | {row['samples_per_second']:.0f} | {row['seconds']:.0f} |")
    lines += ["", "## Ratios", ""]
    by_key = {(r["model"], r["xla"] != "off", r["precision"], r["replicas"]): r for r in rows if "error" not in r}
    for (model, xla, precision, replicas), row in sorted(by_key.items()):
        if xla and (model, False, precision, replicas) in by_key:
            base = by_key[(model, False, precision, replicas)]["steps_per_second"]
            lines.append(f"- {model}, {precision}, {replicas} replica(s): XLA on / off = "
                         f"{row['steps_per_second'] / base:.2f}")
    for (model, xla, precision, replicas), row in sorted(by_key.items()):
        if replicas == 2 and (model, xla, precision, 1) in by_key:
            base = by_key[(model, xla, precision, 1)]["samples_per_second"]
            lines.append(f"- {model}, XLA {'on' if xla else 'off'}, {precision}: 2 replicas / 1 = "
                         f"{row['samples_per_second'] / base:.2f} (samples/s)")
    if machine.startswith("CPU only"):
        lines += ["", "Two replicas here are two logical devices on the same cores: the rows measure "
                  "what MirroredStrategy costs, not how training scales with devices."]
    notes = ""
    if RESULTS.exists() and NOTES_HEADING in RESULTS.read_text():
        notes = RESULTS.read_text()[RESULTS.read_text().index(NOTES_HEADING):]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines).rstrip() + "\n" + ("\n" + notes if notes else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--child", nargs=4, metavar=("MODEL", "XLA", "MIXED", "REPLICAS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_name, xla, mixed, replicas = args.child
        measure(model_name, xla == "1", mixed == "1", int(replicas), args.batch_size, args.warmup, args.steps)
        return
    import tensorflow as tf

    args.tf_version = tf.__version__
    machine = machine_description()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    rows = []
    for model_name, replicas, mixed, xla in itertools.product(args.models.split(","), (1, 2), (False, True), (False, True)):
        row = run_configuration(args, model_name, xla, mixed, replicas)
        rows.append(row)
        print(json.dumps(row), flush=True)
        write_report(rows, args, machine, started)


if __name__ == "__main__":
    main()
