"""Autoencoder variants, one module each."""

from keras_gan_zoo.autoencoders.aae import AAE
from keras_gan_zoo.autoencoders.autoencoder import Autoencoder
from keras_gan_zoo.autoencoders.vae import VAE

__all__ = ["AAE", "Autoencoder", "VAE"]
