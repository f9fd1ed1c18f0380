"""Callbacks the `train` command adds to `fit`."""

import math
import pathlib

import keras
import numpy as np
import tensorflow as tf

from keras_gan_zoo import capabilities as caps
from keras_gan_zoo import plots


class SampleSnapshot(keras.callbacks.Callback):
    """Writes a PNG of samples after every epoch: `DIR/epoch_001.png`, ...

    The same seed every epoch, so the pictures show one set of latent codes
    evolving. Vector data is drawn over `real` points; series by class beside `real` ones
    (`real_labels` their classes). With `log_dir`, the picture also goes to TensorBoard's
    Images tab (`samples`, one step per epoch).
    """

    def __init__(self, directory, num_samples=64, seed=0, real=None, log_dir=None, real_labels=None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.num_samples = num_samples
        self.seed = seed
        self.real = real
        self.real_labels = real_labels
        self.writer = None if log_dir is None else tf.summary.create_file_writer(str(pathlib.Path(log_dir) / "samples"))

    def on_epoch_end(self, epoch, logs=None):
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        if caps.SAMPLE_COLUMNS in self.model.capabilities:
            # A table: its columns' distributions beside the real ones.
            plots.save_table_columns(self.model.sample(self.num_samples, seed=self.seed), self.real, path,
                                     categorical=self.model.transformer.categorical, title=f"epoch {epoch + 1}")
            return self._log(path, epoch)
        samples = self.model.sample_array(self.num_samples, seed=self.seed)
        # Unlabelled draws of a conditional model cycle through its classes.
        labels = np.arange(len(samples)) % self.model.num_classes if self.model.conditional else None
        plots.save_samples_png(samples, path, real=self.real, title=f"epoch {epoch + 1}", labels=labels,
                               real_labels=self.real_labels)
        self._log(path, epoch)

    def _log(self, path, epoch):
        if self.writer is not None:
            picture = tf.io.decode_png(tf.io.read_file(str(path)))
            with self.writer.as_default():
                tf.summary.image("samples", picture[None], step=epoch + 1)
            self.writer.flush()


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite logged value, saying which.

    It raises rather than merely stopping, so that nothing after `fit` (the
    final save) overwrites the last good checkpoint with broken weights.
    """

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise FloatingPointError(
                    f"{name} became {float(value)} at batch {batch}; training stopped. "
                    "The last epoch's checkpoint is kept in the run's backup directory; "
                    "lower the learning rate or check the data, then run the same command "
                    "again to resume."
                )
