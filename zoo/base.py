"""The shared `keras.Model` bases every variant builds on.

A variant owns its sub-networks (standalone functional models held as
attributes), one optimizer per player, and a `train_step` written per replica,
so that one code path runs on one device, under tf.distribute and under XLA.
"""

import functools

import numpy as np
import tensorflow as tf

import keras

from keras_gan_zoo import data as zoo_data
from keras_gan_zoo import losses, xla
from keras_gan_zoo import capabilities
from keras_gan_zoo.capabilities import GenerativeAPI
from keras_gan_zoo.serialization import ConstructorConfig, as_network


def _share_overflow(gradients):
    """Makes an overflow on any replica show in every replica's gradients.

    Keras's `LossScaleOptimizer` decides whether to skip a step from the first
    replica's gradients, before they are summed across replicas, so an
    overflow on another replica alone would reach the weights as inf or NaN.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return gradients
    local_finite = tf.reduce_all(
        [tf.reduce_all(tf.math.is_finite(g)) for g in gradients if g is not None]
    )
    # ReduceOp has no MIN: count the replicas that overflowed.
    overflows = context.all_reduce("sum", 1.0 - tf.cast(local_finite, tf.float32))
    all_finite = overflows == 0
    return [
        None if g is None else tf.where(all_finite, g, tf.fill(tf.shape(g), tf.constant(np.nan, g.dtype)))
        for g in gradients
    ]


def _spans_several_workers(strategy):
    """True for a MultiWorkerMirroredStrategy with more replicas than this worker holds."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)
    )


class GenerativeModel(ConstructorConfig, GenerativeAPI, keras.Model):
    """Data shape, latent size, noise, sampling and the optimizer plumbing.

    Args:
        data_shape: shape of one example, e.g. `(2,)` or `(28, 28, 1)`.
        latent_dim: size of the latent code.
        seed: seed of the training noise; `None` draws one.
    """

    # Set by `zoo.registry.register`: the name `zoo.create` knows the class by.
    registered_name = None
    # The training options (packing, feature matching, ...) the variant takes; none here.
    techniques = frozenset()

    def __init__(self, data_shape, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.latent_dim = int(latent_dim)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._trackers = {}
        self._optimizer_names = ()
        # What XLA compiles once `compile` ran: None, xla.WHOLE_STEP or xla.AUTO_CLUSTERING.
        self.xla_compiles = None

    # -- construction helpers -------------------------------------------------

    def networks(self):
        """`{attribute: network}` for every trainable standalone network the model holds."""
        return {
            name: value for name, value in vars(self).items()
            if isinstance(value, keras.Model) and value.trainable and not name.startswith("_")
        }

    def _add_trackers(self, *names):
        for name in names:
            self._trackers[name] = keras.metrics.Mean(name=name)

    def _finish_build(self):
        """Marks the model built, so `fit` never tries to call it on data.

        Custom-`train_step` models have no `call`; Keras would otherwise try to
        build them symbolically and fail under MirroredStrategy.
        """
        self.built = True

    def _check_network(self, network, role, input_shape, output_shape):
        got_in = tuple(network.input_shape[1:])
        got_out = tuple(network.output_shape[1:])
        if got_in != tuple(input_shape) or got_out != tuple(output_shape):
            raise ValueError(
                f"The {role} of {type(self).__name__} must map inputs of shape "
                f"{tuple(input_shape)} to outputs of shape {tuple(output_shape)}; "
                f"the one given maps {got_in} to {got_out}."
            )

    # -- compile --------------------------------------------------------------

    def _compile_players(self, players, jit_compile="auto", **kwargs):
        """Attaches one optimizer per player and creates its variables now.

        Args:
            players: `{attribute: (optimizer_or_None, default_factory, variables)}`.
        """
        jit_compile, self.xla_compiles = xla.resolve(jit_compile, self._distribute_strategy)
        # optimizer=None: otherwise Keras makes an unused RMSprop over every variable.
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        for attribute, (optimizer, default_factory, variables) in players.items():
            optimizer = keras.optimizers.get(optimizer) or default_factory()
            if self._needs_loss_scaling(optimizer):
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            # Built here, inside the caller's strategy scope, because Keras only
            # builds `self.optimizer` itself (keras issues #19229, #20164).
            optimizer.build(variables)
            setattr(self, attribute, optimizer)
        self._optimizer_names = tuple(players)

    @staticmethod
    def _needs_loss_scaling(optimizer):
        """float16 gradients underflow without it; bfloat16 has float32's range."""
        policy = keras.mixed_precision.global_policy().name
        return policy == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        )

    @property
    def optimizer_names(self):
        """The attributes holding this model's optimizers, once compiled."""
        return self._optimizer_names

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            name: keras.optimizers.serialize(getattr(self, name))
            for name in self._optimizer_names
        }

    def compile_from_config(self, config):
        self.compile(
            **{name: keras.optimizers.deserialize(value) for name, value in config.items()}
        )

    # -- training helpers -----------------------------------------------------

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _report(self, **values):
        for name, value in values.items():
            self._trackers[name].update_state(value)
        results = {name: tracker.result() for name, tracker in self._trackers.items()}
        if _spans_several_workers(self.distribute_strategy):
            # Keras averages step outputs across workers along axis 0, which
            # scalars lack (keras/src/backend/tensorflow/trainer.py, reduce_per_replica).
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    def _unpack(self, data):
        """Splits a batch into `(x, y)`; `y` is None for unlabelled data."""
        if isinstance(data, (tuple, list)):
            x = data[0]
            y = data[1] if len(data) > 1 else None
        else:
            x, y = data, None
        self._check_batch_shape(x)
        return x, y

    def _labels_of(self, labels, why):
        """The batch's labels as an int32 vector; without labels, an error saying how to get them."""
        if labels is None:
            raise ValueError(
                f"{self.registered_name or type(self).__name__} trains on labelled batches (x, y){why}; got "
                "examples without labels. Use zoo.data.load(name, with_labels=True), or zoo.data.pipeline(x, y)."
            )
        return tf.cast(tf.reshape(labels, [-1]), tf.int32)

    def _check_batch_shape(self, x):
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"{type(self).__name__} was built for examples of shape "
                f"{self.data_shape}, but the data has examples of shape "
                f"{tuple(x.shape[1:])}. Build the model for this data, e.g. "
                f"zoo.create(..., data_shape={tuple(x.shape[1:])})."
            )

    def _normal(self, shape):
        """Standard normal noise for this replica's share of the global batch.

        Every replica draws the noise of the whole global batch from the same
        stateless seed and keeps its own slice, in the order the strategy
        splits the data. Replicas so get different noise (a `SeedGenerator`
        alone gives them identical draws), and a step on N replicas sees the
        very noise a step on one device would draw for the same global batch.
        """
        return self._replica_slice(tf.random.stateless_normal, shape)

    def _uniform(self, shape):
        """Uniform [0, 1) noise, split across replicas as `_normal` is."""
        return self._replica_slice(tf.random.stateless_uniform, shape)

    def _replica_slice(self, draw, shape):
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync
        replica_id = tf.cast(context.replica_id_in_sync_group, tf.int32)
        shape = tf.convert_to_tensor(shape, tf.int32)
        per_replica = shape[0]
        global_shape = tf.concat([[per_replica * replicas], shape[1:]], axis=0)
        noise = draw(global_shape, seed=self.seed_generator.next())
        return noise[replica_id * per_replica:(replica_id + 1) * per_replica]

    def _latent_noise(self, batch_size):
        return self._normal((batch_size, self.latent_dim))

    @staticmethod
    def _average(per_example_loss):
        return tf.nn.compute_average_loss(per_example_loss)

    @staticmethod
    def _labelled_losses(labels, class_logits):
        """Per-example cross-entropy on the labelled examples (label -1: none), scaled so that
        its global-batch average (`_average`) is over the labelled examples only."""
        per_example = losses.partially_labelled_cross_entropy(labels, class_logits)
        context = tf.distribute.get_replica_context()
        labelled = context.all_reduce("sum", tf.reduce_sum(tf.cast(tf.reshape(labels, [-1]) >= 0, tf.float32)))
        global_batch = tf.cast(tf.size(per_example) * context.num_replicas_in_sync, tf.float32)
        return per_example * global_batch / tf.maximum(labelled, 1.0)

    def _minimize(self, optimizer, tape, loss, weights):
        """One step of `optimizer` on `loss`, recorded by `tape`, with loss scaling.

        Seeding backpropagation with the optimizer's loss scale is the same as
        differentiating `optimizer.scale_loss(loss)`, and `apply_gradients`
        divides it out again (a `LossScaleOptimizer` also skips steps whose
        scaled gradients overflowed). Without a scale this is a plain step.
        """
        scale = optimizer.scale_loss(tf.ones_like(loss))
        gradients = tape.gradient(loss, weights, output_gradients=scale)
        gradients = self._regularize_gradients(gradients, weights, scale)
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            gradients = _share_overflow(gradients)
        optimizer.apply_gradients(zip(gradients, weights))
        self._after_update(optimizer, weights)

    def _regularize_gradients(self, gradients, weights, loss_scale):
        """Adds the gradients of weight penalties to the loss's; none here."""
        return gradients

    def _after_update(self, optimizer, weights):
        """Bookkeeping once `optimizer` has updated `weights`; none here."""

    @staticmethod
    def _update_across_replicas(updates):
        """Runs `(variable, update_fn, args)` updates the way optimizers update variables.

        From a replica, `update_fn(variable, *args)` runs once per device in
        cross-replica context, so every replica's copy gets the same value
        (a plain `assign` in replica context is refused for most variables).
        """

        def update_all(strategy):
            for variable, update_fn, args in updates:
                strategy.extended.update(variable.value, update_fn, args=args, group=False)

        tf.distribute.get_replica_context().merge_call(update_all)

    # -- generative API -------------------------------------------------------

    # Whether batches must be (x, y): conditional variants and SGAN.
    trains_on_labels = False

    def training_data(self, x, y=None, batch_size=128, seed=0):
        """The `tf.data` pipeline this model trains on, from arrays (labels kept when it needs them)."""
        return zoo_data.pipeline(x, y if self.trains_on_labels else None, batch_size=batch_size, seed=seed)

    def prior_sample(self, n, seed=None, **prior_options):
        """`n` latent codes from the prior; the same seed gives the same codes anywhere.

        `prior_options` go to `prior_from_seed`, for priors that take more (classes, components).
        """
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        return self.prior_from_seed(tf.constant(n, tf.int32), tf.constant(seed, tf.int64), **prior_options)

    def prior_from_seed(self, num_samples, seed):
        """The prior draw as TensorFlow ops on tensors: `num_samples` int32, `seed` int64.

        Stateless, so an exported `sample` signature returns exactly what
        `sample(n, seed=...)` returns in Python.
        """
        seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        shape = tf.stack([tf.cast(num_samples, tf.int32), self.latent_dim])
        return tf.random.stateless_normal(shape, seed=seed_pair)

    def generate(self, z):
        """Maps latent codes to data. Subclasses define it."""
        raise NotImplementedError

    # Conditional variants (`conditional` true, `num_classes` set) generate
    # the classes asked for.
    conditional = False

    def cycled_labels(self, n):
        """0, 1, ..., K-1, 0, 1, ...: `n` labels covering every class in turn."""
        return tf.math.floormod(tf.range(n), self.num_classes)


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
        self._check_techniques(
            packing=self.packing > 1, minibatch_discrimination=bool(self.minibatch_discrimination),
            feature_matching=bool(feature_matching), virtual_batch_norm=bool(virtual_batch_norm),
            gradient_penalty=bool(gradient_penalty),
        )
        if gradient_penalty < 0:
            raise ValueError(
                f"gradient_penalty must be >= 0 (0 = none; 10 in Gulrajani et al.), got {gradient_penalty}."
            )
        self.gradient_penalty = float(gradient_penalty)
        self.virtual_batch_norm = int(virtual_batch_norm) if virtual_batch_norm else None
        if self.virtual_batch_norm:
            # The reference batch, fixed once: the generator always sees it first.
            reference = np.random.default_rng(seed or 0).standard_normal((self.virtual_batch_norm, latent_dim))
            self.reference_noise = self.add_weight(
                shape=reference.shape, initializer=keras.initializers.Constant(reference),
                trainable=False, name="reference_noise",
            )
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie strictly between 0 and 1 (e.g. 0.999), got {ema_decay}.")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.generator_loss_fn, self.discriminator_loss_fn = losses.adversarial_loss_pair(loss)
        self.loss_name = loss
        self.label_smoothing = float(label_smoothing)
        self.generator = as_network(generator) or self.build_generator()
        self.discriminator = as_network(discriminator) or self.build_discriminator()
        self._check_generator()
        self._check_discriminator()
        self.feature_matching = bool(feature_matching)
        if historical_averaging < 0:
            raise ValueError(f"historical_averaging must be >= 0, got {historical_averaging}.")
        self.historical_averaging = float(historical_averaging)
        if self.historical_averaging:
            self._historical_means = [
                self.add_weight(shape=w.shape, initializer=keras.initializers.Constant(w.numpy()),
                                trainable=False, name=f"historical_mean_{i}")
                for i, w in enumerate(self._historically_averaged_weights())
            ]
        if self.ema_decay is not None:
            self.ema_generator = keras.models.clone_model(self.generator)
            self.ema_generator.set_weights(self.generator.get_weights())
            self.ema_generator.trainable = False
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
        if not self.historical_averaging:
            return 0.0
        weights = self._historically_averaged_weights()
        return float(losses.historical_averaging_penalty(weights, self._historical_means))

    def _means_of(self, weights):
        if not self.historical_averaging:
            return {}
        means = dict(zip(map(id, self._historically_averaged_weights()), self._historical_means))
        return {id(w): means[id(w)] for w in weights if id(w) in means}

    def _regularize_gradients(self, gradients, weights, loss_scale):
        means = self._means_of(weights)
        if not means:
            return gradients
        # d/dtheta of lambda ||theta - mean||^2, scaled like the loss; every
        # replica adds it and the replicas' gradients are summed, hence the share.
        share = loss_scale * 2.0 * self.historical_averaging / tf.distribute.get_replica_context().num_replicas_in_sync
        return [
            g if id(w) not in means else g + share * (tf.convert_to_tensor(w) - tf.convert_to_tensor(means[id(w)]))
            for g, w in zip(gradients, weights)
        ]

    def _after_update(self, optimizer, weights):
        means = self._means_of(weights)
        if not means:
            return
        # Running mean of the values after updates 0..t: m += (theta - m) / (t + 1).
        rate = 1.0 / (tf.cast(optimizer.iterations, tf.float32) + 1.0)
        self._update_across_replicas([
            (means[id(w)], lambda m, v, r: m.assign(m + (v - m) * r), (w.value, rate))
            for w in weights if id(w) in means
        ])

    @functools.cached_property
    def _feature_model(self):
        """The discriminator up to the layer feeding its output: the last hidden features.

        Cached outside Keras's attribute tracking, so its (shared) weights are
        not saved twice.
        """
        return keras.Model(self.discriminator.inputs, self.discriminator.layers[-2].output)

    def _global_feature_mean(self, x):
        """The mean of the discriminator's last hidden features over the global batch."""
        # float32 under mixed precision: the distance between means is the generator's loss.
        features = tf.cast(self._feature_model(self._pack(x), training=True), tf.float32)
        context = tf.distribute.get_replica_context()
        global_batch = tf.cast(tf.shape(features)[0] * context.num_replicas_in_sync, features.dtype)
        return context.all_reduce("sum", tf.reduce_sum(features, axis=0) / global_batch)

    # The options this variant implements: packing needs judging through
    # `_judge` alone, feature matching the generator step `_generator_step`,
    # minibatch discrimination a discriminator built from `zoo.nets` bodies,
    # virtual batch norm a generator called through `_run_generator`, the
    # gradient penalty the discriminator step `_discriminator_step`.
    techniques = frozenset(
        {"packing", "feature_matching", "minibatch_discrimination", "virtual_batch_norm", "gradient_penalty"}
    )

    def _check_techniques(self, **requested):
        for technique, wanted in requested.items():
            if wanted and technique not in self.techniques:
                offered = ", ".join(sorted(self.techniques)) or "none of them"
                raise ValueError(
                    f"{type(self).__name__} does not support {technique}; it offers {offered}."
                )

    @property
    def discriminator_input_shape(self):
        """The data shape with `packing` examples concatenated along the last axis."""
        return (*self.data_shape[:-1], self.data_shape[-1] * self.packing)

    def _pack(self, x, example_shape=None):
        """(B, ..., C) -> (B / m, ..., m C): m consecutive examples side by side.

        `example_shape` is one example's shape, `data_shape` unless given (a
        joint discriminator packs its codes too).
        """
        if self.packing == 1:
            return x
        example_shape = tuple(self.data_shape if example_shape is None else example_shape)
        message = f"with packing={self.packing} the batch on each replica must be divisible by {self.packing}"
        if x.shape[0] is not None and x.shape[0] % self.packing:
            raise ValueError(f"{message}; got a batch of {x.shape[0]}.")
        check = tf.debugging.assert_equal(tf.shape(x)[0] % self.packing, 0, message=message)
        with tf.control_dependencies([check]):
            packed = tf.reshape(x, [-1, self.packing, *example_shape])
        # Move the m axis next to the last one, then merge them.
        order = [0, *range(2, len(example_shape) + 1), 1, len(example_shape) + 1]
        packed = tf.transpose(packed, order)
        return tf.reshape(packed, [-1, *example_shape[:-1], example_shape[-1] * self.packing])

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

    def _update_ema_generator(self):
        """Moves the averaged generator towards the generator just updated.

        Averages the trainable weights and copies the rest (batch-norm
        statistics).
        """
        if self.ema_decay is None:
            return
        step = tf.cast(self.g_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        trainable = {id(w) for w in self.generator.trainable_weights}
        self._update_across_replicas([
            (average, lambda a, w, r: a.assign(r * a + (1.0 - r) * w),
             (weight.value, decay if id(weight) in trainable else 0.0))
            for average, weight in zip(self.ema_generator.weights, self.generator.weights)
        ])

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
        if condition is not None:
            return self.discriminator([x, condition], training=True)
        return self.discriminator(self._pack(x), training=True)

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
        mixing_shape = tf.concat([[tf.shape(real)[0]], tf.ones([len(self.data_shape)], tf.int32)], axis=0)
        mixing = self._uniform(mixing_shape)
        return mixing * real + (1.0 - mixing) * tf.cast(fake, real.dtype)

    def _penalty_between(self, real, fake, condition):
        """The gradient penalty per judgement, at points between `real` and `fake`."""
        between = self._points_between(real, fake)
        with tf.GradientTape() as tape:
            tape.watch(between)
            logits = self._judge(between, condition)
        # Packing the gradients the way the inputs were packed gives the
        # gradient with respect to each pack, whose norm is penalized.
        return losses.gradient_penalty(self._pack(tape.gradient(logits, between)))

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
        self._update_ema_generator()
        return g_losses


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
        self.encoder = as_network(encoder) or self.build_encoder()
        self.decoder = as_network(decoder) or self.build_decoder()
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
