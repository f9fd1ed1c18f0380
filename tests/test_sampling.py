"""zoo.sampling: discriminator rejection sampling."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan_zoo as zoo
from keras_gan_zoo import export, sampling


class HalfOffTheData:
    """A stand-in generator: half its samples on the data (around 0), half far off it (around 5)."""

    def sample(self, n, seed=None):
        rng = np.random.default_rng(seed)
        centres = np.where(rng.random((n, 1)) < 0.5, 0.0, 5.0)
        return (centres + 0.1 * rng.standard_normal((n, 2))).astype("float32")


def on_the_data(samples):
    return float(np.mean(np.linalg.norm(samples, axis=1) < 1.0))


@pytest.fixture(scope="module")
def real():
    return (0.1 * np.random.default_rng(0).standard_normal((4000, 2))).astype("float32")


@pytest.fixture(scope="module")
def fitted_ratio(real):
    return sampling.fit_density_ratio(HalfOffTheData(), real, steps=300, hidden_units=(32,), seed=0)


def test_the_fitted_logit_separates_data_from_what_the_generator_adds(fitted_ratio):
    logits = np.asarray(fitted_ratio(np.array([[0.0, 0.0], [5.0, 5.0]], "float32"))).ravel()
    assert logits[0] > logits[1] + 2.0


def test_rejection_keeps_what_lies_on_the_data(fitted_ratio):
    generator = HalfOffTheData()
    assert 0.4 < on_the_data(generator.sample(2000, seed=1)) < 0.6
    samples, acceptance = sampling.rejection_sample(generator, fitted_ratio, 2000, seed=1, return_acceptance=True)
    assert samples.shape == (2000, 2)
    assert on_the_data(samples) > 0.97
    # p_data / p_g is 2 on the data and 0 off it, so about half the draws pass.
    assert 0.3 < acceptance < 0.7


def test_a_trained_zoo_model_samples_through_its_ratio(real):
    model = zoo.create("gan", seed=0)
    ratio = sampling.fit_density_ratio(model, real, steps=5, seed=0)
    assert sampling.rejection_sample(model, ratio, 7, seed=0).shape == (7, 2)


def test_bad_requests_say_what_to_change(fitted_ratio, real):
    with pytest.raises(ValueError, match="n >= 1"):
        sampling.rejection_sample(HalfOffTheData(), fitted_ratio, 0)
    with pytest.raises(ValueError, match="real data"):
        sampling.fit_density_ratio(HalfOffTheData(), real[:1])
    with pytest.raises(RuntimeError, match="max_draws"):
        sampling.rejection_sample(HalfOffTheData(), fitted_ratio, 10**6, max_draws=sampling.CHUNK)


class RareFarOutlier:
    """Samples around 0, but the first one of every later draw far away (at 1000)."""

    def sample(self, n, seed=None):
        samples = np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")
        if seed != 1_000_000:
            samples[0] = 1000.0
        return samples


def test_a_rare_outlier_scoring_far_above_the_rest_does_not_stall_sampling():
    def extrapolating_ratio(x, training=False):
        # Flat near the data, linear far from it, as a ReLU classifier extrapolates.
        return np.maximum(np.asarray(x)[:, :1] - 10.0, 0.0)

    samples, acceptance = sampling.rejection_sample(RareFarOutlier(), extrapolating_ratio, 3 * sampling.CHUNK,
                                                    seed=0, return_acceptance=True)
    assert acceptance > 0.99
    assert samples.shape == (3 * sampling.CHUNK, 2)


class OutlierInTheFirstPool:
    """Samples around 0; the rejection loop's first pool holds one far away (at 1000)."""

    def sample(self, n, seed=None):
        samples = np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")
        if seed == 1_000_000:
            samples[0] = 1000.0
        return samples


def test_a_quantile_of_the_first_pool_stands_in_for_an_outlying_maximum():
    def extrapolating_ratio(x, training=False):
        return np.maximum(np.asarray(x)[:, :1] - 10.0, 0.0)

    with pytest.raises(RuntimeError, match="max_quantile"):
        sampling.rejection_sample(OutlierInTheFirstPool(), extrapolating_ratio, 10, max_draws=3 * sampling.CHUNK)
    samples, acceptance = sampling.rejection_sample(OutlierInTheFirstPool(), extrapolating_ratio, 10,
                                                    max_quantile=0.999, return_acceptance=True)
    assert samples.shape == (10, 2) and acceptance > 0.99
    with pytest.raises(ValueError, match="max_quantile must lie in"):
        sampling.rejection_sample(OutlierInTheFirstPool(), extrapolating_ratio, 10, max_quantile=0.0)


class TwoPoints:
    """Half the samples at x0 = 1, where the ratio is largest, half at x0 = 0, at a tenth of it."""

    def sample(self, n, seed=None):
        x0 = (np.random.default_rng(seed).random(n) < 0.5).astype("float32")
        return np.stack([x0, np.zeros_like(x0)], axis=1)


def tenth_of_the_ratio_at_zero(x, training=False):
    return np.log(0.1) * (1.0 - np.asarray(x)[:, :1])


def share_at_zero(gamma):
    samples = sampling.rejection_sample(TwoPoints(), tenth_of_the_ratio_at_zero, 20_000, seed=0, gamma=gamma)
    return float(np.mean(samples[:, 0] == 0.0))


def test_gamma_cuts_low_ratio_draws_and_keeps_the_best_ones():
    # gamma = 0: accepted with p = 1 and 0.1, so 0.1 / 1.1 of the samples lie at 0.
    assert 0.08 < share_at_zero(0.0) < 0.10
    # gamma = 2: sigmoid(logit(0.1) - 2) = 0.0148 at 0, still about 1 at the best draws.
    assert 0.012 < share_at_zero(2.0) < 0.018
    with pytest.raises(ValueError, match="gamma"):
        sampling.rejection_sample(TwoPoints(), tenth_of_the_ratio_at_zero, 10, gamma=float("inf"))


def test_fourier_features_keep_x_and_add_unit_sine_cosine_pairs():
    layer = zoo.layers.FourierFeatures(num_frequencies=5, scale=2.0, seed=3)
    x = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    features = np.asarray(layer(x))
    assert features.shape == (4, 2 + 10)
    np.testing.assert_allclose(features[:, :2], x)
    np.testing.assert_allclose(features[:, 2:7] ** 2 + features[:, 7:] ** 2, 1.0, atol=1e-5)
    # The seed fixes the frequencies, so a layer rebuilt from its config computes the same.
    rebuilt = zoo.layers.FourierFeatures.from_config(layer.get_config())
    np.testing.assert_allclose(np.asarray(rebuilt(x)), features, atol=1e-6)
    with pytest.raises(ValueError, match="scale > 0"):
        zoo.layers.FourierFeatures(num_frequencies=5, scale=0.0)


def test_a_ratio_classifier_on_fourier_features_fits_and_round_trips(real, tmp_path):
    ratio = sampling.fit_density_ratio(HalfOffTheData(), real, steps=300, hidden_units=(32,),
                                       fourier_features=(16, 0.5), seed=0)
    assert [l for l in ratio.layers if isinstance(l, zoo.layers.FourierFeatures)]
    assert not any("frequencies" in w.path for w in ratio.trainable_weights)
    logits = np.asarray(ratio(np.array([[0.0, 0.0], [5.0, 5.0]], "float32"))).ravel()
    assert logits[0] > logits[1] + 2.0
    ratio.save(tmp_path / "ratio.keras")
    reloaded = keras.saving.load_model(tmp_path / "ratio.keras")
    x = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(reloaded(x)), np.asarray(ratio(x)), atol=1e-6)


class WiderThanTheData:
    """Generated points spread six times as wide as the real ones, all around 0."""

    def sample(self, n, seed=None):
        return (0.3 * np.random.default_rng(seed).standard_normal((n, 2))).astype("float32")


def test_fourier_features_let_the_logit_fall_as_sharply_as_a_narrow_modes_edge():
    real = (0.05 * np.random.default_rng(0).standard_normal((4000, 2))).astype("float32")
    centre_and_edge = np.array([[0.0, 0.0], [0.15, 0.0], [0.0, 0.15]], "float32")

    def fall_to_the_edge(fourier_features):
        ratio = sampling.fit_density_ratio(WiderThanTheData(), real, steps=300, hidden_units=(32,),
                                           fourier_features=fourier_features, seed=0)
        logits = np.asarray(ratio(centre_and_edge)).ravel()
        return logits[0] - logits[1:].mean()

    # The true log ratio falls by 4.4 from the centre to 3 standard deviations out.
    assert fall_to_the_edge(None) < 1.0
    assert fall_to_the_edge((16, 1.0)) > 2.0


def test_an_attached_rejection_sampler_draws_the_same_in_python_and_in_the_export(tmp_path):
    model = zoo.create("gan", hidden_units=(16,), seed=0)
    real, _ = zoo.data.synthetic.ring8("train", num_examples=2000)
    classifier = sampling.fit_density_ratio(model, real, steps=50, seed=0)
    direct = model.sample(300, seed=3)
    model.attach_sampler(sampling.RejectionSampler(classifier, chunk=1000))
    drawn = model.sample(300, seed=3)
    np.testing.assert_array_equal(drawn, model.sample(300, seed=3))
    assert not np.allclose(drawn, direct), "the sampler changed nothing"
    # What it keeps scores higher under the classifier than what the generator draws.
    assert classifier(drawn).numpy().mean() > classifier(direct).numpy().mean()
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="gan")["gan"]))
    got = served.signatures["sample"](num_samples=tf.constant(300), seed=tf.constant(3, tf.int64))["samples"]
    np.testing.assert_allclose(got, drawn, atol=1e-6)
    # Labelled or not, a bounded number of rounds: a sampler that keeps nothing fails the request.
    model.attach_sampler(sampling.RejectionSampler(classifier, chunk=1000, max_draws=1000, gamma=50.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rejection sampling kept too few of 1000 draws"):
        model.sample(300, seed=3)
    model.attach_sampler(None)
    np.testing.assert_array_equal(model.sample(300, seed=3), direct)
