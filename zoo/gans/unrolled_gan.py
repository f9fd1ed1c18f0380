"""Unrolled GAN: Metz et al. 2017, "Unrolled Generative Adversarial Networks"."""

import tensorflow as tf

from keras_gan_zoo.gans.gan import GAN
from keras_gan_zoo.registry import register


@register(
    "unrolled_gan",
    "Metz et al. 2017: the generator's loss looks k discriminator updates ahead, differentiated through them",
    defaults={"data_shape": (2,), "latent_dim": 8, "hidden_units": (128, 128), "unrolling_steps": 5},
    tiny={"data_shape": (2,), "latent_dim": 4, "hidden_units": (8,), "unrolling_steps": 2},
)
class UnrolledGAN(GAN):
    """A GAN whose generator optimizes against the discriminator it will face k steps later.

    Each train step updates the discriminator once, as a GAN does. The
    generator's loss is then taken on a copy of the discriminator advanced by
    `unrolling_steps` gradient steps (on the same real batch and the
    generator's current samples), and its gradient flows back through those
    updates, second-order terms included, so the generator accounts for how
    the discriminator will react: the paper's remedy for mode collapse. The
    unrolled steps are plain gradient steps of size
    `unrolling_learning_rate`; the discriminator's own update keeps its
    optimizer. MLP players, as in the paper's mixture experiments.

    Args:
        data_shape: shape of one example, default `(2,)`.
        latent_dim: size of the noise, default 8.
        hidden_units: ReLU widths of both players, default `(128, 128)`.
        unrolling_steps: k, default 5.
        unrolling_learning_rate: step size of the unrolled updates, default 1e-2.
        **kwargs: see `zoo.adversarial.AdversarialModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> gan = zoo.create("unrolled_gan", hidden_units=(16,), unrolling_steps=3)
        >>> gan.compile()
        >>> gan.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
    """

    # The unrolled discriminator is called weight by weight, not through `_judge`,
    # and the generator's loss is its own.
    techniques = frozenset({"minibatch_discrimination", "virtual_batch_norm"})

    def __init__(self, data_shape=(2,), latent_dim=8, hidden_units=(128, 128), unrolling_steps=5,
                 unrolling_learning_rate=1e-2, **kwargs):
        if int(unrolling_steps) < 1:
            raise ValueError(f"unrolling_steps must be >= 1, got {unrolling_steps}.")
        self.unrolling_steps = int(unrolling_steps)
        self.unrolling_learning_rate = float(unrolling_learning_rate)
        super().__init__(data_shape, latent_dim, hidden_units=hidden_units, **kwargs)

    def _unrolled_discriminator(self, real, fake):
        """The discriminator's weights after `unrolling_steps` differentiable gradient steps."""
        network = self.discriminator
        weights = [tf.convert_to_tensor(w) for w in network.trainable_variables]
        frozen = [tf.convert_to_tensor(w) for w in network.non_trainable_variables]
        context = tf.distribute.get_replica_context()
        for _ in range(self.unrolling_steps):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                real_logits, _ = network.stateless_call(weights, frozen, real, training=True)
                fake_logits, _ = network.stateless_call(weights, frozen, fake, training=True)
                loss = self._average(self.discriminator_loss_fn(
                    real_logits, fake_logits, label_smoothing=self.label_smoothing))
            # Each replica holds its share of the global batch's loss; the sum
            # is the gradient one device would take (and all_reduce is differentiable).
            gradients = context.all_reduce("sum", tape.gradient(loss, weights))
            weights = [w - self.unrolling_learning_rate * g for w, g in zip(weights, gradients)]
        return weights, frozen

    def train_step(self, data):
        real, _ = self._unpack(data)
        batch_size = tf.shape(real)[0]
        d_losses = self._discriminator_step(real, batch_size)

        with tf.GradientTape() as tape:
            fake = self._fake(self._latent_noise(batch_size), None)
            weights, frozen = self._unrolled_discriminator(real, fake)
            fake_logits, _ = self.discriminator.stateless_call(weights, frozen, fake, training=True)
            g_losses = self.generator_loss_fn(fake_logits)
            g_loss = self._average(g_losses)
        self._minimize(self.g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return self._report(d_loss=tf.reduce_mean(d_losses), g_loss=tf.reduce_mean(g_losses))
