"""`ganzoo`: train, list and sample the zoo's variants from the shell."""

import argparse
import os
import pathlib
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# PacGAN's batch of 100 for the mixtures. Images get 32 instead of DCGAN's 128:
# on a CPU an epoch then makes four times the updates in about the same time,
# and one epoch of Fashion-MNIST already draws recognisable garments.
DEFAULT_BATCH_SIZE = {"vector": 100, "image": 32}


def _train(args):
    import keras_gan_zoo as zoo
    from keras_gan_zoo.training.run import train

    out = args.out or f"runs/{args.model}-{args.data}"
    batch_size = args.batch_size or DEFAULT_BATCH_SIZE[zoo.data.describe(args.data).kind]
    train(
        args.model, args.data, out, epochs=args.epochs, batch_size=batch_size,
        latent_dim=args.latent_dim, seed=args.seed, xla=args.xla, data_dir=args.data_dir,
        steps_per_epoch=args.steps_per_epoch, strategy=args.strategy,
        devices=args.devices.split(",") if args.devices else None,
        mixed_precision=args.mixed_precision, ema_decay=args.ema_decay,
        backup_every_steps=args.backup_every_steps, packing=args.packing,
    )
    print(f"Saved {pathlib.Path(out) / 'model.keras'}; samples in {pathlib.Path(out) / 'samples'}")


def _list(args):
    import keras_gan_zoo as zoo

    descriptions = zoo.describe_models()
    width = max(map(len, descriptions))
    for name, description in descriptions.items():
        print(f"{name:<{width}}  {description}")


def _sample(args):
    import numpy as np

    from keras_gan_zoo.training.run import load_run, real_points_for_plots
    from keras_gan_zoo import plots

    model, run = load_run(args.run_dir)
    samples = model.sample(args.n, seed=args.seed)
    out = pathlib.Path(args.out)
    if out.suffix == ".npy":
        np.save(out, samples)
    elif out.suffix == ".png":
        real = real_points_for_plots(run["data"], run.get("data_dir"))
        plots.save_samples_png(samples, out, real=real, title=f"{run['model']} on {run['data']}")
    else:
        raise SystemExit(f"--out must end in .png or .npy, got {out}.")
    print(f"Wrote {len(samples)} samples to {out}")


def _plot(args):
    from keras_gan_zoo.training import plotting
    from keras_gan_zoo.training.run import load_run

    model, run = load_run(args.run_dir)
    out_dir = pathlib.Path(args.out or pathlib.Path(args.run_dir) / "plots")
    for path in plotting.draw(args.kind, model, run, out_dir, seed=args.seed):
        print(f"Wrote {path}")


def _export(args):
    import keras

    from keras_gan_zoo.export import export_model, saved_model_bytes
    from keras_gan_zoo.training.run import load_run  # imports zoo, whose variants load_model must know

    source = pathlib.Path(args.source)
    if source.is_dir():
        model, run = load_run(source)
        name = args.name or run["model"]
    elif source.is_file():
        model, name = keras.models.load_model(source), args.name or source.stem
    else:
        raise FileNotFoundError(f"{source} does not exist: give a finished run directory or a .keras file.")
    written = export_model(model, args.out, name=name, version=args.version)
    for served_name, path in written.items():
        print(f"Exported {served_name} version {args.version} to {path} ({saved_model_bytes(path) / 1e6:.2f} MB)")
    print(f"TF Serving: --model_config_file={pathlib.Path(args.out) / 'models.config'} (paths under /models)")


def _serve(args):
    from keras_gan_zoo.serving import LocalServer

    server = LocalServer(
        args.export_dir, host=args.host, rest_port=args.rest_port, grpc_port=args.grpc_port,
        max_request_bytes=args.max_request_bytes,
    ).start()
    for name, versions in sorted(server.repository.models.items()):
        print(f"serving {name} versions {sorted(versions)}")
    print(f"REST on {server.rest_url}/v1/models/NAME:predict, gRPC on {server.grpc_target}; Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


def parser():
    from keras_gan_zoo.training.strategies import STRATEGIES

    top = argparse.ArgumentParser(prog="ganzoo", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a variant on a dataset")
    train.add_argument("model", help="a name from `ganzoo list`")
    train.add_argument("--data", required=True, help="ring8, grid25, gauss1200, fashion_mnist, mnist, mnist_5k")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=None, help="default: 100 for vectors, 32 for images")
    train.add_argument("--latent-dim", type=int, default=None, help="default: the model's")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None, help="run directory, default runs/MODEL-DATA")
    train.add_argument("--xla", action="store_true", help="compile the train step with XLA")
    train.add_argument(
        "--mixed-precision", action="store_true",
        help="float16 compute on GPUs (with loss scaling), bfloat16 elsewhere; float32 variables and losses",
    )
    train.add_argument(
        "--ema-decay", type=float, default=None,
        help="keep a moving average of the generator's weights (e.g. 0.999) for sampling and export",
    )
    train.add_argument(
        "--backup-every-steps", type=int, default=None,
        help="checkpoint every N steps as well as every epoch; a re-run resumes from the last one",
    )
    train.add_argument(
        "--packing", type=int, default=None,
        help="PacGAN: the discriminator judges M examples at once (gan, dcgan, wgan); the batch must divide by M",
    )
    train.add_argument("--data-dir", default=None, help="directory holding IDX files")
    train.add_argument("--steps-per-epoch", type=int, default=None, help="default: one pass over the data")
    train.add_argument(
        "--strategy", default="auto", choices=STRATEGIES,
        help="auto: every GPU with MirroredStrategy, else one device; multiworker reads TF_CONFIG",
    )
    train.add_argument("--devices", default=None, help="comma-separated devices for --strategy mirrored")
    train.set_defaults(handler=_train)

    listing = commands.add_parser("list", help="the variants, one line each")
    listing.set_defaults(handler=_list)

    sample = commands.add_parser("sample", help="draw samples from a finished run")
    sample.add_argument("run_dir")
    sample.add_argument("--n", type=int, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", required=True, help="FILE.png (picture) or FILE.npy (array)")
    sample.set_defaults(handler=_sample)

    plot = commands.add_parser("plot", help="draw a finished run's latent space, interpolations or classes")
    plot.add_argument("run_dir")
    plot.add_argument(
        "--kind", required=True, choices=("latent", "interpolation", "classes"),
        help="latent: 2-D codes by label beside the prior, and a decoded lattice; interpolation: decoded lines "
             "between codes of real images; classes: one row of samples per class",
    )
    plot.add_argument("--out", default=None, help="folder for the PNGs; default RUN_DIR/plots")
    plot.add_argument("--seed", type=int, default=0)
    plot.set_defaults(handler=_plot)

    export = commands.add_parser("export", help="write SavedModels for TF Serving")
    export.add_argument("source", help="a run directory or a .keras file")
    export.add_argument("--out", required=True, help="export directory (one folder per served model)")
    export.add_argument("--name", default=None, help="served model name; default: the run's model or the file's stem")
    export.add_argument("--version", type=int, default=1)
    export.set_defaults(handler=_export)

    serve = commands.add_parser("serve", help="serve an export directory over REST and gRPC (local stand-in for TF Serving)")
    serve.add_argument("export_dir")
    serve.add_argument("--rest-port", type=int, default=8501)
    serve.add_argument("--grpc-port", type=int, default=8500)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--max-request-bytes", type=int, default=16 * 1024 * 1024)
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


def main(argv=None):
    args = parser().parse_args(argv)
    if getattr(args, "xla", False):
        _request_cpu_auto_clustering()
    try:
        args.handler(args)
    except (ValueError, OSError, FloatingPointError) as error:
        print(f"ganzoo {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
