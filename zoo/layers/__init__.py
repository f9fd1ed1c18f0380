"""Layers the "Improved Techniques" options add to networks (Salimans et al. 2016), and the
Fourier features the density-ratio classifier of `zoo.sampling` can take, and a table
generator's heads, a projection discriminator's class term, a series' step positions and codes read per step,
batch normalization through TensorFlow's fused kernel, and strided convolutions to or from a
few channels computed phase by phase."""

from keras_gan_zoo.layers.class_projection import ClassProjection
from keras_gan_zoo.layers.fourier_features import FourierFeatures
from keras_gan_zoo.layers.fused_batch_norm import FusedBatchNormalization
from keras_gan_zoo.layers.minibatch_discrimination import MinibatchDiscrimination
from keras_gan_zoo.layers.polyphase_conv import PolyphaseConv2D, PolyphaseConv2DTranspose
from keras_gan_zoo.layers.step_code import StepCode
from keras_gan_zoo.layers.step_position import StepPosition
from keras_gan_zoo.layers.table_heads import TableHeads
from keras_gan_zoo.layers.virtual_batch_norm import VirtualBatchNormalization

__all__ = ["ClassProjection", "FourierFeatures", "FusedBatchNormalization", "MinibatchDiscrimination", "PolyphaseConv2D",
           "PolyphaseConv2DTranspose", "StepCode", "StepPosition", "TableHeads", "VirtualBatchNormalization"]
