"""The `Examples:` blocks in the docstrings run and print what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "keras_gan_zoo",
    "keras_gan_zoo.registry",
    "keras_gan_zoo.data",
    "keras_gan_zoo.gans.gan",
    "keras_gan_zoo.gans.dcgan",
    "keras_gan_zoo.gans.cgan",
    "keras_gan_zoo.gans.wgan",
    "keras_gan_zoo.gans.wgan_gp",
    "keras_gan_zoo.gans.bigan",
    "keras_gan_zoo.gans.unrolled_gan",
    "keras_gan_zoo.gans.cramer_gan",
    "keras_gan_zoo.gans.infogan",
    "keras_gan_zoo.gans.veegan",
    "keras_gan_zoo.gans.sgan",
    "keras_gan_zoo.metrics",
    "keras_gan_zoo.sampling",
    "keras_gan_zoo.autoencoders.autoencoder",
    "keras_gan_zoo.autoencoders.vae",
    "keras_gan_zoo.autoencoders.aae",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
