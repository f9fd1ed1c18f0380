"""What every benchmark report shares: runs counted as attempted, failed and reported.

The benchmarks are scripts run from anywhere; Python puts this folder on the
path of each, so they import this module by its plain name.
"""


def split_runs(rows, config, key="config"):
    """(runs, good, failed): the records of `config`, then those that finished and those that failed."""
    runs = [r for r in rows if r[key] == config]
    return runs, [r for r in runs if "error" not in r], [r for r in runs if "error" in r]


def counts_line(rows):
    """"Runs attempted: N; failed: F; reported: R." for a list of records."""
    failed = sum("error" in r for r in rows)
    return f"Runs attempted: {len(rows)}; failed: {failed}; reported: {len(rows) - failed}."
