"""Minibatch discrimination: Salimans et al. 2016, "Improved Techniques for Training GANs", 3.2."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class MinibatchDiscrimination(keras.layers.Layer):
    """Appends to each example's features how close it is to the rest of its batch.

    Features f(x_i) of size A are multiplied by a learned tensor T (A x B x C)
    into B rows M_i,b of size C; for each b,
    o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_1) over the batch (j = i included),
    and the layer outputs [f(x_i), o(x_i)]: shape (batch, A + B). A generator
    that collapses onto few modes makes these closeness features stand out.
    Under tf.distribute the batch is each replica's share.

    Args:
        num_kernels: B, default 50.
        kernel_dim: C, default 5.
    """

    def __init__(self, num_kernels=50, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05),
            name="kernel",
        )

    def call(self, features):
        rows = ops.reshape(ops.matmul(features, self.kernel), (-1, self.num_kernels, self.kernel_dim))
        # (batch, 1, B, C) - (1, batch, B, C): every pair of examples.
        distances = ops.sum(ops.abs(ops.expand_dims(rows, 1) - ops.expand_dims(rows, 0)), axis=-1)
        closeness = ops.sum(ops.exp(-distances), axis=1)
        return ops.concatenate([features, closeness], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}
