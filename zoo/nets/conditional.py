"""Networks that also take a one-hot class, as the conditional GAN feeds its players."""

import keras

from keras_gan_zoo.nets.bodies import decoder_for, encoder_for, is_image_shape


def conditional_generator(latent_dim, num_classes, data_shape, filters=64, hidden_units=(128, 128), name="generator"):
    """[z, one-hot y] -> data: the two are concatenated into the usual generator body."""
    z = keras.Input(shape=(latent_dim,), name="z")
    y = keras.Input(shape=(num_classes,), name="y")
    joined = keras.layers.Concatenate()([z, y])
    body = decoder_for(latent_dim + num_classes, data_shape, filters, hidden_units, name="body")
    return keras.Model([z, y], body(joined), name=name)


def conditional_discriminator(
    data_shape, num_classes, filters=64, hidden_units=(128, 128), name="discriminator", batch_norm=True
):
    """[x, one-hot y] -> one logit.

    Images get the class as extra constant channels (Mirza and Osindero feed
    it to every layer of their MLPs; for convolutions the channels are the
    usual equivalent), vectors get it concatenated.
    """
    x = keras.Input(shape=tuple(data_shape), name="x")
    y = keras.Input(shape=(num_classes,), name="y")
    if is_image_shape(data_shape):
        height, width, channels = data_shape
        planes = keras.layers.Reshape((1, 1, num_classes))(y)
        planes = keras.layers.UpSampling2D((height, width))(planes)
        joined = keras.layers.Concatenate()([x, planes])
    else:
        joined = keras.layers.Concatenate()([keras.layers.Flatten()(x), y])
    body = encoder_for(tuple(joined.shape[1:]), 1, filters, hidden_units, name="body", batch_norm=batch_norm)
    return keras.Model([x, y], body(joined), name=name)
