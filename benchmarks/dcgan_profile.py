"""Where a DCGAN training step spends its time: TensorFlow's profiler, op by op, float32 and bfloat16.

benchmarks/vs_pytorch.py finds the zoo's float32 DCGAN step at about two thirds of the machine's
float32 matmul peak. This script says where the rest goes. For each precision, one process builds
the zoo's `dcgan` on Fashion-MNIST (mnist_5k when it is not installed; batch 128, XLA off, as
vs_pytorch.py runs it), trains warm-up steps, then records `--steps` steps with
`tf.profiler.experimental` and sums each op type's self time over the step's ops. Shares are of
the time the CPU threads were busy with ops (the profiler's idle time left out); they group into
convolutions (oneDNN's forward, input-gradient and filter-gradient kernels; a transposed
convolution's forward pass is an input-gradient kernel), batch normalization, matmuls,
activations and everything else (the optimizer's and the losses' element-wise arithmetic, casts,
copies). `--rounds` repeats every precision, interleaved.

    python benchmarks/dcgan_profile.py --rounds 2     # writes docs/results/dcgan_profile.md

The profiler's trace is read with the converter TensorFlow itself ships
(`xspace_to_tools_data`, the one TensorBoard's profile plugin calls): the plugin is not a
dependency of the zoo. Records go to docs/results/dcgan_profile.jsonl, one per run as it finishes.
"""

import argparse
import collections
import json
import os
import pathlib
import statistics
import sys
import tempfile

from reporting import counts_line, keep, last_run, now_stamp, read_records, run_child, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "dcgan_profile.md"
RECORD = RESULTS_DIR / "dcgan_profile.jsonl"
NOTES_HEADING = "## Notes"
PRECISIONS = ("float32", "mixed_bfloat16")
# Category -> what an op type's name contains; the first match wins, the rest is "other".
CATEGORIES = {
    "convolution": ("Conv2D",),
    "batch normalization": ("BatchNorm",),
    "matmul": ("MatMul",),
    "activations": ("Relu", "Tanh", "Sigmoid"),
}


def category(op_type):
    for name, parts in CATEGORIES.items():
        if any(part in op_type for part in parts):
            return name
    return "other"


def op_type_self_times(xplane_path):
    """`{op type: self time in microseconds}` from a profiler trace, idle time left out."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin

    data, ok = _pywrap_profiler_plugin.xspace_to_tools_data([str(xplane_path)], "framework_op_stats", {})
    if not ok:
        raise RuntimeError(f"TensorFlow could not convert the profile {xplane_path}.")
    table = json.loads(data)[0]
    columns = [c["id"] for c in table["cols"]]
    times = collections.Counter()
    for row in table["rows"]:
        values = dict(zip(columns, [cell.get("v") if cell else None for cell in row["c"]]))
        if values["type"] != "IDLE":
            times[values["type"]] += values["total_self_time"]
    return times


def measure(precision, warmup, steps):
    """Child process: one profiled run, its record printed as one JSON line."""
    import keras
    import tensorflow as tf

    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from vs_pytorch import _real_data

    import keras_gan_zoo as zoo

    keras.mixed_precision.set_dtype_policy(precision)
    data_name, x = _real_data("dcgan")
    model = zoo.create("dcgan", seed=0)
    model.compile()
    dataset = zoo.data.pipeline(x[: 128 * 20], batch_size=128, shuffle=False).cache().repeat()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup, verbose=0)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
        tf.profiler.experimental.stop()
        trace = next(pathlib.Path(logdir).rglob("*.xplane.pb"))
        times = op_type_self_times(trace)
    busy = sum(times.values())
    shares = collections.Counter()
    for op_type, micros in times.items():
        shares[category(op_type)] += micros / busy
    print(json.dumps({
        "precision": precision, "data": data_name, "steps": steps, "busy_ms_per_step": busy / steps / 1000,
        "shares": dict(shares), "op_types": {t: m / busy for t, m in times.most_common(12)},
        "tensorflow": tf.__version__,
    }))


def write_report(rows):
    lines = [
        "# Where a DCGAN training step spends its time",
        "",
        "Command: `python benchmarks/dcgan_profile.py` (its docstring says how the shares are counted). "
        f"Machine: {os.cpu_count()} CPU cores. Each share is of the time the CPU threads were busy with "
        "the step's ops, median over the runs of that precision.",
        "",
        counts_line(rows),
        "",
    ]
    for precision in PRECISIONS:
        runs = [r for r in rows if r["precision"] == precision]
        good = [r for r in runs if "error" not in r]
        lines += [f"## {precision}", "", f"Runs attempted: {len(runs)}; failed: {len(runs) - len(good)}.", ""]
        for failed in (r for r in runs if "error" in r):
            lines += [f"- failed: {failed['error']}"]
        if not good:
            lines.append("")
            continue
        lines += ["| category | share of busy time (median; all runs) |", "|---|---|"]
        for name in [*CATEGORIES, "other"]:
            values = [r["shares"].get(name, 0.0) for r in good]
            lines.append(f"| {name} | {100 * statistics.median(values):.1f}%; "
                         + ", ".join(f"{100 * v:.1f}%" for v in values) + " |")
        top = collections.Counter()
        for r in good:
            top.update({t: s / len(good) for t, s in r["op_types"].items()})
        lines += ["", "Op types by share of busy time (mean over the runs):", "",
                  "| op type | share |", "|---|---|"]
        lines += [f"| `{t}` | {100 * s:.1f}% |" for t, s in top.most_common(10)]
        lines.append("")
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="profiled steps per run")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", metavar="PRECISION", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.child, args.warmup, args.steps)
    if args.report_only:
        return write_report(last_run(read_records(RECORD)))
    started = now_stamp()
    rows = []
    for round_ in range(args.rounds):
        for precision in PRECISIONS:
            row = run_child([sys.executable, __file__, "--child", precision, "--warmup", str(args.warmup),
                             "--steps", str(args.steps)])
            keep({"precision": precision, "round": round_ + 1, "started": started, **row}, rows, RECORD,
                 write_report)


if __name__ == "__main__":
    main()
