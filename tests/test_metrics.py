"""zoo.metrics and the shipped domain classifier."""

import pathlib

import numpy as np
import pytest

import keras_gan_zoo as zoo
from keras_gan_zoo import classifiers, metrics
from keras_gan_zoo.data import images, synthetic


def test_a_generator_collapsed_on_one_mode_scores_one_mode_and_full_quality():
    mean = synthetic.grid25_means()[7]
    coverage = metrics.mode_coverage(np.tile(mean, (2500, 1)) + 0.01, "grid25")
    assert (coverage.modes, coverage.high_quality, coverage.num_modes) == (1, 1.0, 25)
    assert coverage.samples_per_mode[7] == 2500


def test_samples_between_modes_are_low_quality_and_capture_nothing():
    # Halfway between neighbouring grid means: 20 standard deviations from both.
    between = synthetic.grid25_means()[:5] + np.array([1.0, 0.0])
    coverage = metrics.mode_coverage(np.repeat(between, 500, axis=0), "grid25")
    assert (coverage.modes, coverage.high_quality) == (0, 0.0)


def test_the_three_standard_deviation_radius_decides_quality():
    mean = synthetic.ring8_means()[0]
    inside, outside = mean + [0.029, 0.0], mean + [0.031, 0.0]   # std 0.01
    assert metrics.mode_coverage(np.array([inside, outside]), "ring8").high_quality == 0.5
    assert metrics.mode_coverage(np.array([outside]), "ring8", threshold=4).high_quality == 1.0


@pytest.mark.parametrize("name", ["ring8", "grid25", "gauss1200"])
def test_real_data_covers_every_mode_at_high_quality(name):
    x, _ = synthetic.GENERATORS[name]("test", num_examples=2500)
    coverage = metrics.mode_coverage(x, name)
    assert coverage.modes == coverage.num_modes
    assert coverage.high_quality > 0.98


def test_gauss1200_rejects_points_off_the_modes():
    means = synthetic.gauss1200_means()
    far = means[:3] + 2.0 * np.random.default_rng(0).standard_normal((3, 1200))   # twice the real spread
    assert metrics.mode_coverage(far, "gauss1200").high_quality == 0.0


def _real_noise(n, seed=0):
    """gauss1200's own noise: N(0, 1) on the 700 coordinates where the modes differ."""
    noise = np.zeros((n, 1200))
    noise[:, :700] = np.random.default_rng(seed).standard_normal((n, 700))
    return noise


@pytest.mark.parametrize("case", ["midpoint", "70/30 blend", "all-mode mean"])
@pytest.mark.parametrize("noisy", [True, False], ids=["with real noise", "without noise"])
def test_gauss1200_blends_of_modes_are_not_high_quality(case, noisy):
    # Built to fool a radius: each lies nearer its nearest mode than real points of that mode do.
    means = synthetic.gauss1200_means()
    pairs = np.array([(k, (k + 1) % 10) for k in range(10)] * 100)
    if case == "midpoint":
        points = 0.5 * means[pairs[:, 0]] + 0.5 * means[pairs[:, 1]]
    elif case == "70/30 blend":
        points = 0.7 * means[pairs[:, 0]] + 0.3 * means[pairs[:, 1]]
    else:
        points = np.tile(means.mean(axis=0), (1000, 1))
    if noisy:
        points = points + _real_noise(len(points))
    coverage = metrics.mode_coverage(points, "gauss1200")
    assert (coverage.high_quality, coverage.modes) == (0.0, 0)


def test_gauss1200_real_points_and_collapsed_ones_are_high_quality():
    x, _ = synthetic.gauss1200("test", num_examples=20_000)
    assert metrics.mode_coverage(x, "gauss1200").high_quality >= 0.99
    # A generator that puts every sample on one mode's real distribution: 1 mode, all high quality.
    one_mode = synthetic.gauss1200_means()[3] + _real_noise(500, seed=1)
    coverage = metrics.mode_coverage(one_mode, "gauss1200")
    assert (coverage.modes, coverage.high_quality, coverage.samples_per_mode[3]) == (1, 1.0, 500)


def test_mode_coverage_says_what_is_wrong_with_its_input():
    with pytest.raises(ValueError, match="ring8 points have 2 coordinates"):
        metrics.mode_coverage(np.zeros((4, 3)), "ring8")
    with pytest.raises(ValueError, match="choose one of: ring8, grid25, gauss1200"):
        metrics.mode_coverage(np.zeros((4, 2)), "fashion_mnist")


def test_domain_classifier_weights_ship_with_the_package():
    model = classifiers.domain_classifier("fashion_mnist")
    assert model.output_shape == (None, 10)
    assert classifiers.weights_path("fashion_mnist").is_relative_to(pathlib.Path(zoo.__file__).parent)
    with pytest.raises(ValueError, match="there is one for: fashion_mnist"):
        classifiers.domain_classifier("mnist")


@pytest.mark.skipif(
    not (pathlib.Path(images.DEBIAN_FASHION_MNIST) / "t10k-images-idx3-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)
def test_domain_classifier_reaches_its_required_test_accuracy():
    x, y = zoo.data.load_arrays("fashion_mnist", "test", download=False)
    accuracy = np.mean(classifiers.classify(classifiers.domain_classifier("fashion_mnist"), x) == y)
    assert accuracy >= classifiers.REQUIRED_TEST_ACCURACY["fashion_mnist"]


# -- metrics on a judge's features and probabilities ----------------------------

def _features(n=1500, dims=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dims))


@pytest.mark.parametrize("distance, zero", [
    (metrics.frechet_distance, 1e-6),
    # Unbiased over whole sets: a set against itself differs from 0 by its kernel's diagonal / N.
    (lambda a, b: metrics.kernel_distance(a, b, subsets=1, subset_size=len(a)), 0.05),
], ids=["frechet", "kernel"])
def test_feature_distances_are_about_zero_for_a_set_with_itself_and_grow_with_noise(distance, zero):
    x = _features()
    assert abs(distance(x, x)) < zero
    noise = np.random.default_rng(1).normal(size=x.shape)
    values = [distance(x, x + scale * noise) for scale in (1.0, 2.0, 4.0)]
    assert values == sorted(values) and values[0] > zero, values


def test_frechet_distance_has_its_closed_form_between_gaussians():
    # N(0, I) against N(m, s^2 I) in d dims: |m|^2 + d (1 - s)^2.
    x = _features(n=200_000, dims=3, seed=2)
    y = 2.0 * _features(n=200_000, dims=3, seed=3) + np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(metrics.frechet_distance(x, y), 1.0 + 3 * (1 - 2.0) ** 2, rtol=0.02)
    # Same mean and covariance, different shape: what a Gaussian fit cannot see.
    uniform = np.random.default_rng(4).uniform(-np.sqrt(3), np.sqrt(3), size=(200_000, 3))
    assert metrics.frechet_distance(x, uniform) < 0.01


def test_classifier_score_is_one_for_one_repeated_image_and_the_class_count_for_a_balanced_set():
    repeated = np.tile(np.random.default_rng(0).dirichlet(np.ones(10)), (1000, 1))
    np.testing.assert_allclose(metrics.classifier_score(repeated), 1.0)
    confident = np.eye(10)[np.arange(1000) % 10]
    np.testing.assert_allclose(metrics.classifier_score(confident), 10.0)
    # A real set as a good classifier sees it: balanced classes, 90% on the right one.
    soft = 0.9 * confident + 0.1 / 10
    assert 6.0 < metrics.classifier_score(soft) < 10.0
    # Confident but all one class (mode collapse) scores 1, however sharp.
    assert metrics.classifier_score(np.eye(10)[np.zeros(1000, int)]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="summing to 1"):
        metrics.classifier_score(np.ones((100, 10)))


def test_precision_and_recall_of_a_set_against_itself_are_one_and_tell_collapse_from_spread():
    x = _features(n=800, dims=4)
    assert metrics.precision_recall(x, x) == (1.0, 1.0)
    # As many samples, all on a twentieth of the real points: each sample real, the rest missed.
    collapsed = np.repeat(x[:40], 20, axis=0) + 1e-3 * np.random.default_rng(5).normal(size=(800, 4))
    precision, recall = metrics.precision_recall(x, collapsed)
    assert precision == 1.0 and recall < 0.3
    far = x + 10.0                            # the right spread in the wrong place
    assert metrics.precision_recall(x, far) == (0.0, 0.0)


def test_stacked_modes_count_constructed_histograms():
    every = np.stack(np.unravel_index(np.arange(1000), (10, 10, 10)), axis=1)
    counted = metrics.stacked_modes(np.tile(every, (26, 1)))
    assert (counted.modes, counted.num_modes) == (1000, 1000) and counted.kl == pytest.approx(0.0, abs=1e-12)
    # Half of the modes, equally often: KL log 2.
    half = metrics.stacked_modes(np.tile(every[:500], (52, 1)))
    assert half.modes == 500 and half.kl == pytest.approx(np.log(2.0))
    # ... all of it from channel 0's digits (0-4 only); the channels stay independent.
    assert half.channel_kl == pytest.approx((np.log(2.0), 0.0, 0.0), abs=1e-12)
    # Balanced digits in every channel, but the three always equal: the channels' KLs are 0 and
    # the whole KL (log 100) is their dependence.
    same = metrics.stacked_modes(np.repeat(np.tile(np.arange(10), 2600)[:, None], 3, axis=1))
    assert same.modes == 10 and same.channel_kl == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)
    assert same.kl == pytest.approx(np.log(100.0))
    # Every mode reached, but one holds most samples.
    skewed = np.concatenate([every, np.zeros((25_000, 3), int)])
    counted = metrics.stacked_modes(skewed)
    assert counted.modes == 1000 and counted.kl > 5.0
    with pytest.raises(ValueError, match=r"digits must be \(N, 3\) integer classes"):
        metrics.stacked_modes(np.zeros((10, 2), int))


def _table(n, seed):
    import pandas as pd

    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b", "c"], n)
    x = rng.normal(size=n)
    y = 2.0 * x + np.select([kind == "a", kind == "b"], [-2.0, 0.0], 2.0) + 0.1 * rng.normal(size=n)
    return pd.DataFrame({"x": x, "kind": kind, "y": y})


def test_tabular_metrics_give_known_answers_on_identical_shifted_and_shuffled_tables():
    from keras_gan_zoo.metrics import tabular

    real = _table(1000, 0)
    assert tabular.column_similarity(real, real, ["kind"]) == {"x": 0.0, "kind": 0.0, "y": 0.0}
    assert tabular.correlation_distance(real, real, ["kind"]) == 0.0
    far = real.assign(x=real.x + 100.0, kind="z")
    similarity = tabular.column_similarity(real, far, ["kind"])
    assert similarity["x"] == 1.0 and similarity["kind"] == 1.0 and similarity["y"] == 0.0
    # Each column shuffled on its own keeps every marginal and loses every correlation: built to
    # fool a per-column measure, caught by the correlation distance.
    rng = np.random.default_rng(1)
    shuffled = real.apply(lambda column: rng.permutation(column.to_numpy()))
    assert max(tabular.column_similarity(real, shuffled, ["kind"]).values()) == 0.0
    assert tabular.correlation_distance(real, shuffled, ["kind"]) > 5 * tabular.correlation_distance(
        real, _table(1000, 2), ["kind"])
    with pytest.raises(ValueError, match=r"categorical columns \['nope'\] are not columns"):
        tabular.column_similarity(real, real, ["nope"])
    with pytest.raises(ValueError, match=r"lacks the real table's columns \['y'\]"):
        tabular.correlation_distance(real, real.drop(columns="y"))


def test_ml_efficacy_is_one_for_real_rows_and_low_for_rows_without_the_relation():
    from keras_gan_zoo.metrics import tabular

    train, test = _table(300, 0), _table(200, 1)
    same, real_score, ratio = tabular.ml_efficacy(train, test, train, "y", ["kind"])
    assert ratio == 1.0 and real_score > 0.9
    rng = np.random.default_rng(2)
    broken = train.assign(y=rng.permutation(train.y.to_numpy()))
    assert tabular.ml_efficacy(train, test, broken, "y", ["kind"])[2] < 0.2
    accuracy = tabular.ml_efficacy(train, test, train, "kind", ["kind"])
    assert accuracy[2] == 1.0 and accuracy[1] > 0.8


def test_waves_judge_is_apart_from_the_splits_and_labels_real_series_right_and_swapped_ones_wrong():
    from keras_gan_zoo.data import sequences
    from keras_gan_zoo.metrics import series

    judge = series.wave_judge()
    assert judge.accuracy >= 0.99, judge.describe()
    assert "on the 2,000 real test series" in judge.describe()
    judge_x, _ = sequences.waves("judge")
    train_x, _ = sequences.waves("train")
    assert not np.isin(judge_x[:, 0, 0], train_x[:, 0, 0]).any(), "the judge's series come from the train split"
    test_x, test_y = sequences.waves("test")
    assert series.class_agreement(test_x, test_y) >= 0.99
    assert series.class_agreement(test_x, 1 - test_y) <= 0.01
    # Noise is no wave: its agreement with alternating labels is no better than chance.
    noise = np.random.default_rng(0).normal(size=(2000, 30, 1))
    assert 0.3 < series.class_agreement(noise, np.arange(2000) % 2) < 0.7


def test_wave_property_distances_are_small_for_real_series_and_catch_one_wave_per_class():
    from keras_gan_zoo.data import sequences
    from keras_gan_zoo.metrics import series

    train_x, train_y = sequences.waves("train")
    test_x, test_y = sequences.waves("test")
    real = series.property_distances(train_x, train_y, test_x, test_y)
    assert real["amplitude"] < 0.02 and real["frequency"] < 0.05, real
    # Built to fool the judge: one perfect wave per class passes it and fails here.
    n = 2000
    labels = np.arange(n) % 2
    collapsed = sequences.wave(labels, np.full(n, 0.55), np.full(n, 2.0), np.zeros(n))[..., None]
    assert series.class_agreement(collapsed, labels) == 1.0
    fooled = series.property_distances(collapsed, labels, test_x, test_y)
    assert fooled["amplitude"] > 0.1 and fooled["frequency"] > 0.3, fooled
    with pytest.raises(ValueError, match="no generated series of class 1"):
        series.property_distances(collapsed[labels == 0], labels[labels == 0], test_x, test_y)
