"""Guided latent-space GAN (seed 001_d7aca95241fe20eb): one latent subspace per class, steered by a classifier."""

import functools

import keras
import numpy as np
import tensorflow as tf

from keras_gan_zoo import classifiers, losses, nets
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.serialization import as_network
from keras_gan_zoo.capabilities import LABELLED_SAMPLE, SAMPLE
from keras_gan_zoo.registry import register

# `classifier=UNTRAINED` builds a classifier with fixed random weights: a
# model that can be built and trained without any data, for tests and smoke runs.
UNTRAINED = "untrained"


def untrained_classifier(data_shape, num_classes):
    """A classifier of the domain classifiers' shape (an MLP for vectors), left at its initial weights."""
    if nets.is_image_shape(data_shape):
        return classifiers.build_classifier(data_shape, num_classes, name="classifier")
    inputs = keras.Input(shape=tuple(data_shape), name="x")
    features = keras.layers.Dense(32, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, dtype="float32")(features), name="classifier")


def _classifier_from(classifier, data_shape, num_classes):
    if isinstance(classifier, str):
        if classifier == UNTRAINED:
            return untrained_classifier(data_shape, num_classes)
        return classifiers.domain_classifier(classifier)
    if classifier is None:
        raise ValueError(
            "guided_gan needs a pretrained classifier: pass classifier=<a keras.Model from data to class logits> "
            f"or the name of a zoo domain classifier ({', '.join(classifiers.REQUIRED_TEST_ACCURACY)})."
        )
    return as_network(classifier)


@register(
    "guided_gan",
    "Guided latent space (seed 001): one latent subspace per class; a pretrained classifier's loss "
    "and per-class feature variances steer the generator",
    defaults={"data_shape": (28, 28, 1), "num_classes": 10, "subspace_dim": 10, "classifier": "fashion_mnist",
              "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (3,), "num_classes": 3, "subspace_dim": 2, "classifier": UNTRAINED, "filters": 8,
          "hidden_units": (8,)},
)
class GuidedGAN(AdversarialModel):
    """A GAN whose latent space is split into one subspace per class.

    The latent vector has `num_classes * subspace_dim` entries; a sample of
    class c has noise in block c and zeros elsewhere. Beside the usual
    adversarial loss, the generator minimizes (1) a pretrained classifier's
    cross-entropy between the class of the sample's subspace and the
    classifier's reading of the sample, and (2) for every class, the gap
    between the variances of generated and real examples in the
    classifier's feature space (its last hidden layer), measured over the
    global batch. (1) ties each subspace to its class; (2) stops the
    generator from answering a class with one sample. The classifier stays
    frozen. Trains on labelled batches: fakes take the real batch's classes,
    so both sides of (2) hold the same classes.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        num_classes: classes, one subspace each, default 10.
        subspace_dim: noise dimensions per class, default 10.
        classifier: a `keras.Model` from data to class logits, or the name of a
            zoo domain classifier (default "fashion_mnist",
            `zoo.classifiers.domain_classifier`), or "untrained" (fixed random
            weights; tests and smoke runs only).
        classifier_weight: weight of the classifier's cross-entropy, default 1.
        variance_weight: weight of the variance-matching loss, default 1.
        filters: convolutional width for images, default 64.
        hidden_units: fully connected widths for vectors, default `(128, 128)`.
        **kwargs: see `zoo.adversarial.AdversarialModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> guided = zoo.create("guided_gan", data_shape=(2,), num_classes=8, classifier="untrained",
        ...                     hidden_units=(16,))
        >>> guided.compile()
        >>> guided.fit(zoo.data.load("ring8", batch_size=100, with_labels=True), epochs=1, steps_per_epoch=2,
        ...            verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> guided.sample(3, labels=[0, 4, 7], seed=0).shape
        (3, 2)
    """

    capabilities = frozenset({SAMPLE, LABELLED_SAMPLE})

    # Each sample's class is where its noise lies, not a second input.
    techniques = frozenset()

    def __init__(self, data_shape=(28, 28, 1), num_classes=10, subspace_dim=10, classifier="fashion_mnist",
                 classifier_weight=1.0, variance_weight=1.0, filters=64, hidden_units=(128, 128), **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        if int(subspace_dim) < 1:
            raise ValueError(f"subspace_dim must be >= 1, got {subspace_dim}.")
        self.num_classes, self.subspace_dim = int(num_classes), int(subspace_dim)
        self.classifier_weight, self.variance_weight = float(classifier_weight), float(variance_weight)
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, self.num_classes * self.subspace_dim, **kwargs)
        self.classifier = _classifier_from(classifier, self.data_shape, self.num_classes)
        self._check_network(self.classifier, "classifier", self.data_shape, (self.num_classes,))
        self.classifier.trainable = False
        self._add_trackers("classifier_loss", "variance_loss")

    @property
    def trains_on_labels(self):
        return True

    def build_generator(self):
        return nets.decoder_for(self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="generator")

    def build_discriminator(self):
        return nets.encoder_for(self.data_shape, 1, self.filters, self.hidden_units, name="discriminator")

    # -- the split latent space -----------------------------------------------

    def place_in_subspaces(self, noise, labels):
        """[batch, subspace_dim] noise -> latent vectors with it in each label's block, zeros elsewhere."""
        blocks = tf.one_hot(tf.cast(labels, tf.int32), self.num_classes)[:, :, None] * noise[:, None, :]
        return tf.reshape(blocks, [-1, self.latent_dim])

    def prior_from_seed(self, num_samples, seed, labels=None):
        """Latent vectors of the classes in `labels` (cycled through when None), drawn statelessly from `seed`."""
        num_samples = tf.cast(num_samples, tf.int32)
        seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        noise = tf.random.stateless_normal(tf.stack([num_samples, self.subspace_dim]), seed=seed_pair)
        return self.place_in_subspaces(noise, self.cycled_labels(num_samples) if labels is None else labels)

    def generate_from_seed(self, num_samples, seed, labels=None):
        """Prior draws in the subspaces of `labels` (one class per sample), else of the classes in turn."""
        return self.generate(self.prior_from_seed(num_samples, seed, labels=labels))

    # -- training ---------------------------------------------------------------

    @functools.cached_property
    def _feature_extractor(self):
        """The classifier up to its last hidden layer: the space whose variances are matched.

        Cached outside Keras's attribute tracking: its weights are the classifier's.
        """
        return keras.Model(self.classifier.inputs, self.classifier.layers[-2].output)

    def _class_variances(self, x, one_hot):
        """Per-class variances of classifier features over the global batch: ([K, F] float32, [K] counts)."""
        features = tf.cast(self._feature_extractor(x, training=False), tf.float32)
        features = tf.reshape(features, [tf.shape(features)[0], -1])
        context = tf.distribute.get_replica_context()
        counts = context.all_reduce("sum", tf.reduce_sum(one_hot, axis=0))
        sums = context.all_reduce("sum", tf.matmul(one_hot, features, transpose_a=True))
        squares = context.all_reduce("sum", tf.matmul(one_hot, tf.square(features), transpose_a=True))
        size = tf.maximum(counts, 1.0)[:, None]
        return squares / size - tf.square(sums / size), counts

    def _variance_loss(self, real, fake, one_hot):
        """The variance gap averaged over the classes with two or more examples in the global batch."""
        real_variance, counts = self._class_variances(real, one_hot)
        fake_variance, _ = self._class_variances(fake, one_hot)
        present = tf.cast(counts >= 2, tf.float32)
        gaps = losses.class_variance_matching_loss(tf.stop_gradient(real_variance), fake_variance)
        return tf.reduce_sum(present * gaps) / tf.maximum(tf.reduce_sum(present), 1.0)

    def _classifier_losses(self, fake, labels):
        logits = tf.cast(self.classifier(fake, training=False), tf.float32)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    def train_step(self, data):
        real, labels = self._unpack(data)
        # Fakes take the batch's classes.
        labels = self._labels_of(labels, "")
        one_hot = tf.one_hot(labels, self.num_classes)

        def latent():
            return self.place_in_subspaces(self._normal((tf.shape(real)[0], self.subspace_dim)), labels)

        with tf.GradientTape() as tape:
            fake = self.generator(latent(), training=True)
            d_losses = self.discriminator_loss_fn(
                self.discriminator(real, training=True), self.discriminator(fake, training=True),
                label_smoothing=self.label_smoothing,
            )
            d_loss = self._average(d_losses)
        self._minimize(self.d_optimizer, tape, d_loss, self.discriminator.trainable_weights)

        with tf.GradientTape() as tape:
            fake = self.generator(latent(), training=True)
            adversarial = self.generator_loss_fn(self.discriminator(fake, training=True))
            classifier_losses = self._classifier_losses(fake, labels)
            variance_loss = self._variance_loss(real, fake, one_hot)
            replicas = tf.distribute.get_replica_context().num_replicas_in_sync
            # Every replica computes the same global variance gap; their gradients are summed.
            g_loss = (self._average(adversarial + self.classifier_weight * classifier_losses)
                      + self.variance_weight * variance_loss / replicas)
        self._minimize(self.g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return self._report(
            d_loss=tf.reduce_mean(d_losses), g_loss=tf.reduce_mean(adversarial),
            classifier_loss=tf.reduce_mean(classifier_losses), variance_loss=variance_loss,
        )

    def classifier_loss_per_class(self, per_class=200, seed=0):
        """The classifier's mean cross-entropy on `per_class` samples of each class's subspace: [K]."""
        labels = np.repeat(np.arange(self.num_classes), per_class)
        samples = self.sample(len(labels), labels=labels, seed=seed)
        cross_entropy = self._classifier_losses(tf.constant(samples), tf.constant(labels, tf.int32))
        return keras.ops.convert_to_numpy(tf.reduce_mean(tf.reshape(cross_entropy, [self.num_classes, -1]), axis=1))
