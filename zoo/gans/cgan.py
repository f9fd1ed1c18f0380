"""CGAN: Mirza and Osindero 2014, "Conditional Generative Adversarial Nets"."""

from keras_gan_zoo import nets
from keras_gan_zoo.capabilities import GENERATE_LABELLED, LABELLED_SAMPLE, SAMPLE
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.registry import register


@register(
    "cgan",
    "Mirza and Osindero 2014: the class label, one-hot, into generator and discriminator; sample(n, labels=...)",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "num_classes": 10, "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "num_classes": 3, "filters": 8, "hidden_units": (8,)},
)
class CGAN(AdversarialModel):
    """Conditional GAN: both players see the class, so samples can be asked for by class.

    Trains on labelled batches `(x, y)` with integer labels in
    `[0, num_classes)`; the generator step conditions on the batch's labels.
    Without `labels`, `sample` and `generate` cycle through the classes
    (0, 1, ..., K-1, 0, ...), so a picture of K*K samples holds every class.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the noise, default 100.
        num_classes: K, default 10.
        filters: convolutional width for images, default 64.
        hidden_units: fully connected widths for vectors, default `(128, 128)`.
        **kwargs: see `zoo.adversarial.AdversarialModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> cgan = zoo.create("cgan", data_shape=(2,), num_classes=8, hidden_units=(16,))
        >>> cgan.compile()
        >>> cgan.fit(zoo.data.load("ring8", batch_size=100, with_labels=True), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> cgan.sample(4, labels=[3, 3, 5, 5], seed=0).shape
        (4, 2)
    """

    capabilities = frozenset({SAMPLE, LABELLED_SAMPLE, GENERATE_LABELLED})
    # The conditional discriminator takes [x, y], which none of the options handle.
    techniques = frozenset()

    def __init__(self, data_shape=(28, 28, 1), latent_dim=100, num_classes=10, filters=64,
                 hidden_units=(128, 128), **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        if nets.is_image_shape(data_shape):
            nets.conv.check_image_shape(data_shape, who="cgan on images")
        self.num_classes = int(num_classes)
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, latent_dim, **kwargs)

    def build_generator(self):
        return nets.conditional_generator(
            self.latent_dim, self.num_classes, self.data_shape, self.filters, self.hidden_units
        )

    def build_discriminator(self):
        return nets.conditional_discriminator(self.data_shape, self.num_classes, self.filters, self.hidden_units)
