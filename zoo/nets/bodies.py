"""The usual choice of body: convolutional for (H, W, C) images, fully connected otherwise."""

from keras_gan_zoo.nets.conv import conv_decoder, conv_encoder
from keras_gan_zoo.nets.mlp import mlp_decoder, mlp_encoder


def is_image_shape(data_shape):
    return len(tuple(data_shape)) == 3


def encoder_for(data_shape, output_dim, filters, hidden_units, name, batch_norm=True, minibatch_kernels=None):
    """Data -> `output_dim` units: `conv_encoder` for images (`filters`, `batch_norm`),
    `mlp_encoder` otherwise (`hidden_units`)."""
    if is_image_shape(data_shape):
        return conv_encoder(
            data_shape, output_dim, filters, batch_norm=batch_norm, name=name, minibatch_kernels=minibatch_kernels
        )
    return mlp_encoder(data_shape, output_dim, hidden_units, name=name, minibatch_kernels=minibatch_kernels)


def decoder_for(input_dim, data_shape, filters, hidden_units, name, image_activation="tanh", virtual_batch_norm=None):
    """A vector -> data: `conv_decoder` ending in `image_activation` for images,
    `mlp_decoder` with a linear output otherwise."""
    if is_image_shape(data_shape):
        return conv_decoder(
            input_dim, data_shape, filters, output_activation=image_activation, name=name,
            virtual_batch_norm=virtual_batch_norm,
        )
    return mlp_decoder(input_dim, data_shape, hidden_units, name=name, virtual_batch_norm=virtual_batch_norm)
