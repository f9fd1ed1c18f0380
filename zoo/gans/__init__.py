"""Adversarial variants, one module each."""

from keras_gan_zoo.gans.bigan import BiGAN
from keras_gan_zoo.gans.cgan import CGAN
from keras_gan_zoo.gans.cramer_gan import CramerGAN
from keras_gan_zoo.gans.dcgan import DCGAN
from keras_gan_zoo.gans.gan import GAN
from keras_gan_zoo.gans.guided_gan import GuidedGAN
from keras_gan_zoo.gans.infogan import InfoGAN
from keras_gan_zoo.gans.latent_gan import LatentGAN
from keras_gan_zoo.gans.sgan import SGAN
from keras_gan_zoo.gans.unrolled_gan import UnrolledGAN
from keras_gan_zoo.gans.veegan import VEEGAN
from keras_gan_zoo.gans.wgan import WGAN
from keras_gan_zoo.gans.wgan_gp import WGANGP

__all__ = [
    "BiGAN", "CGAN", "CramerGAN", "DCGAN", "GAN", "GuidedGAN", "InfoGAN", "LatentGAN", "SGAN", "UnrolledGAN",
    "VEEGAN", "WGAN", "WGANGP",
]
