"""VEEGAN's synthetic mixtures (Srivastava et al. 2017), as PacGAN's code reruns them.

Every set is drawn from a fixed seed per split, so it is identical across runs
and machines (numpy's PCG64 generator is platform independent). Each returns
`(x, y)`: float32 points and the int32 index of the mixture component that
drew each point.
"""

import numpy as np

# One generator seed per split: the splits are independent draws of one mixture.
SPLIT_SEEDS = {"train": 0, "test": 1}


def _rng(split, salt):
    if split not in SPLIT_SEEDS:
        raise ValueError(f"Unknown split {split!r}. Choose one of: {', '.join(SPLIT_SEEDS)}.")
    return np.random.default_rng([salt, SPLIT_SEEDS[split]])


def ring8_means(num_modes=8, radius=1.0):
    """Means (r cos 2 pi i / k, r sin 2 pi i / k), i = 0..k-1."""
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid25_means(side=5, spacing=2.0):
    """Means on {-4, -2, 0, 2, 4}^2 for the defaults."""
    ticks = spacing * (np.arange(side) - (side - 1) / 2.0)
    return np.array([(a, b) for a in ticks for b in ticks])


def gauss1200_means(num_modes=10, dims=1200, varying_dims=700, mode_scale=1.0):
    """Means of the high-dimensional mixture.

    The first `varying_dims` coordinates of mode k are an offset drawn once
    from N(0, mode_scale^2) (seed 1200); the remaining coordinates are one
    shared vector drawn once from N(0, 1) (seed 1201), so the modes differ
    only inside a `varying_dims`-dimensional subspace.
    """
    offsets = np.random.default_rng(1200).normal(0.0, mode_scale, (num_modes, varying_dims))
    fixed = np.random.default_rng(1201).normal(0.0, 1.0, dims - varying_dims)
    return np.concatenate([offsets, np.tile(fixed, (num_modes, 1))], axis=1)


def _draw(means, noise_std, num_examples, rng, noisy_dims=None):
    labels = rng.integers(0, len(means), size=num_examples)
    noisy_dims = means.shape[1] if noisy_dims is None else noisy_dims
    noise = np.zeros((num_examples, means.shape[1]))
    noise[:, :noisy_dims] = rng.normal(0.0, noise_std, (num_examples, noisy_dims))
    return (means[labels] + noise).astype("float32"), labels.astype("int32")


def ring8(split="train", num_examples=100_000, std=0.01, num_modes=8, radius=1.0):
    """8 Gaussians on the unit circle, standard deviation 0.01."""
    return _draw(ring8_means(num_modes, radius), std, num_examples, _rng(split, 8))


def grid25(split="train", num_examples=100_000, std=0.05, side=5, spacing=2.0):
    """25 Gaussians on a 5x5 grid with spacing 2, standard deviation 0.05."""
    return _draw(grid25_means(side, spacing), std, num_examples, _rng(split, 25))


def gauss1200(split="train", num_examples=20_000, std=1.0, num_modes=10, dims=1200,
              varying_dims=700, mode_scale=1.0):
    """10 Gaussians in 1200-d that differ in a 700-d subspace.

    A point is its mode's mean plus N(0, std^2) noise on the first
    `varying_dims` coordinates; the other coordinates are the fixed shared
    vector of `gauss1200_means`.
    """
    means = gauss1200_means(num_modes, dims, varying_dims, mode_scale)
    return _draw(means, std, num_examples, _rng(split, 1200), noisy_dims=varying_dims)


GENERATORS = {"ring8": ring8, "grid25": grid25, "gauss1200": gauss1200}
MEANS = {"ring8": ring8_means, "grid25": grid25_means, "gauss1200": gauss1200_means}
