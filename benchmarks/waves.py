"""rcgan on waves: does it draw the class asked for, with real amplitudes and frequencies?

Trains the shipped recipe `rcgan_waves` (`ganzoo train --recipe rcgan_waves --seed S`) once
per seed, then scores the trained model with `zoo.evaluation` on 2,000 samples, half of each
class: the share the waves judge (`zoo.metrics.series`, a logistic regression on spectra,
trained on series of its own seed; its test accuracy is printed beside its scores) labels as
the class asked for (goal: at least 95%), and per class the 1-Wasserstein distances between
the generated and real amplitudes and frequencies, beside the train split's own distances to
the test split. The pictures of the first seed go beside the report: series per class
beside real ones (seed 003, Figure 13) and a walk over two code axes (Figure 14).

Seeds 0, 3 and 4 choose (learning rate, widths, code size, step budget, averaging): their
runs are shown apart as tuning runs and never as the headline. The other seeds are held out.
A candidate change to the recipe (benchmarks/waves_candidates.json: overrides of the recipe's
fields) is tried on tuning seeds only; a candidate adopted into the recipe is then run on seeds
no run has used. Every row records the whole configuration it trained with, and the report
groups rows by it: rows of an earlier recipe stay, under their own heading.

    python benchmarks/waves.py --seeds 5,6                  # held-out seeds of the recipe
    python benchmarks/waves.py --seeds 0                    # a tuning seed, reported apart
    python benchmarks/waves.py --seeds 3,4 --candidate ema_cosine

Each run is its own process, one at a time; its record is appended to
docs/results/waves.jsonl when it finishes and the report rewritten.
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile

from reporting import counts_line, keep, now_stamp, read_records, run_child, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "waves.md"
RECORD = RESULTS_DIR / "waves.jsonl"
NOTES_HEADING = "## Notes"
RECIPE = "rcgan_waves"
SAMPLES = 2000
CANDIDATES = pathlib.Path(__file__).with_name("waves_candidates.json")
TUNING_SEEDS = (0, 3, 4)
GOAL = 0.95
# The recipe's fields when the first rows were recorded (seeds 0, 1, 2): rows without a "config"
# trained with these (the recipe file then held exactly them).
FIRST_RECIPE = {"model": "rcgan", "data": "waves", "batch_size": 64, "epochs": 20, "steps_per_epoch": 500}


def candidate_config(candidate, seed):
    """The recipe with `seed` and, when `candidate` names one, that candidate's overrides."""
    import dataclasses

    from keras_gan_zoo.training.config import TrainConfig, load_recipe

    config = dataclasses.replace(load_recipe(RECIPE), seed=seed)
    if candidate:
        candidates = json.loads(CANDIDATES.read_text())
        if candidate not in candidates:
            raise SystemExit(f"Unknown candidate {candidate!r}; {CANDIDATES.name} has: {', '.join(candidates)}.")
        config = TrainConfig.from_dict({**config.to_dict(), **candidates[candidate]})
    return config


def _plain(value):
    return json.loads(json.dumps(value))


def row_config(row):
    """The configuration a row trained with, its seed left out."""
    from keras_gan_zoo.training.config import TrainConfig

    # Through TrainConfig, so that a field added since a row was recorded takes its default.
    fields = TrainConfig.from_dict(row.get("config") or FIRST_RECIPE).to_dict()
    # These runs train on CPUs, where xla "auto" is off.
    fields["xla"] = fields["xla"] is True
    return _plain({k: v for k, v in fields.items() if k != "seed"})


def differences(config, recipe):
    """The fields where `config` differs from `recipe`, as `name=value` text."""
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in config.items() if v != recipe.get(k)) or "none"


def train_and_score(seed, pictures, candidate):
    """Child process: trains the recipe (or a candidate) with `seed`, scores it, prints one JSON line."""
    import shutil
    import time

    from keras_gan_zoo import evaluation
    from keras_gan_zoo.training import plotting, run

    config = candidate_config(candidate, seed)
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix="waves-"))
    started = time.perf_counter()
    model = run.train(config, run_dir, verbose=0)
    train_seconds = time.perf_counter() - started
    report = evaluation.evaluate(model, "waves", ["classes", "properties"], n=SAMPLES, seed=seed)
    written = []
    if pictures:
        for kind in ("classes", "walk"):
            for path in plotting.draw(kind, model, config, run_dir / "plots", seed=seed):
                target = RESULTS_DIR / f"waves_{path.stem}_seed{seed}.png"
                shutil.copyfile(path, target)
                written.append(target.name)
    shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps({"seed": seed, "recipe": RECIPE, "candidate": candidate, "config": config.to_dict(),
                      "steps": config.total_steps(), "batch_size": config.batch_size,
                      "train_seconds": train_seconds, "metrics": report["metrics"], "judge": report["judge"],
                      "pictures": written}))


def _row(r):
    m = r["metrics"]
    return (f"| {r['seed']} | {100 * m['classes']['samples']:.1f}% | {m['amplitude_distance']['samples']:.3f} | "
            f"{m['frequency_distance']['samples']:.3f} | {r['train_seconds']:.0f} |")


def write_report(rows):
    judged = [r for r in rows if "judge" in r]
    judge = judged[-1]["judge"]["description"] if judged else "the waves judge"
    reference = judged[-1]["metrics"] if judged else None
    lines = [
        "# rcgan on waves",
        "",
        f"Command: `python benchmarks/waves.py --seeds 1,2` (each run: `ganzoo train --recipe {RECIPE} --seed S`, "
        f"then `ganzoo evaluate RUN --metrics classes,properties --n {SAMPLES} --seed S`). Machine: "
        f"{os.cpu_count()} CPU cores, shared with other work while these ran.",
        "",
        f"Protocol: {SAMPLES:,} samples per run, half sines and half sawtooths asked for. Judge: {judge}. "
        "Classes: the share of samples the judge labels as the class asked for (goal: at least "
        f"{100 * GOAL:.0f}%). Distances: per class, the 1-Wasserstein distance between the generated and the real "
        "test series' amplitudes (half the range) and frequencies (cycles per 30 steps, spectral peak), the mean "
        "over the two classes.",
    ]
    if reference:
        lines += ["", f"Real data on the same measures: the test series labelled right "
                      f"{100 * reference['classes']['real']:.1f}%; the train split's distances to the test split: "
                      f"amplitude {reference['amplitude_distance']['real']:.4f}, frequency "
                      f"{reference['frequency_distance']['real']:.4f}."]
    recipe = row_config({"config": candidate_config(None, 0).to_dict()})
    current = [r for r in rows if row_config(r) == recipe]
    held_out = [r for r in current if r["seed"] not in TUNING_SEEDS]
    header = ["| seed | labelled as asked | amplitude distance | frequency distance | train seconds |",
              "|---|---|---|---|---|"]
    for title, group in (("Held-out seeds", held_out),
                         ("Tuning seeds (chose the recipe; not a headline)",
                          [r for r in current if r["seed"] in TUNING_SEEDS])):
        if group:
            lines += ["", f"## {title}", "", counts_line(group), ""] + header
            lines += [_row(r) if "error" not in r else f"| {r['seed']} | failed: {r['error']} | | | |" for r in group]
    others = [r for r in rows if row_config(r) != recipe]
    if others:
        lines += ["", "## Other configurations (candidates on tuning seeds, earlier recipes)", "",
                  "Each differs from the current recipe in the fields named. " + counts_line(others), "",
                  "| configuration | differs in | seed (kind) | labelled as asked | amplitude distance | "
                  "frequency distance | train seconds |", "|---|---|---|---|---|---|---|"]
        for r in others:
            name = r.get("candidate") or "earlier recipe"
            kind = "tuning" if r["seed"] in TUNING_SEEDS else "held out"
            cells = _row(r).split(" | ", 1)[1] if "error" not in r else f"failed: {r['error']} | | | |"
            lines.append(f"| {name} | {differences(row_config(r), recipe)} | {r['seed']} ({kind}) | {cells}")
    pictures = [p for r in held_out if "error" not in r for p in r.get("pictures", [])]
    if pictures:
        lines += ["", "## Pictures", ""]
        lines += [f"![{p}]({p})" for p in pictures]
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--candidate", help=f"a candidate of {CANDIDATES.name}, tried on tuning seeds only")
    parser.add_argument("--child", nargs=3, metavar=("SEED", "PICTURES", "CANDIDATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return train_and_score(int(args.child[0]), args.child[1] == "1", args.child[2] or None)
    rows = read_records(RECORD)
    if args.report_only:
        return write_report(rows)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.candidate:
        candidate_config(args.candidate, 0)  # an unknown name fails before any run
        if set(seeds) - set(TUNING_SEEDS):
            parser.error(f"a candidate runs on the tuning seeds ({', '.join(map(str, TUNING_SEEDS))}) only; "
                         "adopt it into the recipe to run it on held-out seeds.")
    for seed in seeds:
        started = now_stamp()
        pictures = seed == min(s for s in seeds if s not in TUNING_SEEDS) if set(seeds) - set(TUNING_SEEDS) else False
        row = run_child([sys.executable, __file__, "--child", str(seed), "1" if pictures else "0",
                         args.candidate or ""])
        # A failed run's row still says what it trained with.
        keep({"seed": seed, "candidate": args.candidate, "config": candidate_config(args.candidate, seed).to_dict(),
              **row, "started": started}, rows, RECORD, write_report)


if __name__ == "__main__":
    main()
