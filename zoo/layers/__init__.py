"""Layers the "Improved Techniques" options add to networks (Salimans et al. 2016)."""

from zoo.layers.minibatch_discrimination import MinibatchDiscrimination
from zoo.layers.virtual_batch_norm import VirtualBatchNormalization

__all__ = ["MinibatchDiscrimination", "VirtualBatchNormalization"]
