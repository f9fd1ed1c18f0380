"""Golden numbers for every loss, worked out by hand from the formulas."""

import math

import numpy as np
import pytest

from keras_gan_zoo import losses

LOG2 = math.log(2.0)


def softplus(v):
    return math.log1p(math.exp(v))


@pytest.mark.parametrize(
    "real, fake, smoothing, expected",
    [
        (0.0, 0.0, 0.0, 2 * LOG2),
        (2.0, -1.0, 0.0, softplus(-2.0) + softplus(-1.0)),
        # Smoothed target 0.9: BCE = softplus(l) - 0.9 l on the real side only.
        (2.0, -1.0, 0.1, softplus(2.0) - 0.9 * 2.0 + softplus(-1.0)),
    ],
)
def test_minimax_discriminator_loss(real, fake, smoothing, expected):
    got = losses.minimax_discriminator_loss([[real]], [[fake]], label_smoothing=smoothing)
    np.testing.assert_allclose(got, [expected], rtol=1e-6)


def test_generator_losses():
    np.testing.assert_allclose(losses.non_saturating_generator_loss([[0.0], [1.0]]), [LOG2, softplus(-1.0)], rtol=1e-6)
    np.testing.assert_allclose(losses.minimax_generator_loss([[1.0]]), [-softplus(1.0)], rtol=1e-6)


def test_losses_return_one_value_per_example_for_any_logit_shape():
    logits = np.zeros((3, 4, 4, 1), "float32")
    assert losses.minimax_discriminator_loss(logits, logits).shape == (3,)
    assert losses.non_saturating_generator_loss(logits).shape == (3,)
    np.testing.assert_allclose(losses.non_saturating_generator_loss(logits), [LOG2] * 3, rtol=1e-6)


def test_reconstruction_losses():
    np.testing.assert_allclose(
        losses.mean_squared_reconstruction_loss([[1.0, 2.0]], [[0.0, 0.0]]), [5.0]
    )
    np.testing.assert_allclose(
        losses.bernoulli_reconstruction_loss([[1.0, 0.0]], [[0.0, 0.0]]), [2 * LOG2], rtol=1e-6
    )


def test_gaussian_kl_divergence():
    # Per dimension: -0.5 (1 + log v - m^2 - v).
    expected = 0.5 + (-0.5) * (1.0 + LOG2 - 2.0)
    got = losses.gaussian_kl_divergence([[1.0, 0.0]], [[0.0, LOG2]])
    np.testing.assert_allclose(got, [expected], rtol=1e-6)
    np.testing.assert_allclose(losses.gaussian_kl_divergence([[0.0, 0.0]], [[0.0, 0.0]]), [0.0])


def test_unknown_adversarial_loss_lists_the_choices():
    with pytest.raises(ValueError, match="minimax, non_saturating"):
        losses.adversarial_loss_pair("hinge2")


def test_wasserstein_losses():
    np.testing.assert_allclose(losses.wasserstein_critic_loss([[2.0], [0.5]], [[-1.0], [1.5]]), [-3.0, 1.0])
    np.testing.assert_allclose(losses.wasserstein_generator_loss([[-1.0], [1.5]]), [1.0, -1.5])
    with pytest.raises(ValueError, match="label_smoothing does not apply"):
        losses.wasserstein_critic_loss([[1.0]], [[0.0]], label_smoothing=0.1)


def test_gradient_penalty_is_squared_distance_of_the_norm_from_one():
    gradients = np.array([[[3.0], [4.0]], [[0.6], [0.8]], [[0.0], [0.0]]], "float32")  # norms 5, 1, 0
    np.testing.assert_allclose(losses.gradient_penalty(gradients), [16.0, 0.0, 1.0], rtol=1e-5)


def test_historical_averaging_penalty_sums_squared_distances():
    weights = [np.array([1.0, 2.0], "float32"), np.array([[3.0]], "float32")]
    means = [np.array([0.0, 0.0], "float32"), np.array([[1.0]], "float32")]
    np.testing.assert_allclose(losses.historical_averaging_penalty(weights, means), 1 + 4 + 4)


def test_feature_matching_loss_is_the_squared_distance_of_the_means():
    np.testing.assert_allclose(losses.feature_matching_loss(np.array([1.0, 2.0]), np.array([0.0, 4.0])), 5.0)


def test_cramer_losses_follow_the_energy_distance():
    real = np.array([[0.0, 0.0], [1.0, 0.0]], "float32")
    fake = np.array([[3.0, 4.0], [1.0, 0.0]], "float32")
    other = np.array([[0.0, 0.0], [1.0, 0.0]], "float32")
    # ||r - g|| + ||r - g'|| - ||g - g'||, per example.
    np.testing.assert_allclose(losses.cramer_generator_loss(real, fake, other), [5.0 + 0.0 - 5.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(losses.cramer_generator_loss(real, real, real), [0.0, 0.0], atol=1e-5)
    # f(x) = ||h(x) - h(x'_g)|| - ||h(x)||.
    np.testing.assert_allclose(losses.cramer_critic(fake, other), [5.0 - 5.0, 0.0 - 1.0], atol=1e-5)
    np.testing.assert_allclose(losses.cramer_critic_loss([2.0, 1.0], [0.5, 1.0]), [-1.5, 0.0])


def test_mutual_information_loss_is_cross_entropy_plus_half_squared_error():
    codes = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    logits = np.array([[0.0, 0.0], [0.0, 0.0]], "float32")
    continuous, means = np.array([[1.0], [0.0]], "float32"), np.array([[0.0], [0.0]], "float32")
    np.testing.assert_allclose(
        losses.mutual_information_loss(codes, logits, continuous, means), [math.log(2) + 0.5, math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(losses.mutual_information_loss(codes, logits), [math.log(2)] * 2, rtol=1e-6)


def test_semi_supervised_losses_ignore_unlabelled_examples():
    class_logits = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0]], "float32")
    # With the fake class's logit at 0, D(x) = Z / (Z + 1): logit log Z.
    np.testing.assert_allclose(losses.realness_logits(class_logits)[:, 0], [math.log(2), math.log(math.exp(2) + 1),
                                                                          5 + math.log(2)], rtol=1e-6)
    cross_entropy = losses.partially_labelled_cross_entropy([1, -1, 0], class_logits)
    np.testing.assert_allclose(cross_entropy, [math.log(2), 0.0, math.log(2)], rtol=1e-6)
