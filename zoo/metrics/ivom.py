"""IvOM, inference via optimisation (Metz et al. 2017, "Unrolled Generative Adversarial
Networks"): how close a generator can come to held-out examples by optimising its code."""

import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class IvOM:
    """Inference via optimisation: per target, the smallest mean squared error reached."""

    errors: np.ndarray

    @property
    def mean(self):
        return float(self.errors.mean())

    @property
    def std(self):
        return float(self.errors.std())


def ivom(generate, latent_dim, targets, labels=None, steps=500, restarts=3, learning_rate=0.05, batch_size=256,
         seed=0, progress=None):
    """IvOM, inference via optimisation (Metz et al. 2017, "Unrolled Generative Adversarial
    Networks"): for each target, the smallest mean squared error between G(z) and the
    target that gradient descent on z reaches; low when the generator can make the
    held-out example, high for an example of a mode it dropped.

    Protocol: `restarts` codes per target drawn from N(0, 1), each optimised with Adam at
    `learning_rate` for `steps` steps; the best of them counts.

    Args:
        generate: z (and labels, when given) -> samples, differentiable (TensorFlow).
        latent_dim: the length of z.
        targets: (N, ...) examples in the generator's output range.
        labels: one class per target for conditional generators, or None.
        progress: called as progress(done_steps, total_steps) as the work goes.

    Returns:
        An `IvOM`: the per-target errors, their mean and spread.

    Examples:
        >>> import tensorflow as tf
        >>> w = tf.constant([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
        >>> generate = lambda z: tf.matmul(z, w)
        >>> own = generate(tf.constant([[0.5, -1.0], [2.0, 0.3]])).numpy()
        >>> ivom(generate, 2, own, steps=300).mean < 1e-4
        True
    """
    targets = np.asarray(targets, "float32")
    if len(targets) == 0:
        raise ValueError("ivom needs at least one target.")
    if steps < 1 or restarts < 1:
        raise ValueError(f"ivom needs steps >= 1 and restarts >= 1; got {steps} and {restarts}.")
    rng = np.random.default_rng(seed)
    best = np.full(len(targets), np.inf)
    descend = _descent(generate, steps, learning_rate, conditional=labels is not None)
    total = restarts * steps * int(np.ceil(len(targets) / batch_size))
    done = 0
    for start in range(0, len(targets), batch_size):
        target = tf.constant(targets[start:start + batch_size])
        label = tf.constant(np.asarray(labels[start:start + batch_size], "int32")) if labels is not None else None
        for _ in range(restarts):
            z = tf.constant(rng.standard_normal((len(target), latent_dim)).astype("float32"))
            errors = descend(z, target, label).numpy()
            best[start:start + len(target)] = np.minimum(best[start:start + len(target)], errors)
            done += steps
            if progress:
                progress(done, total)
    return IvOM(best)


def _descent(generate, steps, learning_rate, conditional, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """One compiled loop: Adam on the codes z for `steps` steps, returning each target's
    lowest error on the way. Adam is written out so that every batch and restart starts
    from fresh moments (a Keras optimizer would carry its slots over)."""

    def errors_of(codes, target, label):
        made = generate(codes, label) if conditional else generate(codes)
        difference = tf.cast(made, tf.float32) - target
        return tf.reduce_mean(tf.reshape(tf.square(difference), [tf.shape(difference)[0], -1]), axis=1)

    def step(t, codes, m, v, best, target, label):
        with tf.GradientTape() as tape:
            tape.watch(codes)
            errors = errors_of(codes, target, label)
            total = tf.reduce_sum(errors)
        grad = tape.gradient(total, codes)
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * tf.square(grad)
        codes = codes - learning_rate * (m / (1 - beta_1 ** t)) / (tf.sqrt(v / (1 - beta_2 ** t)) + epsilon)
        return t + 1.0, codes, m, v, tf.minimum(best, errors)

    @tf.function(autograph=False)
    def descend(codes, target, label):
        start = (tf.constant(1.0), codes, tf.zeros_like(codes), tf.zeros_like(codes),
                 tf.fill([tf.shape(codes)[0]], np.float32(np.inf)))
        _, codes, _, _, best = tf.while_loop(
            lambda t, *_: t <= steps, lambda *state: step(*state, target, label), start)
        return tf.minimum(best, errors_of(codes, target, label))

    return descend
