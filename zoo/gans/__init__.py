"""Adversarial variants, one module each: every module here registers its variant on import."""

from keras_gan_zoo.registry import import_variants

VARIANTS = import_variants(__name__, __path__)
globals().update(VARIANTS)
__all__ = sorted(VARIANTS)
