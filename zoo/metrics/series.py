"""How close generated `waves` are to real ones, class by class (seed 003's waves).

- `WaveJudge`: the evaluation classifier of the waves' shapes. A logistic regression
  (scikit-learn) on two descriptions of a series that do not depend on its amplitude or
  phase: its magnitude spectrum (zero-padded, scaled to unit norm) and its step-to-step
  differences sorted and scaled by its peak. A sine has one spectral peak and smooth
  differences, a sawtooth harmonics and one large jump. Nothing of an LSTM, and trained on
  series of their own seed (`sequences.waves("judge")`), disjoint from the train and test
  splits. Its accuracy on the test split goes beside every score it gives.
- `class_agreement`: the share of generated series the judge labels as the class they were
  asked for (goal: at least 95%).
- `property_distances`: per class, the 1-Wasserstein distance between the generated and
  the real distributions of amplitude and frequency (`sequences.wave_properties`), in the
  series' own units (amplitude) and cycles per series (frequency). A generator that draws
  one perfect wave per class passes the judge and fails here.
"""

import dataclasses
import functools

import numpy as np
from scipy import stats

from keras_gan_zoo.data import sequences

# Zero padding of the spectrum: 4 times the series' length.
SPECTRUM_PADDING = 4


def wave_features(x):
    """(N, features): unit-norm magnitude spectrum, then sorted differences over the peak."""
    x = np.asarray(x, "float64").reshape(len(x), -1)
    x = x - x.mean(1, keepdims=True)
    spectrum = np.abs(np.fft.rfft(x, n=SPECTRUM_PADDING * x.shape[1], axis=1))
    spectrum /= np.linalg.norm(spectrum, axis=1, keepdims=True) + 1e-9
    differences = np.sort(np.diff(x, axis=1) / (np.abs(x).max(1, keepdims=True) + 1e-9), axis=1)
    return np.concatenate([spectrum, differences], axis=1)


@dataclasses.dataclass
class WaveJudge:
    """A fitted shape classifier and its accuracy on the real test split."""

    classifier: object
    accuracy: float

    def classify(self, x):
        """The judged class of each series (0 sine, 1 sawtooth)."""
        return self.classifier.predict(wave_features(x)).astype("int32")

    def summary(self):
        return {"description": self.describe(), "test_accuracy": self.accuracy}

    def describe(self):
        return (f"logistic regression on amplitude- and phase-free spectra and differences, trained on "
                f"{sequences.SPLIT_EXAMPLES['judge']:,} series of the judge's own seed; "
                f"{100 * self.accuracy:.2f}% on the {sequences.SPLIT_EXAMPLES['test']:,} real test series")


@functools.lru_cache(maxsize=1)
def wave_judge():
    """The judge, fitted once per process (deterministic: a convex fit, no random state)."""
    from sklearn.linear_model import LogisticRegression

    x, y = sequences.waves("judge")
    classifier = LogisticRegression(max_iter=2000).fit(wave_features(x), y)
    test_x, test_y = sequences.waves("test")
    accuracy = float(np.mean(classifier.predict(wave_features(test_x)) == test_y))
    return WaveJudge(classifier, accuracy)


def class_agreement(x, labels, judge=None):
    """The share of series `x` that the judge labels as `labels` says.

    Examples:
        >>> x, y = sequences.waves("test", num_examples=200)
        >>> class_agreement(x, y) > 0.99, class_agreement(x, 1 - y) < 0.01
        (True, True)
    """
    judge = judge or wave_judge()
    return float(np.mean(judge.classify(x) == np.asarray(labels)))


def property_distances(fake, fake_labels, real, real_labels):
    """`{"amplitude": d, "frequency": d, "per_class": {k: {...}}}`: per class, the 1-Wasserstein
    distance between the generated and real amplitudes and frequencies (scipy's
    `wasserstein_distance`); the top-level values are the means over classes.

    Examples:
        >>> real, y = sequences.waves("test")
        >>> flat = sequences.wave(y, np.full(len(y), 0.5), np.full(len(y), 2.0), np.zeros(len(y)))
        >>> round(property_distances(real, y, real, y)["amplitude"], 6)
        0.0
        >>> property_distances(flat, y, real, y)["amplitude"] > 0.1
        True
    """
    fake_labels, real_labels = np.asarray(fake_labels), np.asarray(real_labels)
    fake_properties, real_properties = sequences.wave_properties(fake), sequences.wave_properties(real)
    per_class = {}
    for label in np.unique(real_labels):
        mine, theirs = fake_labels == label, real_labels == label
        if not mine.any():
            raise ValueError(f"no generated series of class {label}; ask for every class.")
        per_class[int(label)] = {
            name: float(stats.wasserstein_distance(fake_properties[i][mine], real_properties[i][theirs]))
            for i, name in enumerate(("amplitude", "frequency"))}
    return {name: float(np.mean([d[name] for d in per_class.values()])) for name in ("amplitude", "frequency")} | {
        "per_class": per_class}
