"""Sample metrics.

`mode_coverage` is VEEGAN's measure of mode collapse on the synthetic
mixtures (Srivastava et al. 2017, section 5.1): how many mixture components
a generator reaches, and how many of its samples land on one.

The rest take what an evaluation classifier makes of samples (its features or
its class probabilities), so they serve any image dataset with such a judge:
`frechet_distance` (FID's formula, Heusel et al. 2017), `kernel_distance`
(KID's, Binkowski et al. 2018), `classifier_score` (the Inception Score's,
Salimans et al. 2016), `precision_recall` (Kynkaanniemi et al. 2019) and
`stacked_modes` (the mode count and KL of Stacked MNIST, as VEEGAN and PacGAN
count them).
"""

import dataclasses
import inspect

import numpy as np

from keras_gan_zoo.data import synthetic

# Recorded beside every score, so that reports can tell figures of a retired rule: 1 was
# gauss1200's radius alone (it counted blends of two modes as high quality), 2 is
# `_high_quality_1200d`. The 2-D sets' rule is the same in both.
RULE_VERSION = 2

# A sample is high quality within this many standard deviations of a mode: VEEGAN's 3 on the
# 2-D sets; on gauss1200 see `_high_quality_1200d` (VEEGAN's 10 would pass 70/30 blends).
QUALITY_THRESHOLDS = {"ring8": 3.0, "grid25": 3.0, "gauss1200": 5.0}


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """What `mode_coverage` measured.

    Attributes:
        modes: mixture components nearest to at least one high-quality sample.
        high_quality: fraction of the samples that are high quality, in [0, 1].
        num_modes: components in the mixture.
        samples_per_mode: high-quality samples nearest to each component.
    """

    modes: int
    high_quality: float
    num_modes: int
    samples_per_mode: tuple


def _squared_distances(a, b):
    """|a_i - b_j|^2 for every pair, as |a|^2 - 2 a.b + |b|^2 (memory N x M, not N x M x D),
    clipped at 0 against round-off."""
    return np.maximum((a ** 2).sum(1)[:, None] - 2.0 * a @ b.T + (b ** 2).sum(1)[None, :], 0.0)


def _defaults(dataset):
    """The mixture's mean, spread and noisy dimensions as `zoo.data.synthetic` draws it."""
    parameters = inspect.signature(synthetic.GENERATORS[dataset]).parameters
    return {name: p.default for name, p in parameters.items() if name not in ("split", "num_examples")}


def _high_quality_1200d(squared, nearest, means, std, noisy_dims, threshold):
    """The high-quality rule in gauss1200's many dimensions: the sample looks like a real
    point of its nearest mode k, radially and toward every other mode.

    A real point is m_k plus N(0, std^2) noise on `noisy_dims` coordinates, so it lies
    about std * sqrt(noisy_dims) from m_k (26 std), farther than half the distance between
    two modes (19 std): a radius alone cannot tell a real point from a blend of two modes
    with real-sized noise. Two conditions together can:

    - radially, its squared distance from m_k in std units, chi-square with `noisy_dims`
      degrees of freedom for real points, exceeds that mean by at most `threshold` of its
      standard deviations (sqrt(2 noisy_dims));
    - toward every other mode j, its displacement from m_k along the unit vector to m_j,
      N(0, std^2) for real points, is at most `threshold` std. From the distances alone:
      ((x - m_k) . (m_j - m_k)) / |m_j - m_k| = (d_k^2 + |m_j - m_k|^2 - d_j^2) / (2 |m_j - m_k|).

    With threshold 5 a real point fails with probability about 1e-6; a 70/30 blend of two
    modes sits 0.3 * 38 = 11 std toward the minor one, a midpoint 19, the mean of all ten
    modes about 19: all fail, with real noise or without. (VEEGAN's 10 std, read as either
    condition alone, passes 70/30 blends.)
    """
    rows = np.arange(len(squared))
    own = squared[rows, nearest]
    radial = own / std ** 2 <= noisy_dims + threshold * np.sqrt(2.0 * noisy_dims)
    gaps = np.sqrt(((means[:, None, :] - means[None, :, :]) ** 2).sum(-1))  # |m_j - m_k|
    gap = gaps[nearest]  # (N, modes)
    with np.errstate(divide="ignore", invalid="ignore"):
        toward = (own[:, None] + gap ** 2 - squared) / (2.0 * gap)
    toward[rows, nearest] = 0.0
    return radial & (toward <= threshold * std).all(axis=1)


def mode_coverage(samples, dataset, threshold=None, **mixture_options):
    """VEEGAN's modes captured and fraction of high-quality samples.

    Args:
        samples: (N, D) generated points; VEEGAN uses N = 2,500.
        dataset: "ring8", "grid25" or "gauss1200".
        threshold: the high-quality bound in standard deviations; default
            3 for the 2-D sets, as in VEEGAN, and 5 for gauss1200, whose rule
            (`_high_quality_1200d`) also bounds the step toward every other mode.
        **mixture_options: the options the data was drawn with (e.g. `std`),
            when they differ from `zoo.data.synthetic`'s defaults.

    Returns:
        A `ModeCoverage`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> real, _ = zoo.data.synthetic.ring8("test", num_examples=2500)
        >>> coverage = zoo.metrics.mode_coverage(real, "ring8")
        >>> coverage.modes, coverage.high_quality > 0.99
        (8, True)
        >>> zoo.metrics.mode_coverage(real[:, :1], "ring8")
        Traceback (most recent call last):
        ...
        ValueError: ring8 points have 2 coordinates; the samples given have shape (2500, 1).
    """
    if dataset not in synthetic.MEANS:
        raise ValueError(
            f"mode_coverage needs a mixture with known modes; choose one of: {', '.join(synthetic.MEANS)}."
        )
    options = {**_defaults(dataset), **mixture_options}
    mean_options = {k: v for k, v in options.items() if k in inspect.signature(synthetic.MEANS[dataset]).parameters}
    means = synthetic.MEANS[dataset](**mean_options)
    samples = np.asarray(samples, dtype="float64")
    if samples.ndim != 2 or samples.shape[1] != means.shape[1]:
        raise ValueError(
            f"{dataset} points have {means.shape[1]} coordinates; the samples given have shape {samples.shape}."
        )
    squared = _squared_distances(samples, means)
    nearest = squared.argmin(axis=1)
    threshold = QUALITY_THRESHOLDS[dataset] if threshold is None else float(threshold)
    if dataset == "gauss1200":
        noisy_dims = options.get("varying_dims", means.shape[1])
        good = _high_quality_1200d(squared, nearest, means, options["std"], noisy_dims, threshold)
    else:
        # In 2-D, within `threshold` standard deviations of the nearest mean, as in VEEGAN.
        good = np.sqrt(squared[np.arange(len(samples)), nearest]) <= threshold * options["std"]
    counts = np.bincount(nearest[good], minlength=len(means))
    return ModeCoverage(
        modes=int((counts > 0).sum()),
        high_quality=float(good.mean()) if len(samples) else 0.0,
        num_modes=len(means),
        samples_per_mode=tuple(int(c) for c in counts),
    )


def _features(x, name):
    x = np.asarray(x, dtype="float64")
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name} must be (N, D) features with N >= 2; got shape {x.shape}.")
    return x


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a, features_b):
    """The Frechet distance between Gaussians fitted to two feature sets:
    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)).

    tr((S_a S_b)^(1/2)) is taken as the trace of the square root of the symmetric
    S_a^(1/2) S_b S_a^(1/2), which has the same eigenvalues, so no complex round-off
    appears.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(2000, 4))
        >>> round(frechet_distance(x, x), 6), round(frechet_distance(x, x + 1.0), 2)
        (0.0, 4.0)
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the two feature sets have {a.shape[1]} and {b.shape[1]} dimensions.")
    cov_a, cov_b = np.cov(a, rowvar=False, ddof=1), np.cov(b, rowvar=False, ddof=1)
    root_a = _sqrt_psd(np.atleast_2d(cov_a))
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ np.atleast_2d(cov_b) @ root_a), 0.0, None)).sum()
    distance = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(np.atleast_2d(cov_a)) + np.trace(
        np.atleast_2d(cov_b)) - 2.0 * cross
    return float(max(distance, 0.0))


def kernel_distance(features_a, features_b, subsets=100, subset_size=1000, seed=0):
    """The squared maximum mean discrepancy under the cubic polynomial kernel
    k(x, y) = (x.y / d + 1)^3, unbiased, averaged over `subsets` random subsets of
    `subset_size` from each set (at most the smaller set's size): KID's estimate.

    Unbiased, so it can fall slightly below 0 for two samples of one distribution.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(size=(1000, 4)), rng.normal(size=(1000, 4))
        >>> abs(kernel_distance(a, b, subsets=10)) < 0.01, kernel_distance(a, b + 1.0, subsets=10) > 0.5
        (True, True)
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the two feature sets have {a.shape[1]} and {b.shape[1]} dimensions.")
    m = min(subset_size, len(a), len(b))
    dims = a.shape[1]
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / dims + 1) ** 3, ((y @ y.T) / dims + 1) ** 3, ((x @ y.T) / dims + 1) ** 3
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        estimates.append(within - 2.0 * kxy.mean())
    return float(np.mean(estimates))


def classifier_score(probabilities, splits=10):
    """exp(E_x KL(p(y | x) || p(y))), the Inception Score's formula, from a classifier's
    class probabilities of the samples; the mean over `splits` equal parts. 1 when every
    sample gets the same prediction, the number of classes when each is confidently one
    class and the classes are equally frequent.

    Examples:
        >>> import numpy as np
        >>> round(classifier_score(np.eye(10)[np.arange(1000) % 10]), 3)
        10.0
        >>> round(classifier_score(np.tile([0.2, 0.8], (100, 1))), 3)
        1.0
    """
    p = np.asarray(probabilities, dtype="float64")
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"probabilities must be (N, classes) with N >= splits ({splits}); got shape {p.shape}.")
    if np.any(p < 0) or not np.allclose(p.sum(1), 1.0, atol=1e-3):
        raise ValueError("probabilities must be non-negative rows summing to 1 (a softmax's output).")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores))


def _nearest_radii(points, k, batch=1024):
    """The distance from each point to its k-th nearest other point."""
    radii = np.empty(len(points))
    for start in range(0, len(points), batch):
        squared = _squared_distances(points[start:start + batch], points)
        # Index k: position 0 is the point itself (distance 0).
        radii[start:start + batch] = np.sqrt(np.partition(squared, k, axis=1)[:, k])
    return radii


def _inside_any_ball(queries, centres, radii, batch=1024):
    inside = np.empty(len(queries), dtype=bool)
    for start in range(0, len(queries), batch):
        distances = np.sqrt(_squared_distances(queries[start:start + batch], centres))
        inside[start:start + batch] = (distances <= radii[None, :] + 1e-9).any(1)
    return inside


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019): each set's manifold is the
    union of balls around its points reaching their k-th nearest neighbour; precision is
    the share of generated samples inside the real manifold, recall the share of real
    samples inside the generated one. Returns `(precision, recall)`.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(500, 3))
        >>> precision_recall(x, x)
        (1.0, 1.0)
        >>> precision, recall = precision_recall(x, x[:50] * 0.1)   # collapsed near the centre
        >>> precision, recall < 0.2
        (1.0, True)
    """
    real, fake = _features(real_features, "real_features"), _features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"the two feature sets have {real.shape[1]} and {fake.shape[1]} dimensions.")
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"both sets need more than k={k} points; got {len(real)} and {len(fake)}.")
    precision = _inside_any_ball(fake, real, _nearest_radii(real, k)).mean()
    recall = _inside_any_ball(real, fake, _nearest_radii(fake, k)).mean()
    return float(precision), float(recall)


@dataclasses.dataclass(frozen=True)
class StackedModes:
    """What `stacked_modes` counted: `modes` of `num_modes` reached, and `kl`, the KL
    divergence of the samples' mode histogram from the uniform one (nats); `channel_kl`, each
    channel's digit histogram's KL from uniform. `kl` is their sum plus the channels'
    dependence (total correlation), so the two tell unbalanced digits from digits that
    come together."""

    modes: int
    kl: float
    num_modes: int
    channel_kl: tuple = ()


def stacked_modes(digits, classes=10):
    """Modes and KL on Stacked MNIST (three digits as the channels of one image, 1,000
    modes): `digits` is (N, 3), the class a classifier gives each channel; a sample's mode
    is the triple. VEEGAN and PacGAN count 26,000 samples this way.

    Examples:
        >>> import numpy as np
        >>> every = np.stack(np.unravel_index(np.arange(1000), (10, 10, 10)), axis=1)
        >>> counted = stacked_modes(np.tile(every, (26, 1)))
        >>> counted.modes, round(counted.kl, 6)
        (1000, 0.0)
        >>> counted = stacked_modes(np.zeros((26000, 3), int))
        >>> counted.modes, round(counted.kl, 4) == round(float(np.log(1000)), 4)
        (1, True)
        >>> [round(k, 4) for k in stacked_modes(every[every[:, 0] < 5]).channel_kl]  # digits 0-4 in channel 0
        [0.6931, 0.0, 0.0]
    """
    digits = np.asarray(digits)
    if digits.ndim != 2 or digits.shape[1] != 3 or not np.issubdtype(digits.dtype, np.integer):
        raise ValueError(f"digits must be (N, 3) integer classes, one per channel; got {digits.shape} {digits.dtype}.")
    if digits.size and (digits.min() < 0 or digits.max() >= classes):
        raise ValueError(f"digits must lie in 0..{classes - 1}.")
    num_modes = classes ** 3
    modes_read = np.ravel_multi_index(digits.T, (classes,) * 3)
    channel_kl = tuple(class_balance_kl(digits[:, channel], classes) for channel in range(3))
    return StackedModes(modes=int(np.unique(modes_read).size), kl=class_balance_kl(modes_read, num_modes),
                        num_modes=num_modes, channel_kl=channel_kl)


def class_balance_kl(classes_read, classes=10):
    """KL divergence (nats) of the histogram of `classes_read` (integers in 0..classes-1) from
    uniform over `classes`: 0 when every class is read equally often, log(classes) when one
    class is all; 0 for no reads.

    Examples:
        >>> class_balance_kl(np.arange(20) % 10), round(class_balance_kl(np.zeros(5, int)), 4)
        (0.0, 2.3026)
        >>> round(class_balance_kl(np.arange(20) % 5), 4)  # half the classes, equally often
        0.6931
    """
    q = np.bincount(np.asarray(classes_read, int), minlength=classes) / max(len(classes_read), 1)
    seen = q > 0
    return float((q[seen] * np.log(q[seen] * classes)).sum())
