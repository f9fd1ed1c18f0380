"""Adversarial autoencoder: Makhzani et al. 2015, "Adversarial Autoencoders"."""

import keras
import numpy as np
import tensorflow as tf

from keras_gan_zoo import losses, nets
from keras_gan_zoo import capabilities as caps
from keras_gan_zoo.base import AutoencoderModel
from keras_gan_zoo.serialization import as_network
from keras_gan_zoo.registry import register

PRIORS = ("gaussian", "mog")


@register(
    "aae",
    "Makhzani et al. 2015: an autoencoder whose codes a discriminator pushes toward a chosen prior",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 2, "filters": 32, "hidden_units": (512, 512)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 2, "filters": 8, "hidden_units": (8,)},
    tiny_options=[{"clusters": 3}, {"supervised": True, "prior": "mog", "num_classes": 3}],
)
class AAE(AutoencoderModel):
    """An autoencoder regularized by an adversary on its codes.

    Every train step has the paper's two phases: a reconstruction phase
    (encoder and decoder on squared error, `optimizer`), then a
    regularization phase in which a code discriminator learns to tell
    prior samples from codes (`d_optimizer`) and the encoder learns to fool
    it (`g_optimizer`, non-saturating). The codes then fill the prior, so
    decoding prior samples gives data.

    Priors: `"gaussian"` with standard deviation `prior_std` (seed 003 uses a
    2-D code with std 5), or `"mog"`, a mixture of `num_classes` Gaussians of
    std `prior_std` on a circle of radius `mog_radius` in the code's first
    two dimensions. `supervised=True` trains on labels: the decoder gets the
    one-hot label, so the code carries style and the label content, and under
    the mixture prior a code is pushed to its label's component (the
    discriminator sees the label too).

    `clusters=K` is the paper's unsupervised clustering: the encoder also
    outputs a softmax over K clusters, which a second adversary pushes toward
    one-hot categorical samples while the first keeps the style code
    Gaussian; the decoder reads both. `cluster(x)` gives each example's
    cluster, and `num_classes` becomes K (the decoder's categories).

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the code, default 2.
        prior: "gaussian" (default) or "mog".
        prior_std: std of the Gaussian prior or of each mixture component, default 1.
        mog_radius: radius of the mixture's circle of means, default 4.
        supervised: feed the label to the decoder (and the mixture), default False.
        clusters: K for unsupervised clustering, default None (off).
        num_classes: classes of the labels, and mixture components, default 10.
        filters: convolutional width for images, default 32.
        hidden_units: fully connected widths, default `(512, 512)`.
        code_discriminator: a `keras.Model` from codes (and one-hot labels
            when the mixture follows the labels) to one logit; built when None.
        **kwargs: see `zoo.base.AutoencoderModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> aae = zoo.create("aae", data_shape=(2,), prior_std=5.0, hidden_units=(16,))
        >>> aae.compile()
        >>> aae.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(aae.get_metrics_result())
        ['d_loss', 'g_loss', 'reconstruction_loss']
        >>> aae.sample(3, seed=0).shape
        (3, 2)
    """

    def __init__(
        self, data_shape=(28, 28, 1), latent_dim=2, prior="gaussian", prior_std=1.0, mog_radius=4.0,
        supervised=False, num_classes=10, clusters=None, filters=32, hidden_units=(512, 512),
        code_discriminator=None, category_discriminator=None, **kwargs
    ):
        if prior not in PRIORS:
            raise ValueError(f"Unknown prior {prior!r}; choose one of: {', '.join(PRIORS)}.")
        if prior == "mog" and int(latent_dim) < 2:
            raise ValueError(
                f"The mixture prior lays its means on a circle: latent_dim must be >= 2, got {latent_dim}."
            )
        if float(prior_std) <= 0:
            raise ValueError(f"prior_std must be > 0, got {prior_std}.")
        self.prior, self.prior_std, self.mog_radius = prior, float(prior_std), float(mog_radius)
        if clusters is not None and (supervised or prior != "gaussian" or int(clusters) < 2):
            raise ValueError(
                f"clusters needs K >= 2, the Gaussian prior and supervised=False; got clusters={clusters}, "
                f"prior={prior!r}, supervised={supervised}."
            )
        self.clusters = None if clusters is None else int(clusters)
        self.supervised = bool(supervised)
        self.num_classes = self.clusters or int(num_classes)
        self.filters = int(filters)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        super().__init__(data_shape, latent_dim, **kwargs)
        self.code_discriminator = self._network("code_discriminator", code_discriminator)
        self.category_discriminator = None
        if self.clusters:
            self.category_discriminator = as_network(category_discriminator) or nets.mlp_encoder(
                (self.clusters,), 1, self.hidden_units, name="category_discriminator"
            )
        self._add_trackers("reconstruction_loss", "d_loss", "g_loss")
        self._finish_build()

    refuses_labels_because = "is unsupervised (supervised=True or clusters=K decode with a category)"

    @property
    def capabilities(self):
        offered = set(super().capabilities)
        # Supervised and clustering AAEs decode a code together with a category.
        if self.supervised or self.clusters:
            offered |= {caps.LABELLED_SAMPLE, caps.GENERATE_LABELLED}
        if self.clusters:
            offered.add(caps.CLUSTER)
        return frozenset(offered)

    @property
    def trains_on_labels(self):
        return self.supervised

    @property
    def _labelled_prior(self):
        return self.supervised and self.prior == "mog"

    def build_encoder(self):
        return nets.encoder_for(
            self.data_shape, self.latent_dim + (self.clusters or 0), self.filters, self.hidden_units, name="encoder",
            batch_norm=False,
        )

    def build_decoder(self):
        if self.conditional:
            return nets.conditional_generator(
                self.latent_dim, self.num_classes, self.data_shape, self.filters, self.hidden_units, name="decoder"
            )
        return nets.decoder_for(self.latent_dim, self.data_shape, self.filters, self.hidden_units, name="decoder")

    def build_code_discriminator(self):
        inputs = self.latent_dim + (self.num_classes if self._labelled_prior else 0)
        return nets.mlp_encoder((inputs,), 1, self.hidden_units, name="code_discriminator")

    def _check_network(self, network, role, input_shape, output_shape):
        if role == "decoder" and self.conditional:
            got = [tuple(s[1:]) for s in network.input_shape] if isinstance(network.input_shape, list) else None
            if got != [(self.latent_dim,), (self.num_classes,)]:
                raise ValueError(
                    f"The decoder of this AAE must take [codes ({self.latent_dim},), one-hot categories "
                    f"({self.num_classes},)]; the one given takes {got or network.input_shape[1:]}."
                )
            return
        if role == "encoder" and self.clusters:
            output_shape = (self.latent_dim + self.clusters,)
        super()._check_network(network, role, input_shape, output_shape)

    def compile(self, optimizer=None, g_optimizer=None, d_optimizer=None, **kwargs):
        """Args: `optimizer` (reconstruction, default Adam(1e-3)), `g_optimizer`
        (the encoder against the code discriminator) and `d_optimizer`
        (default Adam(2e-4, beta_1=0.5) both), and Keras's compile arguments."""
        self._compile_players(
            {
                "optimizer": (optimizer, self.default_optimizer,
                              self.encoder.trainable_variables + self.decoder.trainable_variables),
                "g_optimizer": (g_optimizer, self.default_adversarial_optimizer, self.encoder.trainable_variables),
                "d_optimizer": (d_optimizer, self.default_adversarial_optimizer, self._adversary_variables()),
            },
            **kwargs,
        )

    def _adversary_variables(self):
        adversaries = [self.code_discriminator] + ([self.category_discriminator] if self.clusters else [])
        return [w for network in adversaries for w in network.trainable_variables]

    def _encode_parts(self, x, training):
        """(style codes, cluster probabilities or None)."""
        outputs = self.encoder(x, training=training)
        if not self.clusters:
            return outputs, None
        return outputs[:, :self.latent_dim], tf.nn.softmax(outputs[:, self.latent_dim:])

    def default_adversarial_optimizer(self):
        """Adam(2e-4, beta_1=0.5)."""
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)

    def mixture_means(self):
        """(num_classes, latent_dim) means of the mixture prior."""
        angles = 2.0 * np.pi * np.arange(self.num_classes) / self.num_classes
        means = np.zeros((self.num_classes, self.latent_dim), "float32")
        means[:, 0], means[:, 1] = self.mog_radius * np.cos(angles), self.mog_radius * np.sin(angles)
        return means

    def _prior_from_normal(self, normal, components):
        """Prior codes from standard normal draws and mixture components (ignored by the Gaussian prior)."""
        codes = self.prior_std * normal
        if self.prior == "mog":
            codes += tf.gather(tf.constant(self.mixture_means()), tf.cast(components, tf.int32))
        return codes

    def prior_from_seed(self, num_samples, seed, components=None):
        """Codes from the prior, drawn statelessly from `seed`; mixture components
        uniform unless given (one per code)."""
        num_samples = tf.cast(num_samples, tf.int32)
        seeds = [tf.stack([tf.cast(seed, tf.int64), tf.constant(part, tf.int64)]) for part in range(2)]
        normal = tf.random.stateless_normal(tf.stack([num_samples, self.latent_dim]), seed=seeds[0])
        if components is None:
            components = tf.random.stateless_uniform(
                tf.reshape(num_samples, [1]), seed=seeds[1], maxval=self.num_classes, dtype=tf.int32
            )
        return self._prior_from_normal(normal, components)

    def _one_hot(self, labels):
        return tf.one_hot(tf.cast(tf.reshape(labels, [-1]), tf.int32), self.num_classes)

    def _judge_codes(self, codes, one_hot):
        if self._labelled_prior:
            return self.code_discriminator(tf.concat([codes, one_hot], axis=-1), training=True)
        return self.code_discriminator(codes, training=True)

    def train_step(self, data):
        x, labels = self._unpack(data)
        one_hot = self._one_hot(self._labels_of(labels, " when supervised")) if self.supervised else None
        batch_size = tf.shape(x)[0]

        with tf.GradientTape() as tape:
            codes, cluster_probabilities = self._encode_parts(x, training=True)
            categories = cluster_probabilities if self.clusters else one_hot
            decoded = self.decoder([codes, categories] if self.conditional else codes, training=True)
            reconstruction = losses.mean_squared_reconstruction_loss(x, decoded)
            loss = self._average(reconstruction)
        self._minimize(self.optimizer, tape, loss, self.encoder.trainable_variables + self.decoder.trainable_variables)

        components = (tf.argmax(one_hot, axis=-1) if self._labelled_prior
                      else tf.floor(self._uniform((batch_size,)) * self.num_classes))
        prior_codes = self._prior_from_normal(self._normal((batch_size, self.latent_dim)), components)
        with tf.GradientTape() as tape:
            codes, cluster_probabilities = self._encode_parts(x, training=True)
            d_losses = losses.minimax_discriminator_loss(
                self._judge_codes(prior_codes, one_hot), self._judge_codes(codes, one_hot)
            )
            if self.clusters:
                drawn = tf.cast(tf.floor(self._uniform((batch_size,)) * self.clusters), tf.int32)
                prior_categories = tf.one_hot(drawn, self.clusters)
                d_losses += losses.minimax_discriminator_loss(
                    self.category_discriminator(prior_categories, training=True),
                    self.category_discriminator(cluster_probabilities, training=True),
                )
            d_loss = self._average(d_losses)
        self._minimize(self.d_optimizer, tape, d_loss, self._adversary_variables())

        with tf.GradientTape() as tape:
            codes, cluster_probabilities = self._encode_parts(x, training=True)
            g_losses = losses.non_saturating_generator_loss(self._judge_codes(codes, one_hot))
            if self.clusters:
                g_losses += losses.non_saturating_generator_loss(
                    self.category_discriminator(cluster_probabilities, training=True)
                )
            g_loss = self._average(g_losses)
        self._minimize(self.g_optimizer, tape, g_loss, self.encoder.trainable_variables)
        return self._report(
            reconstruction_loss=tf.reduce_mean(reconstruction), d_loss=tf.reduce_mean(d_losses),
            g_loss=tf.reduce_mean(g_losses),
        )

    def encode_op(self, x):
        """Codes (the style codes, with `clusters`)."""
        return self._encode_parts(x, training=False)[0]

    def cluster_op(self, x):
        """The cluster probabilities of each example (with `clusters`)."""
        return self._encode_parts(x, training=False)[1]

    def decode_op(self, z, labels=None):
        """Codes to data; supervised and clustering AAEs take categories too (cycled through when None)."""
        if not self.conditional:
            if labels is not None:
                raise ValueError("This aae is unsupervised; call decode(z) without labels.")
            return self.decoder(z, training=False)
        z = tf.convert_to_tensor(z, tf.float32)
        if labels is None:
            labels = tf.math.floormod(tf.range(tf.shape(z)[0]), self.num_classes)
        return self.decoder([z, self._one_hot(labels)], training=False)

    def generate(self, z, labels=None):
        return self.decode_op(z, labels)

    def generate_from_seed(self, num_samples, seed, labels=None):
        """Decoded prior codes; supervised and clustering AAEs take one category per sample (or cycle them)."""
        if labels is None:
            return self.generate(self.prior_from_seed(num_samples, seed))
        # Under the labelled mixture a class's codes come from its own component.
        z = self.prior_from_seed(num_samples, seed, components=labels if self._labelled_prior else None)
        return self.decode_op(z, labels)
