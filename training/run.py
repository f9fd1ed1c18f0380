"""One training run: data, model, callbacks, `fit`, and what it leaves in RUN_DIR.

RUN_DIR/
    run.json          the run's TrainConfig (read by `ganzoo sample`, `export`, `plot`)
    model.keras       the trained model, written when `fit` ends
    ratio.keras       the density-ratio classifier, when the config samples through rejection
    backup/           the last checkpoint (training/backup.py): run the same command to resume
    logs/             TensorBoard logs
    samples/          one PNG of samples per epoch
"""

import inspect
import json
import math
import pathlib
import shutil

import keras
import tensorflow as tf

import keras_gan_zoo as zoo
from keras_gan_zoo import sampling
from keras_gan_zoo.serialization import dtype_policy
from keras_gan_zoo.training import backup, strategies
from keras_gan_zoo.training.config import TrainConfig
from keras_gan_zoo.training.callbacks import SampleSnapshot, StopOnNonFinite

# Real points drawn under the generated ones in the per-epoch scatter.
SCATTER_REAL_POINTS = 2000
# Samples per picture: an 8x8 grid of images, enough points to show modes, 8 series of each class.
PICTURE_SAMPLES = {"image": 64, "vector": 1000, "sequence": 64, "table": 1000}


def register_data(config):
    """Makes a CSV table (`config.data` "csv:PATH") known to this process; other data are known already."""
    if config.data.startswith("csv:"):
        zoo.data.register_table(config.data, config.categorical)


def build_model(config):
    """The registry's default for `config.model`, shaped for `config.data`, with its model options."""
    register_data(config)
    entry = zoo.get_entry(config.model)
    spec = zoo.data.describe(config.data)
    if spec.kind not in entry.data_kinds:
        raise ValueError(
            f"{config.model} trains on {' or '.join(entry.data_kinds)} data; {config.data} holds "
            f"{spec.kind}s of shape {spec.shape}. Pick another dataset or model "
            f"(ganzoo list)."
        )
    options = {"data_shape": spec.shape, "seed": config.seed}
    parameters = inspect.signature(entry.cls.__init__).parameters
    # Conditional and semi-supervised variants learn the dataset's classes.
    if spec.num_classes and "num_classes" in parameters:
        options["num_classes"] = spec.num_classes
    if spec.kind == "table":
        # The fitted transformer goes into the model's config: a saved run reads its rows without the data.
        options["table"] = zoo.data.tables.as_transformer(config.data).get_config()
    if "classifier" in parameters:
        # A guiding classifier must know the data's domain.
        if config.data not in zoo.classifiers.REQUIRED_TEST_ACCURACY:
            raise ValueError(
                f"{config.model} is guided by a domain classifier, and the zoo ships one for "
                f"{', '.join(zoo.classifiers.REQUIRED_TEST_ACCURACY)}, not for {config.data}. "
                f"From Python, pass your own: zoo.create({config.model!r}, classifier=<keras.Model>)."
            )
        options["classifier"] = config.data
    model_options = dict(config.model_options)
    if "latent_dim" in model_options and "latent_dim" not in parameters:
        raise ValueError(
            f"--latent-dim does not apply to {config.model}, whose latent size follows from its other "
            f"options (ganzoo list; zoo.get_entry({config.model!r}).defaults)."
        )
    if "ema_decay" in model_options and not issubclass(entry.cls, zoo.AdversarialModel):
        raise ValueError(f"--ema-decay averages a generator's weights; {config.model} has no generator.")
    if "packing" in model_options and "packing" not in entry.cls.techniques:
        raise ValueError(f"--packing packs a discriminator's inputs; {config.model} has no discriminator that takes it "
                         f"(ganzoo train --help names the variants that do).")
    return zoo.create(config.model, **{**options, **model_options})


def starting_model(config):
    """The model a run starts from: `build_model(config)`, or the preset `config.from_preset` when
    fine-tuning; the bodies of `config.freeze` frozen. Call it inside the strategy's scope."""
    if not config.from_preset:
        model = build_model(config)
        model.freeze_body(*config.freeze)
        return model
    register_data(config)
    model = zoo.pretrained.load(config.from_preset, compile=False, freeze=config.freeze)
    if model.registered_name != zoo.get_entry(config.model).name:
        raise ValueError(f"The preset {config.from_preset} is a {model.registered_name}; the run names {config.model}.")
    spec = zoo.data.describe(config.data)
    if tuple(spec.shape) != model.data_shape:
        raise ValueError(f"The preset {config.from_preset} models examples of shape {model.data_shape}; {config.data} "
                         f"holds {spec.kind}s of shape {tuple(spec.shape)}. Fine-tune it on data of its shape.")
    classes = getattr(model, "num_classes", None)
    if model.trains_on_labels and spec.num_classes != classes:
        raise ValueError(f"The preset {config.from_preset} learnt {classes} classes; {config.data} has "
                         f"{spec.num_classes}. Fine-tune it on data labelled with its classes.")
    if keras.mixed_precision.global_policy().name != model.get_config()["dtype_policy"]:
        raise ValueError(f"The preset {config.from_preset} computes in {model.get_config()['dtype_policy']}, "
                         f"as it was trained: drop --mixed-precision.")
    return model


def compile_model(model, config, steps_per_epoch):
    """Compiles with each player's optimizer as `config.optimizers` sets it, the model's defaults otherwise.

    Call it inside the strategy's scope.
    """
    model.compile(jit_compile=config.uses_xla())
    unknown = set(config.optimizers) - set(model.optimizer_names)
    if unknown:
        raise ValueError(f"{config.model} has no player {', '.join(sorted(unknown))}; its optimizers are "
                         f"{', '.join(model.optimizer_names)}.")
    if config.optimizers:
        # The defaults just compiled, unwrapped from loss scaling, give each player's optimizer class and settings.
        defaults = {player: getattr(model, player) for player in config.optimizers}
        defaults = {player: optimizer.inner_optimizer if isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
                    else optimizer for player, optimizer in defaults.items()}
        total = config.total_steps(steps_per_epoch)
        model.compile(jit_compile=config.uses_xla(), **{
            player: options.build(defaults[player], total) for player, options in config.optimizers.items()})


# A small model's training step costs more in the call around it than in its arithmetic; running
# several steps in one call (Keras's `steps_per_execution`, an in-graph loop) removes most of that
# cost. benchmarks/vs_pytorch.py and benchmarks/first_command.py measure the gain.
SMALL_MODEL_PARAMETERS = 500_000
AUTO_STEPS_PER_EXECUTION = 100


def steps_per_execution_of(config, model, steps_per_epoch, replicas=1):
    """Training steps per call: `config.steps_per_execution`, or by default the largest divisor of the
    epoch's steps (and of `backup_every_steps`) up to 100 for a model under 500,000 parameters, else 1.

    An execution never crosses an epoch's end or a step checkpoint, so pictures, logs, backups and
    a resumed run fall on the same steps as with one step per call. Under a strategy with several
    `replicas` it is 1: Keras 3's in-graph loop fails there (keras-team/keras#19246).
    """
    period = math.gcd(steps_per_epoch, config.backup_every_steps or steps_per_epoch)
    chosen = config.steps_per_execution
    if replicas > 1:
        if chosen not in (None, 1):
            raise ValueError(f"--steps-per-execution {chosen} cannot run under a strategy with {replicas} replicas: "
                             "Keras 3's loop of several steps per call fails there (keras-team/keras#19246). "
                             "Leave it out, or train on one device.")
        return 1
    if chosen is None:
        if model.count_params() >= SMALL_MODEL_PARAMETERS:
            return 1
        return max(n for n in range(1, AUTO_STEPS_PER_EXECUTION + 1) if period % n == 0)
    if period % chosen:
        raise ValueError(
            f"--steps-per-execution {chosen} must divide the steps of an epoch ({steps_per_epoch})"
            + (f" and --backup-every-steps ({config.backup_every_steps})" if config.backup_every_steps else "")
            + f", so that no call runs across an epoch's end or a checkpoint; {period} divides by "
            + ", ".join(str(n) for n in range(1, min(period, 100) + 1) if period % n == 0) + ".")
    return chosen


def real_points_for_plots(data_name, data_dir=None, train_examples=None):
    """A fixed subset of the real data to draw behind scatters (a table's train rows as a
    DataFrame); None for images.

    `train_examples`, when the caller holds the training split already, saves
    reading it again.
    """
    kind = zoo.data.describe(data_name).kind
    if kind == "image":
        return None
    if kind == "table":
        return zoo.data.tables.shipped_split(data_name, "train")
    if train_examples is None:
        train_examples, _ = zoo.data.load_arrays(data_name, "train", data_dir=data_dir)
    return train_examples[:SCATTER_REAL_POINTS]


# Global batch by the kind of data, when a config leaves it unset: PacGAN's 100 for
# the mixtures; 32 for images, DCGAN's 128 divided by 4: on a CPU an epoch then makes
# four times the updates in about the same time, and one epoch of Fashion-MNIST
# already draws recognisable garments; 64 for series (benchmarks/waves.py trains rcgan so) and
# for tables (autompg has 313 train rows: CTGAN's 500 would make no batch).
DEFAULT_BATCH_SIZE = {"vector": 100, "image": 32, "sequence": 64, "table": 64}
RATIO_FILE = "ratio.keras"


def batch_size_of(config):
    return config.batch_size or DEFAULT_BATCH_SIZE[zoo.data.describe(config.data).kind]


def steps_per_epoch_of(config, model, data=None):
    """An epoch's steps: the config's, else the batches of one pass over the train split as
    `model` batches it (`data`, its `training_data`, when already built; half of a
    semi-supervised model's batch is labelled examples, so its pass takes twice as many)."""
    if config.steps_per_epoch:
        return config.steps_per_epoch
    if data is None:
        x, y = zoo.data.load_arrays(config.data, "train", data_dir=config.data_dir)
        data = model.training_data(x, y, batch_size=batch_size_of(config), seed=config.seed)
    return int(data.cardinality())


def train(config, run_dir, verbose=1, overwrite=False):
    """Trains as the `TrainConfig` says, resuming from RUN_DIR/backup if present.

    The batch is global, split across the strategy's replicas. A finished run
    (RUN_DIR/model.keras) is not trained again unless `overwrite`, which
    deletes its model, backup, pictures and logs first. With
    rejection sampling in `config.sampling`, a density-ratio classifier is
    fitted on the trained model and kept as RUN_DIR/ratio.keras: the model
    returned, and `load_run`'s, sample through it.
    Returns the trained model; RUN_DIR holds what the module docstring lists.
    """
    run_dir = pathlib.Path(run_dir)
    if (run_dir / "model.keras").exists() and not overwrite:
        raise FileExistsError(
            f"{run_dir} holds a finished run. Give another --out, or --overwrite to train it again from the start.")
    # First: MultiWorkerMirroredStrategy must exist before TensorFlow runs any op.
    distribution = strategies.make_strategy(config.strategy, config.devices)
    keras.utils.set_random_seed(config.seed)
    register_data(config)
    batch_size = batch_size_of(config)
    policy = mixed_precision_policy() if config.mixed_precision else "float32"
    x, y = zoo.data.load_arrays(config.data, "train", data_dir=config.data_dir)
    # Built first, so that a wrong model or dataset name leaves no run directory.
    with dtype_policy(policy):
        with distribution.scope():
            model = starting_model(config)
        data = model.training_data(x, y, batch_size=batch_size, seed=config.seed)
        steps = steps_per_epoch_of(config, model, data)
        with distribution.scope():
            compile_model(model, config, steps)
    per_execution = steps_per_execution_of(config, model, steps, distribution.num_replicas_in_sync)
    if config.steps_per_epoch:
        # Epochs of a set length run on, through the data again.
        data = data.repeat()

    if overwrite and (run_dir / "model.keras").exists():
        # Starting over: nothing of the finished run is left to mix with the new one.
        for folder in ("backup", "samples", "logs"):
            shutil.rmtree(run_dir / folder, ignore_errors=True)
        for name in ("model.keras", RATIO_FILE):
            (run_dir / name).unlink(missing_ok=True)
    # In a multi-worker run every worker trains; the chief alone writes.
    chief = distribution.extended.should_checkpoint
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "run.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    kind = zoo.data.describe(config.data).kind
    callbacks = [StopOnNonFinite()]
    if chief:
        callbacks += [
            keras.callbacks.TensorBoard(str(run_dir / "logs")),
            SampleSnapshot(
                run_dir / "samples",
                num_samples=PICTURE_SAMPLES[kind],
                seed=config.seed,
                real=real_points_for_plots(config.data, train_examples=x),
                real_labels=y[:SCATTER_REAL_POINTS] if kind == "sequence" else None,
                log_dir=run_dir / "logs",
            ),
        ]
    if verbose:
        callbacks.append(EpochProgress(config.epochs))

    backup_dir = run_dir / "backup"
    start = backup.restore(model, backup_dir) or backup.Position()
    if verbose:
        print(f"Training {config.model} on {config.data} under {strategies.describe(distribution)}, "
              f"global batch {batch_size}.")
        print(f"XLA: {model.xla_compiles or 'off'}. Precision: {policy}.")
        if start != backup.Position():
            print(f"Resuming from {backup_dir}: {start.epoch} of {config.epochs} epochs were done"
                  + (f", and {start.step} of {steps} steps of epoch {start.epoch + 1}." if start.step else "."))

    def fit(data, first_epoch, last_epoch, steps_per_epoch, position):
        # A checkpoint written by a run with other steps per call can leave a part of an epoch they do not divide.
        part = math.gcd(per_execution, steps_per_epoch or steps)
        # The backup comes last, so that an epoch it records has its picture and logs.
        saver = backup.RunBackup(backup_dir, config.backup_every_steps, start=position, enabled=chief)
        try:
            # The batches of a call are fetched together (`zoo.steps.group_batches`), which saves a small
            # model most of its input cost; the steps, their order and the callbacks are Keras's.
            with model.grouping_batches(part):
                model.fit(
                    zoo.steps.group_batches(data, part), initial_epoch=first_epoch, epochs=last_epoch,
                    steps_per_epoch=steps_per_epoch, callbacks=callbacks + [saver], verbose=verbose, shuffle=False,
                )
        except tf.errors.UnavailableError as error:
            # TensorFlow's own message runs to pages; its first line names the lost peer.
            raise ConnectionError(
                f"a worker of this run stopped responding ({str(error).splitlines()[0]}). The last "
                f"checkpoint in {backup_dir} is kept: restart every worker with the same command "
                "to resume."
            ) from error

    if start.step:
        # Finish the interrupted epoch with the steps it had left.
        remaining = steps - start.step
        rest_of_epoch = data if config.steps_per_epoch else data.skip(start.step)
        fit(rest_of_epoch, start.epoch, start.epoch + 1, remaining, start)
        start = backup.Position(start.epoch + 1, 0)
    if start.epoch < config.epochs:
        fit(data, start.epoch, config.epochs, config.steps_per_epoch, start)
    if config.sampling.rejection_steps:
        if verbose:
            print(f"Fitting the density-ratio classifier for rejection sampling "
                  f"({config.sampling.rejection_steps:,} steps).")
        classifier = sampling.fit_density_ratio(
            model, x, steps=config.sampling.rejection_steps, hidden_units=config.sampling.ratio_hidden_units,
            fourier_features=config.sampling.fourier_features, seed=config.seed, verbose=verbose)
        if chief:
            backup.write_atomically(run_dir / RATIO_FILE, classifier.save)
        model.attach_sampler(_sampler(classifier, config))
    if chief:
        backup.write_atomically(run_dir / "model.keras", model.save)
        # Finished: nothing is left to resume.
        shutil.rmtree(backup_dir, ignore_errors=True)
    return model


def _sampler(classifier, config):
    return sampling.RejectionSampler(classifier, gamma=config.sampling.gamma,
                                     max_quantile=config.sampling.max_quantile)


class EpochProgress(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting epochs out of the run's total.

    A resumed run fits in two calls (the rest of the interrupted epoch, then
    the remaining epochs); each would otherwise count to its own end.
    """

    def __init__(self, total_epochs):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params({**params, "epochs": self.total_epochs})


def mixed_precision_policy():
    """float16 where GPUs run it fast; bfloat16, which needs no loss scaling, elsewhere."""
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"


# `ganzoo sample|export|evaluate|plot pretrained:NAME`: a shipped preset where a run directory goes.
PRETRAINED_PREFIX = "pretrained:"


def load_source(source):
    """`load_run(source)`, or for "pretrained:NAME" the preset's model (checked, `zoo.pretrained`) and
    the `TrainConfig` that trained it."""
    source = str(source)
    if not source.startswith(PRETRAINED_PREFIX):
        return load_run(source)
    name = source[len(PRETRAINED_PREFIX):]
    model, recipe = zoo.pretrained.load_with_recipe(name)
    config = TrainConfig.from_dict(recipe)
    register_data(config)
    return model, config


def load_run(run_dir):
    """The trained model (sampling through the run's rejection sampler, if it has one) and its `TrainConfig`."""
    run_dir = pathlib.Path(run_dir)
    model_path = run_dir / "model.keras"
    if not run_dir.is_dir():
        raise FileNotFoundError(f"There is no run directory {run_dir}: train one with `ganzoo train ... --out {run_dir}`.")
    if not model_path.exists():
        if (run_dir / "backup").exists():
            raise FileNotFoundError(
                f"{model_path} does not exist: the run has not finished. Resume it with the "
                f"same `ganzoo train` command, which restores {run_dir / 'backup'}."
            )
        raise FileNotFoundError(f"{run_dir} holds no trained model ({model_path} is missing) and no backup to resume.")
    try:
        config = TrainConfig.from_dict(json.loads((run_dir / "run.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{run_dir / 'run.json'} cannot be read ({error}): the run's record is damaged; "
                         f"train again with `ganzoo train ... --out {run_dir} --overwrite`.") from None
    model = _load_keras_file(model_path, run_dir)
    register_data(config)
    if config.sampling.rejection_steps:
        model.attach_sampler(_sampler(_load_keras_file(run_dir / RATIO_FILE, run_dir), config))
    return model, config


def _load_keras_file(path, run_dir):
    """`keras.models.load_model(path)`, with a damaged file named as damaged (Keras reports a
    truncated .keras file as "File not found")."""
    try:
        return keras.models.load_model(path)
    except Exception as error:
        if not path.is_file():
            raise
        raise ValueError(
            f"{path} cannot be loaded ({type(error).__name__}: {str(error).splitlines()[0][:200]}): the file is "
            f"damaged or not a .keras file; train again with `ganzoo train ... --out {run_dir} --overwrite`."
        ) from None
