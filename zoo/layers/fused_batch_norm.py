"""Batch normalization through TensorFlow's fused kernel, for the zoo's convolutional networks."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` computed by one fused TensorFlow kernel.

    Keras 3's layer computes the moments and the normalization as separate operations in
    float32, casting bfloat16 inputs up and the result back down; under `mixed_bfloat16` those
    casts and passes cost the DCGAN step more than the normalization itself
    (docs/results/bf16_batchnorm.md). `tf.nn.fused_batch_norm` reads bfloat16 or float32
    inputs, keeps its statistics in float32 and does the forward and backward pass in one kernel
    each. Same weights, same moving-statistics rule (the batch's biased variance, as Keras uses),
    same outputs within float error, so checkpoints and `.keras` files of either layer load into
    the other. Ranks 2 to 4 with the channels last are fused; a mask, renormalization, a
    synchronized layer, another axis, float64 or another backend fall back to Keras's path.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(3.0, 2.0, (64, 5)).astype("float32")
        >>> y = FusedBatchNormalization()(x, training=True).numpy()
        >>> bool(abs(y.mean()) < 1e-4 and abs(y.std() - 1.0) < 1e-2)
        True
    """

    def _fusable(self, inputs, mask):
        rank = len(inputs.shape)
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.renorm
                and not self.synchronized and 2 <= rank <= 4 and self.axis in (-1, rank - 1)
                and keras.backend.standardize_dtype(inputs.dtype) in ("float32", "bfloat16", "float16"))

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        rank = len(inputs.shape)
        shape = tf.shape(inputs)
        # The kernel takes (N, H, W, C); vectors and series become (N, 1, 1, C) and (N, 1, T, C).
        x = tf.reshape(inputs, tf.concat([shape[:1], tf.ones([4 - rank], tf.int32), shape[1:]], 0)) if rank < 4 \
            else inputs
        channels = inputs.shape[-1]
        scale = tf.cast(self.gamma, "float32") if self.scale else tf.ones([channels], "float32")
        offset = tf.cast(self.beta, "float32") if self.center else tf.zeros([channels], "float32")
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, scale, offset, epsilon=self.epsilon, is_training=True)
            # The kernel returns the unbiased variance (divided by n - 1); Keras keeps the biased one.
            count = tf.cast(tf.reduce_prod(shape[:-1]), "float32")
            variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, scale, offset, mean=tf.cast(self.moving_mean, "float32"),
                variance=tf.cast(self.moving_variance, "float32"), epsilon=self.epsilon, is_training=False)
        if rank < 4:
            y = tf.reshape(y, shape)
        return tf.cast(y, self.compute_dtype)
