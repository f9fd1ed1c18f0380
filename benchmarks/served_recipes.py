"""The published mode-coverage figures, reproduced the way a user deploys them.

For each recipe: `ganzoo train --recipe NAME --seed S`, `ganzoo export`, `ganzoo
serve`, then one REST `sample` request for 2,500 points, scored with
`zoo.metrics.mode_coverage`. The served `sample` signature draws through the
run's rejection sampler, so these are the figures TF Serving returns.

    python benchmarks/served_recipes.py --recipes packed_critic_grid25,packed_critic_ring8 --seeds 11

Seeds 0 to 9 chose the configurations (docs/results/mode_coverage.md); seeds
from 10 on are held out. Each run appends a row to
docs/results/served_recipes.jsonl as it finishes (failed runs too, with their
error), and the section "Recipes served over REST" of
docs/results/mode_coverage.md is rewritten from all rows on record.
"""

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from reporting import now_stamp, read_records

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
RECORD = RESULTS / "served_recipes.jsonl"
REPORT = RESULTS / "mode_coverage.md"
HEADING = "## Recipes served over REST"
NUM_SAMPLES = 2500
# Seeds below this chose configurations and thresholds; they are not fresh.
FIRST_HELD_OUT_SEED = 10
GANZOO = [sys.executable, "-m", "keras_gan_zoo.training.cli"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(command, log):
    """Runs a `ganzoo` command, its output to `log`; returns its seconds, or raises naming the log."""
    started = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        raise RuntimeError(f"`{' '.join(command[2:])}` exited {done.returncode}: see {log}")
    return time.perf_counter() - started


def post(url, payload, timeout=600):
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"HTTP {error.code} from {url}: {error.read().decode(errors='replace')[:300]}") from error


def wait_until_serving(rest, model, server, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"ganzoo serve exited {server.returncode} before serving {model}")
        try:
            with urllib.request.urlopen(f"{rest}/v1/models/{model}", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"ganzoo serve did not serve {model} within {seconds} s")


def measure(recipe, seed, work):
    """Trains, exports, serves and scores one recipe at one seed; returns the record row."""
    import numpy as np

    import keras_gan_zoo as zoo
    from keras_gan_zoo.training.config import load_recipe

    config = load_recipe(recipe)
    name = pathlib.Path(recipe).stem
    run_dir, exports = work / f"{name}-seed{seed}", work / f"exports-{name}-seed{seed}"
    commands = {
        "train": [*GANZOO, "train", "--recipe", recipe, "--seed", str(seed), "--out", str(run_dir), "--overwrite"],
        "export": [*GANZOO, "export", str(run_dir), "--out", str(exports), "--name", name],
    }
    row = {"recipe": name, "data": config.data, "seed": seed, "held_out": seed >= FIRST_HELD_OUT_SEED,
           "commands": {k: " ".join(["ganzoo", *c[3:]]) for k, c in commands.items()}}
    row["train_seconds"] = timed(commands["train"], work / f"{name}-seed{seed}.train.log")
    row["export_seconds"] = timed(commands["export"], work / f"{name}-seed{seed}.export.log")
    from keras_gan_zoo.export import saved_model_bytes

    row["saved_model_mb"] = saved_model_bytes(exports / name / "1") / 1e6
    rest_port = free_port()
    server = subprocess.Popen([*GANZOO, "serve", str(exports), "--rest-port", str(rest_port),
                               "--grpc-port", str(free_port())],
                              stdout=subprocess.DEVNULL, stderr=open(work / f"{name}-seed{seed}.serve.log", "w"))
    try:
        rest = f"http://127.0.0.1:{rest_port}"
        wait_until_serving(rest, name, server)
        started = time.perf_counter()
        answer = post(f"{rest}/v1/models/{name}:predict",
                      {"signature_name": "sample", "inputs": {"num_samples": NUM_SAMPLES, "seed": seed}})
        row["request_seconds"] = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    samples = np.asarray(answer["outputs"], dtype="float32")
    coverage = zoo.metrics.mode_coverage(samples, config.data)
    row.update(samples=len(samples), modes=coverage.modes, num_modes=coverage.num_modes,
               high_quality=coverage.high_quality, quality_rule=zoo.metrics.RULE_VERSION)
    return row


def write_report(rows):
    """Replaces the report's served section (after its notes, which mode_coverage.py keeps) with all rows."""
    lines = [
        HEADING,
        "",
        "Each row: `ganzoo train --recipe RECIPE --seed SEED`, `ganzoo export`, `ganzoo serve`, and one REST "
        f"`sample` request for {NUM_SAMPLES:,} points, scored as above (`python benchmarks/served_recipes.py`). "
        f"Seeds below {FIRST_HELD_OUT_SEED} chose the configurations; the held-out column says which rows are "
        "fresh. Seconds are wall time on 2 cores, training including the ratio classifier's fit, and include "
        "whatever else the machine ran at the time; MB is the size of the served SavedModel (generator and "
        "ratio classifier).",
        "",
        f"Runs attempted: {len(rows)}; failed: {sum('error' in r for r in rows)}; "
        f"reported: {sum('error' not in r for r in rows)}.",
        "",
        "| recipe | seed | held out | modes | % high quality | train s | export s | request s | MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['recipe']} | {r['seed']} | {'yes' if r['held_out'] else 'no'} | failed: "
                         f"{r['error']} | | | | | |")
            continue
        size = f"{r['saved_model_mb']:.2f}" if "saved_model_mb" in r else "-"
        # gauss1200 rows scored by the retired rule 1 (it counted blends of modes) are marked.
        retired = " (retired rule 1, not comparable)" if "gauss1200" in r["recipe"] and r.get(
            "quality_rule", 1) < 2 else ""
        lines.append(f"| {r['recipe']} | {r['seed']} | {'yes' if r['held_out'] else 'no'} | "
                     f"{r['modes']}/{r['num_modes']}{retired} | {100 * r['high_quality']:.2f}{retired} | "
                     f"{r['train_seconds']:.0f} | "
                     f"{r['export_seconds']:.0f} | {r['request_seconds']:.1f} | {size} |")
    text = REPORT.read_text()
    if HEADING in text:
        start = text.index(HEADING)
        following = text.find("\n## ", start + len(HEADING))
        text = text[:start] + (text[following + 1:] if following >= 0 else "")
    REPORT.write_text(text.rstrip() + "\n\n" + "\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default="packed_critic_grid25,packed_critic_ring8")
    parser.add_argument("--seeds", default=str(FIRST_HELD_OUT_SEED + 1), help="comma-separated")
    parser.add_argument("--work", default=None, help="where runs and exports go (default: a temporary folder)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records, run nothing")
    args = parser.parse_args()
    if args.report_only:
        write_report(read_records(RECORD))
        return
    work = pathlib.Path(args.work or tempfile.mkdtemp(prefix="served-recipes-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = "python benchmarks/served_recipes.py " + " ".join(sys.argv[1:])
    for seed in (int(s) for s in args.seeds.split(",")):
        for recipe in args.recipes.split(","):
            started = now_stamp()
            try:
                row = measure(recipe, seed, work)
            except (RuntimeError, OSError, ValueError) as error:
                row = {"recipe": recipe, "seed": seed, "held_out": seed >= FIRST_HELD_OUT_SEED, "error": str(error)}
            row.update(started=started, command=command)
            with RECORD.open("a") as record:
                record.write(json.dumps(row) + "\n")
            rows = read_records(RECORD)
            write_report(rows)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
