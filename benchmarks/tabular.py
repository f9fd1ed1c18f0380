"""tabular_gan against CTGAN on real tables, in one run: column shapes, correlations, usefulness.

For each table and seed: trains `tabular_gan` by its recipe (`ganzoo train --recipe
tabular_gan_autompg --seed S`; on the larger table, statsmodels' `fair`, the same settings through
`--data csv:PATH --categorical ...`) and, in the same run, the CTGAN package (Xu et al. 2019) with its
default 300 epochs and with 3,000, on the table's train rows; samples as many rows as the train
split holds; and scores them with `zoo.metrics.tabular`:

- mean KS statistic over the continuous columns and mean total variation distance over the
  categorical ones, against the train rows (the table the model learnt);
- correlation distance (Frobenius norm of the difference of the correlation matrices, categories
  one-hot, over the number of entries) against the train rows;
- machine-learning efficacy: a 200-tree random forest predicting the target, trained on the
  synthetic rows and on the real train rows, R^2 on the real test rows, and their ratio.

Every run also draws its synthetic columns over the train rows' (`zoo.plots.save_table_columns`) to
docs/results/tabular_TABLE_METHOD_seedS.png; the report shows, per table, the pictures of the
smallest held-out seed that has them.

Two reference rows bound each table: the real test rows scored as if generated (what a perfect
generator of this size scores), and the train rows with every column shuffled on its own (right
columns, no joint structure).

Seed 0 chose tabular_gan's defaults and step budget: shown apart, never as the headline. The
held-out seeds are 1 and up. CTGAN's settings are its own defaults (and 3,000 epochs).

CTGAN needs PyTorch, which the zoo does not depend on: run this benchmark in its own environment,

    python -m venv .venv-tabular && .venv-tabular/bin/pip install -e . ctgan==0.12.1 statsmodels
    .venv-tabular/bin/python benchmarks/tabular.py --seeds 1,2

Without the ctgan package its rows are recorded as not run, saying why; without statsmodels, the
fair table's. Each (method, table, seed)
runs in its own process, one at a time; records go to docs/results/tabular.jsonl as they finish
and docs/results/tabular.md is rewritten after each.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

from reporting import counts_line, keep, now_stamp, read_records, run_child, write_keeping_notes

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "tabular.md"
RECORD = RESULTS_DIR / "tabular.jsonl"
NOTES_HEADING = "## Notes"
TUNING_SEEDS = (0,)
# table -> (target of the efficacy model, recipe of tabular_gan). The larger table, statsmodels'
# `fair` (Fair 1978, 6,366 rows; the package ships it), has no recipe of its own: tabular_gan trains
# on it through `--data csv:PATH --categorical ...` with the autompg recipe's settings unchanged,
# so no seed of it chose anything.
TABLES = {"autompg": ("mpg", "tabular_gan_autompg"), "fair": ("yrs_married", "tabular_gan_autompg")}
FAIR_CATEGORICAL = ("rate_marriage", "religious", "occupation", "occupation_husb")
METHODS = {
    "tabular_gan": {},
    "ctgan_300": {"epochs": 300},
    "ctgan_3000": {"epochs": 3000},
}


def fair_csv():
    """statsmodels' `fair` table written as a CSV (its categories as integers); its "csv:PATH" name."""
    import tempfile

    import statsmodels.api as sm

    table = sm.datasets.fair.load_pandas().data.astype({c: "int64" for c in FAIR_CATEGORICAL})
    path = pathlib.Path(tempfile.gettempdir()) / "zoo-tabular-fair.csv"
    table.to_csv(path, index=False)
    return f"csv:{path}"


def data_name(table):
    """The zoo's dataset name of a report's table, a CSV registered with its categorical columns."""
    if table != "fair":
        return table
    from keras_gan_zoo.data import register_table

    name = fair_csv()
    register_table(name, FAIR_CATEGORICAL)
    return name


def _table(name):
    from keras_gan_zoo.data import tables

    data = data_name(name)
    train, test = tables.shipped_splits(data)
    return train, test, list(tables.source(data)[1])


def scores(train, test, synthetic, categorical, target, seed):
    """The report's measures of `synthetic` rows (a DataFrame with the table's columns)."""
    import numpy as np

    from keras_gan_zoo.metrics import tabular

    similarity = tabular.column_similarity(train, synthetic, categorical)
    continuous = [v for c, v in similarity.items() if c not in categorical]
    categories = [v for c, v in similarity.items() if c in categorical]
    synthetic_r2, real_r2, ratio = tabular.ml_efficacy(train, test, synthetic, target, categorical, seed=seed)
    return {"mean_ks": float(np.mean(continuous)), "mean_tvd": float(np.mean(categories)) if categories else None,
            "correlation_distance": tabular.correlation_distance(train, synthetic, categorical),
            "efficacy_synthetic": synthetic_r2, "efficacy_real": real_r2, "efficacy_ratio": ratio,
            "per_column": similarity}


def run_one(method, table, seed):
    """Child process: trains one method on one table with one seed, prints one JSON line."""
    import time

    train, test, categorical = _table(table)
    target, recipe = TABLES[table]
    started = time.perf_counter()
    if method == "tabular_gan":
        import dataclasses
        import tempfile

        from keras_gan_zoo.training import run
        from keras_gan_zoo.training.config import load_recipe

        config = dataclasses.replace(load_recipe(recipe), seed=seed, data=data_name(table),
                                     categorical=() if table == "autompg" else FAIR_CATEGORICAL)
        model = run.train(config, pathlib.Path(tempfile.mkdtemp(prefix="tabular-")) / "run", verbose=0)
        seconds = time.perf_counter() - started
        synthetic = model.sample(len(train), seed=seed)
        settings = {"recipe": recipe, "data": table if table == "autompg" else f"csv: {table}",
                    "steps": config.total_steps(), "batch_size": config.batch_size}
    else:
        import torch
        from ctgan import CTGAN

        torch.manual_seed(seed)
        epochs = METHODS[method]["epochs"]
        model = CTGAN(epochs=epochs, enable_gpu=False)
        model.set_random_state(seed)
        model.fit(train, discrete_columns=categorical)
        seconds = time.perf_counter() - started
        synthetic = model.sample(len(train))
        settings = {"epochs": epochs, "batch_size": model._batch_size, "ctgan": __import__("ctgan").__version__}
    from keras_gan_zoo.plots import save_table_columns

    picture = picture_path(table, method, seed)
    save_table_columns(synthetic, train, picture, categorical,
                       title=f"{method} on {table}, seed {seed}: generated (red) against the train rows (grey)")
    print(json.dumps({"method": method, "table": table, "seed": seed, "seconds": seconds, "settings": settings,
                      "picture": picture.name, **scores(train, test, synthetic, categorical, target, seed)}))


def picture_path(table, method, seed):
    return RESULTS_DIR / f"tabular_{table}_{method}_seed{seed}.png"


def references(table):
    """The real test rows and the column-shuffled train rows, scored as if generated."""
    import numpy as np

    train, test, categorical = _table(table)
    target = TABLES[table][0]
    rng = np.random.default_rng(0)
    shuffled = train.apply(lambda column: column.to_numpy()[rng.permutation(len(column))])
    real = scores(train, test, test, categorical, target, 0)
    # A forest trained on the test rows and scored on them measures nothing.
    real.update(efficacy_synthetic=None, efficacy_ratio=None)
    return {"real test rows": real, "train rows, columns shuffled": scores(train, test, shuffled, categorical, target, 0)}


def _cells(r):
    tvd = "" if r["mean_tvd"] is None else f"{r['mean_tvd']:.3f}"
    efficacy = ("n/a | n/a" if r["efficacy_synthetic"] is None
                else f"{r['efficacy_synthetic']:.3f} | {r['efficacy_ratio']:.2f}")
    return f"{r['mean_ks']:.3f} | {tvd} | {r['correlation_distance']:.4f} | {efficacy}"


def write_report(rows):
    lines = [
        "# Tables: tabular_gan and CTGAN",
        "",
        "Command: `python benchmarks/tabular.py --seeds 1,2` (in an environment with the ctgan package; see the "
        "script's docstring), and for further seeds `--seeds S` with `--tables` and `--methods` naming what ran; "
        f"every row names its seed. Machine: {os.cpu_count()} CPU cores, shared with other work while these ran: "
        "seconds compare methods of the same run only.",
        "",
        "Columns: mean KS statistic over continuous columns and mean total variation distance over categorical "
        "ones, against the train rows; correlation distance against the train rows; efficacy: R^2 on the real test "
        "rows of a 200-tree random forest trained on the synthetic rows, and its ratio to the same forest trained "
        "on the real train rows. Lower is better for the first three, higher for the last two.",
    ]
    for table in TABLES:
        mine = [r for r in rows if r["table"] == table]
        if not mine:
            continue
        target = TABLES[table][0]
        lines += ["", f"## {table} (target: {target})", ""]
        if table == "fair":
            lines += ["statsmodels' `fair` table (Fair 1978; 6,366 rows, 5,092 train and 1,274 test; categorical: "
                      f"{', '.join(FAIR_CATEGORICAL)}). tabular_gan trains on it as a CSV "
                      "(`--data csv:PATH --categorical ...`) with the autompg recipe's settings unchanged: no seed "
                      "of this table chose anything.", ""]
        reference = next((r["references"] for r in reversed(mine) if "references" in r), None)
        runs = [r for r in mine if "references" not in r]
        header = ["| method | seed | seconds | mean KS | mean TVD | correlation distance | efficacy R^2 | ratio |",
                  "|---|---|---|---|---|---|---|---|"]
        if reference:
            real_r2 = next(iter(reference.values()))["efficacy_real"]
            lines += [f"The forest trained on the real train rows scores R^2 {real_r2:.3f}.", "",
                      "References:", "", *header]
            lines += [f"| {name} | | | {_cells(r)} |" for name, r in reference.items()]
        for title, group in (("Held-out seeds", [r for r in runs if r["seed"] not in TUNING_SEEDS]),
                             ("Tuning seed (chose tabular_gan's defaults; not a headline)",
                              [r for r in runs if r["seed"] in TUNING_SEEDS])):
            if not group:
                continue
            lines += ["", f"### {title}", "", counts_line(group), "", *header]
            for r in sorted(group, key=lambda r: (list(METHODS).index(r["method"]), r["seed"])):
                if "error" in r:
                    lines.append(f"| {r['method']} | {r['seed']} | not run: {r['error']} | | | | | |")
                else:
                    lines.append(f"| {r['method']} | {r['seed']} | {r['seconds']:.0f} | {_cells(r)} |")
        drawn = sorted({r["seed"] for r in runs if r.get("picture") and r["seed"] not in TUNING_SEEDS})
        if drawn:
            pictured = {r["picture"]: r["method"] for r in runs if r.get("picture") and r["seed"] == drawn[0]}
            lines += ["", f"### Pictures (seed {drawn[0]})", ""]
            lines += [f"![{name}]({name})" for name in sorted(pictured, key=lambda n: list(METHODS).index(pictured[n]))]
    write_keeping_notes(REPORT, lines, NOTES_HEADING)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "TABLE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_one(args.child[0], args.child[1], int(args.child[2]))
    rows = read_records(RECORD)
    if args.report_only:
        return write_report(rows)
    started = now_stamp()

    def record(row):
        keep({**row, "started": started}, rows, RECORD, write_report)

    def importable(module):
        return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0

    has_ctgan = importable("ctgan")
    for table in args.tables.split(","):
        no_table = table == "fair" and not importable("statsmodels")
        if not no_table:
            record({"table": table, "references": references(table)})
        for seed in (int(s) for s in args.seeds.split(",")):
            for method in args.methods.split(","):
                if no_table:
                    record({"method": method, "table": table, "seed": seed,
                            "error": "the statsmodels package, which ships the table, is not installed in this "
                                     "environment (see the docstring)"})
                    continue
                if method != "tabular_gan" and not has_ctgan:
                    record({"method": method, "table": table, "seed": seed,
                            "error": "the ctgan package is not installed in this environment (see the docstring)"})
                    continue
                record({"method": method, "table": table, "seed": seed,
                        **run_child([sys.executable, __file__, "--child", method, table, str(seed)])})

if __name__ == "__main__":
    main()
