"""Losses as pure functions of network outputs.

Every function takes tensors (logits, data, distribution parameters), never
models, and returns one loss per example: a tensor of shape `[batch]`. Models
reduce it with `tf.nn.compute_average_loss`, which divides by the global batch
size, so the same code is right on one device and under tf.distribute.
Logits may have any trailing shape; it is averaged away per example.
"""

import tensorflow as tf


def _per_example(values):
    """Averages every axis but the batch axis."""
    values = tf.convert_to_tensor(values)
    if values.shape.rank is not None and values.shape.rank <= 1:
        return values
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _sigmoid_cross_entropy(labels, logits):
    return tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.broadcast_to(tf.cast(labels, logits.dtype), tf.shape(logits)),
        logits=logits,
    )


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Discriminator loss of Goodfellow et al. 2014, "Generative Adversarial Nets".

    -log D(x) - log(1 - D(G(z))), with D = sigmoid(logits).

    Args:
        real_logits: discriminator logits on real data.
        fake_logits: discriminator logits on generated data, same batch size.
        label_smoothing: one-sided label smoothing (Salimans et al. 2016):
            real targets become `1 - label_smoothing`; fake targets stay 0.
    """
    real_logits = tf.convert_to_tensor(real_logits)
    fake_logits = tf.convert_to_tensor(fake_logits)
    real = _sigmoid_cross_entropy(1.0 - label_smoothing, real_logits)
    fake = _sigmoid_cross_entropy(0.0, fake_logits)
    return _per_example(real) + _per_example(fake)


def minimax_generator_loss(fake_logits):
    """Generator loss of the minimax game (Goodfellow et al. 2014): log(1 - D(G(z))).

    Saturates when the discriminator wins early; see
    `non_saturating_generator_loss` for the variant the paper recommends.
    """
    fake_logits = tf.convert_to_tensor(fake_logits)
    return -_per_example(_sigmoid_cross_entropy(0.0, fake_logits))


def non_saturating_generator_loss(fake_logits):
    """Non-saturating generator loss (Goodfellow et al. 2014, section 3): -log D(G(z))."""
    fake_logits = tf.convert_to_tensor(fake_logits)
    return _per_example(_sigmoid_cross_entropy(1.0, fake_logits))


def mean_squared_reconstruction_loss(x, reconstruction):
    """Squared error summed over every non-batch axis, one value per example."""
    error = tf.square(tf.convert_to_tensor(x) - tf.convert_to_tensor(reconstruction))
    return tf.reduce_sum(tf.reshape(error, [tf.shape(error)[0], -1]), axis=1)


def bernoulli_reconstruction_loss(x01, logits):
    """Negative Bernoulli log-likelihood of data in [0, 1] (Kingma and Welling 2014, C.1).

    Summed over every non-batch axis, one value per example.
    """
    logits = tf.convert_to_tensor(logits)
    nll = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.cast(x01, logits.dtype), logits=logits
    )
    return tf.reduce_sum(tf.reshape(nll, [tf.shape(nll)[0], -1]), axis=1)


def gaussian_kl_divergence(mean, log_variance):
    """KL(N(mean, exp(log_variance)) || N(0, I)), summed over latent axes.

    The closed form of Kingma and Welling 2014, appendix B.
    """
    mean = tf.convert_to_tensor(mean)
    log_variance = tf.convert_to_tensor(log_variance)
    kl = -0.5 * (1.0 + log_variance - tf.square(mean) - tf.exp(log_variance))
    return tf.reduce_sum(kl, axis=-1)


# Generator / discriminator pairs a model can select by name in its config.
def wasserstein_critic_loss(real_scores, fake_scores, label_smoothing=0.0):
    """Critic loss of the Wasserstein GAN (Arjovsky et al. 2017): D(G(z)) - D(x).

    Minimizing it maximizes the critic's estimate of the Wasserstein-1
    distance. `label_smoothing` has no meaning here and must stay 0.
    """
    if label_smoothing:
        raise ValueError("label_smoothing does not apply to the Wasserstein loss; leave it at 0.")
    return _per_example(fake_scores) - _per_example(real_scores)


def wasserstein_generator_loss(fake_scores):
    """Generator loss of the Wasserstein GAN (Arjovsky et al. 2017): -D(G(z))."""
    return -_per_example(fake_scores)


def gradient_penalty(critic_input_gradients):
    """(||grad D(x_hat)||_2 - 1)^2 per example (Gulrajani et al. 2017, eq. 3).

    Args:
        critic_input_gradients: gradients of the critic's scores with respect
            to its inputs x_hat, batch axis first.
    """
    flat = tf.reshape(critic_input_gradients, [tf.shape(critic_input_gradients)[0], -1])
    # The epsilon keeps the norm's gradient finite where the gradient is all zeros.
    norm = tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1) + 1e-12)
    return tf.square(norm - 1.0)


def feature_matching_loss(real_feature_mean, fake_feature_mean):
    """||E f(x) - E f(G(z))||^2 for discriminator features f (Salimans et al. 2016, section 3.1).

    Takes the two batch means; a scalar, not a per-example loss.
    """
    return tf.reduce_sum(tf.square(real_feature_mean - fake_feature_mean))


def historical_averaging_penalty(weights, historical_means):
    """sum_i ||theta_i - mean of theta_i's past values||^2 (Salimans et al. 2016, section 3.3).

    A scalar over the given weights, not a per-example loss.
    """
    return tf.add_n([
        tf.reduce_sum(tf.square(tf.convert_to_tensor(w) - tf.convert_to_tensor(m)))
        for w, m in zip(weights, historical_means)
    ])



def basis_cosines(basis):
    """Cosines between every pair of a basis' vectors: `basis` [batch, k, d] -> [batch, k(k-1)/2]."""
    unit = basis / tf.sqrt(tf.reduce_sum(tf.square(basis), axis=-1, keepdims=True) + 1e-12)
    gram = tf.matmul(unit, unit, transpose_b=True)
    size = basis.shape[1]
    upper = [(i, j) for i in range(size) for j in range(i + 1, size)]
    return tf.stack([gram[:, i, j] for i, j in upper], axis=-1)


def orthogonality_penalty(basis):
    """The mean squared cosine between the vectors of each basis (L-GAN, seed 000).

    Zero exactly when a basis' vectors are pairwise orthogonal; blind to their
    lengths, so it never fights the spread the adversary asks of them.
    """
    return tf.reduce_mean(tf.square(basis_cosines(basis)), axis=-1)


def class_variance_matching_loss(real_variance, fake_variance):
    """(Var_fake - Var_real)^2 averaged over features, per class: [classes, features] -> [classes].

    The guided latent-space GAN's batch-statistics loss (seed 001): without
    it the generator could answer each class with a single sample.
    """
    return tf.reduce_mean(tf.square(fake_variance - real_variance), axis=-1)


def _norm(vectors):
    """Euclidean norm per example; the epsilon keeps its gradient finite at zero."""
    flat = tf.reshape(vectors, [tf.shape(vectors)[0], -1])
    return tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1) + 1e-12)


def cramer_critic(features, reference_features):
    """f(x) = ||h(x) - h(x'_g)|| - ||h(x)|| (Bellemare et al. 2017, Algorithm 1).

    Args:
        features: critic features h(x) of the points judged.
        reference_features: h(x'_g) of an independent generated batch.
    """
    return _norm(features - reference_features) - _norm(features)


def cramer_critic_loss(real_scores, fake_scores):
    """-(f(x_r) - f(x_g)): the critic maximizes the energy-distance surrogate."""
    return -(tf.convert_to_tensor(real_scores) - tf.convert_to_tensor(fake_scores))


def cramer_generator_loss(real_features, fake_features, other_fake_features):
    """||h(x_r) - h(x_g)|| + ||h(x_r) - h(x'_g)|| - ||h(x_g) - h(x'_g)|| (Bellemare et al. 2017).

    The energy distance between data and generator in the critic's feature
    space, estimated from one real and two independent generated batches; its
    gradients are unbiased, unlike the Wasserstein distance's.
    """
    return (
        _norm(real_features - fake_features)
        + _norm(real_features - other_fake_features)
        - _norm(fake_features - other_fake_features)
    )



def mutual_information_loss(category_codes, category_logits, continuous_codes=None, continuous_means=None):
    """InfoGAN's variational bound on -I(c; G(z, c)), up to a constant (Chen et al. 2016, eq. 5).

    Cross-entropy of the categorical code under Q's logits, plus the negative
    log-likelihood of the continuous codes under unit-variance Gaussians at
    Q's means (half the squared error), per example.

    Args:
        category_codes: one-hot codes the generator was given.
        category_logits: Q's logits for them.
        continuous_codes: continuous codes the generator was given, or None.
        continuous_means: Q's estimates of them.
    """
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=category_codes, logits=category_logits)
    if continuous_codes is not None:
        loss += 0.5 * tf.reduce_sum(tf.square(continuous_codes - continuous_means), axis=-1)
    return loss



def realness_logits(class_logits):
    """The real-versus-fake logit of a K+1-way classifier whose fake logit is fixed at 0.

    log sum_k exp(l_k) (Salimans et al. 2016, section 5): with l_{K+1} = 0,
    D(x) = Z / (Z + 1) for Z = sum_k exp(l_k), so this feeds the usual
    sigmoid losses. Shape `[batch, 1]`.
    """
    return tf.reduce_logsumexp(class_logits, axis=-1, keepdims=True)


def partially_labelled_cross_entropy(labels, class_logits):
    """Cross-entropy of the K real classes for labelled examples, 0 where the label is -1.

    Args:
        labels: int class per example, -1 for unlabelled examples.
        class_logits: the classifier's K logits (the fake class excluded).
    """
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    labelled = labels >= 0
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.maximum(labels, 0), logits=tf.cast(class_logits, tf.float32)
    )
    return tf.where(labelled, losses, tf.zeros_like(losses))


ADVERSARIAL_LOSSES = {
    "minimax": (minimax_generator_loss, minimax_discriminator_loss),
    "non_saturating": (non_saturating_generator_loss, minimax_discriminator_loss),
    "wasserstein": (wasserstein_generator_loss, wasserstein_critic_loss),
}


def adversarial_loss_pair(name):
    """Returns `(generator_loss, discriminator_loss)` for a loss name."""
    if name not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"Unknown adversarial loss {name!r}. "
            f"Choose one of: {', '.join(sorted(ADVERSARIAL_LOSSES))}."
        )
    return ADVERSARIAL_LOSSES[name]
