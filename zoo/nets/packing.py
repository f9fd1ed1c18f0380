"""PacGAN's packing (Lin et al. 2018): a discriminator judges m examples at once.

A packed discriminator is any body built for `packed_shape(data_shape, m)`;
`pack` lays each m consecutive examples of a batch side by side for it,
along the features of vectors and the channels of images.
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
