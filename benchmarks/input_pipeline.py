"""How much of a training step waits for data: the zoo's input pipeline against an in-memory tensor.

For each case (a model, its dataset and the batch `ganzoo train` gives it, and the steps per call
the run would choose), one process trains the model by `fit` on (a) the pipeline a run trains on
(`model.training_data(...)`: the train split shuffled every epoch, batched, prefetched) and (b) one
batch of it held as a tensor and repeated, which costs no input work beyond the fetch itself. Both
are fed as a run feeds them: with several steps per call, a call's batches fetched together
(`zoo.steps.group_batches`). The two alternate
`--repeats` times in the same process after a warm-up of each; the share of step time spent on
input is 1 - (steps/s on the pipeline) / (steps/s on the tensor), from the medians. Goal: under
5% for Fashion-MNIST and the 2-D sets.

    python benchmarks/input_pipeline.py          # writes docs/results/input_pipeline.md

Records go to docs/results/input_pipeline.jsonl, one per case as it finishes.
"""

import argparse
import json
import os
import pathlib
import statistics
import sys

from reporting import counts_line, keep, last_run, now_stamp, read_records, run_child, steps_per_second, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "input_pipeline.md"
RECORD = RESULTS_DIR / "input_pipeline.jsonl"
NOTES_HEADING = "## Notes"
GOAL = 0.05
# case -> (model, dataset, model options); the batch is the run's default for the data.
CASES = {
    "gan ring8": ("gan", "ring8", {"data_shape": (2,)}),
    "gan grid25": ("gan", "grid25", {"data_shape": (2,)}),
    "gan gauss1200": ("gan", "gauss1200", {"data_shape": (1200,)}),
    "dcgan fashion_mnist": ("dcgan", "fashion_mnist", {}),
}


def measure(case, repeats, calls):
    """Child process: alternating measurements of the pipeline and the tensor, one JSON line."""
    import tensorflow as tf

    import keras_gan_zoo as zoo
    from keras_gan_zoo.training import run
    from keras_gan_zoo.training.config import TrainConfig

    name, data, options = CASES[case]
    config = TrainConfig(model=name, data=data)
    batch = run.batch_size_of(config)
    x, y = zoo.data.load_arrays(data, "train")
    model = zoo.create(name, seed=0, **options)
    model.compile()
    pipeline = model.training_data(x, y, batch_size=batch, seed=0)
    per_call = run.steps_per_execution_of(config, model, int(pipeline.cardinality()))
    feeds = {"pipeline": pipeline.repeat(), "tensor": tf.data.Dataset.from_tensors(next(iter(pipeline))).repeat()}
    # As `ganzoo train` feeds it (training/run.py): a call's batches fetched together.
    feeds = {feed: zoo.steps.group_batches(dataset, per_call) for feed, dataset in feeds.items()}
    steps = calls * per_call
    rates = {feed: [] for feed in feeds}

    with model.grouping_batches(per_call):
        for dataset in feeds.values():
            steps_per_second(model, dataset, steps)  # warm-up: traces the step for this input
        for _ in range(repeats):
            for feed, dataset in feeds.items():
                rates[feed].append(steps_per_second(model, dataset, steps))
    print(json.dumps({"case": case, "batch_size": batch, "steps_per_call": per_call, "steps": steps,
                      "steps_per_second": rates}))


def write_report(rows):
    lines = [
        "# Input pipeline: the share of a training step spent waiting for data",
        "",
        "Command: `python benchmarks/input_pipeline.py`. Machine: "
        f"{os.cpu_count()} CPU cores. Protocol: the module docstring of benchmarks/input_pipeline.py. Goal: "
        f"under {100 * GOAL:.0f}% for Fashion-MNIST and the 2-D sets.",
        "",
        counts_line(rows),
        "",
        "| case | batch | steps per call | steps/s on the pipeline (median; all) | steps/s on a tensor (median; all) "
        "| share of step time on input |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['case']} | failed: {r['error']} | | | | |")
            continue
        rates = r["steps_per_second"]
        median = {feed: statistics.median(values) for feed, values in rates.items()}
        cells = [f"{median[feed]:.1f}; {', '.join(f'{v:.1f}' for v in rates[feed])}" for feed in ("pipeline", "tensor")]
        share = 1 - median["pipeline"] / median["tensor"]
        lines.append(f"| {r['case']} | {r['batch_size']} | {r['steps_per_call']} | {cells[0]} | {cells[1]} | "
                     f"{100 * share:.1f}% |")
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40, help="timed calls of the step per measurement")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "REPEATS", "CALLS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.child[0], int(args.child[1]), int(args.child[2]))
    if args.report_only:
        return write_report(last_run(read_records(RECORD)))
    # A new run replaces the table: its cases ran on one machine state.
    started = now_stamp()
    rows = []
    for case in args.cases.split(","):
        keep({"case": case, **run_child([sys.executable, __file__, "--child", case, str(args.repeats),
                                         str(args.calls)]), "started": started}, rows, RECORD, write_report)


if __name__ == "__main__":
    main()
