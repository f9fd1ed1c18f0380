"""Series datasets, generated in process: seed 003's `waves`.

`waves`: one-channel series of 30 steps, each a sine (label 0) or a sawtooth
(label 1) with its own amplitude, frequency and phase offset, drawn uniformly from
`AMPLITUDES`, `FREQUENCIES` (cycles per 30 steps) and [0, 2 pi). Every split is
drawn from a fixed seed, so it is identical across runs and machines; a third,
"judge", trains the evaluation classifier only.
"""

import numpy as np

STEPS = 30
AMPLITUDES = (0.2, 0.9)
FREQUENCIES = (1.0, 3.0)
SHAPES = ("sine", "sawtooth")
# "judge" trains the evaluation classifier (`zoo.metrics.series`), apart from both splits.
SPLIT_SEEDS = {"train": 0, "test": 1, "judge": 2}
SPLIT_EXAMPLES = {"train": 10_000, "test": 2_000, "judge": 10_000}


def wave(shape, amplitude, frequency, phase, steps=STEPS):
    """One series per row of the (N,) parameter arrays: (N, steps), in [-amplitude, amplitude].

    A sawtooth rises linearly from -amplitude to amplitude over each cycle; a sine of the
    same parameters has the same period and phase.
    """
    amplitude, frequency, phase = (np.asarray(v, "float64")[:, None] for v in (amplitude, frequency, phase))
    cycles = frequency * np.arange(steps)[None, :] / steps + phase / (2 * np.pi)
    sine = np.sin(2 * np.pi * cycles)
    sawtooth = 2.0 * (cycles - np.floor(cycles)) - 1.0
    return amplitude * np.where(np.asarray(shape)[:, None] == 0, sine, sawtooth)


def waves(split="train", num_examples=None):
    """`(x, y)`: float32 series (N, 30, 1) and int32 labels, 0 sine, 1 sawtooth, half each.

    Examples:
        >>> x, y = waves("test", num_examples=4)
        >>> x.shape, y.tolist(), bool(abs(x).max() <= AMPLITUDES[1])
        ((4, 30, 1), [0, 1, 0, 1], True)
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f"Unknown split {split!r}. Choose one of: {', '.join(SPLIT_SEEDS)}.")
    n = SPLIT_EXAMPLES[split] if num_examples is None else int(num_examples)
    rng = np.random.default_rng([30, SPLIT_SEEDS[split]])
    labels = np.arange(n) % len(SHAPES)
    amplitude = rng.uniform(*AMPLITUDES, n)
    frequency = rng.uniform(*FREQUENCIES, n)
    phase = rng.uniform(0.0, 2 * np.pi, n)
    x = wave(labels, amplitude, frequency, phase)
    return x[..., None].astype("float32"), labels.astype("int32")


def wave_properties(x):
    """(amplitude, frequency) estimated from each series of (N, steps[, 1]): half its range, and
    the peak of its spectrum (zero-padded to 1/16-cycle resolution) in cycles per series, the
    fundamental of either shape. Over `waves`' ranges the frequency is off by 0.06 cycles on
    average (at most 0.36 over the train split): a series of 30 steps holds one to three cycles.

    Examples:
        >>> x = wave(np.array([0, 0]), np.array([0.5, 0.8]), np.array([2.0, 2.5]), np.full(2, 0.3))
        >>> amplitude, frequency = wave_properties(x)
        >>> np.round(amplitude, 1).tolist(), bool(np.all(np.abs(frequency - [2.0, 2.5]) < 0.1))
        ([0.5, 0.8], True)
    """
    x = np.asarray(x, "float64")
    x = x.reshape(len(x), -1)
    amplitude = (x.max(1) - x.min(1)) / 2.0
    padding = 16
    spectrum = np.abs(np.fft.rfft(x - x.mean(1, keepdims=True), n=padding * x.shape[1], axis=1))
    # Bin k is k / padding cycles per series; below half a cycle is the series' trend, not its wave.
    lowest = padding // 2
    frequency = (np.argmax(spectrum[:, lowest:], axis=1) + lowest) / padding
    return amplitude, frequency
