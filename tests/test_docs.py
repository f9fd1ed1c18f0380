"""The `Examples:` blocks in the docstrings run and print what they show.

The variants' modules come from the registry: a registered variant without an
example fails here.
"""

import doctest
import importlib

import pytest

import keras_gan_zoo as zoo

LIBRARY_MODULES = [
    "keras_gan_zoo",
    "keras_gan_zoo.registry",
    "keras_gan_zoo.capabilities",
    "keras_gan_zoo.serialization",
    "keras_gan_zoo.training.config",
    "keras_gan_zoo.data",
    "keras_gan_zoo.data.images",
    "keras_gan_zoo.data.sequences",
    "keras_gan_zoo.data.tables",
    "keras_gan_zoo.evaluation",
    "keras_gan_zoo.judges",
    "keras_gan_zoo.metrics",
    "keras_gan_zoo.metrics.ivom",
    "keras_gan_zoo.metrics.series",
    "keras_gan_zoo.metrics.tabular",
    "keras_gan_zoo.sampling",
    "keras_gan_zoo.pretrained",
    "keras_gan_zoo.nets.packing",
    "keras_gan_zoo.layers.polyphase_conv",
]
VARIANT_MODULES = sorted({zoo.get_entry(name).cls.__module__ for name in zoo.list_models()})


@pytest.mark.parametrize("name", LIBRARY_MODULES + VARIANT_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_variant_documents_an_example_that_builds_it(name):
    entry = zoo.get_entry(name)
    docstring = entry.cls.__doc__ or ""
    assert "Examples:" in docstring and any(f'zoo.create("{n}"' in docstring for n in (name, *entry.aliases)), (
        f"{name}'s class docstring needs an Examples: block that calls zoo.create({name!r}, ...)")
