"""WGAN-GP: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"."""

import tensorflow as tf

import keras

from zoo import losses, nets
from zoo.base import AdversarialModel
from zoo.registry import register


@register(
    "wgan_gp",
    "Gulrajani et al. 2017: Wasserstein critic with a gradient penalty, 5 critic steps per generator step",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "filters": 8, "hidden_units": (8,), "critic_steps": 2},
)
class WGANGP(AdversarialModel):
    """Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty.

    The critic minimizes D(G(z)) - D(x) + lambda (||grad D(x_hat)|| - 1)^2
    on points x_hat drawn uniformly between real and generated examples; the
    generator minimizes -D(G(z)). The paper's defaults: lambda 10, 5 critic
    steps per generator step, Adam(1e-4, beta_1=0, beta_2=0.9), and no batch
    normalization in the critic (the penalty is per example). Each train step
    takes one real batch, and every critic step uses it with fresh noise and
    fresh interpolation points.

    Images get DCGAN bodies (`filters`), vectors fully connected ones
    (`hidden_units`).

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the noise, default 100.
        filters: convolutional width for images, default 64.
        hidden_units: fully connected widths for vectors, default `(128, 128)`.
        penalty_weight: lambda, default 10.
        critic_steps: critic updates per generator update, default 5.
        **kwargs: see `zoo.base.AdversarialModel` (`ema_decay`, `seed`, ...).

    Examples:
        >>> import zoo
        >>> wgan = zoo.create("wgan_gp", data_shape=(2,), hidden_units=(16,))
        >>> wgan.compile()
        >>> wgan.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(wgan.get_metrics_result())
        ['d_loss', 'g_loss', 'gradient_penalty']
    """

    def __init__(
        self,
        data_shape=(28, 28, 1),
        latent_dim=100,
        filters=64,
        hidden_units=(128, 128),
        penalty_weight=10.0,
        critic_steps=5,
        loss="wasserstein",
        **kwargs,
    ):
        if loss != "wasserstein":
            raise ValueError(f"wgan_gp trains on the Wasserstein loss only, got loss={loss!r}.")
        if int(critic_steps) < 1:
            raise ValueError(f"critic_steps must be >= 1, got {critic_steps}.")
        self.images = len(tuple(data_shape)) == 3
        if self.images:
            nets.conv.check_image_shape(data_shape, who="wgan_gp on images")
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.penalty_weight = float(penalty_weight)
        self.critic_steps = int(critic_steps)
        super().__init__(data_shape, latent_dim, loss=loss, **kwargs)
        self._add_trackers("gradient_penalty")

    def build_generator(self):
        if self.images:
            return nets.conv_decoder(self.latent_dim, self.data_shape, self.filters, name="generator")
        return nets.mlp_decoder(self.latent_dim, self.data_shape, self.hidden_units, name="generator")

    def build_discriminator(self):
        if self.images:
            return nets.conv_encoder(self.data_shape, 1, self.filters, batch_norm=False, name="critic")
        return nets.mlp_encoder(self.data_shape, 1, self.hidden_units, name="critic")

    def default_optimizer(self):
        """Adam(1e-4, beta_1=0, beta_2=0.9), the paper's setting."""
        return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)

    def _critic_gradients_at(self, points):
        with tf.GradientTape() as tape:
            tape.watch(points)
            scores = self.discriminator(points, training=True)
        return tape.gradient(scores, points)

    def _critic_step(self, real, batch_size):
        with tf.GradientTape() as tape:
            fake = self.generator(self._latent_noise(batch_size), training=True)
            mixing_shape = tf.concat([[batch_size], tf.ones([len(self.data_shape)], tf.int32)], axis=0)
            mixing = self._uniform(mixing_shape)
            between = mixing * real + (1.0 - mixing) * fake
            penalty = losses.gradient_penalty(self._critic_gradients_at(between))
            wasserstein = self.discriminator_loss_fn(
                self.discriminator(real, training=True), self.discriminator(fake, training=True)
            )
            critic_losses = wasserstein + self.penalty_weight * penalty
            critic_loss = self._average(critic_losses)
        self._minimize(self.d_optimizer, tape, critic_loss, self.discriminator.trainable_weights)
        return critic_losses, penalty

    def train_step(self, data):
        real, _ = self._unpack(data)
        batch_size = tf.shape(real)[0]
        for _ in range(self.critic_steps):
            critic_losses, penalty = self._critic_step(real, batch_size)

        g_losses = self._generator_step(batch_size)
        return self._report(
            d_loss=tf.reduce_mean(critic_losses),
            g_loss=tf.reduce_mean(g_losses),
            gradient_penalty=tf.reduce_mean(penalty),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "hidden_units": list(self.hidden_units),
            "penalty_weight": self.penalty_weight,
            "critic_steps": self.critic_steps,
        }
