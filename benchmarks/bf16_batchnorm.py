"""Where the zoo's DCGAN step spends its bfloat16 time: batch normalization and the output layer.

A diagnosis behind the bfloat16 row of docs/results/throughput.md ("Beside PyTorch"): the zoo's
`dcgan` on Fashion-MNIST (batch 128), each case in float32 and under `mixed_bfloat16`:

- `fused`: as shipped. Batch normalization is `zoo.layers.FusedBatchNormalization` (TensorFlow's
  fused kernel); the generator's last transposed convolution computes in the policy's dtype and
  its tanh in float32;
- `keras`: as shipped but every batch normalization `keras.layers.BatchNormalization` (moments and
  normalization as separate float32 operations, bfloat16 cast up and back);
- `fused, none in D`: as shipped but the discriminator without its one batch normalization
  (`zoo.nets.conv_encoder(..., batch_norm=False)`): the most that normalization can cost there;
- `fused, float32 output convolution`: as shipped but the generator's last transposed convolution
  computing in float32 (the zoo's generator before this benchmark's second run).

Each measurement is a process of its own: 5 warm-up steps, then `--steps` steps timed from the end
of the first to the end of the last; the cases run interleaved, `--repeats` rounds.

    python benchmarks/bf16_batchnorm.py          # writes docs/results/bf16_batchnorm.md

Records go to docs/results/bf16_batchnorm.jsonl as they come.
"""

import argparse
import json
import os
import pathlib
import statistics
import sys

from reporting import keep, last_run, now_stamp, read_records, run_child, steps_per_second

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "bf16_batchnorm.md"
RECORD = RESULTS_DIR / "bf16_batchnorm.jsonl"
NORMS = ("keras", "fused", "fused, none in D", "fused, float32 output convolution")
CASES = [(precision, norm) for precision in ("float32", "mixed_bfloat16") for norm in NORMS]


def measure(precision, norm, steps):
    import keras

    import keras_gan_zoo as zoo

    keras.mixed_precision.set_dtype_policy(precision)
    x, _ = zoo.data.load_arrays("fashion_mnist", download=False)
    options = {}
    if norm == "fused, none in D":
        options["discriminator"] = zoo.nets.conv_encoder((28, 28, 1), 1, 64, batch_norm=False, name="discriminator")
    if norm == "fused, float32 output convolution":
        shipped = zoo.nets.conv_decoder(100, (28, 28, 1), 64, name="generator")
        # The shipped generator up to its last ReLU, then the output layer as one float32 convolution.
        last = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh", dtype="float32")
        options["generator"] = keras.Model(shipped.inputs, last(shipped.layers[-3].output), name="generator")
    model = zoo.create("dcgan", seed=0, **options)
    if norm == "keras":
        def unfused(layer):
            kind = keras.layers.BatchNormalization if isinstance(layer, zoo.layers.FusedBatchNormalization) else type(layer)
            return kind.from_config(layer.get_config())

        nets = {name: keras.models.clone_model(getattr(model, name), clone_function=unfused)
                for name in ("generator", "discriminator")}
        assert not any(isinstance(layer, zoo.layers.FusedBatchNormalization)
                       for net in nets.values() for layer in net.layers)
        model = zoo.create("dcgan", seed=0, **nets)
    model.compile()
    data = zoo.data.pipeline(x[: 128 * 20], batch_size=128, shuffle=False).cache().repeat()
    model.fit(data, epochs=1, steps_per_epoch=5, verbose=0)
    print(json.dumps({"steps_per_second": steps_per_second(model, data, steps)}))


def write_report(rows):
    rows = last_run(rows)
    lines = ["# Batch normalization and the output layer in the DCGAN step, float32 and bfloat16", "",
             "Command: `python benchmarks/bf16_batchnorm.py` (its docstring says how). Machine: "
             f"{os.cpu_count()} CPU cores, the machine's other work paused. Measured {rows[-1]['started']}.", "",
             "| precision | case | runs attempted / failed | steps/s (median; all) |",
             "|---|---|---|---|"]
    median = {}
    for precision, norm in CASES:
        group = [r for r in rows if (r["precision"], r["batch_norm"]) == (precision, norm)]
        values = [r["steps_per_second"] for r in group if "error" not in r]
        if values:
            median[precision, norm] = statistics.median(values)
        cell = f"{statistics.median(values):.2f}; {', '.join(f'{v:.2f}' for v in values)}" if values else ""
        lines.append(f"| {precision} | {norm} | {len(group)} / {len(group) - len(values)} | {cell} |")
    lines.append("")
    for precision in ("float32", "mixed_bfloat16"):
        for norm in NORMS:
            if norm != "fused" and (precision, "fused") in median and (precision, norm) in median:
                lines.append(f"- {precision}: fused (as shipped) / {norm} = "
                             f"{median[precision, 'fused'] / median[precision, norm]:.2f}x")
    REPORT.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--child", nargs=3, metavar=("PRECISION", "NORM", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.child[0], args.child[1], int(args.child[2]))
    started = now_stamp()
    rows = read_records(RECORD)
    for round_ in range(args.repeats):
        for precision, norm in CASES:
            row = run_child([sys.executable, __file__, "--child", precision, norm, str(args.steps)])
            keep({"precision": precision, "batch_norm": norm, "round": round_ + 1, **row, "started": started},
                 rows, RECORD, write_report)


if __name__ == "__main__":
    main()
