"""Load test of the local server: throughput by path, bad requests mixed into good ones, and a soak.

Exports a default zoo model (untrained weights serve as fast as trained ones),
starts `ganzoo serve` in a subprocess on loopback, and measures, each row
`--repeats` times:

- throughput: `--clients` threads each sending `--requests` `sample` requests
  of `--num-samples` samples, in-process (the SavedModel signature called
  directly), over gRPC, over REST as JSON floats, and over REST as PNG files
  (`sample_png`); REST floats take `--rest-float-requests` per client, since
  each answer is about a megabyte of JSON;
- a mix: the same clients over REST and gRPC, every `--bad-every`-th request
  a bad one (malformed, oversized, wrong types, non-finite); every good one
  must succeed and every bad one get a 4xx or TF Serving's INVALID_ARGUMENT;
- a soak: the mix for `--soak-seconds`, the server's resident memory sampled
  every 5 s; it must stay within 5% of its level at the end of the first minute.

Records go to docs/results/serving_load.jsonl as each row finishes (a cut-off
run keeps them), and the report, docs/results/serving.md, is rewritten from
the records of this command after each row.

    python benchmarks/serving_load.py
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gan_zoo import export  # noqa: E402
import keras_gan_zoo as zoo  # noqa: E402
from keras_gan_zoo.serving import Client, ServingError  # noqa: E402
from reporting import read_records  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resident_mb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


# -- bad requests, each answered with a 4xx (REST) or INVALID_ARGUMENT (gRPC) ----


def rest_bad_requests(port, latent_dim):
    body = json.dumps({"signature_name": "sample", "inputs": {"num_samples": 2, "seed": 0}})
    cases = [
        ("POST", "/v1/models/{m}:predict", '{"inputs": {"num_samples": 2, ', None),
        ("POST", "/v1/models/{m}:predict", json.dumps({"inputs": {"num_samples": 10_001, "seed": 0}}), None),
        ("POST", "/v1/models/{m}:predict", json.dumps({"inputs": {"num_samples": "3", "seed": 0}}), None),
        ("POST", "/v1/models/{m}:predict", json.dumps({"inputs": {"num_samples": 2 ** 32 + 3, "seed": 0}}), None),
        ("POST", "/v1/models/{m}:predict",
         '{"signature_name": "generate", "inputs": {"z": [[NaN' + ", 0" * (latent_dim - 1) + "]]}}", None),
        ("POST", "/v1/models/{m}:predict", body, "-1"),
        ("POST", "/v1/models/{m}/labels/x:predict", body, None),
        ("POST", "/v1/models/{m}:predict", '{"inputs": ' + "[" * 5000 + "]" * 5000 + "}", None),
    ]

    def send(model, index):
        method, path, text, length = cases[index % len(cases)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            data = text.encode()
            connection.putrequest(method, path.format(m=model))
            connection.putheader("Content-Length", length or str(len(data)))
            connection.endheaders(data)
            status = connection.getresponse().status
        finally:
            connection.close()
        return 400 <= status < 500, f"REST case {index % len(cases)} answered {status}"

    return send


def grpc_bad_requests(target):
    cases = [
        {"num_samples": np.int64(3), "seed": np.int64(0)},
        {"num_samples": np.int32(10_001), "seed": np.int64(0)},
        {"num_samples": np.bool_(True), "seed": np.int64(0)},
    ]

    def send(model, index):
        try:
            Client(target, model).predict("sample", cases[index % len(cases)])
        except ServingError as error:
            return error.code == "INVALID_ARGUMENT", f"gRPC case {index % len(cases)} answered {error.code}"
        return False, f"gRPC case {index % len(cases)} answered OK"

    return send


# -- the clients ---------------------------------------------------------------


def run_clients(make_call, clients, requests, bad=None, bad_every=0, deadline=None):
    """`clients` threads, each making `requests` calls (or calling until `deadline`);
    returns good latencies, good failures, bad requests answered wrongly, bad sent, wall time."""

    def one_client(index):
        call = make_call()
        latencies, failures, wrong, sent = [], [], [], 0
        r = 0
        while (r < requests) if deadline is None else (time.time() < deadline):
            if bad is not None and bad_every and r % bad_every == bad_every - 1:
                sent += 1
                try:
                    ok, what = bad(index * requests + r)
                except (OSError, http.client.HTTPException) as error:
                    ok, what = False, repr(error)
                if not ok:
                    wrong.append(what)
            else:
                start = time.perf_counter()
                try:
                    call(seed=index * requests + r)
                except (ServingError, OSError, http.client.HTTPException) as error:
                    failures.append(repr(error))
                latencies.append(time.perf_counter() - start)
            r += 1
        return latencies, failures, wrong, sent

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one_client, range(clients)))
    wall = time.perf_counter() - start
    return (np.concatenate([r[0] for r in results]), [e for r in results for e in r[1]],
            [e for r in results for e in r[2]], sum(r[3] for r in results), wall)


def record(args, row, repeat, latencies, failures, wrong, bad_sent, wall, **extra):
    samples = len(latencies) * args.num_samples
    entry = {
        "command": command_line(args), "date": str(datetime.date.today()), "cpus": os.cpu_count(),
        "tensorflow": tf.__version__, "model": args.model, "row": row, "repeat": repeat,
        "clients": args.clients, "good_requests": len(latencies), "good_failed": len(failures),
        "bad_requests": bad_sent, "bad_answered_wrongly": len(wrong),
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1) if len(latencies) else None,
        "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1) if len(latencies) else None,
        "samples_per_s": round(samples / wall, 1), "wall_s": round(wall, 1),
        "first_failure": (failures or wrong or [None])[0], **extra,
    }
    with open(RESULTS / "serving_load.jsonl", "a") as records:
        records.write(json.dumps(entry) + "\n")
    write_report(args)
    print(json.dumps(entry), flush=True)


def command_line(args):
    return (f"python benchmarks/serving_load.py --model {args.model} --clients {args.clients} --requests "
            f"{args.requests} --rest-float-requests {args.rest_float_requests} --num-samples {args.num_samples} "
            f"--repeats {args.repeats} --bad-every {args.bad_every} --soak-seconds {args.soak_seconds}")


def write_report(args):
    command = command_line(args)
    entries = read_records(RESULTS / "serving_load.jsonl")
    entries = [e for e in entries if e["command"] == command]
    in_process = [e["samples_per_s"] for e in entries if e["row"] == "in-process SavedModel"]
    baseline = float(np.median(in_process)) if in_process else None
    rows = list(dict.fromkeys(e["row"] for e in entries))
    lines = [
        "# Serving load: the local server against the in-process SavedModel",
        "",
        f"Command: `{command}`",
        "",
        f"Records: docs/results/serving_load.jsonl (one per row and repeat). Measured "
        f"{entries[-1]['date']} on {entries[-1]['cpus']} CPU cores, TensorFlow {entries[-1]['tensorflow']}; "
        f"model: default `{args.model}` (untrained weights); server in its own process on 127.0.0.1, "
        f"clients in the benchmark's process, {args.clients} concurrent clients, `sample` requests of "
        f"{args.num_samples} samples.",
        "",
        "| path | repeats | good requests (each) | good failed | bad sent | bad answered wrongly | p50 ms "
        "(median) | p99 ms (median) | samples/s (median; each) | / in-process |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        runs = [e for e in entries if e["row"] == row]
        rates = [e["samples_per_s"] for e in runs]
        ratio = f"{np.median(rates) / baseline:.2f}" if baseline else "-"
        lines.append(
            f"| {row} | {len(runs)} | {runs[0]['good_requests']} | {sum(e['good_failed'] for e in runs)} | "
            f"{sum(e['bad_requests'] for e in runs)} | {sum(e['bad_answered_wrongly'] for e in runs)} | "
            f"{np.median([e['p50_ms'] for e in runs]):.1f} | {np.median([e['p99_ms'] for e in runs]):.1f} | "
            f"{np.median(rates):.0f} ({', '.join(f'{r:.0f}' for r in rates)}) | {ratio} |"
        )
    soaks = [e for e in entries if "rss_mb" in e]
    for soak in soaks:
        trace = soak["rss_mb"]
        lines += ["", f"Soak ({soak['row']}, {soak['wall_s']:.0f} s): server resident memory "
                      f"{soak['rss_after_warmup_mb']:.0f} MB after the first minute, {trace[-1]:.0f} MB at the end, "
                      f"{max(trace):.0f} MB at most ({soak['rss_growth_pct']:+.1f}% from warm-up to the end; "
                      f"bound: 5%). Samples every 5 s: {', '.join(f'{v:.0f}' for v in trace)}."]
    failures = [e["first_failure"] for e in entries if e["first_failure"]]
    if failures:
        lines += ["", f"First failure: `{failures[0]}`"]
    lines += ["", "Goals: 0 good requests failed; every bad one answered 4xx / INVALID_ARGUMENT; REST PNG at "
                  "least 0.5x in-process; memory within 5% of its warm-up level over the soak.", ""]
    (RESULTS / "serving.md").write_text("\n".join(lines))


def wait_until_serving(url, name, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            Client(url, name).status()
            return
        except (ServingError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"the server at {url} did not come up in {seconds} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=200, help="requests per client")
    parser.add_argument("--rest-float-requests", type=int, default=20, help="requests per client, REST floats")
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bad-every", type=int, default=4, help="in the mix, every Nth request is a bad one")
    parser.add_argument("--soak-seconds", type=int, default=600)
    parser.add_argument("--results", default=None, help="where the records and the report go (docs/results)")
    args = parser.parse_args()
    global RESULTS
    RESULTS = pathlib.Path(args.results or RESULTS)
    RESULTS.mkdir(parents=True, exist_ok=True)

    export_dir = pathlib.Path(tempfile.mkdtemp(prefix="serving-load-"))
    model = zoo.create(args.model, seed=0)
    path = export.export_model(model, export_dir, name=args.model)[args.model]
    signature = tf.saved_model.load(str(path)).signatures["sample"]

    def in_process_call():
        return lambda seed: signature(num_samples=tf.constant(args.num_samples), seed=tf.constant(seed, tf.int64))

    in_process_call()(seed=0)  # trace and warm up
    rest_port, grpc_port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "keras_gan_zoo.training.cli", "serve", str(export_dir),
         "--rest-port", str(rest_port), "--grpc-port", str(grpc_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    rest, grpc_target = f"http://127.0.0.1:{rest_port}", f"127.0.0.1:{grpc_port}"
    try:
        wait_until_serving(rest, args.model)

        def client_call(target, method):
            def make():
                client = Client(target, args.model)
                return lambda seed: getattr(client, method)(args.num_samples, seed=seed)
            return make

        rows = [
            ("in-process SavedModel", in_process_call, args.requests),
            ("local server, gRPC", client_call(grpc_target, "sample"), args.requests),
            ("local server, REST, PNG (sample_png)", client_call(rest, "sample_images"), args.requests),
            ("local server, REST, JSON floats", client_call(rest, "sample"), args.rest_float_requests),
        ]
        for repeat in range(args.repeats):
            for row, make_call, requests in rows:
                make_call()(seed=0)
                record(args, row, repeat, *run_clients(make_call, args.clients, requests))
            bad_rest = rest_bad_requests(rest_port, model.latent_dim)
            bad_grpc = grpc_bad_requests(grpc_target)
            for protocol, make_call, bad in (("REST PNG", client_call(rest, "sample_images"), bad_rest),
                                             ("gRPC", client_call(grpc_target, "sample"), bad_grpc)):
                record(args, f"mix over {protocol}, every {args.bad_every}th request bad", repeat,
                       *run_clients(make_call, args.clients, args.requests,
                                    bad=lambda i, bad=bad: bad(args.model, i), bad_every=args.bad_every))

        if args.soak_seconds:
            trace, stop = [], threading.Event()

            def sample_memory():
                while not stop.wait(5):
                    trace.append(resident_mb(server.pid))

            sampler = threading.Thread(target=sample_memory, daemon=True)
            sampler.start()
            bad_rest = rest_bad_requests(rest_port, model.latent_dim)
            result = run_clients(client_call(rest, "sample_images"), args.clients, args.requests,
                                 bad=lambda i: bad_rest(args.model, i), bad_every=args.bad_every,
                                 deadline=time.time() + args.soak_seconds)
            stop.set()
            sampler.join()
            warm = trace[min(11, len(trace) - 1)]  # the sample at one minute
            record(args, f"soak over REST PNG, every {args.bad_every}th request bad", 0, *result,
                   rss_mb=[round(v, 1) for v in trace], rss_after_warmup_mb=round(warm, 1),
                   rss_growth_pct=round(100 * (trace[-1] - warm) / warm, 2))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print((RESULTS / "serving.md").read_text())


if __name__ == "__main__":
    main()
