"""Training techniques that many variants can take, as parts a model composes.

- `HistoricalAveraging` and `GeneratorAverage` hook on the minimize step
  (`zoo.steps.StepHook`): a gradient term before each update, state after it.
- Feature matching is a loss on `global_feature_mean`s; minibatch
  discrimination and virtual batch norm are network options (`zoo.layers`,
  `zoo.nets`); packing is `zoo.nets.packing`; the gradient penalty is
  `zoo.losses.gradient_penalty` at `points_between` real and generated data;
  `diff_augment` transforms what the discriminator judges.

A variant lists the ones it takes in `techniques`; `check_techniques` turns a
request for another into an error naming what it offers.
"""

import numpy as np
import tensorflow as tf

import keras

from keras_gan_zoo import losses
from keras_gan_zoo.steps import StepHook, update_across_replicas

# Every option a variant may list in `techniques`.
ALL = ("packing", "feature_matching", "minibatch_discrimination", "virtual_batch_norm", "gradient_penalty",
       "diff_augment")


def check_techniques(model, **requested):
    """Raises a ValueError naming what `model` offers if any requested technique is not among them."""
    for technique, wanted in requested.items():
        if wanted and technique not in model.techniques:
            offered = ", ".join(sorted(model.techniques)) or "none of them"
            raise ValueError(f"{type(model).__name__} does not support {technique}; it offers {offered}.")


class HistoricalAveraging(StepHook):
    """Adds lambda ||theta - mean of past theta||^2 to each player's loss (Salimans et al. 2016, 3.3).

    The running means are non-trainable weights of `model`, so they are saved with it.
    """

    def __init__(self, model, weight, weights):
        self.weight = float(weight)
        self.weights = list(weights)
        self.means = [
            model.add_weight(shape=w.shape, initializer=keras.initializers.Constant(w.numpy()),
                             trainable=False, name=f"historical_mean_{i}")
            for i, w in enumerate(self.weights)
        ]

    def penalty(self):
        """||theta - mean of past theta||^2 over the averaged weights, as a float."""
        return float(losses.historical_averaging_penalty(self.weights, self.means))

    def _means_of(self, weights):
        means = dict(zip(map(id, self.weights), self.means))
        return {id(w): means[id(w)] for w in weights if id(w) in means}

    def regularize(self, gradients, weights, loss_scale):
        means = self._means_of(weights)
        if not means:
            return gradients
        # d/dtheta of lambda ||theta - mean||^2, scaled like the loss; every
        # replica adds it and the replicas' gradients are summed, hence the share.
        share = loss_scale * 2.0 * self.weight / tf.distribute.get_replica_context().num_replicas_in_sync
        return [
            g if id(w) not in means else g + share * (tf.convert_to_tensor(w) - tf.convert_to_tensor(means[id(w)]))
            for g, w in zip(gradients, weights)
        ]

    def after_update(self, optimizer, weights):
        means = self._means_of(weights)
        if not means:
            return
        # Running mean of the values after updates 0..t: m += (theta - m) / (t + 1).
        rate = 1.0 / (tf.cast(optimizer.iterations, tf.float32) + 1.0)
        update_across_replicas([
            (means[id(w)], lambda m, v, r: m.assign(m + (v - m) * r), (w.value, rate))
            for w in weights if id(w) in means
        ])


class GeneratorAverage(StepHook):
    """Keeps `model.ema_generator`, an exponential moving average of the generator's weights.

    After every step of `model.g_optimizer` the average moves towards the
    generator just updated; the decay warms up as `min(decay, (1 + t) / (10 + t))`
    over generator steps t, so early weights fade fast. Trainable weights are
    averaged, the rest (batch-norm statistics) copied.
    """

    def __init__(self, model, decay):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must lie strictly between 0 and 1 (e.g. 0.999), got {decay}.")
        self.model, self.decay = model, float(decay)
        model.ema_generator = keras.models.clone_model(model.generator)
        model.ema_generator.set_weights(model.generator.get_weights())
        model.ema_generator.trainable = False

    def after_update(self, optimizer, weights):
        model = self.model
        if optimizer is not model.g_optimizer:
            return
        step = tf.cast(optimizer.iterations, tf.float32)
        decay = tf.minimum(self.decay, (1.0 + step) / (10.0 + step))
        trainable = {id(w) for w in model.generator.trainable_weights}
        update_across_replicas([
            (average, lambda a, w, r: a.assign(r * a + (1.0 - r) * w),
             (weight.value, decay if id(weight) in trainable else 0.0))
            for average, weight in zip(model.ema_generator.weights, model.generator.weights)
        ])


def feature_model(discriminator):
    """The discriminator up to the layer feeding its output: its last hidden features."""
    return keras.Model(discriminator.inputs, discriminator.layers[-2].output)


def global_feature_mean(features):
    """The mean of per-example features over the global batch, in float32, the same on every replica."""
    # float32 under mixed precision: the distance between means is the generator's loss.
    features = tf.cast(features, tf.float32)
    context = tf.distribute.get_replica_context()
    global_batch = tf.cast(tf.shape(features)[0] * context.num_replicas_in_sync, features.dtype)
    return context.all_reduce("sum", tf.reduce_sum(features, axis=0) / global_batch)


def points_between(real, fake, mixing):
    """Points on the segments from each real example to its fake, at `mixing` in [0, 1) per example."""
    return mixing * real + (1.0 - mixing) * tf.cast(fake, real.dtype)


def mixing_shape(real):
    """One mixing weight per example, broadcast over its other axes."""
    return tf.concat([[tf.shape(real)[0]], tf.ones([len(real.shape) - 1], tf.int32)], axis=0)


def reference_noise(model, size, latent_dim, seed):
    """Virtual batch norm's fixed reference batch of `size` codes, a non-trainable weight of `model`."""
    reference = np.random.default_rng(seed or 0).standard_normal((size, latent_dim))
    return model.add_weight(shape=reference.shape, initializer=keras.initializers.Constant(reference),
                            trainable=False, name="reference_noise")


# The transformations `diff_augment` knows (Zhao et al. 2020's translation and cutout).
AUGMENTATIONS = ("translation", "cutout")


def check_augmentations(policies, data_shape):
    """Raises a ValueError saying what to change unless `policies` name known transformations of images."""
    if len(data_shape) != 3:
        raise ValueError(f"diff_augment transforms images (H, W, C); this model's data has shape {tuple(data_shape)}.")
    unknown = [p for p in policies if p not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"Unknown diff_augment transformation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}.")


def diff_augment(images, policies, uniform):
    """Differentiable augmentation of a batch of (H, W, C) images in [-1, 1] (Zhao et al. 2020,
    "Differentiable Augmentation for Data-Efficient GAN Training").

    The discriminator sees real and generated images alike through it, and the generator's
    gradient flows back through it, so a discriminator trained on few images cannot tell them
    apart by memorising those images, and the generator is not pushed toward the augmented ones.
    - "translation": each image moved by up to 1/8 of its height and width, whole pixels,
      the uncovered border filled with -1 (the background of the zoo's image sets);
    - "cutout": a square of half the image's size at a random place in each image set to 0.

    `uniform(shape)` draws uniform [0, 1) noise (a model's `_uniform`, so that replicas draw
    their own shares).
    """
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]

    def integers_below(count):
        """One uniform integer in [0, count) per image, for each of two axes."""
        return tf.cast(tf.floor(uniform((batch, 2)) * tf.constant(count, tf.float32)), tf.int32)

    if "translation" in policies:
        reach = (max(1, height // 8), max(1, width // 8))
        shift = integers_below([2 * reach[0] + 1, 2 * reach[1] + 1]) - tf.constant(reach)
        padded = tf.pad(images, [[0, 0], [reach[0], reach[0]], [reach[1], reach[1]], [0, 0]], constant_values=-1.0)
        rows = tf.range(height)[None, :] + reach[0] - shift[:, :1]
        cols = tf.range(width)[None, :] + reach[1] - shift[:, 1:]
        images = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    if "cutout" in policies:
        size = (height // 2, width // 2)
        corner = integers_below([height - size[0] + 1, width - size[1] + 1])

        def inside(length, axis):
            positions, start = tf.range(length)[None, :], corner[:, axis:axis + 1]
            return tf.logical_and(positions >= start, positions < start + size[axis])

        cut = tf.logical_and(inside(height, 0)[:, :, None], inside(width, 1)[:, None, :])
        images = images * tf.cast(tf.logical_not(cut), images.dtype)[..., None]
    return images
