"""The replica-safe training step every variant's `train_step` is written with.

`ReplicaSteps` holds what a per-replica step needs and nothing about any
variant: one optimizer per player built in the strategy's scope, loss scaling
whose overflow is shared across replicas, losses averaged over the global
batch, noise sliced from the global batch's draw, metric trackers, and updates
of non-trainable state that every replica agrees on. Techniques that act on a
step (historical averaging, the generator's moving average) hook into
`_minimize` as `StepHook`s (`zoo.techniques`). `group_batches` and
`ReplicaSteps.grouping_batches` run several steps per call on batches fetched
several at a time.
"""

import contextlib

import numpy as np
import tensorflow as tf

import keras

from keras_gan_zoo import losses, xla


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


def update_across_replicas(updates):
    """Runs `(variable, update_fn, args)` updates the way optimizers update variables.

    From a replica, `update_fn(variable, *args)` runs once per device in
    cross-replica context, so every replica's copy gets the same value
    (a plain `assign` in replica context is refused for most variables).
    """

    def update_all(strategy):
        for variable, update_fn, args in updates:
            strategy.extended.update(variable.value, update_fn, args=args, group=False)

    tf.distribute.get_replica_context().merge_call(update_all)


def group_batches(dataset, batches_per_element):
    """`dataset`'s batches stacked `batches_per_element` at a time, for `ReplicaSteps.grouping_batches`
    (`dataset` itself for 1).

    Keras counts `steps_per_execution` steps for each call against the dataset's cardinality, so a
    finite grouped dataset declares the number of batches it holds; reading past its groups raises
    TensorFlow's cardinality error instead of running a short epoch.
    """
    _check_batches_per_element(batches_per_element)
    if batches_per_element == 1:
        return dataset
    sizes = {spec.shape[0] if spec.shape.rank else None for spec in tf.nest.flatten(dataset.element_spec)}
    if None in sizes:
        raise ValueError(
            f"grouping stacks whole batches, and this dataset's batch size is not fixed ({dataset.element_spec}). "
            "Batch it with drop_remainder=True (zoo.data.pipeline does), or fit it ungrouped."
        )
    batches = int(dataset.cardinality())
    if batches >= 0 and batches % batches_per_element:
        raise ValueError(
            f"{batches_per_element} batches per call do not divide the dataset's {batches} batches; the last "
            "call would run a partial group. Choose a divisor of the number of batches."
        )
    grouped = dataset.batch(batches_per_element, drop_remainder=True)
    if batches >= 0:
        grouped = grouped.apply(tf.data.experimental.assert_cardinality(batches))
    return grouped


def _check_batches_per_element(batches_per_element):
    if isinstance(batches_per_element, bool) or not isinstance(batches_per_element, (int, np.integer)) \
            or batches_per_element < 1:
        raise ValueError(f"batches per element must be a whole number >= 1, got {batches_per_element!r}.")


class StepHook:
    """Something done around every optimizer step: a gradient term before it, state after it."""

    def regularize(self, gradients, weights, loss_scale):
        """The gradients of `weights` with this hook's term added (scaled like the loss)."""
        return gradients

    def after_update(self, optimizer, weights):
        """Bookkeeping once `optimizer` has updated `weights`."""


class ReplicaSteps:
    """The step plumbing of a `keras.Model` with a custom, per-replica `train_step`.

    Call `_init_steps()` in the constructor before anything else of it.
    """

    def _init_steps(self):
        self._trackers = {}
        self._optimizer_names = ()
        # Past Keras's attribute tracking: the hooks' state lives on the model itself.
        object.__setattr__(self, "_step_hooks", [])
        # What XLA compiles once `compile` ran: None, xla.WHOLE_STEP or xla.AUTO_CLUSTERING.
        self.xla_compiles = None
        # Batches in each element of the data `fit` gets (`grouping_batches`); 1: Keras's own loop.
        self._batches_per_element = 1

    @contextlib.contextmanager
    def grouping_batches(self, batches_per_element):
        """Within it, `fit` takes data whose elements hold `batches_per_element` batches stacked on a new
        first axis (`group_batches(dataset, n)`) and runs one training step per batch, all of an element
        in one call: `steps_per_execution` is set to `batches_per_element`.

        The same steps on the same batches in the same order as Keras's `steps_per_execution` loop, and
        the same callbacks after each call; what changes is that the data is fetched once per call, not
        once per step. For a small model that fetch is a large share of the step: a 2-D MLP GAN trained
        about 18% more steps per second grouped, 100 batches to an element (benchmarks/vs_pytorch.py).
        One device only: under a strategy with several replicas Keras runs one step per call.
        """
        _check_batches_per_element(batches_per_element)
        if batches_per_element > 1 and self.distribute_strategy.num_replicas_in_sync > 1:
            raise ValueError(
                f"grouping batches runs on one device; this model is under a strategy with "
                f"{self.distribute_strategy.num_replicas_in_sync} replicas. Fit on ungrouped data instead."
            )
        self.steps_per_execution = batches_per_element
        self._batches_per_element = batches_per_element
        self.train_function = None
        try:
            yield self
        finally:
            self._batches_per_element = 1
            self.train_function = None

    def make_train_function(self, force=False):
        """Keras's train function, or under `grouping_batches` one call per element of grouped batches."""
        if self._batches_per_element == 1:
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return self.train_function
        strategy = self.distribute_strategy
        step = self.train_step
        if self.jit_compile:
            step = tf.function(step, jit_compile=True, reduce_retracing=True)

        def steps_on_element(iterator):
            # Running out of groups raises OutOfRangeError, which Keras's fit reads as the data's end.
            batches = iterator.get_next()
            first = tf.nest.map_structure(lambda b: b[0], batches)
            logs = strategy.run(step, args=(first,))
            for i in tf.range(1, tf.shape(tf.nest.flatten(batches)[0])[0]):
                logs = strategy.run(step, args=(tf.nest.map_structure(lambda b: b[i], batches),))
            return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0], logs)

        if not self.run_eagerly:
            steps_on_element = tf.function(steps_on_element, reduce_retracing=True)
        self.train_function = steps_on_element
        return steps_on_element

    def add_step_hook(self, hook):
        self._step_hooks.append(hook)

    def _add_trackers(self, *names):
        for name in names:
            self._trackers[name] = keras.metrics.Mean(name=name)

    def _finish_build(self):
        """Marks the model built, so `fit` never tries to call it on data.

        Custom-`train_step` models have no `call`; Keras would otherwise try to
        build them symbolically and fail under MirroredStrategy.
        """
        self.built = True

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
        for hook in self._step_hooks:
            gradients = hook.regularize(gradients, weights, scale)
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            gradients = _share_overflow(gradients)
        optimizer.apply_gradients(zip(gradients, weights))
        for hook in self._step_hooks:
            hook.after_update(optimizer, weights)
