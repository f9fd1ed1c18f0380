"""`AdversarialModel`: a generator against a discriminator, the base of the GAN variants.

Its train step is a discriminator step and a generator step, each one tape and
one optimizer; the techniques it takes (`zoo.techniques`) are options of its
constructor: packing (a discriminator wrapper, `zoo.nets.packing.Packed`), feature matching, minibatch
discrimination and virtual batch norm (network options), historical averaging
and the generator's moving average (hooks on the minimize step), a gradient
penalty, and one-hot conditioning of both players.
"""

import functools

import tensorflow as tf

import keras

from keras_gan_zoo import losses, nets, techniques
from keras_gan_zoo.base import GenerativeModel


class AdversarialModel(GenerativeModel):
    """A generator against a discriminator, one tape and one optimizer each.

    Subclasses give `build_generator` and `build_discriminator`; the losses
    come from `zoo.losses` by name.

    Args:
        data_shape: shape of one example.
        latent_dim: size of the generator's input noise.
        generator: a `keras.Model` from latent codes to data; built when None.
        discriminator: a `keras.Model` from data to one logit; built when None.
        loss: "non_saturating" (default), "minimax" or "wasserstein" (the
            discriminator a critic; pair it with `gradient_penalty`, which
            keeps the critic near 1-Lipschitz).
        label_smoothing: one-sided label smoothing of the real targets.
        feature_matching: the generator minimizes the squared distance between
            the batch means of the discriminator's last hidden features on
            real and generated data (Salimans et al. 2016, section 3.1)
            instead of its adversarial loss.
        minibatch_discrimination: `(B, C)` inserts a minibatch discrimination
            layer (`zoo.layers.MinibatchDiscrimination`) before the
            discriminator's output layer (Salimans et al. 2016, section 3.2).
        virtual_batch_norm: R replaces the generator's batch normalization by
            virtual batch normalization (`zoo.layers.VirtualBatchNormalization`)
            against a fixed reference batch of R latent codes (Salimans et al.
            2016, section 3.4); MLP generators get it after every hidden layer.
        historical_averaging: lambda > 0 adds lambda ||theta - mean of past
            theta||^2 to each player's loss over the generator's and the
            discriminator's weights (Salimans et al. 2016, section 3.3).
        packing: m >= 2 makes the discriminator judge m examples at once,
            concatenated (PacGAN, Lin et al. 2018): along the features of
            vectors, along the channels of images. The batch on each replica
            must be divisible by m. Variants that judge examples their own way
            refuse it.
        gradient_penalty: lambda > 0 adds lambda (||grad D(x_hat)|| - 1)^2 to
            the discriminator's loss at points x_hat drawn uniformly between
            real and generated examples (Gulrajani et al. 2017's penalty on
            the GAN's own loss, as in Fedus et al. 2018, "Many Paths to
            Equilibrium"). It keeps the discriminator's logit sloped along
            the way from the generator's samples to modes they miss, which a
            free discriminator flattens. Under packing the norm is a pack's.
        diff_augment: names of transformations from `zoo.techniques.AUGMENTATIONS`
            ("translation", "cutout") applied, differentiably, to every image the
            discriminator judges in training, real or generated (Zhao et al. 2020):
            for images, when the discriminator could memorise a small training set.
        ema_decay: when set (e.g. 0.999), the model keeps an exponential moving
            average of the generator's weights, `ema_generator`, and samples,
            generates and exports with it. The decay warms up as
            `min(ema_decay, (1 + t) / (10 + t))` over generator steps `t`, so
            early weights fade fast.
        seed: seed of the training noise.
    """

    def __init__(
        self,
        data_shape,
        latent_dim,
        generator=None,
        discriminator=None,
        loss="non_saturating",
        label_smoothing=0.0,
        feature_matching=False,
        minibatch_discrimination=None,
        virtual_batch_norm=None,
        historical_averaging=0.0,
        packing=1,
        gradient_penalty=0.0,
        diff_augment=(),
        ema_decay=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(data_shape, latent_dim, seed=seed, **kwargs)
        if int(packing) < 1:
            raise ValueError(f"packing must be >= 1 (1 = no packing), got {packing}.")
        self.packing = int(packing)
        self.minibatch_discrimination = (
            [int(k) for k in minibatch_discrimination] if minibatch_discrimination else None
        )
        techniques.check_techniques(
            self, packing=self.packing > 1, minibatch_discrimination=bool(self.minibatch_discrimination),
            feature_matching=bool(feature_matching), virtual_batch_norm=bool(virtual_batch_norm),
            gradient_penalty=bool(gradient_penalty), diff_augment=bool(diff_augment),
        )
        # One name alone is one transformation, not the letters of one.
        self.diff_augment = (diff_augment,) if isinstance(diff_augment, str) else tuple(diff_augment or ())
        if self.diff_augment:
            techniques.check_augmentations(self.diff_augment, data_shape)
        if gradient_penalty < 0:
            raise ValueError(
                f"gradient_penalty must be >= 0 (0 = none; 10 in Gulrajani et al.), got {gradient_penalty}."
            )
        self.gradient_penalty = float(gradient_penalty)
        self.virtual_batch_norm = int(virtual_batch_norm) if virtual_batch_norm else None
        if self.virtual_batch_norm:
            # The reference batch, fixed once: the generator always sees it first.
            self.reference_noise = techniques.reference_noise(self, self.virtual_batch_norm, latent_dim, seed)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.generator_loss_fn, self.discriminator_loss_fn = losses.adversarial_loss_pair(loss)
        self.loss_name = loss
        self.label_smoothing = float(label_smoothing)
        self.generator = self._network("generator", generator)
        self.discriminator = self._network("discriminator", discriminator)
        self._check_generator()
        self._check_discriminator()
        self.feature_matching = bool(feature_matching)
        if historical_averaging < 0:
            raise ValueError(f"historical_averaging must be >= 0, got {historical_averaging}.")
        self.historical_averaging = float(historical_averaging)
        self._historical = None
        if self.historical_averaging:
            self._historical = techniques.HistoricalAveraging(
                self, self.historical_averaging, self._historically_averaged_weights())
            self.add_step_hook(self._historical)
        if self.ema_decay is not None:
            self.add_step_hook(techniques.GeneratorAverage(self, self.ema_decay))
        self._add_trackers("d_loss", "g_loss")
        self._finish_build()

    def build_generator(self):
        raise NotImplementedError

    def build_discriminator(self):
        raise NotImplementedError

    def _historically_averaged_weights(self):
        return self.generator.trainable_weights + self.discriminator.trainable_weights

    def historical_penalty(self):
        """||theta - mean of past theta||^2 over both players' weights, as a float (0 when off)."""
        return self._historical.penalty() if self._historical else 0.0

    @functools.cached_property
    def _feature_model(self):
        """The discriminator's last hidden features (feature matching's space).

        Cached outside Keras's attribute tracking, so its (shared) weights are
        not saved twice.
        """
        return techniques.feature_model(self.discriminator)

    def _global_feature_mean(self, x):
        return techniques.global_feature_mean(self.packed(self._feature_model)(x, training=True))

    # The options this variant implements (diff_augment only where every judgement in
    # training goes through `_judge`, on images): packing needs judging through
    # `packed()` alone, feature matching the generator step `_generator_step`,
    # minibatch discrimination a discriminator built from `zoo.nets` bodies,
    # virtual batch norm a generator called through `_run_generator`, the
    # gradient penalty the discriminator step `_discriminator_step`.
    techniques = frozenset(techniques.ALL) - {"diff_augment"}

    @property
    def discriminator_input_shape(self):
        """The data shape with `packing` examples concatenated along the last axis."""
        return nets.packing.packed_shape(self.data_shape, self.packing)

    # The shape of one example of each discriminator input (a joint discriminator adds its code's).
    @property
    def discriminator_example_shapes(self):
        return [self.data_shape]

    def packed(self, network=None):
        """`network` (default the discriminator) called on single examples, `packing` of them to a
        judgement (`zoo.nets.packing.Packed`; the network itself when `packing` is 1)."""
        network = self.discriminator if network is None else network
        return nets.packing.Packed(network, self.packing, self.discriminator_example_shapes)

    def _check_discriminator(self):
        if self.conditional:
            self._check_two_inputs(self.discriminator, "discriminator", self.data_shape, (1,))
        else:
            self._check_network(self.discriminator, "discriminator", self.discriminator_input_shape, (1,))

    def _check_generator(self):
        if self.conditional:
            self._check_two_inputs(self.generator, "generator", (self.latent_dim,), self.data_shape)
        else:
            self._check_network(self.generator, "generator", (self.latent_dim,), self.data_shape)

    def _check_two_inputs(self, network, role, first_input, output):
        expected = [tuple(first_input), (self.num_classes,)]
        got = [tuple(s[1:]) for s in network.input_shape] if isinstance(network.input_shape, list) else None
        if got != expected or tuple(network.output_shape[1:]) != tuple(output):
            raise ValueError(
                f"The {role} of conditional {type(self).__name__} must map [{expected[0]}, one-hot classes "
                f"{expected[1]}] to {tuple(output)}; the one given maps {got or network.input_shape[1:]} to "
                f"{tuple(network.output_shape[1:])}."
            )

    def generator_side_variables(self):
        """What `g_optimizer` trains: the generator's variables (and an encoder's, in BiGAN)."""
        return self.generator.trainable_variables

    def discriminator_side_variables(self):
        """What `d_optimizer` trains: the discriminator's variables (and InfoGAN's Q head)."""
        return self.discriminator.trainable_variables

    def default_optimizer(self):
        """Adam(2e-4, beta_1=0.5), the DCGAN paper's setting."""
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)

    def default_generator_optimizer(self):
        """The generator's default: `default_optimizer()` unless a paper sets its own."""
        return self.default_optimizer()

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Args: `g_optimizer` (default `default_generator_optimizer()`), `d_optimizer`
        (default `default_optimizer()`), and Keras's own compile arguments such as `jit_compile`."""
        self._compile_players(
            {
                "g_optimizer": (g_optimizer, self.default_generator_optimizer, self.generator_side_variables()),
                "d_optimizer": (d_optimizer, self.default_optimizer, self.discriminator_side_variables()),
            },
            **kwargs,
        )

    def generate(self, z, labels=None):
        """Maps latent codes to data, with the averaged generator when there is one.

        Conditional variants take the classes in `labels` (cycled through
        when None); the others refuse labels.
        """
        generator = self.generator if self.ema_decay is None else self.ema_generator
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{type(self).__name__} is unconditional; call generate(z) without labels.")
            return self._run_generator(generator, z, training=False)
        z = tf.convert_to_tensor(z, tf.float32)
        if labels is None:
            labels = self.cycled_labels(tf.shape(z)[0])
        return generator([z, tf.one_hot(tf.cast(labels, tf.int32), self.num_classes)], training=False)

    # Conditional variants feed the one-hot class to both players as a second input.

    @property
    def trains_on_labels(self):
        return self.conditional

    def _condition(self, labels):
        """What the players are conditioned on: the batch's one-hot labels, or None."""
        if not self.conditional:
            return None
        return tf.one_hot(self._labels_of(labels, " when conditional"), self.num_classes)

    def _fake(self, z, condition):
        if condition is not None:
            return self.generator([z, condition], training=True)
        return self._run_generator(self.generator, z, training=True)

    def _run_generator(self, generator, z, training):
        """`generator(z)`, with the reference batch in front under virtual batch norm."""
        if not self.virtual_batch_norm:
            return generator(z, training=training)
        reference = tf.convert_to_tensor(self.reference_noise)
        outputs = generator(tf.concat([reference, tf.cast(z, reference.dtype)], axis=0), training=training)
        return outputs[self.virtual_batch_norm:]

    def _judge(self, x, condition):
        if self.diff_augment:
            x = techniques.diff_augment(x, self.diff_augment, self._uniform)
        if condition is not None:
            return self.discriminator([x, condition], training=True)
        return self.packed()(x, training=True)

    def train_step(self, data):
        real, labels = self._unpack(data)
        condition = self._condition(labels)
        batch_size = tf.shape(real)[0]
        d_losses = self._discriminator_step(real, batch_size, condition)
        g_losses = self._generator_step(batch_size, condition, real)
        return self._report(d_loss=tf.reduce_mean(d_losses), g_loss=tf.reduce_mean(g_losses))

    def _discriminator_step(self, real, batch_size, condition=None):
        """One discriminator update on `real` and fresh fakes; per-example losses."""
        with tf.GradientTape() as tape:
            fake = self._fake(self._latent_noise(batch_size), condition)
            real_logits = self._judge(real, condition)
            fake_logits = self._judge(fake, condition)
            d_losses = self.discriminator_loss_fn(
                real_logits, fake_logits, label_smoothing=self.label_smoothing
            )
            if self.gradient_penalty:
                penalty = self._penalty_between(real, fake, condition)
                d_losses += self.gradient_penalty * tf.cast(penalty, d_losses.dtype)
            d_loss = self._average(d_losses)
        self._minimize(self.d_optimizer, tape, d_loss, self.discriminator.trainable_weights)
        return d_losses

    def _points_between(self, real, fake):
        """One point drawn uniformly on the segment from each real example to its fake."""
        return techniques.points_between(real, fake, self._uniform(techniques.mixing_shape(real)))

    def _penalty_between(self, real, fake, condition):
        """The gradient penalty per judgement, at points between `real` and `fake`."""
        between = self._points_between(real, fake)
        with tf.GradientTape() as tape:
            tape.watch(between)
            logits = self._judge(between, condition)
        # Packing the gradients the way the inputs were packed gives the
        # gradient with respect to each pack, whose norm is penalized.
        return losses.gradient_penalty(self.packed().pack(tape.gradient(logits, between)))

    def _generator_step(self, batch_size, condition=None, real=None):
        """One generator update on fresh noise (and the average that follows it).

        Returns per-example losses, or with feature matching the one
        feature distance (which needs the `real` batch).
        """
        with tf.GradientTape() as tape:
            fake = self._fake(self._latent_noise(batch_size), condition)
            if self.feature_matching:
                g_losses = losses.feature_matching_loss(
                    self._global_feature_mean(real), self._global_feature_mean(fake)
                )
                # Every replica computes the same distance; their gradients are summed.
                g_loss = g_losses / tf.distribute.get_replica_context().num_replicas_in_sync
            else:
                g_losses = self.generator_loss_fn(self._judge(fake, condition))
                g_loss = self._average(g_losses)
        self._minimize(self.g_optimizer, tape, g_loss, self.generator.trainable_weights)
        return g_losses
