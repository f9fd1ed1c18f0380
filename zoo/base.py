"""The shared `keras.Model` bases: `GenerativeModel` under every variant, `AutoencoderModel`
under the autoencoders (`AdversarialModel`, under the GANs, is `zoo.adversarial`).

A variant owns its sub-networks (standalone functional models held as
attributes), one optimizer per player, and a `train_step` written per replica,
so that one code path runs on one device, under tf.distribute and under XLA.
"""

import keras

from keras_gan_zoo import capabilities
from keras_gan_zoo import data as zoo_data
from keras_gan_zoo.capabilities import GenerativeAPI
from keras_gan_zoo.serialization import ConstructorConfig, as_network
from keras_gan_zoo.steps import ReplicaSteps


class GenerativeModel(ConstructorConfig, GenerativeAPI, ReplicaSteps, keras.Model):
    """Data shape, latent size and seed, over the shared parts: config from the constructor
    (`zoo.serialization`), the prior and the capabilities' API (`zoo.capabilities`), and the
    replica-safe step (`zoo.steps`).

    Args:
        data_shape: shape of one example, e.g. `(2,)` or `(28, 28, 1)`.
        latent_dim: size of the latent code.
        seed: seed of the training noise; `None` draws one.
    """

    # Set by `zoo.registry.register`: the name `zoo.create` knows the class by.
    registered_name = None
    # The training options (packing, feature matching, ...) the variant takes; none here.
    techniques = frozenset()
    # The manifest of the preset it was loaded from (`zoo.pretrained`); None for a model built here.
    preset = None

    def __init__(self, data_shape, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = int(latent_dim)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._init_steps()

    @classmethod
    def from_preset(cls, preset, compile=True, freeze=()):
        """The pretrained model `preset` (a name from `zoo.pretrained.list()`, a preset folder, or an
        archive's path or URL), checked and compiled, the bodies of the networks in `freeze` frozen:
        `zoo.pretrained.load`, refusing another variant's."""
        from keras_gan_zoo import pretrained

        return pretrained.from_preset(cls, preset, compile=compile, freeze=freeze)

    def freeze_body(self, *roles):
        """Freezes every layer of the networks named in `roles` ("discriminator", "encoder", ...)
        but the last one with weights, its head: for fine-tuning on little data.

        Keras leaves a frozen layer's weights alone, and a frozen batch normalization layer
        normalises with its moving statistics. Call it before `compile`, which gathers what each
        optimizer trains (`zoo.pretrained.load(name, freeze=roles)` does).
        """
        networks = self.networks()
        unknown = [role for role in roles if role not in networks]
        if unknown:
            raise ValueError(f"{type(self).__name__} has no network {', '.join(map(repr, unknown))} to freeze; "
                             f"its networks are: {', '.join(networks)}.")
        if self.compiled:
            raise ValueError("freeze_body must come before compile, which has gathered what each optimizer "
                             "trains: load with compile=False (or build the model), freeze, then compile.")
        for role in roles:
            weighted = [layer for layer in networks[role].layers if layer.weights]
            for layer in weighted[:-1]:
                layer.trainable = False

    # -- construction helpers -------------------------------------------------

    def networks(self):
        """`{attribute: network}` for every trainable standalone network the model holds."""
        return {
            name: value for name, value in vars(self).items()
            if isinstance(value, keras.Model) and value.trainable and not name.startswith("_")
        }

    def _network(self, role, given=None):
        """The network the user gave for `role` (a `keras.Model` or its config), else the
        variant's own `build_<role>()`.

        The bases build the networks inside `__init__`, so a variant sets the options its
        `build_*` methods read before it calls `super().__init__`; one that does not is told so.
        """
        network = as_network(given)
        if network is not None:
            return network
        try:
            return getattr(self, f"build_{role}")()
        except AttributeError as error:
            if error.obj is not self or error.name is None:
                raise
            raise AttributeError(
                f"{type(self).__name__}.build_{role}() reads self.{error.name}, which is not set yet: "
                f"set the variant's own options before calling super().__init__(), which builds the networks."
            ) from error

    def _check_network(self, network, role, input_shape, output_shape):
        got_in = tuple(network.input_shape[1:])
        got_out = tuple(network.output_shape[1:])
        if got_in != tuple(input_shape) or got_out != tuple(output_shape):
            raise ValueError(
                f"The {role} of {type(self).__name__} must map inputs of shape "
                f"{tuple(input_shape)} to outputs of shape {tuple(output_shape)}; "
                f"the one given maps {got_in} to {got_out}."
            )

    # Whether batches must be (x, y): conditional variants and SGAN.
    trains_on_labels = False

    def training_data(self, x, y=None, batch_size=128, seed=0):
        """The `tf.data` pipeline this model trains on, from arrays (labels kept when it needs them)."""
        return zoo_data.pipeline(x, y if self.trains_on_labels else None, batch_size=batch_size, seed=seed)

    def generate(self, z):
        """Maps latent codes to data. Subclasses define it."""
        raise NotImplementedError

    @property
    def conditional(self):
        """Whether the networks take the class beside the code (`num_classes` of them): what
        offering `generate_labelled` means (cgan, conditional wgan_gp, latent_gan, supervised
        or clustering aae)."""
        return capabilities.GENERATE_LABELLED in self.capabilities


class AutoencoderModel(GenerativeModel):
    """An encoder and a decoder trained together by one optimizer.

    Subclasses give `build_encoder`, `build_decoder`, `encode`, `decode` and
    `train_step`.

    Args:
        data_shape: shape of one example.
        latent_dim: size of the code.
        encoder: a `keras.Model` from data to the code (or its parameters);
            built when None.
        decoder: a `keras.Model` from codes to data; built when None.
        seed: seed of the training noise.
    """

    encoder_output_factor = 1
    capabilities = frozenset({capabilities.SAMPLE, capabilities.ENCODE, capabilities.DECODE})

    def __init__(self, data_shape, latent_dim, encoder=None, decoder=None, seed=None, **kwargs):
        super().__init__(data_shape, latent_dim, seed=seed, **kwargs)
        self.encoder = self._network("encoder", encoder)
        self.decoder = self._network("decoder", decoder)
        code_size = self.encoder_output_factor * self.latent_dim
        self._check_network(self.encoder, "encoder", self.data_shape, (code_size,))
        self._check_network(self.decoder, "decoder", (self.latent_dim,), self.data_shape)

    def build_encoder(self):
        raise NotImplementedError

    def build_decoder(self):
        raise NotImplementedError

    def default_optimizer(self):
        """Adam(1e-3)."""
        return keras.optimizers.Adam(learning_rate=1e-3)

    def compile(self, optimizer=None, **kwargs):
        """Args: `optimizer` (default `default_optimizer()`) and Keras's own
        compile arguments such as `jit_compile`."""
        self._compile_players(
            {"optimizer": (optimizer, self.default_optimizer, self.trainable_variables)},
            **kwargs,
        )

    def _apply(self, loss, tape):
        self._minimize(self.optimizer, tape, loss, self.trainable_weights)

    def generate(self, z):
        return self.decode_op(z)
