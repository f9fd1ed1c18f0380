"""BiGAN / ALI: Donahue et al. 2017, "Adversarial Feature Learning"; Dumoulin et al. 2017,
"Adversarially Learned Inference"."""

import tensorflow as tf

from keras_gan_zoo import nets
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.capabilities import DECODE, ENCODE, SAMPLE
from keras_gan_zoo.registry import register


@register(
    "bigan",
    "Donahue et al. 2017 / Dumoulin et al. 2017 (ALI): generator and encoder, discriminator on (x, z) pairs",
    defaults={"data_shape": (2,), "latent_dim": 8, "filters": 32, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 4, "filters": 8, "hidden_units": (8,)},
    aliases=("ali",),
)
class BiGAN(AdversarialModel):
    """Bidirectional GAN: learns the generator G(z) and its inverse E(x) together.

    The discriminator tells real pairs (x, E(x)) from generated pairs
    (G(z), z); the generator and the encoder, updated together by
    `g_optimizer`, play the same game with the labels swapped
    (non-saturating). At the optimum E inverts G, so `encode(x)` gives codes
    for data. Both players step on the same forward pass, as in ALI. The
    encoder is deterministic (BiGAN); ALI's Gaussian encoder is not offered.

    Images get DCGAN bodies (`filters`), vectors fully connected ones
    (`hidden_units`).

    Args:
        data_shape: shape of one example, default `(2,)`.
        latent_dim: size of z, default 8.
        filters: convolutional width for images, default 32.
        hidden_units: fully connected widths, default `(128, 128)`.
        encoder: a `keras.Model` from data to codes; built when None.
        **kwargs: see `zoo.adversarial.AdversarialModel` (the discriminator given,
            if any, takes `[x, z]`; with `packing` m, m pairs' x side by side
            and their z side by side).

    Examples:
        >>> import numpy as np
        >>> import keras_gan_zoo as zoo
        >>> bigan = zoo.create("ali", hidden_units=(16,))
        >>> type(bigan).__name__, bigan.encode(np.zeros((3, 2), "float32")).shape
        ('BiGAN', (3, 8))
    """

    capabilities = frozenset({SAMPLE, ENCODE, DECODE})

    # The joint discriminator takes pairs; packing packs both halves of them.
    techniques = frozenset({"packing"})

    def __init__(
        self, data_shape=(2,), latent_dim=8, filters=32, hidden_units=(128, 128), encoder=None, **kwargs
    ):
        if nets.is_image_shape(data_shape):
            nets.conv.check_image_shape(data_shape, who="bigan on images")
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, latent_dim, **kwargs)
        self.encoder = self._network("encoder", encoder)
        self._check_network(self.encoder, "encoder", self.data_shape, (self.latent_dim,))

    def build_generator(self):
        return nets.decoder_for(self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="generator")

    def build_encoder(self):
        return nets.encoder_for(self.data_shape, self.latent_dim, self.filters, self.hidden_units, name="encoder")

    def build_discriminator(self):
        return nets.joint_discriminator(self.discriminator_input_shape, self.latent_dim * self.packing,
                                        self.filters, self.hidden_units)

    def _check_discriminator(self):
        shapes = [tuple(s[1:]) for s in self.discriminator.input_shape]
        expected = [self.discriminator_input_shape, (self.latent_dim * self.packing,)]
        if shapes != expected or tuple(self.discriminator.output_shape[1:]) != (1,):
            packed = f" ({self.packing} pairs packed)" if self.packing > 1 else ""
            raise ValueError(
                f"The discriminator of {type(self).__name__} must map [x of shape {expected[0]}, z of shape "
                f"{expected[1]}]{packed} to one logit; the one given maps {shapes} to "
                f"{tuple(self.discriminator.output_shape[1:])}."
            )

    @property
    def discriminator_example_shapes(self):
        return [self.data_shape, (self.latent_dim,)]

    def _judge_pairs(self, x, z):
        """D's logits on (x, z) pairs, `packing` consecutive pairs to a logit."""
        return self.packed()([x, z], training=True)

    def generator_side_variables(self):
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def encode_op(self, x):
        return self.encoder(x, training=False)

    def decode_op(self, z):
        return self.generate(z)

    def train_step(self, data):
        real, _ = self._unpack(data)
        z = self._latent_noise(tf.shape(real)[0])
        with tf.GradientTape() as d_tape, tf.GradientTape() as ge_tape:
            real_logits = self._judge_pairs(real, self.encoder(real, training=True))
            fake_logits = self._judge_pairs(self.generator(z, training=True), z)
            d_losses = self.discriminator_loss_fn(
                real_logits, fake_logits, label_smoothing=self.label_smoothing
            )
            # The generator and encoder want the pairs' labels swapped.
            ge_losses = self.discriminator_loss_fn(fake_logits, real_logits)
            d_loss, ge_loss = self._average(d_losses), self._average(ge_losses)
        self._minimize(self.d_optimizer, d_tape, d_loss, self.discriminator.trainable_weights)
        self._minimize(self.g_optimizer, ge_tape, ge_loss, self.generator_side_variables())
        return self._report(d_loss=tf.reduce_mean(d_losses), g_loss=tf.reduce_mean(ge_losses))
