"""One training run: data, model, callbacks, `fit`, and what it leaves in RUN_DIR.

RUN_DIR/
    run.json          the arguments of the run (read by `ganzoo sample`)
    model.keras       the trained model, written when `fit` ends
    backup/           the last checkpoint (training/backup.py): run the same command to resume
    logs/             TensorBoard logs
    samples/          one PNG of samples per epoch
"""

import inspect
import json
import pathlib
import shutil

import keras
import tensorflow as tf

import keras_gan_zoo as zoo
from keras_gan_zoo.training import backup, strategies
from keras_gan_zoo.training.callbacks import SampleSnapshot, StopOnNonFinite

# Real points drawn under the generated ones in the per-epoch scatter.
SCATTER_REAL_POINTS = 2000
# Samples per picture: an 8x8 grid of images, or enough points to show modes.
PICTURE_SAMPLES = {"image": 64, "vector": 1000}


def build_model(model_name, data_name, latent_dim=None, seed=None, ema_decay=None, packing=None):
    """The registry's default for `model_name`, shaped for `data_name`."""
    entry = zoo.get_entry(model_name)
    spec = zoo.data.describe(data_name)
    if spec.kind not in entry.data_kinds:
        raise ValueError(
            f"{model_name} trains on {' or '.join(entry.data_kinds)} data; {data_name} holds "
            f"{spec.kind}s of shape {spec.shape}. Pick another dataset or model "
            f"(ganzoo list)."
        )
    config = {"data_shape": spec.shape, "seed": seed}
    # Conditional and semi-supervised variants learn the dataset's classes.
    if spec.num_classes and "num_classes" in inspect.signature(entry.cls.__init__).parameters:
        config["num_classes"] = spec.num_classes
    parameters = inspect.signature(entry.cls.__init__).parameters
    if "classifier" in parameters:
        # A guiding classifier must know the data's domain.
        if data_name not in zoo.classifiers.REQUIRED_TEST_ACCURACY:
            raise ValueError(
                f"{model_name} is guided by a domain classifier, and the zoo ships one for "
                f"{', '.join(zoo.classifiers.REQUIRED_TEST_ACCURACY)}, not for {data_name}. "
                f"From Python, pass your own: zoo.create({model_name!r}, classifier=<keras.Model>)."
            )
        config["classifier"] = data_name
    if latent_dim is not None:
        if "latent_dim" not in parameters:
            raise ValueError(
                f"--latent-dim does not apply to {model_name}, whose latent size follows from its other "
                f"options (ganzoo list; zoo.get_entry({model_name!r}).defaults)."
            )
        config["latent_dim"] = latent_dim
    if ema_decay is not None:
        if not issubclass(entry.cls, zoo.AdversarialModel):
            raise ValueError(
                f"--ema-decay averages a generator's weights; {model_name} has no generator."
            )
        config["ema_decay"] = ema_decay
    if packing is not None:
        if not issubclass(entry.cls, zoo.AdversarialModel):
            raise ValueError(f"--packing packs a discriminator's inputs; {model_name} has no discriminator.")
        config["packing"] = packing
    return zoo.create(model_name, **config)


def real_points_for_plots(data_name, data_dir=None, train_examples=None):
    """A fixed subset of the real data to draw behind scatters; None for images.

    `train_examples`, when the caller holds the training split already, saves
    reading it again.
    """
    if zoo.data.describe(data_name).kind == "image":
        return None
    if train_examples is None:
        train_examples, _ = zoo.data.load_arrays(data_name, "train", data_dir=data_dir)
    return train_examples[:SCATTER_REAL_POINTS]


def train(
    model_name,
    data_name,
    run_dir,
    epochs=10,
    batch_size=128,
    latent_dim=None,
    seed=0,
    xla=False,
    data_dir=None,
    steps_per_epoch=None,
    verbose=1,
    strategy="auto",
    devices=None,
    mixed_precision=False,
    ema_decay=None,
    backup_every_steps=None,
    packing=None,
):
    """Trains `model_name` on `data_name`, resuming from RUN_DIR/backup if present.

    `batch_size` is the global batch, split across the strategy's replicas.
    `backup_every_steps` adds mid-epoch checkpoints to the per-epoch ones.
    `packing` m lets the discriminator judge m examples at once (PacGAN).
    `ema_decay` keeps an averaged generator for sampling and export.
    `mixed_precision` computes in float16 on GPUs (with loss scaling) and in
    bfloat16 elsewhere, keeping variables, outputs and losses in float32.
    Returns the trained model; RUN_DIR holds what the module docstring lists.
    """
    # First: MultiWorkerMirroredStrategy must exist before TensorFlow runs any op.
    distribution = strategies.make_strategy(strategy, devices)
    keras.utils.set_random_seed(seed)
    policy = mixed_precision_policy() if mixed_precision else "float32"
    # Built first, so that a wrong model or dataset name leaves no run directory.
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        with distribution.scope():
            model = build_model(
                model_name, data_name, latent_dim=latent_dim, seed=seed, ema_decay=ema_decay,
                packing=packing,
            )
            model.compile(jit_compile=bool(xla))
    finally:
        # The model's layers keep their policy; nothing built later inherits it.
        keras.mixed_precision.set_dtype_policy(previous_policy)
    x, y = zoo.data.load_arrays(data_name, "train", data_dir=data_dir)
    data = model.training_data(x, y, batch_size=batch_size, seed=seed)
    steps = steps_per_epoch or int(data.cardinality())

    run_dir = pathlib.Path(run_dir)
    # In a multi-worker run every worker trains; the chief alone writes.
    chief = distribution.extended.should_checkpoint
    arguments = {
        "model": model_name, "data": data_name, "epochs": epochs, "batch_size": batch_size,
        "latent_dim": latent_dim, "seed": seed, "xla": xla, "data_dir": data_dir,
        "steps_per_epoch": steps_per_epoch, "strategy": strategy, "devices": devices,
        "mixed_precision": mixed_precision, "ema_decay": ema_decay,
        "backup_every_steps": backup_every_steps, "packing": packing,
    }
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "run.json").write_text(json.dumps(arguments, indent=2) + "\n")
    callbacks = [StopOnNonFinite()]
    if chief:
        callbacks += [
            keras.callbacks.TensorBoard(str(run_dir / "logs")),
            SampleSnapshot(
                run_dir / "samples",
                num_samples=PICTURE_SAMPLES[zoo.data.describe(data_name).kind],
                seed=seed,
                real=real_points_for_plots(data_name, train_examples=x),
            ),
        ]
    if verbose:
        callbacks.append(EpochProgress(epochs))

    backup_dir = run_dir / "backup"
    start = backup.restore(model, backup_dir) or backup.Position()
    if verbose:
        print(f"Training {model_name} on {data_name} under {strategies.describe(distribution)}, "
              f"global batch {batch_size}.")
        print(f"XLA: {model.xla_compiles or 'off'}. Precision: {policy}.")
        if start != backup.Position():
            print(f"Resuming from {backup_dir}: {start.epoch} of {epochs} epochs were done"
                  + (f", and {start.step} of {steps} steps of epoch {start.epoch + 1}." if start.step else "."))

    def fit(data, first_epoch, last_epoch, steps_per_epoch, position):
        # The backup comes last, so that an epoch it records has its picture and logs.
        saver = backup.RunBackup(backup_dir, backup_every_steps, start=position, enabled=chief)
        try:
            model.fit(
                data, initial_epoch=first_epoch, epochs=last_epoch, steps_per_epoch=steps_per_epoch,
                callbacks=callbacks + [saver], verbose=verbose, shuffle=False,
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
        rest_of_epoch = data if steps_per_epoch else data.skip(start.step)
        fit(rest_of_epoch, start.epoch, start.epoch + 1, remaining, start)
        start = backup.Position(start.epoch + 1, 0)
    if start.epoch < epochs:
        fit(data, start.epoch, epochs, steps_per_epoch, start)
    if chief:
        backup.write_atomically(run_dir / "model.keras", model.save)
        # Finished: nothing is left to resume.
        shutil.rmtree(backup_dir, ignore_errors=True)
    return model


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


def load_run(run_dir):
    """The trained model and the run's arguments."""
    run_dir = pathlib.Path(run_dir)
    model_path = run_dir / "model.keras"
    if not model_path.exists():
        raise FileNotFoundError(
            f"{model_path} does not exist: the run has not finished. Resume it with the "
            f"same `ganzoo train` command, which restores {run_dir / 'backup'}."
        )
    arguments = json.loads((run_dir / "run.json").read_text())
    return keras.models.load_model(model_path), arguments
