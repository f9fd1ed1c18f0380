"""InfoGAN: Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets"."""

import functools

import keras
import tensorflow as tf

from keras_gan_zoo import data as zoo_data
from keras_gan_zoo import losses, nets
from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.capabilities import LABELLED_SAMPLE, PREDICT_CODES, SAMPLE
from keras_gan_zoo.registry import register


@register(
    "infogan",
    "Chen et al. 2016: categorical and continuous codes the generator must keep recoverable by a Q head",
    defaults={"data_shape": (28, 28, 1), "noise_dim": 62, "num_categories": 10, "num_continuous": 2,
              "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "noise_dim": 4, "num_categories": 3, "num_continuous": 1,
          "filters": 8, "hidden_units": (8,)},
)
class InfoGAN(AdversarialModel):
    """A GAN whose generator input carries codes it must not lose.

    The generator reads z = [noise, one-hot category c, continuous codes u]:
    `noise_dim` normals, a uniform choice among `num_categories`, and
    `num_continuous` uniforms in [-1, 1] (the paper's MNIST setting: 62, 10,
    2). A Q head on the discriminator's last hidden features predicts c and
    u from a sample; both players add `info_weight` times the mutual
    information bound (`losses.mutual_information_loss`) to their losses, so
    that the generator ties each code to a visible property (a category to a
    digit class, unsupervised). `d_optimizer` trains the discriminator and
    Q, `g_optimizer` the generator.

    `latent_dim` is the generator's whole input, noise plus codes.
    `sample(n, labels=c)` asks for categorical codes (codes are not classes:
    match them after training); `predict_codes(x)` runs Q.

    With `num_labelled` > 0 it is semi-supervised (Spurr et al. 2017,
    "Guiding InfoGAN with Semi-Supervision"): Q's categorical head also
    learns the classes of `num_labelled` real examples, so that code c
    comes to mean class c. Unsupervised codes often give one class two
    codes and another none (Fashion-MNIST in the class-consistency
    benchmark): a few labels settle which split is meant. Train it on
    `training_data(x, y, batch_size)`.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        noise_dim: incompressible noise, default 62.
        num_categories: size of the categorical code, default 10.
        num_continuous: continuous codes, default 2.
        info_weight: lambda, default 1 (the paper's for categorical codes).
        num_labelled: real examples whose class Q learns, default 0
            (unsupervised, as in the paper); else at least `num_categories`.
        filters: convolutional width for images, default 64.
        hidden_units: fully connected widths for vectors, default `(128, 128)`.
        q_head: a `keras.Model` from the discriminator's last hidden features
            to `num_categories + num_continuous` outputs; built when None.
        **kwargs: see `zoo.adversarial.AdversarialModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> info = zoo.create("infogan", data_shape=(2,), noise_dim=4, num_categories=8, hidden_units=(16,))
        >>> info.latent_dim
        14
        >>> info.compile()
        >>> info.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(info.get_metrics_result())
        ['d_loss', 'g_loss', 'info_loss']
        >>> info.sample(4, labels=[0, 1, 2, 7], seed=0).shape
        (4, 2)
    """

    # Labels are categorical codes: sample(n, labels=codes).
    capabilities = frozenset({SAMPLE, LABELLED_SAMPLE, PREDICT_CODES})
    label_kind = "categorical codes"

    # Q shares the discriminator's input: packing or minibatch features would
    # mix the codes of several samples, and reference noise has no codes.
    techniques = frozenset()

    def __init__(
        self, data_shape=(28, 28, 1), noise_dim=62, num_categories=10, num_continuous=2, info_weight=1.0,
        num_labelled=0, filters=64, hidden_units=(128, 128), q_head=None, latent_dim=None, **kwargs
    ):
        if int(num_categories) < 2:
            raise ValueError(f"num_categories must be >= 2, got {num_categories}.")
        if int(num_labelled) != 0 and int(num_labelled) < int(num_categories):
            raise ValueError(
                f"num_labelled must be 0 (unsupervised) or give every category a label: at least "
                f"num_categories={num_categories}, got {num_labelled}."
            )
        if int(noise_dim) < 0 or int(num_continuous) < 0:
            raise ValueError(f"noise_dim and num_continuous must be >= 0, got {noise_dim} and {num_continuous}.")
        total = int(noise_dim) + int(num_categories) + int(num_continuous)
        if latent_dim is not None and int(latent_dim) != total:
            raise ValueError(
                f"infogan's latent_dim is noise_dim + num_categories + num_continuous = {total}; "
                f"got latent_dim={latent_dim}. Set those three instead."
            )
        if nets.is_image_shape(data_shape):
            nets.conv.check_image_shape(data_shape, who="infogan on images")
        self.noise_dim = int(noise_dim)
        self.num_categories, self.num_continuous = int(num_categories), int(num_continuous)
        self.info_weight = float(info_weight)
        self.num_labelled = int(num_labelled)
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, total, **kwargs)
        self.q_head = self._network("q_head", q_head)
        self._check_network(self.q_head, "Q head", self._features_and_logit.output_shape[1][1:],
                            (self.num_categories + self.num_continuous,))
        self._add_trackers("info_loss")
        if self.num_labelled:
            self._add_trackers("label_loss")

    @property
    def trains_on_labels(self):
        return self.num_labelled > 0

    @property
    def num_classes(self):
        """The classes a semi-supervised run labels: one per category."""
        return self.num_categories

    def training_data(self, x, y=None, batch_size=128, seed=0):
        """Batches of `x`; semi-supervised, half of each batch is the `num_labelled` kept labelled examples
        (`zoo.data.partially_labelled_pipeline`)."""
        if not self.num_labelled:
            return super().training_data(x, y, batch_size=batch_size, seed=seed)
        if y is None:
            raise ValueError(f"infogan with num_labelled={self.num_labelled} needs the labels y of x.")
        return zoo_data.partially_labelled_pipeline(
            x, y, self.num_labelled, self.num_categories, batch_size=batch_size, seed=seed, who="infogan"
        )

    def default_generator_optimizer(self):
        """Adam(1e-3, beta_1=0.5): the paper trains the generator 5x faster than D's Adam(2e-4, 0.5)."""
        return keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5)

    def build_generator(self):
        return nets.decoder_for(self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="generator")

    def build_discriminator(self):
        return nets.encoder_for(self.data_shape, 1, self.filters, self.hidden_units, name="discriminator")

    def build_q_head(self):
        """Features -> a hidden LeakyReLU layer -> category logits and continuous means."""
        feature_shape = self._features_and_logit.output_shape[1][1:]
        inputs = keras.Input(shape=feature_shape, name="features")
        h = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(self.hidden_units[-1])(inputs))
        outputs = keras.layers.Dense(self.num_categories + self.num_continuous, dtype="float32")(h)
        return keras.Model(inputs, outputs, name="q_head")

    @functools.cached_property
    def _features_and_logit(self):
        """One pass of the discriminator giving [logit, last hidden features] (Q's input).

        Cached outside Keras's attribute tracking: its weights are the
        discriminator's.
        """
        return keras.Model(self.discriminator.inputs, [self.discriminator.output, self.discriminator.layers[-2].output])

    def discriminator_side_variables(self):
        return self.discriminator.trainable_variables + self.q_head.trainable_variables

    def _split(self, z):
        """z -> (noise, one-hot category, continuous codes)."""
        k = self.noise_dim + self.num_categories
        return z[:, :self.noise_dim], z[:, self.noise_dim:k], z[:, k:]

    def _codes_to_latent(self, noise, categories, uniforms):
        one_hot = tf.one_hot(tf.cast(categories, tf.int32), self.num_categories, dtype=noise.dtype)
        return tf.concat([noise, one_hot, 2.0 * tf.cast(uniforms, noise.dtype) - 1.0], axis=-1)

    def _latent_noise(self, batch_size):
        noise = self._normal((batch_size, self.noise_dim))
        draws = self._uniform((batch_size, 1 + self.num_continuous))
        categories = tf.minimum(tf.floor(draws[:, 0] * self.num_categories), self.num_categories - 1)
        return self._codes_to_latent(noise, categories, draws[:, 1:])

    def prior_from_seed(self, num_samples, seed):
        """Noise, a uniform category and uniform continuous codes, drawn statelessly from `seed`."""
        num_samples = tf.cast(num_samples, tf.int32)
        seeds = [tf.stack([tf.cast(seed, tf.int64), tf.constant(part, tf.int64)]) for part in range(3)]
        noise = tf.random.stateless_normal(tf.stack([num_samples, self.noise_dim]), seed=seeds[0])
        categories = tf.random.stateless_uniform(
            tf.reshape(num_samples, [1]), seed=seeds[1], maxval=self.num_categories, dtype=tf.int32
        )
        uniforms = tf.random.stateless_uniform(tf.stack([num_samples, self.num_continuous]), seed=seeds[2])
        return self._codes_to_latent(noise, categories, uniforms)

    def _info_losses(self, z, features):
        _, categories, continuous = self._split(z)
        q = self.q_head(features, training=True)
        return losses.mutual_information_loss(
            categories, q[:, :self.num_categories], continuous, q[:, self.num_categories:]
        )

    def train_step(self, data):
        real, labels = self._unpack(data)
        if self.num_labelled and labels is None:
            raise ValueError(
                f"infogan with num_labelled={self.num_labelled} trains on batches (x, y) with y = -1 for "
                "unlabelled examples; got no labels. Use model.training_data(x, y, batch_size)."
            )
        batch_size = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            z = self._latent_noise(batch_size)
            real_logits, real_features = self._features_and_logit(real, training=True)
            fake_logits, fake_features = self._features_and_logit(self._fake(z, None), training=True)
            d_losses = self.discriminator_loss_fn(real_logits, fake_logits, label_smoothing=self.label_smoothing)
            d_loss = self._average(d_losses + self.info_weight * self._info_losses(z, fake_features))
            if self.num_labelled:
                class_logits = self.q_head(real_features, training=True)[:, :self.num_categories]
                label_losses = self._labelled_losses(labels, class_logits)
                d_loss += self._average(label_losses)
        self._minimize(self.d_optimizer, tape, d_loss, self.discriminator_side_variables())

        with tf.GradientTape() as tape:
            z = self._latent_noise(batch_size)
            fake_logits, fake_features = self._features_and_logit(self._fake(z, None), training=True)
            info_losses = self._info_losses(z, fake_features)
            g_losses = self.generator_loss_fn(fake_logits)
            g_loss = self._average(g_losses + self.info_weight * info_losses)
        self._minimize(self.g_optimizer, tape, g_loss, self.generator_side_variables())
        reported = {"d_loss": tf.reduce_mean(d_losses), "g_loss": tf.reduce_mean(g_losses),
                    "info_loss": tf.reduce_mean(info_losses)}
        if self.num_labelled:
            replicas = tf.distribute.get_replica_context().num_replicas_in_sync
            reported["label_loss"] = self._average(label_losses) * replicas
        return self._report(**reported)

    def generate_from_seed(self, num_samples, seed, labels=None):
        """Prior draws; `labels` (one categorical code per sample) fixes their categories."""
        z = self.prior_from_seed(num_samples, seed)
        if labels is not None:
            noise, _, continuous = self._split(z)
            z = tf.concat([noise, tf.one_hot(labels, self.num_categories), continuous], axis=-1)
        return self.generate(z)

    def predict_codes_op(self, x):
        """Q's reading of examples: (category probabilities, continuous code means)."""
        _, features = self._features_and_logit(x, training=False)
        q = self.q_head(features, training=False)
        return tf.nn.softmax(q[:, :self.num_categories]), q[:, self.num_categories:]
