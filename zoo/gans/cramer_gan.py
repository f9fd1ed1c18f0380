"""Cramer GAN: Bellemare et al. 2017, "The Cramer Distance as a Solution to Biased Wasserstein
Gradients"."""

import tensorflow as tf

from keras_gan_zoo import losses, nets
from keras_gan_zoo.gans.wgan_gp import WGANGP
from keras_gan_zoo.registry import register


@register(
    "cramer_gan",
    "Bellemare et al. 2017: energy distance in a critic's feature space, with a gradient penalty",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "filters": 64, "hidden_units": (128, 128),
              "critic_dim": 256},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "filters": 8, "hidden_units": (8,), "critic_steps": 2,
          "critic_dim": 4},
)
class CramerGAN(WGANGP):
    """A GAN trained on the energy (Cramer) distance between data and samples.

    The critic maps examples to `critic_dim` features h. The generator
    minimizes the energy distance in that space, estimated with two
    independent generated batches x_g, x'_g:
    ||h(x_r) - h(x_g)|| + ||h(x_r) - h(x'_g)|| - ||h(x_g) - h(x'_g)||.
    The critic maximizes the surrogate f(x_r) - f(x_g) with
    f(x) = ||h(x) - h(x'_g)|| - ||h(x)||, under WGAN-GP's gradient penalty on
    f at points between real and generated examples (Algorithm 1 of the
    paper). Critic steps, penalty weight and optimizer are WGAN-GP's: 5,
    lambda 10, Adam(1e-4, 0, 0.9). The critic has no batch normalization.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the noise, default 100.
        critic_dim: size of the critic's features h, default 256 (the paper's).
        **kwargs: see `zoo.gans.WGANGP` (`penalty_weight`, `critic_steps`,
            `filters`, `hidden_units`).

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> cramer = zoo.create("cramer_gan", data_shape=(2,), hidden_units=(16,), critic_dim=8)
        >>> cramer.compile()
        >>> cramer.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(cramer.get_metrics_result())
        ['d_loss', 'g_loss', 'gradient_penalty']
    """

    # The losses compare whole batches of features; only the generator's
    # normalization is free to change.
    techniques = frozenset({"virtual_batch_norm"})

    def __init__(self, data_shape=(28, 28, 1), latent_dim=100, critic_dim=256, loss="wasserstein",
                 conditional=False, **kwargs):
        if conditional:
            raise ValueError(
                "cramer_gan is unconditional; for class-conditional samples use wgan_gp(conditional=True)."
            )
        if loss != "wasserstein":
            raise ValueError(f"cramer_gan trains on its own energy-distance losses; leave loss unset, got {loss!r}.")
        if int(critic_dim) < 1:
            raise ValueError(f"critic_dim must be >= 1, got {critic_dim}.")
        self.critic_dim = int(critic_dim)
        super().__init__(data_shape, latent_dim, **kwargs)

    def build_discriminator(self):
        return nets.encoder_for(
            self.data_shape, self.critic_dim, self.filters, self.hidden_units, name="critic", batch_norm=False
        )

    def _check_discriminator(self):
        self._check_network(self.discriminator, "critic", self.data_shape, (self.critic_dim,))

    def _critic_values(self, x, reference_features):
        return losses.cramer_critic(self.discriminator(x, training=True), reference_features)

    def _critic_losses(self, real, fake, condition):
        reference = self.discriminator(self._fake(self._latent_noise(tf.shape(real)[0]), None), training=True)
        surrogate = losses.cramer_critic_loss(
            self._critic_values(real, reference), self._critic_values(fake, reference)
        )
        between = self._points_between(real, fake)
        with tf.GradientTape() as tape:
            tape.watch(between)
            values = self._critic_values(between, reference)
        penalty = losses.gradient_penalty(tape.gradient(values, between))
        return surrogate + self.penalty_weight * penalty, {"gradient_penalty": tf.reduce_mean(penalty)}

    def _generator_step(self, batch_size, condition=None, real=None):
        with tf.GradientTape() as tape:
            fake = self._fake(self._latent_noise(batch_size), None)
            other_fake = self._fake(self._latent_noise(batch_size), None)
            g_losses = losses.cramer_generator_loss(
                self.discriminator(real, training=True),
                self.discriminator(fake, training=True),
                self.discriminator(other_fake, training=True),
            )
            g_loss = self._average(g_losses)
        self._minimize(self.g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return g_losses
