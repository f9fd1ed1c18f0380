"""Data amplification (seed 000's table): `ganzoo amplify` for each generator and dataset.

For every (dataset, generator) asked for, runs `keras_gan_zoo.training.amplify`
(a class-balanced tenth, the generator trained on it alone, one fixed CNN trained
for the same number of steps on the full set, the tenth, the tenth mixed with
generated samples at 25/50/75%, and the tenth with shifts and flips), `--runs`
times, and writes docs/results/amplification.md with every study's table, its
seconds and command. The budgets were fixed before any run: seeds 0 to runs - 1
are all held out (no seed chose anything).

    python benchmarks/amplification.py                                   # every study below
    python benchmarks/amplification.py --data mnist_5k --generators cgan --runs 1

Each study runs in its own process, one at a time (the classifier uses both
cores); its record is appended to docs/results/amplification.jsonl when it
finishes, and the report rewritten. A study of hours keeps its runs as they
finish: after each, its accuracies so far go to docs/results/amplification_runs.jsonl,
and the same study asked for again (same data, generator, runs, fraction and
budgets) goes on from the next run instead of starting over. The report lists
such unfinished studies.
"""

import argparse
import json
import os
import pathlib
import sys

from reporting import counts_line, keep, now_stamp, read_records, run_child, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "amplification.md"
RECORD = RESULTS_DIR / "amplification.jsonl"
RUNS_RECORD = RESULTS_DIR / "amplification_runs.jsonl"
NOTES_HEADING = "## Notes"
# Report name -> (generator: variant or recipe, extra model options).
GENERATORS = {
    "cgan": ("cgan", {}),
    "wgan_gp_conditional": ("wgan_gp", {"conditional": True}),
    "latent_gan": ("latent_gan", {}),
    "guided_gan": ("guided_gan", {}),
    "aae_supervised": ("aae", {"supervised": True, "latent_dim": 2}),
}
DATASETS = ("fashion_mnist", "mnist_5k")


def reusable_baselines(dataset, runs, fraction, classifier_steps):
    """The generator-free conditions' accuracies of a finished study with the same settings, or None."""
    from keras_gan_zoo.training import amplify

    for row in reversed(read_records(RECORD)):
        config = row.get("config", {})
        if "error" not in row and (config.get("data"), config.get("runs"), config.get("fraction"),
                                   config.get("classifier_steps"), config.get("seed")) == (
                dataset, runs, fraction, classifier_steps, 0):
            return {r["condition"]: r["accuracies"] for r in row["rows"] if r["condition"] in amplify.BASELINES}
    return None


def _study_key(dataset, name, runs, fraction, generator_steps, classifier_steps):
    return {"data": dataset, "name": name, "runs": runs, "fraction": fraction, "generator_steps": generator_steps,
            "classifier_steps": classifier_steps}


def _runs_done(state):
    return len(next(iter(state["accuracies"].values())))


def _unfinished_states():
    """Each study's last kept state (by its key's JSON) from docs/results/amplification_runs.jsonl, for the
    studies whose last state has fewer runs than they asked for: cut off, to go on from the next run."""
    latest = {}
    for state in read_records(RUNS_RECORD):
        latest[json.dumps(state["study"], sort_keys=True)] = state
    return {key: state for key, state in latest.items() if _runs_done(state) < state["study"]["runs"]}


def study(dataset, name, runs, fraction, generator_steps, classifier_steps):
    """Child process: one study, its record printed as one JSON line."""
    from keras_gan_zoo.training import amplify

    generator, options = GENERATORS[name]
    config = amplify.AmplifyConfig(data=dataset, fraction=fraction, generator=generator, model_options=options,
                                   runs=runs, generator_steps=generator_steps, classifier_steps=classifier_steps)
    key = _study_key(dataset, name, runs, fraction, generator_steps, classifier_steps)
    finished = _unfinished_states().get(json.dumps(key, sort_keys=True))
    if finished:
        print(f"going on from run {_runs_done(finished) + 1}: the earlier runs are in "
              f"{RUNS_RECORD.name}", file=sys.stderr, flush=True)

    def keep_run(state):
        at = now_stamp()
        with RUNS_RECORD.open("a") as f:
            f.write(json.dumps({"study": key, "at": at, **state}) + "\n")

    record = amplify.amplify(config, progress=lambda line: print(line, file=sys.stderr, flush=True),
                             baselines=reusable_baselines(dataset, runs, fraction, classifier_steps),
                             finished=finished, on_run=keep_run)
    print(json.dumps({"name": name, **record}))


def write_report(rows):
    from keras_gan_zoo.training import amplify

    lines = [
        "# Data amplification",
        "",
        "Command: `python benchmarks/amplification.py` (each study: `ganzoo amplify` with the values below). "
        f"Machine: {os.cpu_count()} CPU cores.",
        "",
        "Protocol: a class-balanced fraction of the train split; the generator trained on it alone (one "
        "conditional model, or one model per class); one fixed CNN (conv32-pool-conv64-pool-dense128-dropout "
        "0.3-dense10, Adam 1e-3, batch 128) trained for the same number of steps on each set; test accuracy on the "
        "whole test split, mean and spread over runs (run r seeds the generator and classifiers with r; the "
        "fraction is the same in every run). The gap closed is (accuracy - fraction's) / (full set's - "
        "fraction's). Budgets were fixed before any run; no seed chose anything. The full-set, fraction and "
        "augmentation rows do not depend on the generator: a study reuses those of the first study of its "
        "dataset with the same settings (the same seeds give them).",
        "",
    ]
    lines += [counts_line(rows).replace("Runs", "Studies"), ""]
    for row in rows:
        if "error" in row:
            lines += [f"## {row['name']} on {row['data']}: failed", "", f"{row['error']}", ""]
            continue
        lines += [f"## {row['name']} on {row['config']['data']}", "",
                  *amplify.markdown(row).splitlines()[2:], "", f"Started {row['started']}.", ""]
    open_studies = list(_unfinished_states().values())
    if open_studies:
        lines += ["## Unfinished studies", "",
                  "Cut off before their last run; the runs they finished are kept in "
                  "docs/results/amplification_runs.jsonl, and the same command goes on from the next one.", ""]
        for state in open_studies:
            lines.append(f"- {state['study']['name']} on {state['study']['data']}: {_runs_done(state)} of "
                         f"{state['study']['runs']} runs finished ({state['seconds']:.0f} s), the last at {state['at']}.")
        lines.append("")
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=",".join(DATASETS))
    parser.add_argument("--generators", default=",".join(GENERATORS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--generator-steps", type=int, default=3000)
    parser.add_argument("--classifier-steps", type=int, default=3000)
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", nargs=2, metavar=("DATA", "GENERATOR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return study(*args.child, args.runs, args.fraction, args.generator_steps, args.classifier_steps)
    unknown = set(args.generators.split(",")) - set(GENERATORS)
    if unknown:
        parser.error(f"unknown generator {', '.join(sorted(unknown))}; choose from {', '.join(GENERATORS)}.")
    rows = read_records(RECORD)
    if args.report_only:
        return write_report(rows)
    for dataset in args.data.split(","):
        for name in args.generators.split(","):
            started = now_stamp()
            command = [sys.executable, __file__, "--child", dataset, name, "--runs", str(args.runs), "--fraction",
                       str(args.fraction), "--generator-steps", str(args.generator_steps), "--classifier-steps",
                       str(args.classifier_steps)]
            row = run_child(command, show_progress=True)
            if "error" in row:
                row = {"name": name, "data": dataset, **row}
            keep({**row, "started": started}, rows, RECORD, write_report)

if __name__ == "__main__":
    main()
