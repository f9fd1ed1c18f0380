"""Reusable network bodies, each returned as a standalone functional `keras.Model`."""

from zoo.nets.conv import conv_decoder, conv_encoder
from zoo.nets.joint import joint_discriminator
from zoo.nets.mlp import mlp_decoder, mlp_encoder

__all__ = ["conv_decoder", "conv_encoder", "joint_discriminator", "mlp_decoder", "mlp_encoder"]
