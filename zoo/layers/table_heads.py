"""The output heads of a table generator: a softmax per categorical column, continuous columns
as they come (`zoo.gans.TabularGAN`)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class TableHeads(keras.layers.Layer):
    """Maps a row of logits to a row of the table's matrix (`zoo.data.tables.TableTransformer`).

    Each categorical column's block of logits goes through its own softmax; each continuous
    column is passed on. With `condition_block`, that block is not generated: the one-hot
    condition given as the second input takes its place, so a row asked for category c holds
    category c.

    Args:
        blocks: `[(start, width), ...]` of the categorical columns in the row.
        width: the row's length.
        condition_block: index into `blocks` of the column the generator is conditioned on, or None.
    """

    def __init__(self, blocks, width, condition_block=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.blocks = [tuple(int(v) for v in block) for block in blocks]
        self.width = int(width)
        self.condition_block = None if condition_block is None else int(condition_block)

    def call(self, inputs):
        if self.condition_block is None:
            logits, condition = inputs, None
        else:
            logits, condition = inputs
        logits = ops.cast(logits, "float32")
        pieces, position = [], 0
        for index, (start, width) in enumerate(self.blocks):
            if start > position:
                pieces.append(logits[:, position:start])
            if index == self.condition_block:
                pieces.append(ops.cast(condition, "float32"))
            else:
                pieces.append(ops.softmax(logits[:, start:start + width], axis=-1))
            position = start + width
        if position < self.width:
            pieces.append(logits[:, position:])
        return ops.concatenate(pieces, axis=-1)

    def compute_output_shape(self, input_shape):
        first = input_shape if self.condition_block is None else input_shape[0]
        return (first[0], self.width)

    def get_config(self):
        return {**super().get_config(), "blocks": [list(b) for b in self.blocks], "width": self.width,
                "condition_block": self.condition_block}
