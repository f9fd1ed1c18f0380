"""Layers the "Improved Techniques" options add to networks (Salimans et al. 2016)."""

from zoo.layers.minibatch_discrimination import MinibatchDiscrimination

__all__ = ["MinibatchDiscrimination"]
