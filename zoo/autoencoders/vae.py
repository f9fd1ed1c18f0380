"""VAE: Kingma and Welling 2014, "Auto-Encoding Variational Bayes"."""

import tensorflow as tf

import keras

from keras_gan_zoo import losses, nets
from keras_gan_zoo.base import AutoencoderModel
from keras_gan_zoo.registry import register

LIKELIHOODS = ("bernoulli", "gaussian")


@register(
    "vae",
    "Kingma and Welling 2014: Gaussian encoder, reparameterized ELBO, N(0, I) prior",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 16, "filters": 32, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 4, "filters": 8, "hidden_units": (8,)},
)
class VAE(AutoencoderModel):
    """Variational autoencoder with a diagonal Gaussian posterior.

    The encoder emits the mean and log-variance of q(z|x); training maximizes
    the evidence lower bound with the reparameterization trick and the
    closed-form KL term. Images (in [-1, 1]) use a Bernoulli likelihood on
    pixels mapped to [0, 1], as the paper does for MNIST; vectors use a
    Gaussian of fixed standard deviation.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of z, default 16.
        filters: width of the convolutional bodies, default 32.
        hidden_units: widths of the fully connected bodies, default `(128, 128)`.
        likelihood: "bernoulli" or "gaussian"; None picks bernoulli for
            images and gaussian for vectors.
        observation_std: standard deviation of the Gaussian likelihood.
        **kwargs: see `zoo.base.AutoencoderModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> vae = zoo.create("vae", data_shape=(16, 16, 1), filters=8, latent_dim=4)
        >>> x = vae.sample(2, seed=0)
        >>> bool(x.min() >= -1 and x.max() <= 1)
        True
    """

    encoder_output_factor = 2

    def __init__(
        self,
        data_shape=(28, 28, 1),
        latent_dim=16,
        filters=32,
        hidden_units=(128, 128),
        likelihood=None,
        observation_std=0.1,
        **kwargs,
    ):
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        if likelihood is None:
            likelihood = "bernoulli" if len(tuple(data_shape)) == 3 else "gaussian"
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}.")
        self.likelihood = likelihood
        self.observation_std = float(observation_std)
        super().__init__(data_shape, latent_dim, **kwargs)
        self._add_trackers("loss", "reconstruction_loss", "kl_loss")
        self._finish_build()

    def build_encoder(self):
        return nets.encoder_for(
            self.data_shape, 2 * self.latent_dim, self.filters, self.hidden_units, name="encoder", batch_norm=False
        )

    def build_decoder(self):
        # Bernoulli decoders emit logits; the loss applies the sigmoid stably.
        return nets.decoder_for(
            self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="decoder", image_activation=None
        )

    def posterior(self, x, training=False):
        """Mean and log-variance of q(z|x)."""
        mean, log_variance = tf.split(self.encoder(x, training=training), 2, axis=-1)
        return mean, log_variance

    def encode_op(self, x):
        """The posterior mean, the usual point estimate of the code."""
        return self.posterior(x)[0]

    def decode_op(self, z):
        return self._to_data_range(self.decoder(z, training=False))

    def _to_data_range(self, decoder_output):
        if self.likelihood == "bernoulli":
            return 2.0 * keras.ops.sigmoid(decoder_output) - 1.0
        return decoder_output

    def _reconstruction_loss(self, x, decoder_output):
        if self.likelihood == "bernoulli":
            return losses.bernoulli_reconstruction_loss((x + 1.0) / 2.0, decoder_output)
        squared = losses.mean_squared_reconstruction_loss(x, decoder_output)
        return squared / (2.0 * self.observation_std**2)

    def train_step(self, data):
        x, _ = self._unpack(data)
        with tf.GradientTape() as tape:
            mean, log_variance = self.posterior(x, training=True)
            eps = self._normal(tf.shape(mean))
            z = mean + tf.exp(0.5 * log_variance) * eps
            reconstruction = self._reconstruction_loss(x, self.decoder(z, training=True))
            kl = losses.gaussian_kl_divergence(mean, log_variance)
            loss = self._average(reconstruction + kl)
        self._apply(loss, tape)
        return self._report(
            loss=tf.reduce_mean(reconstruction + kl),
            reconstruction_loss=tf.reduce_mean(reconstruction),
            kl_loss=tf.reduce_mean(kl),
        )
