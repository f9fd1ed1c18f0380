"""The README's first command, `ganzoo train gan --data ring8`, timed with one training step per call
and with the default (100 steps per call for this small model, their batches fetched together), and
the mode coverage of each run.

Each round runs the command both ways, one after the other, as fresh processes into fresh run
directories, and times the whole command (start-up, training, pictures, saving) and the training
alone (from the run's "Epoch 1/10" line to its "Saved" line). Both trained models are scored by
`zoo.evaluation` on ring8 (2,500 samples, seed 0): the same seed trains the same weights either way,
so the two scores must agree.

    python benchmarks/first_command.py --rounds 3      # writes docs/results/first_command.md

Records go to docs/results/first_command.jsonl, one per run as it finishes.
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from reporting import keep, last_run, now_stamp, read_records, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "first_command.md"
RECORD = RESULTS_DIR / "first_command.jsonl"
NOTES_HEADING = "## Notes"
WAYS = {"1 step per call": ["--steps-per-execution", "1"], "default": []}


def timed_run(way, run_dir):
    """Runs the command; its seconds (whole and training), its mode coverage, or an error."""
    command = [sys.executable, "-m", "keras_gan_zoo.training.cli", "train", "gan", "--data", "ring8",
               "--out", str(run_dir), *WAYS[way]]
    marks = {}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    for line in process.stdout:
        for mark in ("Epoch 1/", "Saved "):
            if mark in line and mark not in marks:
                marks[mark] = time.perf_counter()
    if process.wait() != 0 or len(marks) < 2:
        return {"error": f"exit status {process.returncode}"}
    seconds = time.perf_counter() - started
    score = subprocess.run([sys.executable, "-m", "keras_gan_zoo.training.cli", "evaluate", str(run_dir),
                            "--n", "2500", "--seed", "0", "--out", str(run_dir / "evaluation")],
                           capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    metrics = (json.loads((run_dir / "evaluation" / "evaluation.json").read_text())["metrics"]["modes"]
               if score.returncode == 0 else None)
    return {"seconds": seconds, "training_seconds": marks["Saved "] - marks["Epoch 1/"],
            "metrics": {k: v for k, v in metrics.items() if k != "real"} if metrics else None,
            **({} if metrics else {"evaluate_error": (score.stderr.strip().splitlines() or ["?"])[-1][:300]})}


def write_report(rows):
    lines = ["# The README's first command: `ganzoo train gan --data ring8`", "",
             f"Command: `python benchmarks/first_command.py` (its docstring says how). Machine: {os.cpu_count()} CPU "
             f"cores, the machine's other work paused. Measured {rows[-1]['started']}; earlier runs are in "
             "docs/results/first_command.jsonl.", "",
             "| way | runs attempted / failed | whole command, s (median; all) | training, s (median; all) | "
             "mode coverage (every run) |", "|---|---|---|---|---|"]
    for way in WAYS:
        group = [r for r in rows if r["way"] == way]
        good = [r for r in group if "error" not in r]
        if not group:
            continue
        cells = []
        for key in ("seconds", "training_seconds"):
            values = [r[key] for r in good]
            cells.append(f"{statistics.median(values):.1f}; {', '.join(f'{v:.1f}' for v in values)}" if values else "")
        coverage = "; ".join(json.dumps(r.get("metrics"), sort_keys=True)[:160] for r in good)
        lines.append(f"| {way} | {len(group)} / {len(group) - len(good)} | {cells[0]} | {cells[1]} | {coverage} |")
    medians = {way: statistics.median([r["training_seconds"] for r in rows if r["way"] == way and "error" not in r])
               for way in WAYS if any(r["way"] == way and "error" not in r for r in rows)}
    if len(medians) == 2:
        lines += ["", f"Training time, default over 1 step per call: "
                      f"{medians['default'] / medians['1 step per call']:.2f}x (goal: at most 0.5x)."]
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the last run's records")
    args = parser.parse_args()
    if args.report_only:
        return write_report(last_run(read_records(RECORD)))
    started = now_stamp()
    rows = []
    for round_ in range(args.rounds):
        for way in WAYS:
            run_dir = pathlib.Path(tempfile.mkdtemp(prefix="first-command-")) / "run"
            keep({"way": way, "round": round_ + 1, **timed_run(way, run_dir), "started": started},
                 rows, RECORD, write_report)
            shutil.rmtree(run_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
