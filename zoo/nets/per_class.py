"""One network per class behind one `keras.Model`.

Methods that keep a separate model per class (the L-GAN's autoencoders and
latent GANs) run all of them on every batch and pick each example's own
class afterwards: static shapes, so one code path serves XLA, tf.distribute
and export.
"""

import keras


def _stack(outputs, name):
    """[batch, *shape] tensors -> [batch, len(outputs), *shape], in float32 under any policy."""
    shape = tuple(outputs[0].shape[1:])
    rows = [keras.layers.Reshape((1, *shape), dtype="float32")(o) for o in outputs]
    if len(rows) == 1:
        return rows[0]
    return keras.layers.Concatenate(axis=1, dtype="float32", name=f"{name}_stack")(rows)


def shared_input(networks, input_shape, name):
    """x -> [batch, K, *output]: each class's network reads the same input."""
    inputs = keras.Input(shape=tuple(input_shape), name="x")
    return keras.Model(inputs, _stack([net(inputs) for net in networks], name), name=name)


def split_input(networks, per_class_dim, name):
    """[batch, K, per_class_dim] -> [batch, K, *output]: network k reads row k only."""
    count = len(networks)
    inputs = keras.Input(shape=(count, per_class_dim), name="codes")
    outputs = []
    for k, net in enumerate(networks):
        row = keras.layers.Cropping1D((k, count - k - 1))(inputs)
        outputs.append(net(keras.layers.Reshape((per_class_dim,))(row)))
    return keras.Model(inputs, _stack(outputs, name), name=name)
