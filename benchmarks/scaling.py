"""Training speed of DCGAN and WGAN-GP across XLA, precision and replica count.

Every configuration runs in its own process (XLA flags and strategies are
fixed per process) and times `--steps` training steps inside one `fit`, after
`--warmup` steps that absorb tracing and compilation:

    model     dcgan, wgan_gp (28x28x1 images, the registry defaults)
    xla       off, on (whole-step jit_compile on one replica; auto-clustering under
              MirroredStrategy, see zoo/xla.py)
    precision float32, mixed (mixed_float16 on GPUs, mixed_bfloat16 elsewhere)
    replicas  1, 2 (GPUs when there are two, else two logical devices on the CPU)

    python benchmarks/scaling.py --repeats 5     # writes docs/results/scaling.md

Configurations are measured in rounds: each round runs every configuration once,
so that slow drifts of the machine fall on all of them alike; the report gives
each one's median and range over rounds, and each ratio's median and range over
the rounds' paired measurements. This is the project's one source for what XLA
does to training speed (docs/results/throughput.md compares training wrappers).
Rows are written as they finish, so a cut-off run keeps what it measured.
"""

import argparse
import itertools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

from reporting import machine as reporting_machine, now_stamp

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
                "precision": "mixed_bfloat16" if mixed else "float32",
                "error": result.stderr.strip().splitlines()[-1][:200], "seconds": time.time() - started}
    row = json.loads(result.stdout.strip().splitlines()[-1])
    row["seconds"] = time.time() - started
    return row


def _key(row):
    return row["model"], row["xla"] != "off", row["precision"], row["replicas"]


def _spread(values, digits=2):
    return (f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
            if values else "none")


def write_report(rows, args, machine, started):
    rounds = max((r["round"] for r in rows), default=0) + 1
    lines = [
        "# Training speed: XLA, precision and replicas",
        "",
        f"Command: `python benchmarks/scaling.py --batch-size {args.batch_size} --warmup {args.warmup} "
        f"--steps {args.steps} --repeats {args.repeats} --models {args.models}`  ",
        f"Machine: {machine}; TensorFlow {args.tf_version}; started {started} UTC.  ",
        f"Budget: {args.warmup} warm-up steps (tracing, compilation), then {args.steps} timed steps of "
        f"global batch {args.batch_size} per configuration, each in a fresh process, one at a time; "
        f"{rounds} of {args.repeats} rounds done, every configuration once per round.",
        "",
        "| model | XLA | precision | replicas | runs attempted / failed | steps/s: median (range) | samples/s (median) "
        "| all steps/s |",
        "|---|---|---|---:|---|---|---:|---|",
    ]
    keys = list(dict.fromkeys(_key(r) for r in rows))
    for key in keys:
        runs = [r for r in rows if _key(r) == key]
        good = [r["steps_per_second"] for r in runs if "error" not in r]
        errors = [r["error"] for r in runs if "error" in r]
        label = runs[-1]["xla"]
        xla = "off" if label == "off" else ("whole step" if "jit_compile" in label else "auto-clustering")
        model, _, precision, replicas = key
        median_samples = f"{statistics.median(good) * args.batch_size:.0f}" if good else ""
        failures = "".join(f"<br>failed: {e}" for e in errors)
        lines.append(f"| {model} | {xla} | {precision} | {replicas} | {len(runs)} / {len(errors)} | {_spread(good)} | "
                     f"{median_samples} | {', '.join(f'{v:.2f}' for v in good)}{failures} |")
    lines += ["", "## Ratios", "", "Median (range) over rounds of the ratio of the two measurements of one round.", ""]
    paired = {}
    for row in rows:
        if "error" not in row:
            paired.setdefault(_key(row), {})[row["round"]] = row["steps_per_second"]

    def ratios(top, bottom):
        return [paired[top][r] / paired[bottom][r] for r in paired.get(top, {}) if r in paired.get(bottom, {})]

    for (model, xla, precision, replicas) in keys:
        if xla and (model, False, precision, replicas) in paired:
            lines.append(f"- {model}, {precision}, {replicas} replica(s): XLA on / off = "
                         f"{_spread(ratios((model, True, precision, replicas), (model, False, precision, replicas)))}")
    for (model, xla, precision, replicas) in keys:
        if not xla and precision == "float32" and (model, False, "mixed_bfloat16", replicas) in paired:
            mixed = ratios((model, False, "mixed_bfloat16", replicas), (model, False, precision, replicas))
            lines.append(f"- {model}, XLA off, {replicas} replica(s): bfloat16 / float32 = {_spread(mixed)}")
    for (model, xla, precision, replicas) in keys:
        if replicas == 2 and (model, xla, precision, 1) in paired:
            lines.append(f"- {model}, XLA {'on' if xla else 'off'}, {precision}: 2 replicas / 1 = "
                         f"{_spread(ratios((model, xla, precision, 2), (model, xla, precision, 1)))} (samples/s)")
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
    parser.add_argument("--repeats", type=int, default=5, help="rounds; every configuration runs once per round")
    parser.add_argument("--replicas", default="1,2", help="comma-separated replica counts")
    parser.add_argument("--precisions", default="float32,mixed", help="float32, mixed or both")
    parser.add_argument("--child", nargs=4, metavar=("MODEL", "XLA", "MIXED", "REPLICAS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_name, xla, mixed, replicas = args.child
        measure(model_name, xla == "1", mixed == "1", int(replicas), args.batch_size, args.warmup, args.steps)
        return
    import tensorflow as tf

    args.tf_version = tf.__version__
    machine = reporting_machine()
    started = now_stamp()
    rows = []
    replica_counts = [int(r) for r in args.replicas.split(",")]
    mixes = [{"float32": False, "mixed": True}[p] for p in args.precisions.split(",")]
    for round_ in range(args.repeats):
        for model_name, replicas, mixed, xla in itertools.product(args.models.split(","), replica_counts, mixes,
                                                                  (False, True)):
            row = {**run_configuration(args, model_name, xla, mixed, replicas), "round": round_}
            rows.append(row)
            print(json.dumps(row), flush=True)
            write_report(rows, args, machine, started)


if __name__ == "__main__":
    main()
