"""Adversarial variants, one module each."""

from zoo.gans.dcgan import DCGAN
from zoo.gans.gan import GAN

__all__ = ["DCGAN", "GAN"]
