"""PacGAN's packing (Lin et al. 2018): a discriminator judges m examples at once.

A packed discriminator is any network built for `packed_shape(data_shape, m)`;
`Packed` wraps it so that it is called on single examples: it lays each m
consecutive examples of a batch side by side (`pack`), along the features of
vectors and the channels of images, and returns one judgement per pack.
"""

import tensorflow as tf


def packed_shape(data_shape, packing):
    """The input shape of a discriminator judging `packing` examples of `data_shape` at once."""
    data_shape = tuple(data_shape)
    return (*data_shape[:-1], data_shape[-1] * packing)


def pack(x, packing, example_shape):
    """(B, ..., C) -> (B / m, ..., m C): m consecutive examples side by side.

    The batch must be divisible by m (checked when known, asserted in the graph otherwise).
    """
    if packing == 1:
        return x
    example_shape = tuple(example_shape)
    message = f"with packing={packing} the batch on each replica must be divisible by {packing}"
    if x.shape[0] is not None and x.shape[0] % packing:
        raise ValueError(f"{message}; got a batch of {x.shape[0]}.")
    check = tf.debugging.assert_equal(tf.shape(x)[0] % packing, 0, message=message)
    with tf.control_dependencies([check]):
        packed = tf.reshape(x, [-1, packing, *example_shape])
    # Move the m axis next to the last one, then merge them.
    order = [0, *range(2, len(example_shape) + 1), 1, len(example_shape) + 1]
    packed = tf.transpose(packed, order)
    return tf.reshape(packed, [-1, *example_shape[:-1], example_shape[-1] * packing])


class Packed:
    """A packed discriminator, called on single examples.

    Called on a batch of B examples (for a network of several inputs, such as
    a joint discriminator's `[x, z]` pairs, a list of B-row batches), it packs
    each input's m consecutive rows and returns the network's B / m outputs.
    With `packing` 1 it is the network itself.

    It is a plain callable, not a Keras layer: the model already tracks the
    wrapped network, and a layer holding it would save its weights twice.

    Args:
        network: a `keras.Model` built for the packed shapes (`packed_shape`).
        packing: m, the examples judged together.
        example_shapes: the shape of one example of each input, e.g.
            `[data_shape]`, or `[data_shape, (latent_dim,)]` for pairs.

    Examples:
        >>> import numpy as np, keras
        >>> from keras_gan_zoo.nets import packing
        >>> inputs = keras.Input(packing.packed_shape((3,), 2))
        >>> network = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        >>> packing.Packed(network, 2, [(3,)])(np.zeros((8, 3), "float32")).shape
        TensorShape([4, 1])
    """

    def __init__(self, network, packing, example_shapes):
        self.network = network
        self.packing = int(packing)
        self.example_shapes = [tuple(s) for s in example_shapes]

    def pack(self, x, index=0):
        """The packs of input `index`'s batch `x`, as the network sees them."""
        return pack(tf.convert_to_tensor(x), self.packing, self.example_shapes[index])

    def __call__(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != len(self.example_shapes):
                raise ValueError(
                    f"this packed network takes {len(self.example_shapes)} inputs; got {len(inputs)}.")
            return self.network([self.pack(x, i) for i, x in enumerate(inputs)], training=training)
        return self.network(self.pack(inputs), training=training)
