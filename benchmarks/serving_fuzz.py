"""The long fuzzing profile of the serving endpoints (tests/test_serving_fuzz.py).

Runs the two property tests (REST and gRPC predict) with `--examples` examples
each under a fixed hypothesis seed, and appends what happened to
docs/results/serving_fuzz.jsonl; docs/results/serving_fuzz.md is rewritten from
those records. CI runs the same tests with the short "ci" profile.

    python benchmarks/serving_fuzz.py --examples 20000 --seed 0
"""

import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import time

from reporting import read_records

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000, help="examples per property")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis's seed")
    args = parser.parse_args()
    command = f"python benchmarks/serving_fuzz.py --examples {args.examples} --seed {args.seed}"
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_serving_fuzz.py",
         f"--hypothesis-seed={args.seed}", "--hypothesis-show-statistics"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "HYPOTHESIS_PROFILE": "long", "FUZZ_EXAMPLES": str(args.examples)},
    )
    output = run.stdout + run.stderr
    summary = re.findall(r"^(?:=+ )?(\d+ (?:passed|failed).*?) in [\d.]+s", output, re.M)
    falsifying = re.findall(r"Falsifying example: .*", output)
    record = {
        "command": command, "date": str(datetime.date.today()), "examples_per_property": args.examples,
        "seed": args.seed, "exit_code": run.returncode, "summary": summary[-1] if summary else None,
        "falsifying": falsifying[:3], "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "serving_fuzz.jsonl", "a") as records:
        records.write(json.dumps(record) + "\n")
    write_report()
    print(json.dumps(record))
    if run.returncode:
        print(output[-4000:])
    return run.returncode


def write_report():
    entries = read_records(RESULTS / "serving_fuzz.jsonl")
    lines = [
        "# Fuzzing the serving endpoints",
        "",
        "tests/test_serving_fuzz.py's two properties, REST and gRPC predict against the local server: every "
        "request is answered with a success or a client error (REST 2xx/4xx with a JSON body; gRPC OK or "
        "INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, RESOURCE_EXHAUSTED), and a good request succeeds "
        "after each. Records: docs/results/serving_fuzz.jsonl.",
        "",
        "| date | command | examples per property | seed | result | falsifying example | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(f"| {e['date']} | `{e['command']}` | {e['examples_per_property']} | {e['seed']} | "
                     f"{e['summary'] or 'exit ' + str(e['exit_code'])} | "
                     f"{'; '.join(e['falsifying']) or 'none'} | {e['seconds']} |")
    lines.append("")
    (RESULTS / "serving_fuzz.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
