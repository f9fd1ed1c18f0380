"""Discriminator rejection sampling (Azadi et al. 2019, "Discriminator Rejection Sampling").

A generator that spreads some of its mass off the data (between the modes of
a mixture, say) keeps those samples however long it trains. A classifier
between real and generated points estimates the density ratio
p_data(x) / p_g(x) through its logit; accepting a generated x with
probability ratio(x) / max(ratio) then draws from p_data wherever the
generator has support (the maximum estimated on a first pool of draws).
Azadi et al. keep training the GAN's own discriminator with the generator
frozen until it is calibrated; here a fresh classifier is fitted on the
frozen generator, which works for any variant
(critics and packed discriminators included, whose outputs are not ratios).

    >>> import keras_gan_zoo as zoo
    >>> model = zoo.create("gan", seed=0)
    >>> real, _ = zoo.data.synthetic.ring8("train", num_examples=2000)
    >>> ratio = fit_density_ratio(model, real, steps=20, seed=0)
    >>> rejection_sample(model, ratio, 5, seed=0).shape
    (5, 2)
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gan_zoo.layers import FourierFeatures

# Drawn at once from the generator, for fitting and for the rejection loop.
CHUNK = 10_000
# Steps between updates of fit_density_ratio's progress bar.
PROGRESS_EVERY = 500


def build_ratio_classifier(data_dim, hidden_units=(256, 256), fourier_features=None, seed=0,
                           name="density_ratio"):
    """x -> logit of "real": an estimate of log p_data(x) - log p_g(x) once fitted.

    `fourier_features`: None, or (frequencies, scale) for a `zoo.layers.FourierFeatures`
    input layer, which lets the logit turn as sharply as a mode's edge in a few dimensions.
    """
    inputs = keras.Input((data_dim,), name="x")
    h = inputs
    if fourier_features:
        num_frequencies, scale = fourier_features
        h = FourierFeatures(num_frequencies, scale, seed=seed)(h)
    for units in hidden_units:
        h = keras.layers.Dense(units, activation="relu")(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h), name=name)


def _generated(model, n, seed):
    return np.asarray(model.sample(n, seed=seed), np.float32).reshape(n, -1)


def fit_density_ratio(model, real, steps=2000, batch_size=256, hidden_units=(256, 256), learning_rate=1e-3,
                      fourier_features=None, seed=0, verbose=0):
    """Fits a classifier between `real` and `model`'s samples, the generator frozen.

    Args:
        model: a trained zoo model with `sample(n, seed=...)`.
        real: (N, ...) training data, in the range the model samples in.
        steps: Adam steps on balanced batches, half real and half generated.
        fourier_features: None, or (frequencies, scale) of Fourier input
            features (`build_ratio_classifier`). For narrow modes in a few
            dimensions: on grid25 (modes of std 0.05), (128, 1.0) took the
            high-quality share after rejection from about 96% to 99%.
        seed: fixes the classifier's initialisation and the generated points.
        verbose: 1 shows a progress bar with the loss (fits of 100,000 steps
            and more take minutes).

    Returns:
        A `keras.Model` from flattened x to the logit log p_data(x) / p_g(x).
    """
    real = np.asarray(real, np.float32).reshape(len(real), -1)
    if len(real) < 2:
        raise ValueError(f"fit_density_ratio needs real data to compare with; got {len(real)} points.")
    keras.utils.set_random_seed(seed)
    classifier = build_ratio_classifier(real.shape[1], hidden_units, fourier_features, seed=seed)
    # Decayed to 0 so that the logit settles: its sharpest features, the
    # edges of the modes, are the last ones learned.
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps))
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    half = batch_size // 2
    targets = tf.concat([tf.ones((half, 1)), tf.zeros((half, 1))], axis=0)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, classifier(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, classifier.trainable_variables),
                                      classifier.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    fake = _generated(model, CHUNK, seed)
    progress = keras.utils.Progbar(steps, unit_name="step") if verbose else None
    for i in range(steps):
        # A fresh pool of generated points every CHUNK // half steps, so the
        # classifier sees the generator's distribution, not a fixed sample of it.
        if i and i % (CHUNK // half) == 0:
            fake = _generated(model, CHUNK, seed + i)
        x = np.concatenate([real[rng.integers(len(real), size=half)], fake[rng.integers(CHUNK, size=half)]])
        loss = step(tf.constant(x))
        if progress is not None and ((i + 1) % PROGRESS_EVERY == 0 or i + 1 == steps):
            progress.update(i + 1, [("loss", float(loss))])
    return classifier


def _logits(classifier, x):
    return np.asarray(classifier(x, training=False)).reshape(-1)


def _acceptance(log_ratio, gamma):
    """exp(log_ratio) capped at 1, its logit shifted down by gamma."""
    log_p = np.minimum(log_ratio, 0.0)
    if gamma == 0.0:
        return np.exp(log_p)
    # logit(p) = log p - log(1 - p); the small margin keeps p = 1 finite.
    logit = log_p - np.log(-np.expm1(log_p - 1e-6))
    return 1.0 / (1.0 + np.exp(gamma - logit))


def rejection_sample(model, classifier, n, max_draws=10_000_000, seed=0, return_acceptance=False,
                     max_quantile=1.0, gamma=0.0):
    """Draws `n` samples of `model` accepted with probability ratio(x) / max ratio.

    The maximum ratio is estimated once, on a first pool of CHUNK draws (its
    largest logit, or the `max_quantile` quantile of them), and a later draw
    above it is kept outright. Raising the estimate whenever a
    draw exceeds it, as Azadi et al. do, lets one outlier stall the sampler:
    a ReLU classifier extrapolates linearly, so a rare generated point far
    from every mode can score far above the rest (on ring8, a logit of 10.8
    where the first pool's largest was 4.7, after which 24 of a million
    draws passed).

    Args:
        model: the generator's model, `sample(n, seed=...)`.
        classifier: from `fit_density_ratio` on the same model.
        n: samples to return.
        max_draws: generated samples to try before giving up.
        return_acceptance: also return the fraction of draws accepted.
        max_quantile: which quantile of the first pool's logits stands for
            the largest. 1.0 (the default) takes the largest itself; 0.999
            ignores the top 10 of the 10,000, for when one outlier among them
            holds the acceptance near zero, at the cost of keeping the draws
            above that quantile outright.
        gamma: Azadi et al.'s shift: a draw is kept with probability
            sigmoid(logit(p) - gamma), p the ratio over the maximum, which
            cuts draws of low ratio harder than the best ones. 0 (the
            default) keeps p itself. On grid25 a shift of 1 lowered the
            high-quality share (docs/results/mode_coverage.md).

    Returns:
        (n, ...) accepted samples in the model's sample shape, and the
        acceptance rate when `return_acceptance`.
    """
    if n < 1:
        raise ValueError(f"rejection_sample draws n >= 1 samples; got n={n}.")
    if not 0.0 < max_quantile <= 1.0:
        raise ValueError(f"max_quantile must lie in (0, 1] (1.0: the largest logit), got {max_quantile}.")
    if not np.isfinite(gamma):
        raise ValueError(f"gamma shifts the acceptance logit and must be finite, got {gamma}.")
    rng = np.random.default_rng(seed)
    # Clear of the seeds fit_density_ratio drew its generated points with.
    accepted, kept, drawn, chunk_seed = [], 0, 0, seed + 1_000_000
    max_logit = None
    while kept < n:
        if drawn >= max_draws:
            raise RuntimeError(
                f"rejection_sample accepted {kept} of {drawn:,} draws, short of {n}: "
                "the ratio classifier rejects nearly everything the generator makes. Raise max_draws, lower "
                "max_quantile (say 0.999) if an outlier set the largest ratio, or fit the classifier with fewer "
                "steps so that its ratio is less extreme.")
        samples = np.asarray(model.sample(CHUNK, seed=chunk_seed))
        chunk_seed += 1
        drawn += CHUNK
        logits = _logits(classifier, samples.reshape(CHUNK, -1))
        if max_logit is None:
            max_logit = np.quantile(logits, max_quantile)
        keep = rng.random(CHUNK) < _acceptance(logits - max_logit, gamma)
        accepted.append(samples[keep])
        kept += len(accepted[-1])
    samples = np.concatenate(accepted)
    acceptance = kept / drawn
    return (samples[:n], acceptance) if return_acceptance else samples[:n]


class RejectionSampler:
    """`rejection_sample` as TensorFlow ops: what a served `sample` signature runs.

    Attached to a model (`model.attach_sampler(sampler)`), it makes
    `model.sample(n, seed=s)` and the exported `sample` signature draw the same
    samples: chunk k of `chunk` draws comes from the generator at a seed folded
    from (s, k), is kept with probability ratio / max ratio as in
    `rejection_sample` (the maximum from chunk 0's logits), and the loop stops
    once `n` are kept, or fails after `max_draws`, so no request runs unbounded.

    Args:
        classifier: from `fit_density_ratio` on the model it samples.
        gamma, max_quantile: as in `rejection_sample`.
        chunk: draws per round.
        max_draws: draws tried before the request fails.
    """

    def __init__(self, classifier, gamma=0.0, max_quantile=1.0, chunk=CHUNK, max_draws=5_000_000):
        if not 0.0 < max_quantile <= 1.0:
            raise ValueError(f"max_quantile must lie in (0, 1] (1.0: the largest logit), got {max_quantile}.")
        if not np.isfinite(gamma):
            raise ValueError(f"gamma shifts the acceptance logit and must be finite, got {gamma}.")
        self.classifier, self.gamma, self.max_quantile = classifier, float(gamma), float(max_quantile)
        self.chunk, self.max_rounds = int(chunk), max(1, int(max_draws) // int(chunk))

    def options(self):
        """The acceptance options, as a recipe or run.json records them."""
        return {"gamma": self.gamma, "max_quantile": self.max_quantile}

    def _round(self, model, seed, k):
        """Chunk k's draws, their logits, and the uniform draws that decide them."""
        seeds = tf.random.experimental.stateless_fold_in(tf.stack([seed, tf.constant(0, tf.int64)]), k)
        samples = model.generate_from_seed(self.chunk, seeds[0])
        logits = tf.reshape(self.classifier(tf.reshape(samples, [self.chunk, -1]), training=False), [-1])
        uniforms = tf.random.stateless_uniform([self.chunk], seed=seeds)
        return samples, tf.cast(logits, tf.float32), uniforms

    def _acceptance(self, log_ratio):
        log_p = tf.minimum(log_ratio, 0.0)
        if self.gamma == 0.0:
            return tf.exp(log_p)
        logit = log_p - tf.math.log(-tf.math.expm1(log_p - 1e-6))
        return tf.sigmoid(logit - self.gamma)

    def sample_from_seed(self, model, num_samples, seed):
        seed = tf.cast(seed, tf.int64)
        num_samples = tf.cast(num_samples, tf.int32)
        _, first, _ = self._round(model, seed, 0)
        ranked = tf.sort(first)
        max_logit = ranked[min(self.chunk - 1, int(np.ceil(self.max_quantile * self.chunk)) - 1)]

        def more(k, kept, found):
            return tf.logical_and(found < num_samples, k < self.max_rounds)

        def one_round(k, kept, found):
            samples, logits, uniforms = self._round(model, seed, k)
            keep = uniforms < self._acceptance(logits - max_logit)
            kept = kept.write(k, tf.boolean_mask(samples, keep))
            return k + 1, kept, found + tf.reduce_sum(tf.cast(keep, tf.int32))

        kept = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False,
                              element_shape=tf.TensorShape([None, *model.data_shape]))
        rounds, kept, found = tf.while_loop(more, one_round, (tf.constant(0), kept, tf.constant(0)))
        check = tf.debugging.assert_greater_equal(
            found, num_samples,
            message=f"rejection sampling kept too few of {self.max_rounds * self.chunk} draws: the ratio classifier "
                    "rejects nearly everything the generator makes")
        with tf.control_dependencies([check]):
            return kept.concat()[:num_samples]
