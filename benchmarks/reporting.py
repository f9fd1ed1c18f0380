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


def read_records(path):
    """The JSON-lines records at `path` (a `pathlib.Path`), oldest first; [] when there are none yet."""
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def now_stamp():
    """The UTC minute, as every record's "started" (or "at") field writes it."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def cpu_model(flags=False):
    """The CPU's model name from /proc/cpuinfo (Linux), with its matrix instructions when `flags`;
    else the machine's architecture."""
    import pathlib
    import platform

    try:
        lines = pathlib.Path("/proc/cpuinfo").read_text().splitlines()
        name = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
        present = set(next(line for line in lines if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return platform.machine()
    if not flags:
        return name
    shown = [f for f in ("avx512f", "avx512_bf16", "amx_bf16") if f in present]
    return f"{name}; {', '.join(shown) or 'no AVX-512'}" + ("" if "amx_bf16" in present else ", no AMX")


def machine():
    """What a report says ran it: "2 cores of an AMD EPYC, no GPU", or the GPUs TensorFlow sees."""
    import os

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        return f"{len(gpus)} GPU(s): {', '.join(names)}"
    return f"{os.cpu_count()} cores of an {cpu_model()}, no GPU"


def last_run(rows):
    """The records of the last invocation (same "started" as the last record); [] for none. One
    invocation's rounds are interleaved; another's ran on another machine state."""
    return [r for r in rows if r["started"] == rows[-1]["started"]] if rows else []


def run_child(command, show_progress=False):
    """Runs a benchmark's child process (quiet TensorFlow, no GPU); its last stdout line as a
    JSON record, or `{"error": ...}` when it fails: its last stderr line, or with
    `show_progress` (its stderr passed through as it comes) its exit status."""
    import json
    import os
    import subprocess

    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=None if show_progress else subprocess.PIPE,
                            text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""})
    if result.returncode != 0:
        if show_progress:
            return {"error": f"exit status {result.returncode}; see its stderr"}
        return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def keep(row, rows, record_path, write_report):
    """Appends `row` to `rows` and to the JSON-lines record, rewrites the report, prints the row:
    a cut-off benchmark keeps every run it finished."""
    import json

    rows.append(row)
    with open(record_path, "a") as record:
        record.write(json.dumps(row) + "\n")
    write_report(rows)
    print(json.dumps(row)[:300], flush=True)


def steps_per_second(model, dataset, steps):
    """Steady-state training steps per second inside one `fit` call.

    Timed from the end of the first call of the compiled step to the end of the last, so that the
    seconds `fit` spends starting and stopping do not count. `steps` is a multiple of the model's
    `steps_per_execution` (the steps one call runs).
    """
    import time

    import keras

    per_call = model.steps_per_execution
    stamps = []
    clock = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    model.fit(dataset, epochs=1, steps_per_epoch=steps + per_call, verbose=0, callbacks=[clock])
    return steps / (stamps[-1] - stamps[0])


def write_keeping_notes(report, lines, heading="## Notes"):
    """Writes a report's generated `lines` to `report`, keeping the hand-written section under `heading`
    that the file already holds (everything from the heading to the end)."""
    notes = report.read_text().partition(heading)[2] if report.exists() else ""
    report.write_text("\n".join(lines).rstrip() + "\n" + (f"\n{heading}{notes}" if notes else ""))
