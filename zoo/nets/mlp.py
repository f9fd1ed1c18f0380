"""Fully connected bodies for vector data (and flattened images).

Output layers compute in float32 whatever the global dtype policy, so that
under mixed precision logits, codes and samples (and the losses on them)
stay float32.
"""

import math

import keras

from keras_gan_zoo.layers import MinibatchDiscrimination, VirtualBatchNormalization


def mlp_encoder(input_shape, output_dim, hidden_units=(128, 128), name="mlp_encoder", minibatch_kernels=None):
    """Data of `input_shape` -> hidden ReLU layers -> `output_dim` linear units.

    Serves as a discriminator (`output_dim=1`, logits) or an encoder.
    `minibatch_kernels=(B, C)` inserts minibatch discrimination before the
    output layer.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="x")
    h = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for units in hidden_units:
        h = keras.layers.Dense(units, activation="relu")(h)
    if minibatch_kernels:
        h = MinibatchDiscrimination(*minibatch_kernels)(h)
    outputs = keras.layers.Dense(output_dim, dtype="float32")(h)
    return keras.Model(inputs, outputs, name=name)


def mlp_decoder(
    input_dim,
    output_shape,
    hidden_units=(128, 128),
    output_activation=None,
    name="mlp_decoder",
    virtual_batch_norm=None,
):
    """A `input_dim` vector -> hidden ReLU layers -> data of `output_shape`.

    Serves as a generator or a decoder. `virtual_batch_norm=R` normalizes
    every hidden layer before its ReLU with virtual batch normalization (the
    first R rows of every input are the reference batch).
    """
    inputs = keras.Input(shape=(input_dim,), name="z")
    h = inputs
    for units in hidden_units:
        if virtual_batch_norm:
            h = keras.layers.Dense(units, use_bias=False)(h)
            h = keras.layers.ReLU()(VirtualBatchNormalization(virtual_batch_norm)(h))
        else:
            h = keras.layers.Dense(units, activation="relu")(h)
    h = keras.layers.Dense(math.prod(output_shape), activation=output_activation, dtype="float32")(h)
    if len(output_shape) > 1:
        h = keras.layers.Reshape(tuple(output_shape), dtype="float32")(h)
    return keras.Model(inputs, h, name=name)
