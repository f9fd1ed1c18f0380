"""Sample metrics.

`mode_coverage` is VEEGAN's measure of mode collapse on the synthetic
mixtures (Srivastava et al. 2017, section 5.1): how many mixture components
a generator reaches, and how many of its samples land on one.
"""

import dataclasses
import inspect

import numpy as np

from keras_gan_zoo.data import synthetic

# A sample is high quality within this many standard deviations of a mode (VEEGAN).
QUALITY_THRESHOLDS = {"ring8": 3.0, "grid25": 3.0, "gauss1200": 10.0}


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


def _defaults(dataset):
    """The mixture's mean, spread and noisy dimensions as `zoo.data.synthetic` draws it."""
    parameters = inspect.signature(synthetic.GENERATORS[dataset]).parameters
    return {name: p.default for name, p in parameters.items() if name not in ("split", "num_examples")}


def _within_threshold(distances, dataset, std, noisy_dims, threshold):
    """The high-quality rule: Euclidean distance for the 2-D sets, its square's spread in 1200-D.

    In 2-D a sample is high quality within `threshold` standard deviations of
    its nearest mean, as in VEEGAN. In `noisy_dims` dimensions a real point
    lies about std * sqrt(noisy_dims) from its mean (26 std for gauss1200),
    so the literal rule would reject every real point. There, the squared
    distance in std units is chi-square with `noisy_dims` degrees of freedom
    for real data, and a sample counts when it stays within `threshold`
    standard deviations (sqrt(2 * noisy_dims)) of that distribution's mean.
    """
    if dataset != "gauss1200":
        return distances <= threshold * std
    squared = (distances / std) ** 2
    return squared <= noisy_dims + threshold * np.sqrt(2.0 * noisy_dims)


def mode_coverage(samples, dataset, threshold=None, **mixture_options):
    """VEEGAN's modes captured and fraction of high-quality samples.

    Args:
        samples: (N, D) generated points; VEEGAN uses N = 2,500.
        dataset: "ring8", "grid25" or "gauss1200".
        threshold: the high-quality radius in standard deviations; default
            3 for the 2-D sets and 10 for gauss1200, as in VEEGAN.
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
    # |x - m|^2 = |x|^2 - 2 x.m + |m|^2 keeps memory at N x modes in 1200-D.
    squared = (samples ** 2).sum(1, keepdims=True) - 2.0 * samples @ means.T + (means ** 2).sum(1)
    nearest = squared.argmin(axis=1)
    distances = np.sqrt(np.maximum(squared[np.arange(len(samples)), nearest], 0.0))
    noisy_dims = options.get("varying_dims", means.shape[1])
    threshold = QUALITY_THRESHOLDS[dataset] if threshold is None else float(threshold)
    good = _within_threshold(distances, dataset, options["std"], noisy_dims, threshold)
    counts = np.bincount(nearest[good], minlength=len(means))
    return ModeCoverage(
        modes=int((counts > 0).sum()),
        high_quality=float(good.mean()) if len(samples) else 0.0,
        num_modes=len(means),
        samples_per_mode=tuple(int(c) for c in counts),
    )
