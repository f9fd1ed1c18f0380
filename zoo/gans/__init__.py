"""Adversarial variants, one module each."""

from zoo.gans.bigan import BiGAN
from zoo.gans.cgan import CGAN
from zoo.gans.cramer_gan import CramerGAN
from zoo.gans.dcgan import DCGAN
from zoo.gans.gan import GAN
from zoo.gans.guided_gan import GuidedGAN
from zoo.gans.infogan import InfoGAN
from zoo.gans.latent_gan import LatentGAN
from zoo.gans.sgan import SGAN
from zoo.gans.unrolled_gan import UnrolledGAN
from zoo.gans.veegan import VEEGAN
from zoo.gans.wgan import WGAN
from zoo.gans.wgan_gp import WGANGP

__all__ = [
    "BiGAN", "CGAN", "CramerGAN", "DCGAN", "GAN", "GuidedGAN", "InfoGAN", "LatentGAN", "SGAN", "UnrolledGAN",
    "VEEGAN", "WGAN", "WGANGP",
]
