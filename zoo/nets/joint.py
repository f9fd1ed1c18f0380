"""A discriminator on (example, code) pairs, as BiGAN and ALI use."""

import keras

from keras_gan_zoo.nets.bodies import encoder_for
from keras_gan_zoo.nets.mlp import mlp_encoder


def joint_discriminator(data_shape, latent_dim, filters=64, hidden_units=(128, 128), name="discriminator"):
    """(x, z) -> one logit: features of x and of z, concatenated, through a hidden layer.

    Images get a DCGAN body for x (`filters`), vectors a fully connected one
    (`hidden_units`); z always gets a fully connected one. The output layer
    computes in float32 under any dtype policy (see `nets.mlp`).
    """
    feature_size = hidden_units[-1]
    x_in = keras.Input(shape=tuple(data_shape), name="x")
    z_in = keras.Input(shape=(latent_dim,), name="z")
    x_body = encoder_for(data_shape, feature_size, filters, hidden_units[:-1], name="x_features", batch_norm=False)
    z_body = mlp_encoder((latent_dim,), feature_size, hidden_units[:-1], name="z_features")
    h = keras.layers.Concatenate()([x_body(x_in), z_body(z_in)])
    h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Dense(feature_size)(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    outputs = keras.layers.Dense(1, dtype="float32")(h)
    return keras.Model([x_in, z_in], outputs, name=name)
