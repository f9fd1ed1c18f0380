"""A projection discriminator's class term (Miyato & Koyama 2018, "cGANs with Projection
Discriminator"): the inner product of the features with an embedding of the class."""

import keras


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class ClassProjection(keras.layers.Layer):
    """`[h, one-hot y] -> <h, V y>` over the last axis of `h`, one value per row (per step for
    series): `h` of shape `(batch, ..., units)`, `y` of shape `(batch, classes)`.

    Examples:
        >>> import numpy as np
        >>> layer = ClassProjection()
        >>> h, y = np.ones((2, 3, 4), "float32"), np.eye(2, dtype="float32")
        >>> tuple(layer([h, y]).shape)
        (2, 3, 1)
    """

    def build(self, input_shape):
        h_shape, y_shape = input_shape
        self.embedding = self.add_weight(name="embedding", shape=(y_shape[-1], h_shape[-1]),
                                         initializer="glorot_uniform")

    def call(self, inputs):
        h, y = inputs
        v = keras.ops.matmul(keras.ops.cast(y, self.compute_dtype), keras.ops.cast(self.embedding, self.compute_dtype))
        # (batch, units) -> (batch, 1, ..., 1, units), broadcast over the steps of h.
        v = keras.ops.reshape(v, (-1,) + (1,) * (len(h.shape) - 2) + (v.shape[-1],))
        return keras.ops.sum(h * v, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (1,)
