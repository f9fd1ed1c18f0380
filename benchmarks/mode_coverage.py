"""Mode collapse on VEEGAN's synthetic mixtures (Srivastava et al. 2017, Table 1).

Every configuration trains on ring8, grid25 and gauss1200 once per seed, then
draws 2,500 samples and scores them with `zoo.metrics.mode_coverage`: the
modes reached and the fraction of high-quality samples, averaged over seeds.

    python benchmarks/mode_coverage.py                     # all of it, 2 runs at a time
    python benchmarks/mode_coverage.py --configs veegan --datasets ring8 --seeds 1

The configurations are `TrainConfig`s (keras_gan_zoo.training.config), kept
as data in benchmarks/mode_coverage_configs.json: the fields of a config and
its step budget and sampling per dataset, or the shipped recipes it runs (the
best one is `ganzoo train --recipe packed_critic_{ring8,grid25,gauss1200}`).
The child builds and compiles the model as `ganzoo train` does. Each run is a
single-threaded child process with a fixed step budget (batch 100 unless the
config sets one); `--jobs` of them run at once. Runs are appended to
docs/results/mode_coverage.jsonl as they finish and the report
docs/results/mode_coverage.md is rewritten after each, so a cut-off benchmark
keeps what it measured and a re-run skips the runs on record (`--fresh`
starts over). Seed 0 of each 2-D run leaves a scatter plot under
docs/results/mode_coverage/.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import time

from reporting import now_stamp, read_records

RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results"
REPORT = RESULTS_DIR / "mode_coverage.md"
RECORD = RESULTS_DIR / "mode_coverage.jsonl"
PLOTS = RESULTS_DIR / "mode_coverage"
NOTES_HEADING = "## Notes"
CONFIGS_FILE = pathlib.Path(__file__).with_name("mode_coverage_configs.json")
# rejection_sample's acceptance options; a run's record names those set otherwise.
REJECTION_DEFAULTS = {"gamma": 0.0, "max_quantile": 1.0}
DATASETS = ("ring8", "grid25", "gauss1200")
NUM_SAMPLES = 2500
BATCH_SIZE = 100


def load_configs():
    """name -> {"train": TrainConfig fields, "steps": {dataset: generator steps}, "sampling": {dataset: ...}}
    or {"recipes": {dataset: a shipped recipe}}: the configurations on record, as data.

    Fields a configuration leaves out are the registry's defaults (MLP players of
    two 128-unit ReLU layers, 8-d noise, the model's default optimizer).
    """
    return json.loads(CONFIGS_FILE.read_text())


CONFIGS = load_configs()
DEFAULT_CONFIGS = ("gan", "bigan", "unrolled_gan", "veegan", "wgan_gp", "pacgan4")


def train_config(config, dataset, seed=0, scale=1.0):
    """The `TrainConfig` of one run of `config` on `dataset`: one epoch of its step budget."""
    from keras_gan_zoo.training.config import TrainConfig, load_recipe

    entry = CONFIGS[config]
    if "recipes" in entry:
        recipe = load_recipe(entry["recipes"][dataset])
        fields = {**recipe.to_dict(), "epochs": 1, "steps_per_epoch": recipe.total_steps()}
    else:
        fields = {**entry["train"], "data": dataset, "steps_per_epoch": entry["steps"][dataset],
                  "sampling": entry.get("sampling", {}).get(dataset, {})}
        fields.setdefault("batch_size", BATCH_SIZE)
    fields.update(seed=seed, epochs=1, steps_per_epoch=max(1, round(fields["steps_per_epoch"] * scale)))
    return TrainConfig.from_dict(fields)


def steps_for(config, dataset, scale=1.0):
    return train_config(config, dataset, scale=scale).steps_per_epoch


PUBLISHED = [
    ("GAN (VEEGAN Table 1)", "1 / 99.3", "3.3 / 0.5", "1.6 / 2.0"),
    ("ALI (VEEGAN Table 1)", "2.8 / 0.13", "15.8 / 1.6", "3 / 5.4"),
    ("Unrolled GAN (VEEGAN Table 1)", "7.6 / 35.6", "23.6 / 16", "0 / 0"),
    ("VEEGAN (VEEGAN Table 1)", "8 / 52.9", "24.6 / 40", "5.5 / 28.29"),
    ("GAN (PacGAN Table 1)", "6.3 / 98.2", "17.3 / 94.8", ""),
    ("ALI (PacGAN Table 1)", "6.6 / 97.6", "24.1 / 95.7", ""),
    ("PacGAN4 (PacGAN Table 1)", "7.8 / 95.9", "24.8 / 93.6", ""),
]


def coverage_trace(model, dataset, seed, every):
    """A callback that prints the modes and high-quality share every `every` steps
    to stderr, so a probe shows when modes are won and lost."""
    import keras

    import keras_gan_zoo as zoo

    class Trace(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % every == 0:
                coverage = zoo.metrics.mode_coverage(model.sample(NUM_SAMPLES, seed=seed), dataset)
                print(f"step {batch + 1}: {coverage.modes} modes, {100 * coverage.high_quality:.1f}% high quality",
                      file=sys.stderr, flush=True)

    return Trace()


def training_of(config, dataset):
    """What shapes the trained model: its TrainConfig's fields but the seed and the sampling."""
    fields = train_config(config, dataset).to_dict()
    for name in ("seed", "sampling"):
        fields.pop(name)
    return fields


def trained_model_key(config, dataset, steps):
    """Names a trained model by what shaped it: its training fields and steps."""
    training = {**training_of(config, dataset), "steps_per_epoch": steps}
    digest = hashlib.sha1(json.dumps(training, sort_keys=True).encode()).hexdigest()[:10]
    return f"{training['model']}_{digest}"


def sampling_of(config, dataset):
    """(ratio classifier steps, its build options, rejection_sample's acceptance options) on
    `dataset`; (0, None, None) for direct sampling."""
    sampling = train_config(config, dataset).sampling
    if not sampling.rejection_steps:
        return 0, None, None
    classifier = {"hidden_units": tuple(sampling.ratio_hidden_units),
                  "fourier_features": tuple(sampling.fourier_features) if sampling.fourier_features else None}
    acceptance = {name: getattr(sampling, name) for name in REJECTION_DEFAULTS}
    return sampling.rejection_steps, classifier, acceptance


def ratio_file_stem(model_stem, ratio_steps, classifier):
    """Where a fitted ratio classifier is kept beside its model: named by what shaped it."""
    stem = f"{model_stem}_ratio{ratio_steps}_{'x'.join(map(str, classifier['hidden_units']))}"
    if classifier["fourier_features"]:
        stem += "_fourier{}x{:g}".format(*classifier["fourier_features"])
    return stem


def same_run(config, other, dataset):
    """Whether `other`'s runs on `dataset` compute exactly what `config`'s would:
    the same model, training options, budget and sampling there."""
    def run(c):
        return training_of(c, dataset), sampling_of(c, dataset)

    return run(config) == run(other)


def train_and_score(config, dataset, seed, steps, plot, trace_every=0, save=None):
    """Runs in the child process: one (configuration, dataset, seed), one JSON line on stdout."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    import keras_gan_zoo as zoo
    from keras_gan_zoo import plots
    from keras_gan_zoo.training.run import build_model, compile_model

    keras.utils.set_random_seed(seed)
    x, _ = zoo.data.synthetic.GENERATORS[dataset]("train")
    config_ = train_config(config, dataset, seed=seed)
    config_ = type(config_).from_dict({**config_.to_dict(), "steps_per_epoch": steps})
    ratio_steps, ratio_classifier, acceptance = sampling_of(config, dataset)
    # With --keep-models, trained models are kept there, so that configurations
    # differing only in how they sample (rejection_sampling) share them.
    models_dir = os.environ.get("MODE_COVERAGE_MODELS")
    cached = models_dir and pathlib.Path(models_dir) / f"{trained_model_key(config, dataset, steps)}_{dataset}_seed{seed}.keras"
    if cached and cached.exists() and not trace_every:
        model = keras.saving.load_model(cached)
        trained = json.loads(cached.with_suffix(".json").read_text())
    else:
        model = build_model(config_)
        compile_model(model, config_, steps)
        data = zoo.data.pipeline(x, batch_size=config_.batch_size, seed=seed).repeat()
        started = time.perf_counter()
        callbacks = [coverage_trace(model, dataset, seed, trace_every)] if trace_every else []
        history = model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=callbacks)
        trained = {"train_seconds": time.perf_counter() - started,
                   "final_losses": {k: float(v[-1]) for k, v in history.history.items()}}
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            model.save(cached)
            cached.with_suffix(".json").write_text(json.dumps(trained))
    if save:
        model.save(save)
    samples = model.sample(NUM_SAMPLES, seed=seed)
    coverage = zoo.metrics.mode_coverage(samples, dataset)
    extra = {}
    if ratio_steps:
        # Scored through discriminator rejection sampling; the raw samples' figures are kept beside.
        extra = {"raw_modes": coverage.modes, "raw_high_quality": coverage.high_quality,
                 "ratio_steps": ratio_steps,
                 **{f"ratio_{name}": list(value) for name, value in ratio_classifier.items() if value},
                 **{f"rejection_{name}": value for name, value in acceptance.items()
                    if value != REJECTION_DEFAULTS[name]}}
        started = time.perf_counter()
        # Kept beside the model, so that configurations differing only in acceptance share one fit.
        kept_ratio = cached and cached.with_name(f"{ratio_file_stem(cached.stem, ratio_steps, ratio_classifier)}.keras")
        if kept_ratio and kept_ratio.exists():
            classifier = keras.saving.load_model(kept_ratio)
        else:
            classifier = zoo.sampling.fit_density_ratio(model, x, steps=ratio_steps, seed=seed, **ratio_classifier)
            if kept_ratio:
                classifier.save(kept_ratio)
        samples, extra["acceptance"] = zoo.sampling.rejection_sample(
            model, classifier, NUM_SAMPLES, seed=seed, return_acceptance=True, **acceptance)
        extra["rejection_seconds"] = time.perf_counter() - started
        coverage = zoo.metrics.mode_coverage(samples, dataset)
    if plot and x.shape[1] == 2:
        plots.save_scatter(samples, PLOTS / f"{config}_{dataset}.png", real=x[:NUM_SAMPLES],
                               title=f"{config} on {dataset}: {coverage.modes} modes, "
                                     f"{100 * coverage.high_quality:.0f}% high quality")
    print(json.dumps({
        "config": config, "dataset": dataset, "seed": seed, "steps": steps, "modes": coverage.modes,
        "num_modes": coverage.num_modes, "high_quality": coverage.high_quality,
        "quality_rule": zoo.metrics.RULE_VERSION, **trained, **extra,
    }))


def run(config, dataset, seed, steps):
    command = [sys.executable, __file__, "--child", config, dataset, str(seed), str(steps)]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""})
    if result.returncode != 0:
        row = {"config": config, "dataset": dataset, "seed": seed, "steps": steps,
               "error": (result.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    else:
        row = json.loads(result.stdout.strip().splitlines()[-1])
    row["seconds"] = time.time() - started
    row["command"] = " ".join(["python benchmarks/mode_coverage.py", *sys.argv[1:]])
    return row


def runs_of(rows, config, dataset):
    """The runs on record of `config` on `dataset`, failed ones included, and the
    configuration that made them: `config`, or where it has none, another one
    whose runs there are the same computation (`same_run`)."""
    for source in [config, *(c for c in CONFIGS if c != config)]:
        found = [r for r in rows if r["config"] == source and r["dataset"] == dataset]
        if found and (source == config or same_run(config, source, dataset)):
            return found, source
    return [], config


def summarize(rows, config, dataset):
    import numpy as np

    runs, source = runs_of(rows, config, dataset)
    done = [r for r in runs if "error" not in r]
    retired = ""
    if dataset == "gauss1200" and done and not any(r.get("quality_rule", 1) >= 2 for r in done):
        # Scored before the rule that refuses blends of two modes: shown, marked, never quoted.
        retired = "retired rule 1, which counts blends of modes as high quality, not comparable: "
    if dataset == "gauss1200":
        done = [r for r in done if r.get("quality_rule", 1) >= 2] or done
    failed = [r for r in runs if "error" in r]
    if not done:
        return f"{len(runs)} attempted, all failed: {failed[0]['error']}" if runs else ""
    attempts = f"; {len(runs)} attempted, {len(failed)} failed" if failed else ""
    modes = np.array([r["modes"] for r in done])
    quality = 100 * np.array([r["high_quality"] for r in done])
    rejection = ""
    if all("raw_modes" in r for r in done):
        rejection = (f"; before rejection {np.mean([r['raw_modes'] for r in done]):.1f} / "
                     f"{100 * np.mean([r['raw_high_quality'] for r in done]):.1f}, "
                     f"{100 * np.mean([r['acceptance'] for r in done]):.2g}% of draws accepted")
    return (f"{retired}{modes.mean():.1f} / {quality.mean():.1f} (modes {modes.min()}-{modes.max()}, "
            f"HQ min {quality.min():.2f}; {len(done)} runs reported{attempts}, "
            f"{np.mean([r['seconds'] for r in done]):.0f} s each"
            f"{rejection}{'' if source == config else f'; the runs of {source}, the same training and sampling'})")


def budget(rows, config):
    """"steps on ring8 and grid25 / on gauss1200" as the runs on record took them."""
    def steps_on(datasets):
        taken = sorted({r["steps"] for d in datasets for r in runs_of(rows, config, d)[0]})
        return " or ".join(f"{s:,}" for s in taken) or "-"

    return f"{config} {steps_on(('ring8', 'grid25'))} / {steps_on(('gauss1200',))}"


def write_report(rows, args):
    """The table holds the default configurations and every other one with runs on record."""
    on_record = {r["config"] for r in rows}
    configs = [c for c in CONFIGS if c in DEFAULT_CONFIGS or c in on_record]
    commands = sorted({r["command"] for r in rows if "command" in r})
    lines = [
        "# Mode coverage on VEEGAN's synthetic mixtures",
        "",
        "Commands: `python benchmarks/mode_coverage.py --seeds 5 --jobs 2` for the default configurations"
        + "".join(f"; `{c}`" for c in commands if c != "python benchmarks/mode_coverage.py --seeds 5 --jobs 2")
        + ".  ",
        f"Last started {args.started} UTC; {os.cpu_count()} CPU cores, each run a single-threaded process, "
        f"{args.jobs} at a time.",
        "",
        f"Protocol (VEEGAN section 5.1): {NUM_SAMPLES} samples per trained model; high quality within 3 "
        "standard deviations of the nearest mode (2-D); on gauss1200 (rule 2, `zoo.metrics`) a sample's "
        "squared distance from its nearest mode exceeds real points' mean by at most 5 of its standard "
        "deviations, and it strays at most 5 standard deviations toward any other mode, which refuses "
        "blends of two modes; cells scored by the retired rule 1 (a radius alone, which counted such blends) "
        "are marked and not comparable; modes = components nearest to at least one high-quality sample. "
        "Cells: mean modes / mean % high quality over the runs reported, then the range of modes, the lowest "
        "% high quality, the runs reported (with the runs attempted and failed where any failed; a failed "
        "run is tried again on the next invocation) and the seconds per run (training, sampling and start-up).",
        "",
        "Setup: batch 100 unless a configuration sets its own (the _b400 ones: 400), each model's registry "
        "defaults (MLP players with two ReLU layers of 128 units, 8-d Gaussian noise (100-d for wgan_gp), "
        "the model's default optimizer: Adam(2e-4, 0.5) for gan, bigan, veegan and "
        "unrolled_gan's outer updates, Adam(1e-4, 0, 0.9) with 5 critic steps for wgan_gp); unrolled_gan "
        "unrolls 5 steps; veegan's reconstructor adds noise of std 0.5. Other configurations as "
        "benchmarks/mode_coverage_configs.json sets them (the best one runs the recipes packed_critic_ring8, "
        "_grid25 and _gauss1200); the _drs ones sample through discriminator rejection sampling "
        "(`zoo.sampling`, see the notes), and their cells also give the figures before rejection. "
        "Data: 100,000 training points for the 2-D sets, 20,000 for gauss1200. "
        "Budget (generator steps per run, ring8 and grid25 / gauss1200): "
        + ", ".join(budget(rows, c) for c in configs) + ".",
        "",
        "Seeds: the registry defaults (" + ", ".join(DEFAULT_CONFIGS) + ") chose nothing, so their seeds are "
        "held out. Every other configuration was chosen on the seeds of the runs in its own cells (0 to 4, "
        "and seed 5 for the Fourier scale): those are tuning figures, not held-out ones. The held-out figures "
        "of the configuration chosen are the served runs on seeds 11 and 12 (\"Recipes served over REST\" "
        "below, `python benchmarks/served_recipes.py`).",
        "",
        "| configuration | " + " | ".join(DATASETS) + " |",
        "|---|" + "---|" * len(DATASETS),
    ]
    for config in configs:
        lines.append(f"| {config} | " + " | ".join(summarize(rows, config, d) for d in DATASETS) + " |")
    lines += [
        "",
        "Published (modes / % high quality; ring8, grid25, gauss1200):",
        "",
        "| method | ring8 | grid25 | gauss1200 |",
        "|---|---|---|---|",
    ] + [f"| {name} | {ring} | {grid} | {high} |" for name, ring, grid, high in PUBLISHED]
    plots = sorted(PLOTS.glob("*.png")) if PLOTS.exists() else []
    if plots:
        lines += ["", "Seed 0's samples (red) over real data (grey):", ""]
        lines += [f"![{p.stem}](mode_coverage/{p.name})" for p in plots]
    notes = ""
    if REPORT.exists() and NOTES_HEADING in REPORT.read_text():
        notes = REPORT.read_text()[REPORT.read_text().index(NOTES_HEADING):]
    REPORT.write_text("\n".join(lines).rstrip() + "\n" + ("\n" + notes if notes else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help="comma-separated names from mode_coverage_configs.json")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="multiplies every step budget")
    parser.add_argument("--fresh", action="store_true", help="forget the runs on record")
    parser.add_argument("--child", nargs=4, metavar=("CONFIG", "DATASET", "SEED", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument("--trace-every", type=int, default=0,
                        help="with --child: print the coverage to stderr every this many steps")
    parser.add_argument("--keep-models", metavar="DIR",
                        help="keep trained models in DIR and reuse them in configurations that only sample differently")
    parser.add_argument("--save", help="with --child: save the trained model to this .keras path")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the records, run nothing")
    args = parser.parse_args()
    if args.child:
        config, dataset, seed, steps = args.child
        train_and_score(config, dataset, int(seed), int(steps), plot=int(seed) == 0, trace_every=args.trace_every,
                        save=args.save)
        return
    args.configs = args.configs.split(",")
    args.datasets = args.datasets.split(",")
    for name, known in (("configuration", CONFIGS), ("dataset", DATASETS)):
        unknown = set(args.configs if name == "configuration" else args.datasets) - set(known)
        if unknown:
            parser.error(f"unknown {name} {', '.join(sorted(unknown))}; choose from {', '.join(known)}.")
    if args.keep_models:
        os.environ["MODE_COVERAGE_MODELS"] = str(pathlib.Path(args.keep_models).resolve())
    if args.fresh and RECORD.exists():
        RECORD.unlink()
    # Failed runs stay in the rows, so that the report counts them; they are tried again.
    rows = read_records(RECORD)
    args.started = now_stamp()
    if args.report_only:
        # No run starts: the report keeps the time the last one did, and how many it ran at a time.
        previous = re.search(r"Last started (.+?) UTC;.*?process, (\d+) at a time", REPORT.read_text()) \
            if REPORT.exists() else None
        args.started = previous.group(1) if previous else "(not recorded)"
        args.jobs = int(previous.group(2)) if previous else args.jobs
        write_report(rows, args)
        print(f"report rewritten from {len(rows)} records: {REPORT}")
        return
    # gauss1200 runs scored by the retired rule 1 are made again (their records stay, marked).
    finished = {(r["config"], r["dataset"], r["seed"]) for r in rows if "error" not in r
                and (r["dataset"] != "gauss1200" or r.get("quality_rule", 1) >= 2)}
    # Seeds outermost, so that a cut-off benchmark has every cell at a few seeds.
    todo = [(c, d, s) for s in range(args.seeds) for d in args.datasets for c in args.configs
            if (c, d, s) not in finished]
    PLOTS.mkdir(parents=True, exist_ok=True)
    print(f"{len(todo)} runs to go ({len(finished)} on record); report: {REPORT}", flush=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, c, d, s, steps_for(c, d, args.steps_scale)) for c, d, s in todo]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            row = future.result()
            rows.append(row)
            with RECORD.open("a") as record:
                record.write(json.dumps(row) + "\n")
            write_report(rows, args)
            outcome = (row.get("error")
                       or f"{row['modes']}/{row['num_modes']} modes, {100 * row['high_quality']:.1f}% HQ")
            print(f"[{done}/{len(todo)}] {row['config']} {row['dataset']} seed {row['seed']}: {outcome} "
                  f"({row['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
