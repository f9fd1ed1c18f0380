"""`ganzoo`: train, list and sample the zoo's variants from the shell."""

import argparse
import os
import pathlib
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_gan_zoo.training import commands as handlers  # noqa: E402
from keras_gan_zoo.training import console  # noqa: E402


def _train_config(args):
    """The run's TrainConfig: the recipe's (if any), the flags given on top of it."""
    from keras_gan_zoo.training.config import TrainConfig, load_recipe

    if args.recipe and args.from_preset:
        raise ValueError("--from-preset trains on from the preset's own recipe: drop --recipe.")
    if args.from_preset:
        from keras_gan_zoo import pretrained

        config = TrainConfig.from_dict({**pretrained.recipe(args.from_preset), "from_preset": args.from_preset})
        if args.model and args.model != config.model:
            raise ValueError(f"The preset {args.from_preset} is a {config.model}, not a {args.model}: drop the model name.")
    elif args.recipe:
        config = load_recipe(args.recipe)
        if args.model and args.model != config.model:
            raise ValueError(f"The recipe {args.recipe} trains {config.model}, not {args.model}: drop one of them.")
    elif not (args.model and args.data):
        raise ValueError("Name a model and --data (ganzoo train gan --data ring8), or a --recipe (ganzoo recipes).")
    else:
        config = TrainConfig(model=args.model, data=args.data)
    fields = {name: getattr(args, name) for name in (
        "data", "epochs", "batch_size", "seed", "steps_per_epoch", "strategy", "backup_every_steps", "steps_per_execution", "data_dir")}
    fields = {name: value for name, value in fields.items() if value is not None}
    fields.update({name: True for name in ("mixed_precision",) if getattr(args, name)})
    if args.xla is not None:
        fields["xla"] = {"on": True, "off": False, "auto": "auto"}[args.xla]
    if args.devices:
        fields["devices"] = tuple(args.devices.split(","))
    if args.categorical:
        fields["categorical"] = tuple(args.categorical.split(","))
    if args.freeze:
        fields["freeze"] = tuple(args.freeze.split(","))
    options = {name: getattr(args, name) for name in ("latent_dim", "ema_decay", "packing")
               if getattr(args, name) is not None}
    return TrainConfig.from_dict({**config.to_dict(), **fields,
                                  "model_options": {**config.model_options, **options}})


def _train(args):
    from keras_gan_zoo.training import backup
    from keras_gan_zoo.training.run import train

    config = _train_config(args)
    name = pathlib.Path(args.recipe).stem if args.recipe else f"{config.model}-{config.data}"
    out = pathlib.Path(args.out or f"runs/{name}")
    try:
        train(config, out, overwrite=args.overwrite)
    except KeyboardInterrupt:
        position = backup.read_position(out / "backup")
        saved = (f"{position.epoch} epoch(s)" + (f" and {position.step} step(s)" if position.step else "")
                 if position else "nothing yet")
        raise Interrupted(f"stopped; {saved} saved in {out / 'backup'}: the same command resumes from there.")
    print(f"Saved {out / 'model.keras'}; samples in {out / 'samples'}")


def _recipes(args):
    from keras_gan_zoo.training.config import recipe_description, recipe_names

    names = recipe_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {recipe_description(name)}")


def _list(args):
    import keras_gan_zoo as zoo

    from keras_gan_zoo import capabilities

    descriptions = zoo.describe_models()
    width = max(map(len, descriptions))
    order = list(capabilities.DESCRIPTIONS)
    for name, description in descriptions.items():
        print(f"{name:<{width}}  {description}")
        offered = []
        for options, offer in zoo.registry.offers(name):
            what = ", ".join(sorted(offer, key=order.index))
            condition = ", ".join(f"{key}={value}" for key, value in options.items())
            offered.append(f"with {condition} also {what}" if options else f"offers {what}")
        print(f"{'':<{width}}  {'; '.join(offered)}")


def _pretrained(args):
    import keras_gan_zoo as zoo

    from keras_gan_zoo import capabilities

    described = zoo.pretrained.describe()
    if not described:
        print("No presets are shipped in this version.")
        return
    width = max(map(len, described))
    order = list(capabilities.DESCRIPTIONS)
    for name, manifest in described.items():
        headline = manifest.get("headline") or {}
        figure = (f"; {headline['metric']} {headline['value']:.4g} (real data {headline['real']:.4g})"
                  if headline.get("metric") else "")
        offers = ", ".join(sorted(manifest.get("capabilities", ()), key=order.index))
        print(f"{name:<{width}}  {manifest.get('description', '')}")
        print(f"{'':<{width}}  on {manifest.get('data', 'its data')}; offers {offers or 'what its card says'}{figure}")
    print("Call one: ganzoo sample pretrained:NAME --out grid.png, or in Python "
          "keras_gan_zoo.pretrained.load(NAME).sample(4)")


def _export(args):
    import keras

    from keras_gan_zoo.export import export_model, saved_model_bytes
    # Imports zoo, whose variants load_model must know.
    from keras_gan_zoo.training.run import PRETRAINED_PREFIX, load_source

    source = pathlib.Path(args.source)
    if args.source.startswith(PRETRAINED_PREFIX) or source.is_dir():
        model, run = load_source(args.source)
        name = args.name or run.model
    elif source.is_file():
        model, name = keras.models.load_model(source), args.name or source.stem
    else:
        raise FileNotFoundError(f"{source} does not exist: give a finished run directory, a .keras file, or "
                                f"pretrained:NAME (ganzoo pretrained lists them).")
    limits = {} if args.max_rows is None else {"max_rows": args.max_rows}
    written = export_model(model, args.out, name=name, version=args.version, **limits)
    for served_name, path in written.items():
        print(f"Exported {served_name} version {args.version} to {path} ({saved_model_bytes(path) / 1e6:.2f} MB)")
    print(f"TF Serving: --model_config_file={pathlib.Path(args.out) / 'models.config'} (paths under /models)")


def _serve(args):
    from keras_gan_zoo.serving import LocalServer

    server = LocalServer(
        args.export_dir, host=args.host, rest_port=args.rest_port, grpc_port=args.grpc_port,
        max_request_bytes=args.max_request_bytes, model_config_file=args.model_config_file,
    ).start()
    for name, versions in sorted(server.repository.models.items()):
        print(f"serving {name} versions {sorted(versions)}")
    print(f"REST on {server.rest_url}/v1/models/NAME:predict, gRPC on {server.grpc_target}; Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line in one line (what to change), not the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _positive(value):
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return number


def _offering(technique):
    """The registered variants that take `technique`, for the help of its flag."""
    import keras_gan_zoo as zoo

    return ", ".join(name for name in zoo.list_models() if technique in zoo.get_entry(name).cls.techniques)


def parser():
    from keras_gan_zoo.training.strategies import STRATEGIES

    top = _Parser(prog="ganzoo", description=__doc__)
    top.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a variant on a dataset, or a recipe")
    train.add_argument("model", nargs="?", help="a name from `ganzoo list` (optional with --recipe)")
    train.add_argument("--recipe", default=None,
                       help="a name from `ganzoo recipes`, or a recipe file path.json; the flags below override it")
    train.add_argument("--data", default=None, help="ring8, grid25, gauss1200, fashion_mnist, mnist, mnist_5k, "
                                                    "stacked_mnist, stacked_fashion_mnist, waves, autompg, or "
                                                    "csv:PATH (a table; name its categorical columns)")
    train.add_argument("--from-preset", default=None,
                       help="start from a pretrained preset (ganzoo pretrained) and train it on --data: fine-tuning, "
                            "with the preset's recipe for every setting not given")
    train.add_argument("--freeze", default=None,
                       help="networks whose body (all but the last layer with weights) stays fixed, comma-separated: "
                            "discriminator, encoder, ...")
    train.add_argument("--categorical", default=None,
                       help="with --data csv:PATH: its categorical columns, comma-separated (a,b); every other "
                            "column must be numeric")
    train.add_argument("--epochs", type=_positive, default=None, help="default: 10, or the recipe's")
    train.add_argument("--batch-size", type=_positive, default=None, help="default: 100 for vectors, 32 for images")
    train.add_argument("--latent-dim", type=_positive, default=None, help="default: the model's")
    train.add_argument("--seed", type=int, default=None, help="default: 0")
    train.add_argument("--out", default=None, help="run directory, default runs/MODEL-DATA (runs/RECIPE)")
    train.add_argument("--overwrite", action="store_true",
                       help="train a finished run's directory again from the start, deleting its model, pictures and logs")
    train.add_argument(
        "--xla", nargs="?", const="on", default=None, choices=("auto", "on", "off"),
        help="compile the train step with XLA; auto (the default): on where a GPU is visible, off on CPUs, where it "
             "made training slower (docs/results/scaling.md). --xla alone is on",
    )
    train.add_argument(
        "--mixed-precision", action="store_true",
        help="float16 compute on GPUs (with loss scaling), bfloat16 elsewhere; float32 variables and losses",
    )
    train.add_argument(
        "--ema-decay", type=float, default=None,
        help="keep a moving average of the generator's weights (e.g. 0.999) for sampling and export",
    )
    train.add_argument(
        "--backup-every-steps", type=_positive, default=None,
        help="checkpoint every N steps as well as every epoch; a re-run resumes from the last one",
    )
    train.add_argument(
        "--packing", type=_positive, default=None,
        help=f"PacGAN: the discriminator judges M examples at once ({_offering('packing')}); the batch must divide "
             "by M",
    )
    train.add_argument(
        "--steps-per-execution", type=_positive, default=None,
        help="training steps per call of the compiled step; default: 25 or the largest divisor of the epoch's "
             "steps below it for models under 500,000 parameters, else 1",
    )
    train.add_argument("--data-dir", default=None, help="directory holding IDX files")
    train.add_argument("--steps-per-epoch", type=_positive, default=None, help="default: one pass over the data")
    train.add_argument(
        "--strategy", default=None, choices=STRATEGIES,
        help="auto (default): every GPU with MirroredStrategy, else one device; multiworker reads TF_CONFIG",
    )
    train.add_argument("--devices", default=None, help="comma-separated devices for --strategy mirrored")
    train.set_defaults(handler=_train)

    recipes = commands.add_parser("recipes", help="the named training recipes, one line each")
    recipes.set_defaults(handler=_recipes)

    listing = commands.add_parser("list", help="the variants, one line each")
    listing.set_defaults(handler=_list)

    pretrained = commands.add_parser("pretrained", help="the pretrained presets, one line each")
    pretrained.set_defaults(handler=_pretrained)

    sample = commands.add_parser("sample", help="draw samples from a finished run or a preset")
    sample.add_argument("run_dir", help="a run directory, or pretrained:NAME (ganzoo pretrained)")
    sample.add_argument("--n", type=_positive, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True,
                        help="FILE.png (picture), FILE.npy (array) or, for a table generator, FILE.csv (its rows "
                             "under the original header)")
    sample.set_defaults(handler=handlers.sample)

    plot = commands.add_parser("plot", help="draw a finished run's latent space, interpolations or classes")
    plot.add_argument("run_dir", help="a run directory, or pretrained:NAME (with --out)")
    plot.add_argument(
        "--kind", required=True, choices=("latent", "interpolation", "classes", "walk"),
        help="latent: 2-D codes by label beside the prior, and a decoded lattice; interpolation: decoded lines "
             "between codes of real images; classes: one row of samples per class (series: beside real ones); "
             "walk: series generated from a lattice over two code axes, one picture per class",
    )
    plot.add_argument("--out", default=None, help="folder for the PNGs; default RUN_DIR/plots")
    plot.add_argument("--seed", type=int, default=0)
    plot.set_defaults(handler=handlers.plot)

    evaluate = commands.add_parser("evaluate", help="score a finished run or an exported generator (FID, KID, ...)")
    evaluate.add_argument("source", help="a run directory, pretrained:NAME, or an exported generator EXPORT_DIR/NAME "
                                               "(with --data)")
    evaluate.add_argument("--data", default=None, help="the dataset an export models (a run names its own)")
    evaluate.add_argument("--metrics", default=None,
                          help="comma-separated: fid,kid,score,precision_recall,ivom for images; stacked_modes,ivom "
                               "for stacked_mnist and stacked_fashion_mnist; modes,ivom for ring8, grid25, gauss1200 "
                               "(default: all but ivom)")
    evaluate.add_argument("--n", type=_positive, default=None,
                          help="samples to draw (default 26000 on the stacked sets, else 10000)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--ivom-targets", type=_positive, default=256, help="held-out examples IvOM reconstructs")
    evaluate.add_argument("--ivom-steps", type=_positive, default=500, help="Adam steps on z per restart")
    evaluate.add_argument("--data-dir", default=None, help="directory holding IDX files")
    evaluate.add_argument("--out", default=None,
                          help="folder for evaluation.json and evaluation.md; default RUN_DIR/evaluation, "
                               "or ./evaluation for an export")
    evaluate.set_defaults(handler=handlers.evaluate)

    amplify = commands.add_parser("amplify", help="does a generator trained on a small labelled set help a classifier?")
    amplify.add_argument("--data", default="fashion_mnist", help="fashion_mnist, mnist or mnist_5k")
    amplify.add_argument("--fraction", type=float, default=0.1, help="class-balanced share of the train split kept")
    amplify.add_argument("--generator", default="cgan", help="a variant (ganzoo list) or a recipe (ganzoo recipes)")
    amplify.add_argument("--mix", default="0.25,0.5,0.75", help="shares of generated samples in a classifier batch")
    amplify.add_argument("--runs", type=_positive, default=3)
    amplify.add_argument("--generator-steps", type=_positive, default=3000)
    amplify.add_argument("--classifier-steps", type=_positive, default=3000)
    amplify.add_argument("--pool", type=_positive, default=20_000,
                         help="generated samples per run, balanced over classes, that mixed batches draw from")
    amplify.add_argument("--seed", type=int, default=0)
    amplify.add_argument("--data-dir", default=None, help="directory holding IDX files")
    amplify.add_argument("--out", default=None,
                         help="folder for amplification.json and .md; default runs/amplify-DATA-GENERATOR")
    amplify.add_argument("--write", default=None, help="also save the fraction and the generated set here (tf.data)")
    amplify.set_defaults(handler=handlers.amplify)

    export = commands.add_parser("export", help="write SavedModels for TF Serving")
    export.add_argument("source", help="a run directory, a .keras file, or pretrained:NAME")
    export.add_argument("--out", required=True, help="export directory (one folder per served model)")
    export.add_argument("--name", default=None, help="served model name; default: the run's model or the file's stem")
    export.add_argument("--version", type=int, default=1)
    export.add_argument("--max-rows", type=_positive, default=None,
                        help="the most rows (samples, codes, examples) one request may ask of any signature; "
                             "larger requests are refused before computing (default 10000)")
    export.set_defaults(handler=_export)

    serve = commands.add_parser("serve", help="serve an export directory over REST and gRPC (local stand-in for TF Serving)")
    serve.add_argument("export_dir")
    serve.add_argument("--rest-port", type=int, default=8501)
    serve.add_argument("--grpc-port", type=int, default=8500)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--max-request-bytes", type=int, default=16 * 1024 * 1024)
    serve.add_argument("--model-config-file", default=None,
                       help="a ModelServerConfig naming the models to serve (default: EXPORT_DIR/models.config)")
    serve.set_defaults(handler=_serve)
    return top


def _request_cpu_auto_clustering():
    """Lets XLA auto-clustering (zoo/xla.py) work on CPUs under tf.distribute.

    TensorFlow reads TF_XLA_FLAGS once, when it starts, so this runs before
    any command imports it.
    """
    flags = os.environ.get("TF_XLA_FLAGS", "").split()
    if "--tf_xla_cpu_global_jit" not in flags:
        os.environ["TF_XLA_FLAGS"] = " ".join(flags + ["--tf_xla_cpu_global_jit"])


class Interrupted(Exception):
    """Ctrl-C, with what was kept and how to go on."""


def _version():
    from importlib import metadata

    try:
        return metadata.version("keras-gan-zoo")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def main(argv=None):
    args = parser().parse_args(argv)
    if getattr(args, "xla", None) == "on":
        _request_cpu_auto_clustering()
    try:
        args.handler(args)
    except (ValueError, OSError, FloatingPointError) as error:
        print(f"ganzoo {args.command}: {error}", file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as stop:
        print(f"ganzoo {args.command}: {stop or 'stopped.'}", file=sys.stderr)
        return 130
    return 0


def run():
    """The `ganzoo` console command (keras_gan_zoo's import has set `console.quiet_native_log` up)."""
    console.quiet_native_log()
    sys.exit(main())


if __name__ == "__main__":
    run()
