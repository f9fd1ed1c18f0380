"""GAN: Goodfellow et al. 2014, "Generative Adversarial Nets", with MLP players."""

from keras_gan_zoo import nets
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.registry import register


@register(
    "gan",
    "Goodfellow et al. 2014: MLP generator and discriminator, non-saturating loss",
    defaults={"data_shape": (2,), "latent_dim": 8, "hidden_units": (128, 128)},
    tiny={"data_shape": (2,), "latent_dim": 4, "hidden_units": (8,)},
    # Feature matching averages features over the global batch.
    tiny_options=[{"feature_matching": True}],
)
class GAN(AdversarialModel):
    """The original GAN with fully connected players.

    Works on any data shape: images are flattened for the discriminator and
    the generator ends in tanh for them (data in [-1, 1]); vectors get a
    linear output.

    Args:
        data_shape: shape of one example, default `(2,)`.
        latent_dim: size of the noise, default 8.
        hidden_units: ReLU layer widths of both players, default `(128, 128)`.
        **kwargs: see `zoo.adversarial.AdversarialModel` (loss, label_smoothing,
            generator, discriminator, seed).

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> gan = zoo.create("gan")
        >>> gan.compile()
        >>> gan.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> gan.sample(16, seed=0).shape
        (16, 2)
    """

    def __init__(self, data_shape=(2,), latent_dim=8, hidden_units=(128, 128), **kwargs):
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, latent_dim, **kwargs)

    def build_generator(self):
        images = len(self.data_shape) == 3
        return nets.mlp_decoder(
            self.latent_dim,
            self.data_shape,
            self.hidden_units,
            output_activation="tanh" if images else None,
            name="generator",
            virtual_batch_norm=self.virtual_batch_norm,
        )

    def build_discriminator(self):
        return nets.mlp_encoder(
            self.discriminator_input_shape, 1, self.hidden_units, name="discriminator",
            minibatch_kernels=self.minibatch_discrimination,
        )
