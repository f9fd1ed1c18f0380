"""Virtual batch normalization: Salimans et al. 2016, "Improved Techniques for Training GANs", 3.4."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class VirtualBatchNormalization(keras.layers.Layer):
    """Normalizes each example with a fixed reference batch's statistics and its own.

    The first `reference_size` rows of every input are the reference batch
    (the network is always called with them in front). Each row x is
    normalized with the mean and mean square of the reference rows and x
    itself, weighted R/(R+1) and 1/(R+1), then scaled and shifted by learned
    gamma and beta per channel (the last axis). Unlike batch normalization, a
    row's output so depends on the reference batch and on itself only, never
    on the other examples of its batch.

    Args:
        reference_size: R, how many leading rows form the reference batch.
        epsilon: added to the variance.
    """

    def __init__(self, reference_size, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if int(reference_size) < 1:
            raise ValueError(f"reference_size must be >= 1, got {reference_size}.")
        self.reference_size = int(reference_size)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, x):
        spatial_axes = tuple(range(1, len(x.shape) - 1))
        reference = x[: self.reference_size]
        reference_mean = ops.mean(reference, axis=(0, *spatial_axes))
        reference_square = ops.mean(ops.square(reference), axis=(0, *spatial_axes))
        own_mean = ops.mean(x, axis=spatial_axes, keepdims=True) if spatial_axes else x
        own_square = ops.mean(ops.square(x), axis=spatial_axes, keepdims=True) if spatial_axes else ops.square(x)
        own_weight = 1.0 / (self.reference_size + 1.0)
        mean = (1.0 - own_weight) * reference_mean + own_weight * own_mean
        square = (1.0 - own_weight) * reference_square + own_weight * own_square
        variance = ops.maximum(square - ops.square(mean), 0.0)
        return (x - mean) * ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size, "epsilon": self.epsilon}
