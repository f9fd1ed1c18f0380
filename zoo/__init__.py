"""GAN and autoencoder variants for Keras 3 and TensorFlow.

    >>> import keras_gan_zoo as zoo
    >>> {"gan", "dcgan", "autoencoder", "vae"} <= set(zoo.list_models())
    True
    >>> zoo.create("gan").sample(2, seed=0).shape
    (2, 2)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.path.basename(sys.argv[0] if sys.argv else "") == "ganzoo":
    # The command's terminal: TensorFlow logs its start-up as it loads, below.
    from keras_gan_zoo.training import console

    console.quiet_native_log()

from keras_gan_zoo import (  # noqa: E402
    capabilities, classifiers, data, evaluation, judges, layers, losses, metrics, nets, pretrained, sampling, serialization, steps,
    techniques,
)
from keras_gan_zoo import autoencoders, gans  # noqa: E402
from keras_gan_zoo.adversarial import AdversarialModel  # noqa: E402
from keras_gan_zoo.base import AutoencoderModel, GenerativeModel  # noqa: E402
from keras_gan_zoo.registry import create, describe_models, get_entry, list_models  # noqa: E402

# Every registered variant's class, by its class name (zoo.GAN, zoo.VAE, ...).
_VARIANT_CLASSES = {**gans.VARIANTS, **autoencoders.VARIANTS}
globals().update(_VARIANT_CLASSES)

__all__ = sorted([
    *_VARIANT_CLASSES, "AdversarialModel", "AutoencoderModel", "GenerativeModel",
    "capabilities", "classifiers", "create", "data", "describe_models", "evaluation", "get_entry", "judges", "layers", "list_models",
    "losses", "metrics", "nets", "pretrained", "sampling", "serialization", "steps", "techniques",
])
