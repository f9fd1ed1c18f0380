"""Semi-supervised GAN: Salimans et al. 2016, "Improved Techniques for Training GANs" (section 5);
Odena 2016, "Semi-Supervised Learning with Generative Adversarial Networks"."""

import tensorflow as tf

from keras_gan_zoo import data as zoo_data
from keras_gan_zoo import losses, nets
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.capabilities import CLASSIFY, SAMPLE
from keras_gan_zoo.registry import register


@register(
    "sgan",
    "Salimans et al. 2016 / Odena 2016: a K+1-way discriminator learns the classes from a few labels",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "num_classes": 10, "num_labelled": 100,
              "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "num_classes": 3, "num_labelled": 6, "filters": 8,
          "hidden_units": (8,)},
)
class SGAN(AdversarialModel):
    """A GAN whose discriminator is also a classifier of the K real classes.

    The discriminator outputs K class logits; the (K+1)th, "generated",
    logit is fixed at 0, which loses nothing (Salimans et al.) and makes
    log sum_k exp(l_k) the real-versus-fake logit. Its loss is the usual
    GAN loss on that logit for every real and generated example plus the
    cross-entropy of the K classes on the labelled examples. Labels of -1
    mark unlabelled examples. The generator matches the discriminator's
    features by default (`feature_matching=True`, the paper's choice for
    semi-supervised learning).

    `training_data(x, y, batch_size)` keeps `num_labelled` labels (as many
    per class) and puts half a batch of them, cycled, into every batch;
    `classify(x)` gives classes.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the noise, default 100.
        num_classes: K, default 10.
        num_labelled: labelled training examples `training_data` keeps,
            default 100.
        filters: convolutional width for images, default 64.
        hidden_units: fully connected widths for vectors, default `(128, 128)`.
        **kwargs: see `zoo.adversarial.AdversarialModel` (`feature_matching`
            defaults to True here).

    Examples:
        >>> import numpy as np
        >>> import keras_gan_zoo as zoo
        >>> x, y = zoo.data.load_arrays("mnist_5k")
        >>> sgan = zoo.create("sgan", num_labelled=50, filters=8)
        >>> sgan.compile()
        >>> sgan.fit(sgan.training_data(x, y, batch_size=32), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(sgan.get_metrics_result())
        ['classifier_loss', 'd_loss', 'g_loss']
        >>> sgan.classify(x[:5]).shape
        (5,)
    """

    capabilities = frozenset({SAMPLE, CLASSIFY})

    trains_on_labels = True
    # Labels belong to single examples, so packing, which merges them, is out.
    techniques = frozenset({"feature_matching", "minibatch_discrimination", "virtual_batch_norm"})

    def __init__(
        self, data_shape=(28, 28, 1), latent_dim=100, num_classes=10, num_labelled=100, filters=64,
        hidden_units=(128, 128), feature_matching=True, **kwargs
    ):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        if int(num_labelled) < int(num_classes):
            raise ValueError(
                f"num_labelled must give every class a label: at least num_classes={num_classes}, got {num_labelled}."
            )
        if nets.is_image_shape(data_shape):
            nets.conv.check_image_shape(data_shape, who="sgan on images")
        self.num_classes, self.num_labelled = int(num_classes), int(num_labelled)
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, latent_dim, feature_matching=feature_matching, **kwargs)
        self._add_trackers("classifier_loss")

    def build_generator(self):
        return nets.decoder_for(
            self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="generator",
            virtual_batch_norm=self.virtual_batch_norm,
        )

    def build_discriminator(self):
        return nets.encoder_for(
            self.data_shape, self.num_classes, self.filters, self.hidden_units, name="discriminator",
            minibatch_kernels=self.minibatch_discrimination,
        )

    def _check_discriminator(self):
        self._check_network(self.discriminator, "discriminator", self.data_shape, (self.num_classes,))

    def _judge(self, x, condition):
        return losses.realness_logits(self.discriminator(x, training=True))

    def train_step(self, data):
        real, labels = self._unpack(data)
        if labels is None:
            raise ValueError(
                "sgan trains on batches (x, y) with y = -1 for unlabelled examples; got no labels. "
                "Use model.training_data(x, y, batch_size)."
            )
        batch_size = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake = self._fake(self._latent_noise(batch_size), None)
            class_logits = self.discriminator(real, training=True)
            unsupervised = self.discriminator_loss_fn(
                losses.realness_logits(class_logits), self._judge(fake, None), label_smoothing=self.label_smoothing
            )
            classifier_losses = self._labelled_losses(labels, class_logits)
            d_loss = self._average(unsupervised + classifier_losses)
        self._minimize(self.d_optimizer, tape, d_loss, self.discriminator_side_variables())
        g_losses = self._generator_step(batch_size, None, real)
        return self._report(
            d_loss=tf.reduce_mean(unsupervised), g_loss=tf.reduce_mean(g_losses),
            classifier_loss=self._average(classifier_losses) * tf.distribute.get_replica_context().num_replicas_in_sync,
        )

    def training_data(self, x, y, batch_size=128, seed=0):
        """Batches of all of `x`, half of each batch replaced by the `num_labelled` kept labels
        (`zoo.data.partially_labelled_pipeline`)."""
        return zoo_data.partially_labelled_pipeline(
            x, y, self.num_labelled, self.num_classes, batch_size=batch_size, seed=seed, who="sgan"
        )

    def classify_op(self, x):
        """p(class k | x, real) for the K classes."""
        return tf.nn.softmax(self.discriminator(x, training=False))
