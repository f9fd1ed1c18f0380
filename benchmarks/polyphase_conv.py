"""Phase-by-phase transposed convolutions (`zoo.layers.PolyphaseConv2DTranspose`): the layer alone
and the DCGAN step, against Keras's own layers.

Two kinds of measurement, each in its own process, interleaved over `--rounds`:

- layer: a 5x5 stride-2 transposed convolution from 14x14x64 to 28x28xC at batch 128 (the DCGAN
  generator's output layer for C = 1), for C in 1, 3, 4, 8 and 16, in float32 and bfloat16:
  milliseconds per forward pass and per forward and backward pass (input and kernel gradients),
  Keras's `Conv2DTranspose` against the polyphase layer with the phase form forced on at every C.
  This is what `MAX_CHANNELS` (the most channels the phase form is used for) rests on.
- step: the zoo's `dcgan` on Fashion-MNIST (mnist_5k when it is not installed), batch 128, steps
  per second in `fit` as benchmarks/vs_pytorch.py times it, with the phase form on (the zoo as
  shipped) and off (`MAX_CHANNELS = 0`: Keras's convolutions everywhere), float32 and
  mixed_bfloat16.

    python benchmarks/polyphase_conv.py --rounds 3     # writes docs/results/polyphase_conv.md

Records go to docs/results/polyphase_conv.jsonl, one per measurement as it finishes.
"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

from reporting import counts_line, keep, last_run, now_stamp, read_records, run_child, steps_per_second, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "polyphase_conv.md"
RECORD = RESULTS_DIR / "polyphase_conv.jsonl"
NOTES_HEADING = "## Notes"
CHANNELS = (1, 3, 4, 8, 16)
PRECISIONS = ("float32", "mixed_bfloat16")
BATCH = 128


def _milliseconds(function, *args, repeats=20):
    function(*args)
    start = time.perf_counter()
    for _ in range(repeats):
        function(*args)
    return (time.perf_counter() - start) / repeats * 1e3


def measure_layers(precision):
    """Child: forward and forward+backward milliseconds of Keras's layer and the polyphase one."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_gan_zoo.layers import polyphase_conv

    polyphase_conv.MAX_CHANNELS = max(CHANNELS)  # the phase form at every channel count measured
    keras.mixed_precision.set_dtype_policy(precision)
    x = tf.cast(np.random.default_rng(0).normal(size=(BATCH, 14, 14, 64)).astype("float32"),
                keras.mixed_precision.dtype_policy().compute_dtype)
    result = {}
    for channels in CHANNELS:
        layers = {"keras": keras.layers.Conv2DTranspose(channels, 5, strides=2, padding="same"),
                  "phases": polyphase_conv.PolyphaseConv2DTranspose(channels, 5, strides=2, padding="same")}
        for layer in layers.values():
            layer.build(x.shape)
        layers["phases"].set_weights(layers["keras"].get_weights())
        for name, layer in layers.items():
            forward = tf.function(lambda x, layer=layer: layer(x))

            @tf.function
            def forward_backward(x, layer=layer):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    loss = tf.reduce_sum(tf.square(tf.cast(layer(x), "float32")))
                return tape.gradient(loss, [x, layer.kernel])

            result[f"{channels}/{name}"] = {"forward_ms": _milliseconds(forward, x),
                                            "forward_backward_ms": _milliseconds(forward_backward, x)}
    print(json.dumps({"layers": result, "tensorflow": tf.__version__}))


def measure_step(precision, phases, warmup, steps):
    """Child: the DCGAN's training steps per second, with the phase form on or off."""
    import keras

    import keras_gan_zoo as zoo
    from keras_gan_zoo.layers import polyphase_conv
    from vs_pytorch import _real_data

    if not phases:
        polyphase_conv.MAX_CHANNELS = 0
    keras.mixed_precision.set_dtype_policy(precision)
    data_name, x = _real_data("dcgan")
    model = zoo.create("dcgan", seed=0)
    model.compile()
    dataset = zoo.data.pipeline(x[: BATCH * 20], batch_size=BATCH, shuffle=False).cache().repeat()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup, verbose=0)
    print(json.dumps({"steps_per_second": steps_per_second(model, dataset, steps), "data": data_name}))


def _spread(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def write_report(rows):
    lines = [
        "# Phase-by-phase transposed convolutions",
        "",
        "Command: `python benchmarks/polyphase_conv.py` (its docstring says what each measurement is). "
        f"Machine: {os.cpu_count()} CPU cores. Medians over the rounds, with the range.",
        "",
        counts_line(rows),
        "",
    ]
    for precision in PRECISIONS:
        runs = [r for r in rows if r["kind"] == "layer" and r["precision"] == precision]
        good = [r for r in runs if "error" not in r]
        lines += [f"## The layer alone, {precision}", "",
                  f"5x5, stride 2, 14x14x64 to 28x28xC, batch {BATCH}. "
                  f"Runs attempted: {len(runs)}; failed: {len(runs) - len(good)}.", ""]
        lines += [f"- failed: {r['error']}" for r in runs if "error" in r]
        if good:
            lines += ["| C | forward, Keras ms | forward, phases ms | speed-up | forward+backward, Keras ms "
                      "| forward+backward, phases ms | speed-up |", "|---|---|---|---|---|---|---|"]
            for channels in CHANNELS:
                cells = [str(channels)]
                for what in ("forward_ms", "forward_backward_ms"):
                    keras_ms = [r["layers"][f"{channels}/keras"][what] for r in good]
                    phase_ms = [r["layers"][f"{channels}/phases"][what] for r in good]
                    cells += [_spread(keras_ms), _spread(phase_ms),
                              f"{statistics.median(keras_ms) / statistics.median(phase_ms):.2f}x"]
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## The DCGAN step", "", f"Batch {BATCH}, steps per second in `fit`.", "",
              "| precision | phases off (Keras's layers): steps/s | on (as shipped): steps/s | on / off "
              "| measurements attempted / failed |", "|---|---|---|---|---|"]
    for precision in PRECISIONS:
        runs = [r for r in rows if r["kind"] == "step" and r["precision"] == precision]
        rates = {phases: [r["steps_per_second"] for r in runs if r["phases"] == phases and "error" not in r]
                 for phases in (False, True)}
        failed = sum("error" in r for r in runs)
        if rates[False] and rates[True]:
            ratio = f"{statistics.median(rates[True]) / statistics.median(rates[False]):.3f}x"
            lines.append(f"| {precision} | {_spread(rates[False])} | {_spread(rates[True])} | {ratio} "
                         f"| {len(runs)} / {failed} |")
        else:
            lines.append(f"| {precision} | | | | {len(runs)} / {failed} |")
    lines += [f"- failed: {r['error']}" for r in rows if r["kind"] == "step" and "error" in r]
    lines.append("")
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40, help="timed DCGAN steps per measurement")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "layer":
            return measure_layers(args.child[1])
        return measure_step(args.child[1], args.child[2] == "on", args.warmup, args.steps)
    if args.report_only:
        return write_report(last_run(read_records(RECORD)))
    started = now_stamp()
    rows = []
    for round_ in range(args.rounds):
        for precision in PRECISIONS:
            child = [sys.executable, __file__, "--warmup", str(args.warmup), "--steps", str(args.steps), "--child"]
            row = run_child(child + ["layer", precision])
            keep({"kind": "layer", "precision": precision, "round": round_ + 1, "started": started, **row}, rows,
                 RECORD, write_report)
            for phases in ("off", "on"):
                row = run_child(child + ["step", precision, phases])
                keep({"kind": "step", "precision": precision, "phases": phases == "on", "round": round_ + 1,
                      "started": started, **row}, rows, RECORD, write_report)


if __name__ == "__main__":
    main()
