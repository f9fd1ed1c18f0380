"""Each step's position in a series, as an input channel a recurrent generator can read."""

import keras


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class StepPosition(keras.layers.Layer):
    """`(batch, steps, d) -> (batch, steps, 1)`: step k's position k / (steps - 1), from 0 to 1, for
    every row; only the shape of the input is read.

    Examples:
        >>> import numpy as np
        >>> StepPosition()(np.zeros((2, 5, 3), "float32")).numpy()[0, :, 0].tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """

    def call(self, inputs):
        steps = inputs.shape[1]
        position = keras.ops.linspace(0.0, 1.0, steps, dtype=self.compute_dtype)
        return keras.ops.zeros_like(inputs[..., :1]) + keras.ops.reshape(position, (1, steps, 1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)
