"""Autoencoder variants, one module each."""

from zoo.autoencoders.aae import AAE
from zoo.autoencoders.autoencoder import Autoencoder
from zoo.autoencoders.vae import VAE

__all__ = ["AAE", "Autoencoder", "VAE"]
