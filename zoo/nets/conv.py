"""DCGAN-style convolutional bodies (Radford et al. 2016) for HxWxC images.

Two stride-2 stages, so height and width must be divisible by 4 (28x28 gives
7x7 at the bottom). Batch normalization everywhere but the discriminator's
input layer and the generator's output layer, LeakyReLU(0.2) in the
discriminator, ReLU in the generator, 5x5 kernels: the paper's guidelines. The batch
normalization is `zoo.layers.FusedBatchNormalization`, Keras's layer through one fused kernel.
The encoder's first convolution and the decoder's last one are `zoo.layers.PolyphaseConv2D`
and `PolyphaseConv2DTranspose`: Keras's layers, with the transposed convolution to the image's
few channels (the decoder's forward pass, the encoder's input gradient) computed phase by phase.
The encoder's output layer computes in float32 under any dtype policy (see `nets.mlp`), the
decoder's output activation too, after a last convolution in the policy's dtype.
"""

import keras

from keras_gan_zoo.layers import (
    FusedBatchNormalization, MinibatchDiscrimination, PolyphaseConv2D, PolyphaseConv2DTranspose, VirtualBatchNormalization,
)


def check_image_shape(image_shape, who="A convolutional network"):
    """Raises unless `image_shape` is (H, W, C) with H and W divisible by 4."""
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[0] % 4 or image_shape[1] % 4:
        raise ValueError(
            f"{who} expects images of shape (H, W, C) with H "
            f"and W divisible by 4, such as (28, 28, 1); got {tuple(image_shape)}."
        )


def conv_encoder(image_shape, output_dim, filters=64, batch_norm=True, name="conv_encoder", minibatch_kernels=None):
    """Image -> two stride-2 5x5 convolutions -> `output_dim` linear units.

    `minibatch_kernels=(B, C)` inserts minibatch discrimination before the
    output layer.
    """
    check_image_shape(image_shape)
    inputs = keras.Input(shape=tuple(image_shape), name="x")
    h = PolyphaseConv2D(filters, 5, strides=2, padding="same")(inputs)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Conv2D(2 * filters, 5, strides=2, padding="same")(h)
    if batch_norm:
        h = FusedBatchNormalization()(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Flatten()(h)
    if minibatch_kernels:
        h = MinibatchDiscrimination(*minibatch_kernels)(h)
    outputs = keras.layers.Dense(output_dim, dtype="float32")(h)
    return keras.Model(inputs, outputs, name=name)


def conv_decoder(
    input_dim, image_shape, filters=64, output_activation="tanh", name="conv_decoder",
    virtual_batch_norm=None,
):
    """A vector -> 1/4-size feature map -> two stride-2 5x5 transposed convolutions.

    `virtual_batch_norm=R` uses virtual batch normalization with the first R
    rows of every input as reference batch, instead of batch normalization.
    """
    check_image_shape(image_shape)

    def normalization():
        if virtual_batch_norm:
            return VirtualBatchNormalization(virtual_batch_norm)
        return FusedBatchNormalization()

    height, width, channels = image_shape
    inputs = keras.Input(shape=(input_dim,), name="z")
    h = keras.layers.Dense((height // 4) * (width // 4) * 2 * filters, use_bias=False)(inputs)
    h = normalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.Reshape((height // 4, width // 4, 2 * filters))(h)
    h = keras.layers.Conv2DTranspose(filters, 5, strides=2, padding="same", use_bias=False)(h)
    h = normalization()(h)
    h = keras.layers.ReLU()(h)
    # The last transposed convolution computes in the policy's dtype and its activation in float32
    # (Keras's advice for mixed precision): the samples and the losses on them stay float32, and
    # under bfloat16 the step is 1.11x as fast as with the convolution in float32
    # (docs/results/bf16_batchnorm.md).
    h = PolyphaseConv2DTranspose(channels, 5, strides=2, padding="same")(h)
    outputs = keras.layers.Activation(output_activation, dtype="float32")(h)
    return keras.Model(inputs, outputs, name=name)
