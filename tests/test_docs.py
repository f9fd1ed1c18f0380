"""The `Examples:` blocks in the docstrings run and print what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "zoo",
    "zoo.registry",
    "zoo.data",
    "zoo.gans.gan",
    "zoo.gans.dcgan",
    "zoo.gans.cgan",
    "zoo.gans.wgan",
    "zoo.gans.wgan_gp",
    "zoo.gans.bigan",
    "zoo.gans.unrolled_gan",
    "zoo.gans.cramer_gan",
    "zoo.gans.infogan",
    "zoo.gans.veegan",
    "zoo.gans.sgan",
    "zoo.metrics",
    "zoo.sampling",
    "zoo.autoencoders.autoencoder",
    "zoo.autoencoders.vae",
    "zoo.autoencoders.aae",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
