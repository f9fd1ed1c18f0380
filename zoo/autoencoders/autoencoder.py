"""A deterministic autoencoder with a chosen latent size."""

import tensorflow as tf

from keras_gan_zoo import losses, nets
from keras_gan_zoo.base import AutoencoderModel
from keras_gan_zoo.registry import register


@register(
    "autoencoder",
    "Deterministic autoencoder, squared-error reconstruction; samples from a Gaussian fitted to its codes",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 32, "filters": 32, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 4, "filters": 8, "hidden_units": (8,)},
)
class Autoencoder(AutoencoderModel):
    """Encoder to a `latent_dim` code and back, trained on squared error.

    It also tracks a running mean and variance of its codes (like batch
    normalization's moving statistics), so that `sample` can decode codes
    drawn from that diagonal Gaussian. The latent GAN replaces this simple
    prior with a learned one.

    Args:
        data_shape: shape of one example; (H, W, C) images get convolutional
            bodies, vectors fully connected ones. Default `(28, 28, 1)`.
        latent_dim: size of the code, default 32.
        filters: width of the convolutional bodies, default 32.
        hidden_units: widths of the fully connected bodies, default `(128, 128)`.
        code_momentum: momentum of the running code statistics, default 0.99.
        **kwargs: see `zoo.base.AutoencoderModel`.

    Examples:
        >>> import numpy as np
        >>> import keras_gan_zoo as zoo
        >>> ae = zoo.create("autoencoder", data_shape=(2,), latent_dim=2)
        >>> ae.encode(np.zeros((3, 2), "float32")).shape
        (3, 2)
    """

    def __init__(
        self,
        data_shape=(28, 28, 1),
        latent_dim=32,
        filters=32,
        hidden_units=(128, 128),
        code_momentum=0.99,
        **kwargs,
    ):
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.code_momentum = float(code_momentum)
        super().__init__(data_shape, latent_dim, **kwargs)
        # "mean" aggregation lets every replica update them under tf.distribute.
        self.code_mean = self.add_weight(
            shape=(self.latent_dim,), initializer="zeros", trainable=False,
            aggregation="mean", name="code_mean",
        )
        self.code_variance = self.add_weight(
            shape=(self.latent_dim,), initializer="ones", trainable=False,
            aggregation="mean", name="code_variance",
        )
        self._add_trackers("loss")
        self._finish_build()

    def build_encoder(self):
        # No batch norm: codes must not depend on the rest of the batch.
        return nets.encoder_for(
            self.data_shape, self.latent_dim, self.filters, self.hidden_units, name="encoder", batch_norm=False
        )

    def build_decoder(self):
        return nets.decoder_for(self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="decoder")

    def encode_op(self, x):
        return self.encoder(x, training=False)

    def decode_op(self, z):
        return self.decoder(z, training=False)

    def prior_from_seed(self, num_samples, seed):
        z = super().prior_from_seed(num_samples, seed)
        return z * tf.sqrt(tf.convert_to_tensor(self.code_variance)) + tf.convert_to_tensor(self.code_mean)

    def _track_codes(self, codes):
        mean, variance = tf.nn.moments(codes, axes=[0])
        m = self.code_momentum
        self.code_mean.assign(m * self.code_mean + (1.0 - m) * mean)
        self.code_variance.assign(m * self.code_variance + (1.0 - m) * variance)

    def train_step(self, data):
        x, _ = self._unpack(data)
        with tf.GradientTape() as tape:
            codes = self.encoder(x, training=True)
            per_example = losses.mean_squared_reconstruction_loss(
                x, self.decoder(codes, training=True)
            )
            loss = self._average(per_example)
        self._apply(loss, tape)
        self._track_codes(codes)
        return self._report(loss=tf.reduce_mean(per_example))
