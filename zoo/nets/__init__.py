"""Reusable network bodies, each returned as a standalone functional `keras.Model`."""

from keras_gan_zoo.nets.bodies import decoder_for, encoder_for, is_image_shape
from keras_gan_zoo.nets.conditional import conditional_discriminator, conditional_generator
from keras_gan_zoo.nets.conv import conv_decoder, conv_encoder
from keras_gan_zoo.nets.joint import joint_discriminator
from keras_gan_zoo.nets.mlp import mlp_decoder, mlp_encoder
from keras_gan_zoo.nets import packing, per_class, recurrent

__all__ = [
    "conditional_discriminator", "conditional_generator", "conv_decoder", "conv_encoder",
    "decoder_for", "encoder_for", "is_image_shape", "joint_discriminator", "mlp_decoder", "mlp_encoder", "packing",
    "per_class", "recurrent",
]
