"""CGAN: Mirza and Osindero 2014, "Conditional Generative Adversarial Nets"."""

import numpy as np
import tensorflow as tf

import keras

from zoo import nets
from zoo.base import AdversarialModel
from zoo.registry import register


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
        **kwargs: see `zoo.base.AdversarialModel`.

    Examples:
        >>> import zoo
        >>> cgan = zoo.create("cgan", data_shape=(2,), num_classes=8, hidden_units=(16,))
        >>> cgan.compile()
        >>> cgan.fit(zoo.data.load("ring8", batch_size=100, with_labels=True), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> cgan.sample(4, labels=[3, 3, 5, 5], seed=0).shape
        (4, 2)
    """

    conditional = True
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

    def _check_generator(self):
        self._check_two_inputs(self.generator, "generator", (self.latent_dim,), self.data_shape)

    def _check_discriminator(self):
        self._check_two_inputs(self.discriminator, "discriminator", self.data_shape, (1,))

    def _check_two_inputs(self, network, role, first_input, output):
        expected = [tuple(first_input), (self.num_classes,)]
        got = [tuple(s[1:]) for s in network.input_shape] if isinstance(network.input_shape, list) else None
        if got != expected or tuple(network.output_shape[1:]) != tuple(output):
            raise ValueError(
                f"The {role} of CGAN must map [{expected[0]}, one-hot classes {expected[1]}] to "
                f"{tuple(output)}; the one given maps {got or network.input_shape[1:]} to "
                f"{tuple(network.output_shape[1:])}."
            )

    def _condition(self, labels):
        if labels is None:
            raise ValueError(
                "cgan trains on labelled batches (x, y); got examples without labels. "
                "Use zoo.data.load(name, with_labels=True), or zoo.data.pipeline(x, y)."
            )
        return tf.one_hot(tf.cast(tf.reshape(labels, [-1]), tf.int32), self.num_classes)

    def _fake(self, z, condition):
        return self.generator([z, condition], training=True)

    def _judge(self, x, condition):
        return self.discriminator([x, condition], training=True)

    def cycled_labels(self, n):
        """0, 1, ..., K-1, 0, 1, ...: `n` labels covering every class in turn."""
        return tf.math.floormod(tf.range(n), self.num_classes)

    def generate(self, z, labels=None):
        """Maps latent codes to data of the given classes (cycled through when None)."""
        z = tf.convert_to_tensor(z, tf.float32)
        if labels is None:
            labels = self.cycled_labels(tf.shape(z)[0])
        generator = self.generator if self.ema_decay is None else self.ema_generator
        return generator([z, tf.one_hot(tf.cast(labels, tf.int32), self.num_classes)], training=False)

    def sample(self, n, labels=None, seed=None):
        """`n` samples of the classes in `labels` (one per sample), or of every class in turn."""
        if n < 1:
            raise ValueError(f"sample() needs n >= 1, got {n}.")
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (n,) or labels.min() < 0 or labels.max() >= self.num_classes:
                raise ValueError(
                    f"labels must hold {n} class numbers in [0, {self.num_classes}), one per sample; "
                    f"got shape {labels.shape} with values in [{labels.min()}, {labels.max()}]."
                )
        z = self.prior_sample(n, seed=seed)
        return keras.ops.convert_to_numpy(self.generate(z, labels)).astype("float32")

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "filters": self.filters,
            "hidden_units": list(self.hidden_units),
        }
