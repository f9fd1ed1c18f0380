"""Pretrained presets: each trained by its shipped recipe, measured as it ships, written into the package.

    python benchmarks/presets.py                                # every preset below not shipped yet
    python benchmarks/presets.py --presets dcgan/fashion_mnist
    python benchmarks/presets.py --cards-only                   # docs/models/ from the shipped presets
    python benchmarks/presets.py --remeasure NAME               # measure a shipped preset again, no training
    python benchmarks/presets.py --check                        # ganzoo evaluate each shipped preset again
    python benchmarks/presets.py --check --presets NAME,NAME    # ... or those named
    python benchmarks/presets.py --report-only                  # docs/results/presets.md from the records

For each preset, in a process of its own:
1. `ganzoo train --recipe RECIPE --out runs/presets/NAME`: a cut-off run resumes from its backup
   when the same command runs again.
2. The trained model is written as a preset (`zoo.pretrained.save`, float16 weights where they
   change no sample by more than the tolerance) into a staging folder, loaded back from it, and
   evaluated there: what ships is what is measured. `ganzoo evaluate`'s default metrics at
   evaluation seed 0 are the card's figures; seeds 1 and 2 evaluate again, and their largest
   difference from seed 0 is the tolerance the card states.
3. The preset moves into zoo/presets/NAME and zoo/presets/index.json lists it with its manifest's
   sha256; a fresh process times `import keras_gan_zoo` and then `pretrained.load(NAME)` plus a
   4-sample draw.
Each preset's record is appended to docs/results/presets.jsonl when it finishes (failures too),
docs/results/presets.md is rewritten, and so are the cards and the gallery (docs/models/).

`--check` runs each shipped preset's card command (`ganzoo evaluate pretrained:NAME ...`) in a
fresh process and compares every figure with the card's, within the card's tolerance; the
records go to docs/results/presets_check.jsonl and a table of docs/results/presets.md.
Each recipe was written before its preset trained; those chosen on training seeds (the packed
critic's, rcgan's, tabular_gan's) train their presets at seed 20.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

from reporting import counts_line, keep, machine, now_stamp, read_records, run_child, write_keeping_notes

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "docs" / "results"
RECORD = RESULTS_DIR / "presets.jsonl"
REPORT = RESULTS_DIR / "presets.md"
CHECK_RECORD = RESULTS_DIR / "presets_check.jsonl"
RUNS_DIR = ROOT / "runs" / "presets"
# name -> the recipe that trains it, its headline metric, and its one-line description.
PRESETS = {
    "dcgan/fashion_mnist": {
        "recipe": "dcgan_fashion_mnist", "headline": "fid",
        "description": "DCGAN on Fashion-MNIST: 28x28 grey garments from 100-d Gaussian noise.",
    },
    "veegan/gauss1200": {
        "recipe": "veegan_gauss1200", "headline": "modes",
        "description": "VEEGAN on gauss1200: 1,200-d points of a mixture of 10 Gaussians, from 8-d noise.",
    },
    "veegan/ring8": {
        "recipe": "veegan_ring8", "headline": "modes",
        "description": "VEEGAN on ring8: 2-d points of 8 Gaussians on a circle, drawn through a rejection sampler.",
    },
    "veegan/grid25": {
        "recipe": "veegan_grid25", "headline": "modes",
        "description": "VEEGAN on grid25: 2-d points of a 5x5 grid of Gaussians, drawn through a rejection sampler.",
    },
    "vae/mnist_5k": {
        "recipe": "vae_mnist_5k", "headline": "fid", "pictures": ("latent",),
        "description": "VAE with a 2-d code on MNIST digits: encodes digits to the plane and decodes any point of it.",
    },
    "aae/mnist_5k": {
        "recipe": "aae_mnist_5k", "headline": "fid", "pictures": ("latent",),
        "description": "Adversarial autoencoder with a 2-d Gaussian code on MNIST digits.",
    },
    "infogan/mnist_5k": {
        "recipe": "infogan_mnist_5k", "headline": "fid", "pictures": ("classes",),
        "description": "InfoGAN on MNIST digits, taught by 100 labels that its code c is digit c.",
    },
    "sgan/mnist_5k": {
        "recipe": "sgan_mnist_5k", "headline": "fid",
        "description": "Semi-supervised GAN on MNIST digits: a generator, and a digit classifier learnt from "
                       "100 labels.",
    },
    "latent_gan/mnist_5k": {
        "recipe": "latent_gan_mnist_5k", "headline": "fid", "pictures": ("classes",),
        "description": "L-GAN on MNIST digits: per-class autoencoders and latent bases, samples of the digit "
                       "asked for.",
    },
    "cgan/fashion_mnist": {
        "recipe": "cgan_fashion_mnist", "headline": "fid", "pictures": ("classes",),
        "description": "Conditional GAN on Fashion-MNIST: garments of the class asked for.",
    },
    "vae/fashion_mnist": {
        "recipe": "vae_fashion_mnist", "headline": "fid", "pictures": ("interpolation",),
        "description": "VAE with a 16-d code on Fashion-MNIST: encodes garments, decodes codes, samples the prior.",
    },
    "bigan/fashion_mnist": {
        "recipe": "bigan_fashion_mnist", "headline": "fid", "pictures": ("interpolation",),
        "description": "BiGAN on Fashion-MNIST: a generator and the encoder that inverts it.",
    },
    "guided_gan/fashion_mnist": {
        "recipe": "guided_gan_fashion_mnist", "headline": "fid", "pictures": ("classes",),
        "description": "Guided latent space GAN on Fashion-MNIST: a subspace of the code per class, "
                       "samples of the class asked for.",
    },
    "wgan_gp/fashion_mnist": {
        "recipe": "wgan_gp_fashion_mnist", "headline": "fid",
        "description": "WGAN-GP on Fashion-MNIST: 28x28 grey garments from 100-d Gaussian noise.",
    },
    "wgan_gp_conditional/fashion_mnist": {
        "recipe": "wgan_gp_conditional_fashion_mnist", "headline": "fid", "pictures": ("classes",),
        "description": "Conditional WGAN-GP on Fashion-MNIST: garments of the class asked for.",
    },
    # rcgan's and tabular_gan's recipes were chosen on training seed 0 (docs/results/waves.md,
    # tabular.md): their presets train at seed 20 too.
    "rcgan/waves": {
        "recipe": "rcgan_waves", "seed": 20, "headline": "classes", "pictures": ("classes", "walk"),
        "description": "Recurrent conditional GAN on waves: 30-step sine and sawtooth series of the shape asked for.",
    },
    "tabular_gan/autompg": {
        "recipe": "tabular_gan_autompg", "seed": 20, "headline": "correlation_distance",
        "description": "WGAN-GP for mixed tables on autompg: rows of cars with their categorical and continuous "
                       "columns.",
    },
    # The packed critic's recipes were chosen on seeds 0 to 9 and served at 11 and 12: its
    # presets train at seed 20, which chose nothing.
    "packed_critic/gauss1200": {
        "recipe": "packed_critic_gauss1200", "seed": 20, "headline": "modes",
        "description": "The packed Wasserstein critic (PacGAN4, gradient penalty) on gauss1200: 1,200-d points "
                       "of 10 Gaussians.",
    },
    "packed_critic/ring8": {
        "recipe": "packed_critic_ring8", "seed": 20, "headline": "modes",
        "description": "The packed Wasserstein critic (PacGAN4, gradient penalty) on ring8, drawn through a "
                       "rejection sampler.",
    },
    "packed_critic/grid25": {
        "recipe": "packed_critic_grid25", "seed": 20, "headline": "modes",
        "description": "The packed Wasserstein critic (PacGAN4, gradient penalty) on grid25, drawn through a "
                       "rejection sampler on random Fourier features.",
    },
}
EVALUATION_SEED = 0
TOLERANCE_SEEDS = (1, 2)


def make(name):
    """Child process: trains, stages, measures and installs one preset; prints its record."""
    import contextlib

    import keras_gan_zoo as zoo
    from keras_gan_zoo import plots, pretrained
    from keras_gan_zoo.training import plotting
    from keras_gan_zoo.training.config import load_recipe
    from keras_gan_zoo.training.run import batch_size_of, real_points_for_plots, steps_per_epoch_of, train

    spec = PRESETS[name]
    config = load_recipe(spec["recipe"])
    if "seed" in spec:
        config = type(config).from_dict({**config.to_dict(), "seed": spec["seed"]})
    run_dir = RUNS_DIR / name
    started = time.time()
    if not (run_dir / "model.keras").exists():
        # Progress (a line per epoch) on stderr; stdout carries the record alone.
        with contextlib.redirect_stdout(sys.stderr):
            train(config, run_dir, verbose=2)
    # A resumed run's seconds are those of its last part: the record says which.
    train_seconds = time.time() - started
    resumed = (run_dir / "model.keras").stat().st_mtime < started
    from keras_gan_zoo.training.run import load_run

    model, _ = load_run(run_dir)
    steps_per_epoch = steps_per_epoch_of(config, model)
    staging = RUNS_DIR / "staging" / name
    shutil.rmtree(staging, ignore_errors=True)
    picture = run_dir / "preset_samples.png"
    kind = zoo.data.describe(config.data).kind
    if kind == "table":
        from keras_gan_zoo.data import tables

        plots.save_table_columns(model.sample(1000, seed=0), tables.shipped_split(config.data, "train"), picture,
                                 categorical=list(tables.source(config.data)[1]), title=name)
    else:
        # 64 images make a grid; points and series need more to show a distribution, over real ones.
        plots.save_samples_png(model.sample_array(64 if kind == "image" else 1000, seed=0), picture,
                               real=real_points_for_plots(config.data), title=name)
    pictures = [path for drawn in spec.get("pictures", ())
                for path in plotting.draw(drawn, model, config, run_dir / "preset_pictures", seed=0)]
    trained = {"steps": config.total_steps(steps_per_epoch), "batch_size": batch_size_of(config),
               "seconds": None if resumed else round(train_seconds), "machine": machine()}
    pretrained.save(model, staging, name=name, data=config.data, recipe=config.to_dict(),
                    description=spec["description"], picture=picture, pictures=pictures, trained=trained)
    print(json.dumps(measure_and_install(name, staging, config.data, {"trained": trained, "resumed": resumed})))


def remeasure(name, restore=False):
    """Child process: measures the shipped preset `name` again, as `make` measures a new one (after
    `evaluate` gained a metric), without training it again; with `restore`, first writes its weights
    again under the float16 rule as it stands. Prints its record."""
    from keras_gan_zoo import pretrained
    from keras_gan_zoo.training.config import TrainConfig
    from keras_gan_zoo.training.run import batch_size_of, steps_per_epoch_of

    folder, manifest = pretrained.checked_folder(name)
    staging = RUNS_DIR / "staging" / name
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(folder, staging)
    # The steps again, counted as `make` counts them now.
    model, recipe = pretrained.load_with_recipe(staging, compile=False)
    config = TrainConfig.from_dict(recipe)
    trained = {**manifest["trained"], "steps": config.total_steps(steps_per_epoch_of(config, model)),
               "batch_size": batch_size_of(config)}
    if restore:
        # The weights as loaded are the stored ones exactly: written again, the rule decides afresh.
        kept = RUNS_DIR / "staging" / (name + "_kept")
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(str(staging), str(kept))
        pretrained.save(model, staging, name=name, data=manifest["data"], recipe=recipe,
                        description=manifest["description"], picture=kept / pretrained.PICTURE,
                        pictures=[kept / p for p in manifest.get("pictures", ())], trained=trained)
        shutil.rmtree(kept)
    else:
        pretrained.update(staging, trained=trained)
    record = {"trained": trained, "remeasured": True, "stored_before": manifest["weights"]["stored_as"]}
    print(json.dumps(measure_and_install(name, staging, manifest["data"], record)))


def measure_and_install(name, staging, dataset, record):
    """Evaluates the preset written in `staging` at the evaluation seeds, writes its metrics and
    headline into it, moves it into the package and lists it in the index; its record."""
    import keras_gan_zoo as zoo
    from keras_gan_zoo import pretrained

    spec = PRESETS[name]
    shipped = pretrained.load(staging)
    reports = {}
    for seed in (EVALUATION_SEED, *TOLERANCE_SEEDS):
        reports[seed] = zoo.evaluation.evaluate(shipped, dataset, seed=seed)
    first = reports[EVALUATION_SEED]
    found = {seed: zoo.evaluation.figures(report) for seed, report in reports.items()}
    tolerance = {metric: max(abs(found[s][metric]["samples"] - value["samples"]) for s in TOLERANCE_SEEDS)
                 for metric, value in found[EVALUATION_SEED].items()}
    command = (f"ganzoo evaluate pretrained:{name} --metrics {','.join(first['metrics_asked'])} --n {first['n']} "
               f"--seed {EVALUATION_SEED}")
    headline_value = found[EVALUATION_SEED][spec["headline"]]
    headline = {"metric": spec["headline"], "value": headline_value["samples"], "real": headline_value["real"]}
    card = {"command": command, "recipe_name": spec["recipe"], "train_command": train_command(spec), "report": first,
            "tolerance": tolerance, "tolerance_seeds": list(TOLERANCE_SEEDS)}
    if zoo.capabilities.CLASSIFY in shipped.capabilities:
        card["classifier"] = {**zoo.evaluation.classifier_accuracy(shipped, dataset), "dataset": dataset}
    pretrained.update(staging, metrics=card, headline=headline)
    target = pretrained.PRESETS_DIR / name
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging), str(target))
    index = json.loads(pretrained.INDEX_FILE.read_text()) if pretrained.INDEX_FILE.exists() else {}
    index[name] = pretrained.index_entry(target)
    pretrained.INDEX_FILE.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n")
    manifest = json.loads((target / pretrained.MANIFEST).read_text())
    return {
        "name": name, "recipe": spec["recipe"], "train_command": train_command(spec), **record,
        "metrics": {seed: {m: v["samples"] for m, v in f.items()} for seed, f in found.items()},
        "real": {m: v["real"] for m, v in found[EVALUATION_SEED].items()},
        "judge": first.get("judge", {}).get("description"), "classifier": card.get("classifier"),
        "evaluation_seconds": sum(r["seconds"] for r in reports.values()),
        "headline": headline, "tolerance": tolerance, "weights": manifest["weights"],
        "preset_bytes": sum(f["bytes"] for f in manifest["files"].values()), **load_timing(name),
    }


def train_command(spec):
    """The shell command that trains the preset of `spec` again."""
    return f"ganzoo train --recipe {spec['recipe']}" + (f" --seed {spec['seed']}" if "seed" in spec else "")


def load_timing(name):
    """Seconds to `import keras_gan_zoo`, then to load `name` and draw 4 samples, in a fresh process."""
    script = ("import time; t = time.perf_counter(); import keras_gan_zoo as zoo; i = time.perf_counter() - t; "
              f"t = time.perf_counter(); zoo.pretrained.load({name!r}).sample(4, seed=0); "
              "print(i, time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""})
    import_seconds, load_seconds = map(float, out.stdout.split()[-2:])
    return {"import_seconds": round(import_seconds, 2), "load_seconds": round(load_seconds, 2)}


def check(name):
    """Runs the card's `ganzoo evaluate` command for `name` in a fresh process; the card's figures
    beside the new ones."""
    import tempfile

    from keras_gan_zoo import evaluation, pretrained

    folder, _ = pretrained.checked_folder(name)
    card = json.loads((folder / pretrained.METRICS).read_text())
    with tempfile.TemporaryDirectory() as out:
        command = card["command"].split()[1:] + ["--out", out]
        started = time.time()
        subprocess.run([sys.executable, "-m", "keras_gan_zoo.training.cli", *command], check=True,
                       capture_output=True, text=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""})
        seconds = round(time.time() - started, 1)
        again = json.loads((pathlib.Path(out) / "evaluation.json").read_text())
    figures = {}
    before, after = evaluation.figures(card["report"]), evaluation.figures(again)
    for metric, tolerance in card["tolerance"].items():
        was, now = before[metric]["samples"], after[metric]["samples"]
        figures[metric] = {"card": was, "again": now, "tolerance": tolerance,
                           "within": bool(abs(now - was) <= tolerance)}
    return {"name": name, "command": card["command"], "seconds": seconds, "figures": figures,
            "all_within": all(f["within"] for f in figures.values())}


def check_lines(checks):
    lines = ["", "## Reproduced by `ganzoo evaluate`", "",
             "`python benchmarks/presets.py --check`: each shipped preset's card command run again in a fresh "
             "process; every figure against the card's, within the tolerance the card states.", "",
             counts_line(checks), "", "| preset | checked | figures: card -> again (tolerance) | all within |",
             "|---|---|---|---|"]
    for row in checks:
        if "error" in row:
            lines.append(f"| {row['name']} | {row['started']} | failed: {row['error']} | |")
            continue
        figures = "; ".join(f"{m} {f['card']:.4g} -> {f['again']:.4g} (+- {f['tolerance']:.2g})"
                            for m, f in row["figures"].items())
        lines.append(f"| {row['name']} | {row['started']} | {figures} | {'yes' if row['all_within'] else 'NO'} |")
    return lines


def write_report(rows):
    lines = ["# Pretrained presets", "",
             "Command: `python benchmarks/presets.py` (each preset trained by its recipe, measured on the preset "
             "as it ships; `--presets NAME` makes one).", "", counts_line(rows), "",
             "| preset | trained by | steps | train seconds | headline (seeds 0/1/2) | real data | weights | "
             "preset MB | "
             "import s | load + 4 samples s | made |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['name']} | {PRESETS.get(row['name'], {}).get('recipe', '')} | failed: "
                         f"{row['error']} | | | | | | | | {row['started']} |")
            continue
        metric = row["headline"]["metric"]
        per_seed = "/".join(f"{row['metrics'][str(s)][metric]:.3g}" for s in (EVALUATION_SEED, *TOLERANCE_SEEDS))
        seconds = row["trained"]["seconds"]
        lines.append(
            f"| {row['name']} | `{row.get('train_command', 'ganzoo train --recipe ' + row['recipe'])}` | "
            f"{row['trained']['steps']:,} of {row['trained']['batch_size']} | "
            f"{seconds if seconds is not None else 'resumed'}{' (measured again)' if row.get('remeasured') else ''} | "
            f"{metric} {per_seed} | {row['headline']['real']:.3g} | "
            f"{row['weights']['stored_as']} | {row['preset_bytes'] / 1e6:.2f} | {row['import_seconds']} | "
            f"{row['load_seconds']} | {row['started']} |")
    machines = sorted({row["trained"]["machine"] for row in rows if "error" not in row})
    judges = sorted({row["judge"] for row in rows if "error" not in row and row.get("judge")})
    lines += ["", f"Machine: {'; '.join(machines) or machine()}.",
              "Each recipe was written before its preset trained, and the evaluation seeds chose nothing. The "
              "packed critic's recipes were chosen on training seeds 0 to 9 (docs/results/mode_coverage.md), "
              "rcgan's and tabular_gan's on seed 0 (waves.md, tabular.md): their presets train at seed 20, which "
              "chose nothing. Every figure is from held-out seeds.",
              *(f"Judge: {judge}." for judge in judges),
              "Every metric beside real data: each preset's card (docs/models/)."]
    checks = read_records(CHECK_RECORD)
    if checks:
        lines += check_lines(checks)
    write_keeping_notes(REPORT, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=None, help="comma-separated names (default: those not shipped yet; with --check, every shipped one)")
    parser.add_argument("--cards-only", action="store_true")
    parser.add_argument("--check", action="store_true", help="evaluate every shipped preset again against its card")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--remeasure", default=None,
                        help="comma-separated shipped presets to measure again without training them again")
    parser.add_argument("--restore", action="store_true",
                        help="with --remeasure: write the weights again under the float16 rule as it stands")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--remeasure-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        make(args.child)
        return
    if args.remeasure_child:
        remeasure(args.remeasure_child, restore=args.restore)
        return
    from keras_gan_zoo import pretrained
    from keras_gan_zoo.training import cards

    rows = read_records(RECORD)
    if args.report_only:
        write_report(rows)
        return
    if args.check:
        checks = read_records(CHECK_RECORD)
        names = args.presets.split(",") if args.presets else pretrained.list()
        unknown = [n for n in names if n not in pretrained.list()]
        if unknown:
            parser.error(f"--check takes shipped presets; not shipped: {', '.join(unknown)}")
        for name in names:
            started = now_stamp()
            try:
                row = check(name)
            except subprocess.CalledProcessError as error:
                row = {"name": name, "error": (error.stderr.strip().splitlines() or ["no output"])[-1][:300]}
            keep({"started": started, **row}, checks, CHECK_RECORD, lambda _: write_report(rows))
        return
    if args.remeasure:
        for name in args.remeasure.split(","):
            if name not in pretrained.list() or name not in PRESETS:
                parser.error(f"{name} is not a shipped preset made here; they are: {', '.join(pretrained.list())}")
            started = now_stamp()
            print(f"measuring {name} again", flush=True)
            command = [sys.executable, __file__, "--remeasure-child", name] + (["--restore"] if args.restore else [])
            row = run_child(command, show_progress=True)
            keep({"name": name, "started": started, **row}, rows, RECORD, write_report)
    elif not args.cards_only:
        names = args.presets.split(",") if args.presets else [n for n in PRESETS if n not in pretrained.list()]
        unknown = [n for n in names if n not in PRESETS]
        if unknown:
            parser.error(f"unknown presets {', '.join(unknown)}; the known ones: {', '.join(PRESETS)}")
        for name in names:
            started = now_stamp()
            print(f"making {name}", flush=True)
            row = run_child([sys.executable, __file__, "--child", name], show_progress=True)
            keep({"name": name, "started": started, **row}, rows, RECORD, write_report)
    for path in cards.write_all():
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
