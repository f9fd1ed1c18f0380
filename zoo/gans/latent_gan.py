"""L-GAN: a GAN over an autoencoder's latent space, one per class (seed 000_84d80e5d62910adb)."""

import keras
import numpy as np
import tensorflow as tf

from keras_gan_zoo import losses, nets
from keras_gan_zoo.base import GenerativeModel
from keras_gan_zoo.serialization import as_network
from keras_gan_zoo.capabilities import GENERATE_LABELLED, LABELLED_SAMPLE, SAMPLE
from keras_gan_zoo.nets import per_class
from keras_gan_zoo.registry import register


def _pick(per_class_values, labels):
    """[batch, K, ...] values -> [batch, ...]: each example's own class."""
    return tf.gather(per_class_values, tf.cast(labels, tf.int32), axis=1, batch_dims=1)


@register(
    "latent_gan",
    "L-GAN (seed 000): per-class autoencoders; a small GAN emits orthogonal latent bases, "
    "random combinations of which are decoded",
    defaults={"data_shape": (28, 28, 1), "num_classes": 10, "code_dim": 8, "basis_size": 5, "noise_dim": 8,
              "hidden_units": (256,), "gan_units": (64, 64)},
    tiny={"data_shape": (3,), "num_classes": 3, "code_dim": 3, "basis_size": 2, "noise_dim": 2,
          "hidden_units": (8,), "gan_units": (8,)},
)
class LatentGAN(GenerativeModel):
    """Samples of each class are random linear combinations of a generated
    latent basis, decoded by that class's autoencoder.

    Per class: an autoencoder with a small code (`code_dim`) defines the
    latent space; a small generator turns noise into `basis_size` basis
    vectors and an origin; a sample's code is the origin plus a
    combination of the basis vectors with standard normal coefficients; a
    code discriminator tells these codes from the encodings of real examples
    of the class. A penalty on the squared cosines between the basis vectors
    keeps them orthogonal. Every train step updates the autoencoders on
    reconstruction, then the code discriminators, then the generators.

    The source combines the basis vectors alone; the origin is there because
    a class's encodings do not centre on zero, and a pure combination with
    symmetric coefficients would.

    A latent vector `z` (what `generate` and the exported signatures take)
    is `noise_dim` values of basis noise followed by `basis_size`
    coefficients, all standard normal.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        num_classes: classes, one latent model each, default 10.
        code_dim: size of each autoencoder's code, default 8.
        basis_size: basis vectors per generated basis, default 5 (at most `code_dim`).
        noise_dim: the generator's input noise, default 8.
        hidden_units: the autoencoders' fully connected widths, default `(256,)`.
        gan_units: the generators' and code discriminators' widths, default `(64, 64)`.
        orthogonality_weight: weight of the orthogonality penalty, default 10
            (on Fashion-MNIST, 1 left a mean absolute cosine of 0.13 between
            basis vectors after 4,000 steps, 10 one of 0.04).
        encoder, decoder, generator, code_discriminator: the per-class networks
            (as `zoo.nets.per_class` builds them); built when None.
        seed: seed of the training noise.

    Examples:
        >>> import numpy as np
        >>> import keras_gan_zoo as zoo
        >>> lgan = zoo.create("latent_gan", data_shape=(2,), num_classes=2, code_dim=2, basis_size=2)
        >>> lgan.compile()
        >>> x, y = zoo.data.synthetic.ring8(num_examples=400)
        >>> lgan.fit(zoo.data.pipeline(x, y % 2, batch_size=100), epochs=1, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> lgan.sample(4, labels=[0, 1, 1, 0], seed=0).shape
        (4, 2)
    """

    capabilities = frozenset({SAMPLE, LABELLED_SAMPLE, GENERATE_LABELLED})
    trains_on_labels = True

    def __init__(
        self, data_shape=(28, 28, 1), num_classes=10, code_dim=8, basis_size=5, noise_dim=8, hidden_units=(256,),
        gan_units=(64, 64), orthogonality_weight=10.0, encoder=None, decoder=None, generator=None,
        code_discriminator=None, seed=None, **kwargs
    ):
        if not 2 <= int(basis_size) <= int(code_dim):
            raise ValueError(
                f"basis_size must be between 2 and code_dim ({code_dim}): orthogonal vectors in a "
                f"{code_dim}-d code space number at most {code_dim}; got {basis_size}."
            )
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}.")
        self.num_classes, self.code_dim = int(num_classes), int(code_dim)
        self.basis_size, self.noise_dim = int(basis_size), int(noise_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.gan_units = tuple(int(u) for u in gan_units)
        self.orthogonality_weight = float(orthogonality_weight)
        super().__init__(data_shape, self.noise_dim + self.basis_size, seed=seed, **kwargs)
        self.encoder = as_network(encoder) or self._per_class_encoders()
        self.decoder = as_network(decoder) or self._per_class_decoders()
        self.generator = as_network(generator) or self._per_class_generators()
        self.code_discriminator = as_network(code_discriminator) or self._per_class_code_discriminators()
        self._check_shapes()
        self._add_trackers("reconstruction_loss", "d_loss", "g_loss", "orthogonality")
        self._finish_build()

    # -- networks -------------------------------------------------------------

    def _per_class_encoders(self):
        encoders = [nets.mlp_encoder(self.data_shape, self.code_dim, self.hidden_units, name=f"encoder_{k}")
                    for k in range(self.num_classes)]
        return per_class.shared_input(encoders, self.data_shape, "encoder")

    def _per_class_decoders(self):
        activation = "tanh" if nets.is_image_shape(self.data_shape) else None
        decoders = [nets.mlp_decoder(self.code_dim, self.data_shape, self.hidden_units, activation, f"decoder_{k}")
                    for k in range(self.num_classes)]
        return per_class.split_input(decoders, self.code_dim, "decoder")

    def _per_class_generators(self):
        # Row 0 of each generated basis is its origin, rows 1.. its vectors.
        generators = [nets.mlp_decoder(self.noise_dim, (self.basis_size + 1, self.code_dim), self.gan_units,
                                       name=f"generator_{k}") for k in range(self.num_classes)]
        return per_class.shared_input(generators, (self.noise_dim,), "generator")

    def _per_class_code_discriminators(self):
        discriminators = [nets.mlp_encoder((self.code_dim,), 1, self.gan_units, name=f"code_discriminator_{k}")
                          for k in range(self.num_classes)]
        return per_class.split_input(discriminators, self.code_dim, "code_discriminator")

    def _check_shapes(self):
        k, d = self.num_classes, self.code_dim
        self._check_network(self.encoder, "encoder", self.data_shape, (k, d))
        self._check_network(self.decoder, "decoder", (k, d), (k, *self.data_shape))
        self._check_network(self.generator, "generator", (self.noise_dim,), (k, self.basis_size + 1, d))
        self._check_network(self.code_discriminator, "code discriminator", (k, d), (k, 1))

    # -- the latent model -----------------------------------------------------

    def _every_class(self, codes):
        """[batch, d] codes -> [batch, K, d], so that each class's network can read them."""
        return tf.tile(codes[:, None, :], [1, self.num_classes, 1])

    def bases(self, noise, labels, training=False):
        """The generated bases of the labelled classes: [batch, basis_size + 1, code_dim], origin first."""
        return _pick(self.generator(noise, training=training), labels)

    def codes(self, z, labels, training=False):
        """Latent vectors -> (codes, bases): each code is its basis' origin plus the
        basis vectors weighted by z's coefficients."""
        z = tf.convert_to_tensor(z, tf.float32)
        noise, coefficients = z[:, :self.noise_dim], z[:, self.noise_dim:]
        basis = self.bases(noise, labels, training)
        return basis[:, 0] + tf.einsum("bk,bkd->bd", coefficients, basis[:, 1:]), basis

    def _judge(self, codes, labels):
        return _pick(self.code_discriminator(self._every_class(codes), training=True), labels)

    def train_step(self, data):
        x, labels = self._unpack(data)
        labels = self._labels_of(labels, ", one latent model per class")
        batch_size = tf.shape(x)[0]
        autoencoders = self.encoder.trainable_variables + self.decoder.trainable_variables

        with tf.GradientTape() as tape:
            encodings = self.encoder(x, training=True)
            reconstruction = losses.mean_squared_reconstruction_loss(
                x, _pick(self.decoder(encodings, training=True), labels))
            loss = self._average(reconstruction)
        self._minimize(self.optimizer, tape, loss, autoencoders)
        real_codes = tf.stop_gradient(_pick(encodings, labels))

        with tf.GradientTape() as tape:
            fake_codes, _ = self.codes(self._latent_noise(batch_size), labels, training=True)
            d_losses = losses.minimax_discriminator_loss(self._judge(real_codes, labels),
                                                         self._judge(fake_codes, labels))
            d_loss = self._average(d_losses)
        self._minimize(self.d_optimizer, tape, d_loss, self.code_discriminator.trainable_variables)

        with tf.GradientTape() as tape:
            fake_codes, basis = self.codes(self._latent_noise(batch_size), labels, training=True)
            adversarial = losses.non_saturating_generator_loss(self._judge(fake_codes, labels))
            orthogonality = losses.orthogonality_penalty(basis[:, 1:])
            g_losses = adversarial + self.orthogonality_weight * orthogonality
            g_loss = self._average(g_losses)
        self._minimize(self.g_optimizer, tape, g_loss, self.generator.trainable_variables)
        return self._report(
            reconstruction_loss=tf.reduce_mean(reconstruction), d_loss=tf.reduce_mean(d_losses),
            g_loss=tf.reduce_mean(adversarial), orthogonality=tf.reduce_mean(orthogonality),
        )

    # -- compile --------------------------------------------------------------

    def default_optimizer(self):
        """The autoencoders' default: Adam(1e-3)."""
        return keras.optimizers.Adam(learning_rate=1e-3)

    def default_adversarial_optimizer(self):
        """The latent GANs' default: Adam(2e-4, beta_1=0.5)."""
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)

    def compile(self, optimizer=None, g_optimizer=None, d_optimizer=None, **kwargs):
        """Args: `optimizer` (the autoencoders), `g_optimizer` and `d_optimizer`
        (the latent GANs), and Keras's compile arguments."""
        self._compile_players(
            {
                "optimizer": (optimizer, self.default_optimizer,
                              self.encoder.trainable_variables + self.decoder.trainable_variables),
                "g_optimizer": (g_optimizer, self.default_adversarial_optimizer, self.generator.trainable_variables),
                "d_optimizer": (d_optimizer, self.default_adversarial_optimizer,
                                self.code_discriminator.trainable_variables),
            },
            **kwargs,
        )

    # -- generative API -------------------------------------------------------

    def generate(self, z, labels=None):
        """Latent vectors -> data of the classes in `labels` (cycled through when None)."""
        z = tf.convert_to_tensor(z, tf.float32)
        labels = self.cycled_labels(tf.shape(z)[0]) if labels is None else tf.cast(labels, tf.int32)
        codes, _ = self.codes(z, labels)
        return _pick(self.decoder(self._every_class(codes), training=False), labels)

    def basis_cosines(self, num_bases=500, seed=0):
        """|cosine| between the vectors of `num_bases` generated bases per class: [K, num_bases, pairs]."""
        noise = tf.random.stateless_normal([num_bases, self.noise_dim], seed=[seed, 0])
        every = self.generator(noise, training=False)[:, :, 1:]
        cosines = [losses.basis_cosines(every[:, k]) for k in range(self.num_classes)]
        return np.abs(keras.ops.convert_to_numpy(tf.stack(cosines)))
