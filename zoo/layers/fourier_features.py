"""Random Fourier features: Tancik et al. 2020, "Fourier Features Let Networks Learn High
Frequency Functions in Low Dimensional Domains"."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class FourierFeatures(keras.layers.Layer):
    """Appends [sin(2 pi x B), cos(2 pi x B)] to x, B a fixed Gaussian matrix.

    A ReLU MLP on a low-dimensional input learns smooth functions first and
    sharp ones last (or never, within a step budget). Sines of random
    frequencies hand it the sharp directions at once. B (input size x
    `num_frequencies`) is drawn once from N(0, `scale`^2) and is not trained;
    `scale` sets the finest detail the features resolve, about
    1 / (2 pi scale) in the input's units.

    Args:
        num_frequencies: columns of B; the layer adds twice as many features.
        scale: standard deviation of B's entries, in cycles per input unit.
        seed: draws B, so that a saved model and its rebuilt config agree.
    """

    def __init__(self, num_frequencies=128, scale=1.0, seed=0, **kwargs):
        super().__init__(**kwargs)
        if num_frequencies < 1 or not scale > 0:
            raise ValueError(f"FourierFeatures needs num_frequencies >= 1 and scale > 0; "
                             f"got {num_frequencies} and {scale}.")
        self.num_frequencies = int(num_frequencies)
        self.scale = float(scale)
        self.seed = int(seed)

    def build(self, input_shape):
        self.frequencies = self.add_weight(
            shape=(input_shape[-1], self.num_frequencies),
            initializer=keras.initializers.RandomNormal(stddev=self.scale, seed=self.seed),
            trainable=False,
            name="frequencies",
        )

    def call(self, x):
        phases = 2.0 * math.pi * ops.matmul(x, self.frequencies)
        return ops.concatenate([x, ops.sin(phases), ops.cos(phases)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2 * self.num_frequencies)

    def get_config(self):
        return {**super().get_config(), "num_frequencies": self.num_frequencies, "scale": self.scale,
                "seed": self.seed}
