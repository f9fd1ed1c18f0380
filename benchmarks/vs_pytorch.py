"""Training speed beside PyTorch: the zoo's DCGAN and MLP GAN against the same networks in PyTorch.

Cases (same networks, data, batch, losses and optimizer settings on both sides):

- DCGAN on Fashion-MNIST (mnist_5k when it is not installed), batch 128: the zoo's `dcgan`
  (XLA off) against the same generator and discriminator written in PyTorch, trained eagerly
  (and through `torch.compile` where it works here); float32, and bfloat16 mixed precision (the
  zoo's `--mixed-precision`, PyTorch's `autocast`).
- The MLP GAN of the 2-D sets (`gan` on ring8, batch 100): the zoo as `ganzoo train` runs it (its
  default steps per call, the call's batches fetched together: `zoo.steps.group_batches`), with
  the same steps per call in Keras's own loop (a batch fetched per step), and with one step per
  call, against PyTorch eager with its default Adam and with the fused one.

One training step is the zoo's: a discriminator update on a real batch and fresh fakes (the
generator's forward pass in training mode), then a generator update on fresh noise (the
non-saturating loss), Adam(2e-4, beta_1 0.5, epsilon 1e-7) for both. PyTorch switches off the
discriminator's gradients during the generator's update, as a careful PyTorch user would.

Each measurement is a process of its own: it builds the case, runs warm-up steps, then times
`--steps` steps from the end of the first to the end of the last. The cases run interleaved,
`--repeats` rounds, so the drift of a machine hits them alike; the table gives the median and the
spread. A process also measures the machine's matmul peak (4096 x 4096, float32 and bfloat16, in
TensorFlow), and each case's share of it, counted from the case's floating-point operations per
step (`dcgan_step_flops`).

PyTorch is not a dependency of the zoo and never runs in CI: run this in an environment of its own,

    python -m venv .venv-torch && .venv-torch/bin/pip install -e . torch
    .venv-torch/bin/python benchmarks/vs_pytorch.py

Records go to docs/results/vs_pytorch.jsonl as they come; the report is the section "Beside
PyTorch" of docs/results/throughput.md, rewritten after every round.
"""

import argparse
import datetime
import json
import os
import pathlib
import statistics
import sys
import time

from reporting import cpu_model, last_run, now_stamp, read_records, run_child, steps_per_second

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "throughput.md"
RECORD = RESULTS_DIR / "vs_pytorch.jsonl"
SECTION = "## Beside PyTorch"
LATENT = {"dcgan": 100, "mlp": 8}
BATCH = {"dcgan": 128, "mlp": 100}
# case -> (network, framework, how it runs); the ratio lines below compare them in pairs.
CASES = {
    "dcgan fp32: zoo": ("dcgan", "zoo", "fp32"),
    "dcgan fp32: torch eager": ("dcgan", "torch", "fp32"),
    "dcgan fp32: torch.compile": ("dcgan", "torch", "compile"),
    "dcgan bf16: zoo": ("dcgan", "zoo", "bf16"),
    "dcgan bf16: torch autocast": ("dcgan", "torch", "bf16"),
    "mlp fp32: zoo": ("mlp", "zoo", "fp32"),
    "mlp fp32: zoo in Keras's loop": ("mlp", "zoo", "fp32-keras-loop"),
    "mlp fp32: zoo 1 step per call": ("mlp", "zoo", "fp32-1"),
    "mlp fp32: torch eager": ("mlp", "torch", "fp32"),
    "mlp fp32: torch fused Adam": ("mlp", "torch", "fused"),
}
RATIOS = [
    ("dcgan fp32: zoo", "dcgan fp32: torch eager", 1.1),
    ("dcgan fp32: zoo", "dcgan fp32: torch.compile", None),
    ("dcgan bf16: zoo", "dcgan bf16: torch autocast", 1.1),
    ("mlp fp32: zoo", "mlp fp32: torch fused Adam", 1.5),
    ("mlp fp32: zoo", "mlp fp32: zoo 1 step per call", 2.0),
    ("mlp fp32: zoo", "mlp fp32: zoo in Keras's loop", None),
]


def dcgan_step_flops(batch, latent=100, filters=64):
    """Floating-point operations of one DCGAN training step on 28x28x1 images, 2 per multiply-add.

    Multiply-adds per example: the generator's dense layer, 5x5 transposed convolutions 7->14 and
    14->28; the discriminator's 5x5 convolutions 28->14 and 14->7 and its dense layer. A backward
    pass costs two forward passes (gradients of inputs and of weights), the discriminator's one in
    the generator's update (inputs only). The discriminator's update: the generator forward, the
    discriminator forward and backward on real and on fake; the generator's: both forward, the
    discriminator backward to its inputs, the generator backward.
    """
    g = latent * 7 * 7 * 2 * filters + 7 * 7 * 2 * filters * filters * 25 + 14 * 14 * filters * 1 * 25
    d = 14 * 14 * filters * 25 + 7 * 7 * 2 * filters * filters * 25 + 7 * 7 * 2 * filters
    per_example = (g + 2 * d + 2 * 2 * d) + (g + d + d + 2 * g)
    return 2 * per_example * batch


def mlp_step_flops(batch, latent=8, hidden=(128, 128), data=2):
    """The same count for the MLP GAN (dense layers only)."""
    def macs(sizes):
        return sum(a * b for a, b in zip(sizes, sizes[1:]))
    g, d = macs((latent, *hidden, data)), macs((data, *hidden, 1))
    return 2 * ((g + 2 * d + 2 * 2 * d) + (g + d + d + 2 * g)) * batch


def _real_data(network):
    import keras_gan_zoo as zoo

    if network == "mlp":
        return "ring8", zoo.data.load_arrays("ring8")[0]
    for name in ("fashion_mnist", "mnist_5k"):
        try:
            return name, zoo.data.load_arrays(name, download=False)[0]
        except zoo.data.DatasetNotFoundError:
            continue


def measure_zoo(network, mode, warmup, steps):
    """Steps per second of the zoo's own model, trained by `fit` on an in-memory dataset."""
    import keras

    import keras_gan_zoo as zoo
    from keras_gan_zoo.training.config import TrainConfig
    from keras_gan_zoo.training.run import steps_per_execution_of

    data_name, x = _real_data(network)
    if mode == "bf16":
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    name, options = ("dcgan", {}) if network == "dcgan" else ("gan", {"data_shape": (2,)})
    model = zoo.create(name, seed=0, **options)
    model.compile()
    per_call = 1 if mode == "fp32-1" else steps_per_execution_of(TrainConfig(model=name, data=data_name), model, steps)
    dataset = zoo.data.pipeline(x[: BATCH[network] * 20], batch_size=BATCH[network], shuffle=False).cache().repeat()
    # As `ganzoo train` runs it (training/run.py): a call's batches fetched together, unless the case
    # is Keras's own loop of the same steps per call, a fetch per step.
    group = 1 if mode == "fp32-keras-loop" else per_call
    dataset = zoo.steps.group_batches(dataset, group)
    with model.grouping_batches(group):
        model.steps_per_execution = per_call
        model.fit(dataset, epochs=1, steps_per_epoch=max(warmup, per_call), verbose=0)
        rate = steps_per_second(model, dataset, steps)
    return {"steps_per_second": rate, "steps_per_call": per_call, "grouped": group > 1, "data": data_name,
            "tensorflow": __import__("tensorflow").__version__, "keras": keras.__version__}


def _torch_nets(network):
    from torch import nn

    if network == "mlp":
        def mlp(sizes):
            layers = []
            for a, b in zip(sizes, sizes[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            return nn.Sequential(*layers[:-1])
        return mlp((8, 128, 128, 2)), mlp((2, 128, 128, 1))
    # Keras's "same" padding for a 5x5 kernel at stride 2: 2 on each side (output_padding 1 when transposed).
    generator = nn.Sequential(
        nn.Linear(100, 7 * 7 * 128, bias=False), nn.BatchNorm1d(7 * 7 * 128, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1), nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.BatchNorm2d(128, eps=1e-3, momentum=0.01), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(7 * 7 * 128, 1),
    )
    return generator, discriminator


def measure_torch(network, mode, warmup, steps):
    """Steps per second of the same networks and step in PyTorch, batches from an in-memory tensor."""
    import contextlib

    import numpy as np
    import torch
    from torch.nn import functional

    torch.manual_seed(0)
    data_name, x = _real_data(network)
    x = x[: BATCH[network] * 20]
    if x.ndim == 4:
        x = np.transpose(x, (0, 3, 1, 2))  # NHWC -> NCHW
    batches = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).split(BATCH[network])
    generator, discriminator = _torch_nets(network)
    fused = {"fused": True} if mode == "fused" else {}
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7, **fused)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7, **fused)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if mode == "bf16" else contextlib.nullcontext
    batch, latent = BATCH[network], LATENT[network]

    def step(real):
        with autocast():
            fake = generator(torch.randn(batch, latent))
            real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
            d_loss = (functional.binary_cross_entropy_with_logits(real_logits.float(), torch.ones_like(real_logits.float()))
                      + functional.binary_cross_entropy_with_logits(fake_logits.float(),
                                                                    torch.zeros_like(fake_logits.float())))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        discriminator.requires_grad_(False)
        with autocast():
            logits = discriminator(generator(torch.randn(batch, latent))).float()
            g_loss = functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        discriminator.requires_grad_(True)

    if mode == "compile":
        step = torch.compile(step)
    for i in range(warmup + 1):
        step(batches[i % len(batches)])
    started = time.perf_counter()
    for i in range(steps):
        step(batches[i % len(batches)])
    return {"steps_per_second": steps / (time.perf_counter() - started), "data": data_name,
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def matmul_peak(repeats=10, size=4096):
    """GFLOP/s of TensorFlow's best 4096 x 4096 matmul, float32 and bfloat16."""
    import tensorflow as tf

    peak = {}
    for dtype in ("float32", "bfloat16"):
        a = tf.random.normal((size, size), dtype="float32")
        a = tf.cast(a, dtype)
        matmul = tf.function(lambda a: tf.linalg.matmul(a, a))
        matmul(a).numpy()
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            matmul(a).numpy()
            best = min(best, time.perf_counter() - started)
        peak[dtype] = 2 * size ** 3 / best / 1e9
    return peak


def child(case, warmup, steps):
    if case == "matmul peak":
        return print(json.dumps({"gflops": matmul_peak()}))
    network, framework, mode = CASES[case]
    measure = measure_zoo if framework == "zoo" else measure_torch
    print(json.dumps(measure(network, mode, warmup, steps)))


def _share(case, rate, peak):
    network, _, mode = CASES[case]
    flops = dcgan_step_flops(BATCH[network]) if network == "dcgan" else mlp_step_flops(BATCH[network])
    dtype = "bfloat16" if mode == "bf16" else "float32"
    return flops * rate / 1e9 / peak[dtype]


def write_report(rows, args):
    rows = last_run(rows)
    peaks = [r["gflops"] for r in rows if "gflops" in r]
    peak = {k: statistics.median(p[k] for p in peaks) for k in ("float32", "bfloat16")} if peaks else None
    runs = {case: [r for r in rows if r.get("case") == case] for case in CASES}
    rates = {case: [r["steps_per_second"] for r in group if "error" not in r] for case, group in runs.items()}
    median = {case: statistics.median(v) for case, v in rates.items() if v}
    lines = [
        SECTION, "",
        f"Command: `python benchmarks/vs_pytorch.py --repeats {args.repeats} --steps-dcgan {args.steps_dcgan} "
        f"--steps-mlp {args.steps_mlp}` (in an environment with PyTorch; see the script's docstring). Measured "
        f"{rows[-1]['started'][:10] if rows else datetime.date.today()} on {os.cpu_count()} CPU cores ({cpu_model(flags=True)}), "
        "each measurement a process of its own, the cases interleaved round by round. Records: "
        "docs/results/vs_pytorch.jsonl.",
        "",
        "DCGAN step: " + f"{dcgan_step_flops(128) / 1e9:.2f} GFLOP at batch 128 (`dcgan_step_flops`). Matmul peak "
        "(TensorFlow, 4096 x 4096, median of the rounds): " + (
            f"float32 {peak['float32']:.0f} GFLOP/s, bfloat16 {peak['bfloat16']:.0f} GFLOP/s." if peak else "not measured."),
        "",
        "| case | steps/s, median | spread (min-max) | measurements attempted / failed | share of the matmul peak |",
        "|---|---|---|---|---|",
    ]
    for case, group in runs.items():
        failed = [r for r in group if "error" in r]
        if case in median:
            share = f"{100 * _share(case, median[case], peak):.0f}%" if peak else ""
            lines.append(f"| {case} | {median[case]:.2f} | {min(rates[case]):.2f}-{max(rates[case]):.2f} | "
                         f"{len(group)} / {len(failed)} | {share} |")
        elif group:
            lines.append(f"| {case} | failed: {failed[-1]['error'][:160]} | | {len(group)} / {len(failed)} | |")
    lines += ["", "Ratios of the medians (goal in brackets):", ""]
    for mine, theirs, goal in RATIOS:
        if mine in median and theirs in median:
            aim = f" (goal: at least {goal}x)" if goal else ""
            lines.append(f"- {mine} / {theirs}: {median[mine] / median[theirs]:.2f}x{aim}")
    before = REPORT.read_text().partition(SECTION)[0].rstrip() if REPORT.exists() else "# Training throughput"
    notes = REPORT.read_text().partition(SECTION)[2].partition("### Notes")[2] if REPORT.exists() else ""
    REPORT.write_text(before + "\n\n" + "\n".join(lines) + "\n" + (f"\n### Notes{notes}" if notes else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps-dcgan", type=int, default=20, help="timed steps per DCGAN measurement")
    parser.add_argument("--steps-mlp", type=int, default=2000, help="timed steps per MLP GAN measurement")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "WARMUP", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), int(args.child[2]))
    rows = read_records(RECORD)
    if args.report_only:
        return write_report(rows, args)
    cases = args.cases.split(",")
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; the cases are: {', '.join(CASES)}")
    started = now_stamp()
    for repeat in range(args.repeats):
        for case in ["matmul peak"] + cases:
            steps = args.steps_dcgan if case.startswith("dcgan") else args.steps_mlp
            row = {"case": case, "round": repeat + 1, "started": started,
                   **run_child([sys.executable, __file__, "--child", case, str(args.warmup), str(steps)])}
            rows.append(row)
            with open(RECORD, "a") as record:
                record.write(json.dumps(row) + "\n")
            print(json.dumps(row)[:200], flush=True)
        write_report(rows, args)


if __name__ == "__main__":
    main()
