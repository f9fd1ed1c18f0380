"""Reusable network bodies, each returned as a standalone functional `keras.Model`."""

from zoo.nets.bodies import decoder_for, encoder_for, is_image_shape
from zoo.nets.conditional import conditional_discriminator, conditional_generator
from zoo.nets.conv import conv_decoder, conv_encoder
from zoo.nets.joint import joint_discriminator
from zoo.nets.mlp import mlp_decoder, mlp_encoder
from zoo.nets import per_class

__all__ = [
    "conditional_discriminator", "conditional_generator", "conv_decoder", "conv_encoder",
    "decoder_for", "encoder_for", "is_image_shape", "joint_discriminator", "mlp_decoder", "mlp_encoder", "per_class",
]
