"""Load test of the local server: concurrent clients calling `sample`.

Exports a default zoo model (untrained weights serve as fast as trained ones),
starts `ganzoo serve` in a subprocess on loopback, and has `--clients` threads
send `--requests` `sample` requests of `--num-samples` each, over gRPC and over
REST. The same run times the in-process SavedModel signature with the same
threads and calls, and reports the ratio. Results go to docs/results/serving.md
after each measurement, so a cut-off run keeps what it finished.

    python benchmarks/serving_load.py
"""

import argparse
import concurrent.futures
import datetime
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gan_zoo import export  # noqa: E402
import keras_gan_zoo as zoo  # noqa: E402
from keras_gan_zoo.serving import Client, ServingError  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results" / "serving.md"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_clients(make_call, clients, requests):
    """Runs `requests` calls on each of `clients` threads; returns latencies (s), errors, wall time."""

    def one_client(index):
        call = make_call()
        latencies, errors = [], []
        for r in range(requests):
            start = time.perf_counter()
            try:
                call(seed=index * requests + r)
            except (ServingError, OSError) as error:
                errors.append(repr(error))
            latencies.append(time.perf_counter() - start)
        return latencies, errors

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one_client, range(clients)))
    wall = time.perf_counter() - start
    latencies = np.concatenate([r[0] for r in results])
    errors = [e for r in results for e in r[1]]
    return latencies, errors, wall


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
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=200, help="requests per client")
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--protocols", nargs="+", default=["grpc", "rest"])
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    export_dir = pathlib.Path(tempfile.mkdtemp(prefix="serving-load-"))
    model = zoo.create(args.model, seed=0)
    path = export.export_model(model, export_dir, name=args.model)[args.model]
    rows = []

    signature = tf.saved_model.load(str(path)).signatures["sample"]

    def in_process_call():
        return lambda seed: signature(num_samples=tf.constant(args.num_samples), seed=tf.constant(seed, tf.int64))

    in_process_call()(seed=0)  # trace and warm up
    rows.append(("in-process SavedModel", *run_clients(in_process_call, args.clients, args.requests)))
    write_report(args, rows)

    rest_port, grpc_port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "keras_gan_zoo.training.cli", "serve", str(export_dir),
         "--rest-port", str(rest_port), "--grpc-port", str(grpc_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{rest_port}", args.model)
        targets = {"grpc": f"127.0.0.1:{grpc_port}", "rest": f"http://127.0.0.1:{rest_port}"}
        for protocol in args.protocols:
            def client_call(target=targets[protocol]):
                client = Client(target, args.model)
                return lambda seed: client.sample(args.num_samples, seed=seed)

            client_call()(seed=0)
            rows.append((f"local server, {protocol}", *run_clients(client_call, args.clients, args.requests)))
            write_report(args, rows)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(pathlib.Path(args.out).read_text())


def write_report(args, rows):
    total = args.clients * args.requests
    baseline = total * args.num_samples / rows[0][3]
    lines = [
        "# Serving load: the local server against the in-process SavedModel",
        "",
        f"Command: `python benchmarks/serving_load.py --model {args.model} --clients {args.clients} "
        f"--requests {args.requests} --num-samples {args.num_samples} --protocols {' '.join(args.protocols)}`",
        "",
        f"Measured {datetime.date.today()} on {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}. "
        f"Model: default `{args.model}` (untrained weights). Budget: {args.clients} concurrent "
        f"clients x {args.requests} `sample` requests of {args.num_samples} samples each, per row; "
        "server in its own process on 127.0.0.1, clients in the benchmark's process.",
        "",
        "| path | requests | errors | p50 latency (ms) | p99 latency (ms) | samples/s | / in-process |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, latencies, errors, wall in rows:
        rate = total * args.num_samples / wall
        lines.append(
            f"| {name} | {total} | {len(errors)} | {np.percentile(latencies, 50) * 1000:.1f} | "
            f"{np.percentile(latencies, 99) * 1000:.1f} | {rate:.0f} | {rate / baseline:.2f} |"
        )
    errors = [e for row in rows for e in row[2]]
    if errors:
        lines += ["", f"First error: `{errors[0]}`"]
    lines += ["", "Goal: the server at least 0.7 times the in-process throughput.", ""]
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
