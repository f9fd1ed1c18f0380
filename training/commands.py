"""The handlers of `ganzoo sample`, `plot`, `evaluate` and `amplify`: what reads a finished run
or an export and writes pictures, tables and reports (`training.cli` parses their flags)."""

import pathlib
import sys


def sample(args):
    import numpy as np

    from keras_gan_zoo import capabilities as caps
    from keras_gan_zoo import plots
    from keras_gan_zoo.training.run import load_source, real_points_for_plots

    out = pathlib.Path(args.out)
    if out.suffix not in (".png", ".npy", ".csv"):
        raise ValueError(f"--out must end in .png (a picture), .npy (an array) or .csv (a table's rows), got {out}.")
    model, run = load_source(args.run_dir)
    table = caps.SAMPLE_COLUMNS in model.capabilities
    if out.suffix == ".csv" and not table:
        raise ValueError(f"--out {out}: a .csv holds a table's rows; {run.model} makes arrays: use .npy or .png.")
    real = real_points_for_plots(run.data, run.data_dir)
    if table and out.suffix != ".npy":
        rows = model.sample(args.n, seed=args.seed)
        if out.suffix == ".csv":
            rows.to_csv(out, index=False)
        else:
            plots.save_table_columns(rows, real, out, categorical=model.transformer.categorical,
                                     title=f"{run.model} on {run.data}")
        print(f"Wrote {len(rows)} rows to {out}")
        return
    samples = model.sample_array(args.n, seed=args.seed)
    if out.suffix == ".npy":
        np.save(out, samples)
    else:
        plots.save_samples_png(samples, out, real=real, title=f"{run.model} on {run.data}")
    print(f"Wrote {len(samples)} samples to {out}")


def evaluate(args):
    import json

    from keras_gan_zoo import evaluation
    from keras_gan_zoo.training.run import PRETRAINED_PREFIX, load_source

    pretrained = args.source.startswith(PRETRAINED_PREFIX)
    source = pathlib.Path(args.source)
    if pretrained or (source / "run.json").exists() or (source / "model.keras").exists():
        model, run = load_source(args.source)
        if args.data and args.data != run.data:
            raise ValueError(f"{source} is a run on {run.data}, not {args.data}: drop --data.")
        generator, dataset, data_dir = model, run.data, args.data_dir or run.data_dir
    elif source.is_dir():
        if not args.data:
            raise ValueError(f"{source} is an export, which does not record its dataset: add --data NAME.")
        generator, dataset, data_dir = str(source), args.data, args.data_dir
    else:
        raise FileNotFoundError(f"{source} does not exist: give a finished run directory or an exported generator "
                                "(EXPORT_DIR/NAME).")
    names = tuple(args.metrics.split(",")) if args.metrics else None
    started = set()

    def progress(stage, done, total):
        # An updating line on a terminal; on a pipe, a stage's first and last line.
        if sys.stderr.isatty():
            print(f"\r{stage}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
        elif done >= total or stage not in started:
            started.add(stage)
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)

    report = evaluation.evaluate(generator, dataset, names, n=args.n, seed=args.seed, data_dir=data_dir,
                                 ivom_targets=args.ivom_targets, ivom_steps=args.ivom_steps, progress=progress)
    report["command"] = (f"ganzoo evaluate {args.source} --data {dataset} --metrics {','.join(report['metrics_asked'])} "
                         f"--n {report['n']} --seed {args.seed}"
                         + (f" --ivom-targets {args.ivom_targets} --ivom-steps {args.ivom_steps}"
                            if "ivom" in report["metrics_asked"] else ""))
    out = pathlib.Path(args.out or (source / "evaluation" if (source / "run.json").exists() else "evaluation"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    page = evaluation.markdown(report)
    (out / "evaluation.md").write_text(page)
    print(page, end="")
    print(f"Wrote {out / 'evaluation.json'} and {out / 'evaluation.md'}")


def amplify(args):
    from keras_gan_zoo.training import amplify

    mix = tuple(float(share) for share in args.mix.split(","))
    config = amplify.AmplifyConfig(
        data=args.data, fraction=args.fraction, generator=args.generator, mix=mix, runs=args.runs,
        generator_steps=args.generator_steps, classifier_steps=args.classifier_steps, pool=args.pool, seed=args.seed,
        data_dir=args.data_dir)
    record = amplify.amplify(config, progress=lambda line: print(line, file=sys.stderr, flush=True),
                             write=args.write)
    record["command"] = (f"ganzoo amplify --data {args.data} --fraction {args.fraction:g} --generator {args.generator} "
                         f"--mix {args.mix} --runs {args.runs} --generator-steps {args.generator_steps} "
                         f"--classifier-steps {args.classifier_steps} --pool {args.pool} --seed {args.seed}")
    out = amplify.write_outputs(record, args.out or f"runs/amplify-{args.data}-{pathlib.Path(args.generator).stem}")
    print(amplify.markdown(record), end="")
    print(f"Wrote {out / 'amplification.json'} and {out / 'amplification.md'}"
          + (f"; the amplified set in {args.write} (tf.data.Dataset.load)" if args.write else ""))


def plot(args):
    from keras_gan_zoo.training import plotting
    from keras_gan_zoo.training.run import PRETRAINED_PREFIX, load_source

    if args.run_dir.startswith(PRETRAINED_PREFIX) and not args.out:
        raise ValueError(f"{args.run_dir} is a shipped preset, not a folder to draw into: add --out DIR.")
    model, run = load_source(args.run_dir)
    out_dir = pathlib.Path(args.out or pathlib.Path(args.run_dir) / "plots")
    for path in plotting.draw(args.kind, model, run, out_dir, seed=args.seed):
        print(f"Wrote {path}")
