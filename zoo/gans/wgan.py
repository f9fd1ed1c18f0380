"""WGAN: Arjovsky et al. 2017, "Wasserstein GAN"."""

import tensorflow as tf

import keras

from keras_gan_zoo import nets
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.registry import register
from keras_gan_zoo.steps import update_across_replicas


@register(
    "wgan",
    "Arjovsky et al. 2017: Wasserstein critic kept Lipschitz by weight clipping, 5 critic steps per generator step",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "filters": 8, "hidden_units": (8,), "critic_steps": 2},
)
class WGAN(AdversarialModel):
    """Wasserstein GAN: a critic estimates the Wasserstein-1 distance.

    The critic minimizes D(G(z)) - D(x) and has every weight clipped to
    [-c, c] after each update, which bounds its Lipschitz constant; the
    generator minimizes -D(G(z)). The paper's defaults: c = 0.01, 5 critic
    steps per generator step, RMSprop(5e-5). Each train step takes one real
    batch, and every critic step uses it with fresh noise.

    Images get DCGAN bodies (`filters`), vectors fully connected ones
    (`hidden_units`).

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the noise, default 100.
        filters: convolutional width for images, default 64.
        hidden_units: fully connected widths for vectors, default `(128, 128)`.
        critic_steps: critic updates per generator update, default 5.
        clip_value: c, default 0.01.
        **kwargs: see `zoo.adversarial.AdversarialModel` (`ema_decay`, `seed`, ...).

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> wgan = zoo.create("wgan", data_shape=(2,), hidden_units=(16,))
        >>> wgan.compile()
        >>> wgan.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> bool(max(abs(w.numpy()).max() for w in wgan.discriminator.trainable_weights) <= 0.01)
        True
    """

    # Weight clipping leaves batch statistics harmless; the gradient penalty does not.
    critic_batch_norm = True
    # Its critic steps are its own; the gradient penalty is wgan_gp's.
    techniques = AdversarialModel.techniques - {"gradient_penalty"}

    def __init__(
        self,
        data_shape=(28, 28, 1),
        latent_dim=100,
        filters=64,
        hidden_units=(128, 128),
        critic_steps=5,
        clip_value=0.01,
        loss="wasserstein",
        **kwargs,
    ):
        if loss != "wasserstein":
            raise ValueError(f"{type(self).__name__} trains on the Wasserstein loss only, got loss={loss!r}.")
        if int(critic_steps) < 1:
            raise ValueError(f"critic_steps must be >= 1, got {critic_steps}.")
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"clip_value must be > 0, got {clip_value}.")
        if nets.is_image_shape(data_shape):
            nets.conv.check_image_shape(data_shape, who=f"{type(self).__name__} on images")
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.critic_steps = int(critic_steps)
        self.clip_value = None if clip_value is None else float(clip_value)
        super().__init__(data_shape, latent_dim, loss=loss, **kwargs)

    def build_generator(self):
        if self.conditional:
            return nets.conditional_generator(
                self.latent_dim, self.num_classes, self.data_shape, self.filters, self.hidden_units
            )
        return nets.decoder_for(
            self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="generator",
            virtual_batch_norm=self.virtual_batch_norm,
        )

    def build_discriminator(self):
        if self.conditional:
            return nets.conditional_discriminator(
                self.data_shape, self.num_classes, self.filters, self.hidden_units, name="critic",
                batch_norm=self.critic_batch_norm,
            )
        return nets.encoder_for(
            self.discriminator_input_shape, 1, self.filters, self.hidden_units, name="critic",
            batch_norm=self.critic_batch_norm, minibatch_kernels=self.minibatch_discrimination,
        )

    def default_optimizer(self):
        """RMSprop(5e-5), the paper's setting."""
        return keras.optimizers.RMSprop(learning_rate=5e-5)

    def _clip_critic_weights(self):
        if self.clip_value is None:
            return
        c = self.clip_value
        update_across_replicas([
            (weight, lambda v: v.assign(tf.clip_by_value(v, -c, c)), ())
            for weight in self.discriminator.trainable_weights
        ])

    def _critic_losses(self, real, fake, condition):
        """Per-example critic losses, and extra metrics to report."""
        return self.discriminator_loss_fn(self._judge(real, condition), self._judge(fake, condition)), {}

    def _critic_step(self, real, batch_size, condition):
        with tf.GradientTape() as tape:
            fake = self._fake(self._latent_noise(batch_size), condition)
            critic_losses, metrics = self._critic_losses(real, fake, condition)
            critic_loss = self._average(critic_losses)
        self._minimize(self.d_optimizer, tape, critic_loss, self.discriminator.trainable_weights)
        self._clip_critic_weights()
        return {"d_loss": tf.reduce_mean(critic_losses), **metrics}

    def train_step(self, data):
        real, labels = self._unpack(data)
        condition = self._condition(labels)
        batch_size = tf.shape(real)[0]
        for _ in range(self.critic_steps):
            critic_metrics = self._critic_step(real, batch_size, condition)
        g_losses = self._generator_step(batch_size, condition, real)
        return self._report(**critic_metrics, g_loss=tf.reduce_mean(g_losses))
