"""Tabular GAN: WGAN-GP (Gulrajani et al. 2017) on tables of continuous and categorical columns,
as seed 003 and CTGAN (Xu et al. 2019) model them."""

import numpy as np
import pandas as pd
import tensorflow as tf

import keras

from keras_gan_zoo import capabilities
from keras_gan_zoo.capabilities import SAMPLE_COLUMNS
from keras_gan_zoo.data import tables
from keras_gan_zoo.gans.wgan_gp import WGANGP
from keras_gan_zoo.layers import TableHeads
from keras_gan_zoo.registry import register

# The tiny table of the common test base: two continuous columns and two categorical ones.
_TINY = tables.TableTransformer(categorical=["colour", "size"]).fit(pd.DataFrame({
    "weight": [1.5, 2.0, 3.5, 0.5], "colour": ["red", "blue", "red", "green"], "size": [1, 2, 2, 1],
    "price": [10.0, 12.5, 9.0, 11.0]}))


@register(
    "tabular_gan",
    "WGAN-GP on tables: a softmax head per categorical column; sample(n) returns a DataFrame; condition_column= "
    "conditions on a categorical column",
    defaults={"table": "autompg", "latent_dim": 64, "hidden_units": (256, 256)},
    tiny={"table": _TINY.get_config(), "data_shape": (_TINY.width,), "latent_dim": 4, "hidden_units": (8,),
          "critic_steps": 2},
    tiny_options=[{"condition_column": "colour"}],
    data_kinds=("table",),
)
class TabularGAN(WGANGP):
    """A Wasserstein GAN with a gradient penalty whose rows are a table's rows.

    The table's `zoo.data.tables.TableTransformer` fixes the row: continuous columns
    standardised, categorical ones one-hot. The generator (a ReLU MLP) ends in
    `zoo.layers.TableHeads`: a softmax over each categorical column's block, which the
    critic reads as it is (seed 003: the softmax fed raw to the discriminator), the
    continuous columns linear. `sample(n)` turns rows back into a DataFrame with the
    original columns, dtypes and category sets, each category taken as the most probable
    (`categories="argmax"`) or drawn from the softmax (`"sample"`).

    With `condition_column`, both players read the one-hot category of that column, and
    the generator's block for it is the category asked for: `sample(n, labels=[...])`
    takes the column's own values. Training reads the condition from each real row.

    The defaults (chosen on benchmarks/tabular.py's tuning seed 0): 5 critic steps per generator
    step, penalty 10, Adam(1e-4, beta_1=0.5, beta_2=0.9), two ReLU layers of 256, a code of 64;
    the recipe `tabular_gan_autompg` trains 3,000 steps of 64 rows, a count of steps whatever
    the table's size.

    Args:
        table: a fitted `TableTransformer`, its `get_config()`, or a shipped table's name
            ("autompg": fitted on its train rows).
        latent_dim: size of the noise, default 64.
        hidden_units: widths of both players' hidden layers, default `(256, 256)`.
        condition_column: a categorical column to condition on, or None.
        categories: "argmax" or "sample": how `sample` reads a softmax block.
        data_shape: `(width,)` of the transformer's rows; set from `table` when None.
        **kwargs: see `zoo.gans.WGANGP` (`critic_steps`, `penalty_weight`, ...).

    Examples:
        >>> import pandas as pd
        >>> import keras_gan_zoo as zoo
        >>> cars = zoo.data.tables.load_autompg()
        >>> model = zoo.create("tabular_gan", hidden_units=(32,), condition_column="origin")
        >>> model.compile()
        >>> model.fit(model.training_data(model.transformer.transform(cars)), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> rows = model.sample(4, labels=[1, 1, 3, 3], seed=0)
        >>> list(rows.columns) == list(cars.columns), rows.origin.tolist(), rows.dtypes.equals(cars.dtypes)
        (True, [1, 1, 3, 3], True)
    """

    label_kind = "categories"
    refuses_labels_because = "has no condition_column"
    # The penalty is on each row's own gradient; the critic reads [x, y] when conditional.
    techniques = frozenset()

    def __init__(self, table="autompg", latent_dim=64, hidden_units=(256, 256), condition_column=None,
                 categories="argmax", data_shape=None, **kwargs):
        self.transformer = tables.as_transformer(table)
        width = self.transformer.width
        if data_shape is not None and tuple(data_shape) != (width,):
            raise ValueError(f"tabular_gan's rows are its table's: data_shape must be ({width},) or None, "
                             f"got {tuple(data_shape)}.")
        if categories not in ("argmax", "sample"):
            raise ValueError(f"categories must be 'argmax' or 'sample', got {categories!r}.")
        self.categories = categories
        spans = {span.name: span for span in self.transformer.spans}
        self.condition_column = condition_column
        num_classes = 2
        if condition_column is not None:
            span = spans.get(condition_column)
            if span is None or span.kind != "categorical":
                raise ValueError(f"condition_column {condition_column!r} is not a categorical column of the table; "
                                 f"those are {list(self.transformer.categorical)}.")
            num_classes = span.width
        self._blocks = [(s.start, s.width) for s in self.transformer.spans if s.kind == "categorical"]
        self._condition_block = None
        if condition_column is not None:
            self._condition_block = [s.name for s in self.transformer.spans if s.kind == "categorical"].index(
                condition_column)
        super().__init__((width,), latent_dim, hidden_units=hidden_units, conditional=condition_column is not None,
                         num_classes=num_classes, **kwargs)

    @property
    def capabilities(self):
        return super().capabilities | {SAMPLE_COLUMNS}

    def default_optimizer(self):
        """Adam(1e-4, beta_1=0.5, beta_2=0.9) for both players (benchmarks/tabular.py)."""
        return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.5, beta_2=0.9)

    @property
    def trains_on_labels(self):
        # The condition is read from each row itself.
        return False

    def build_generator(self):
        z = keras.Input(shape=(self.latent_dim,), name="z")
        inputs, h = [z], z
        if self.takes_classes:
            y = keras.Input(shape=(self.num_classes,), name="y")
            inputs.append(y)
            h = keras.layers.Concatenate()([z, y])
        for units in self.hidden_units:
            h = keras.layers.Dense(units, activation="relu")(h)
        logits = keras.layers.Dense(self.transformer.width, dtype="float32")(h)
        heads = TableHeads(self._blocks, self.transformer.width, self._condition_block, name="heads")
        return keras.Model(inputs, heads([logits, inputs[1]] if self.takes_classes else logits), name="generator")

    def _unpack(self, data):
        x, _ = super()._unpack(data)
        if not self.takes_classes:
            return x, None
        start, width = self._blocks[self._condition_block]
        return x, tf.argmax(x[:, start:start + width], axis=-1, output_type=tf.int32)

    # -- rows as columns ----------------------------------------------------------

    def columns_op(self, rows, seed):
        """`{column: tensor}` of generated rows: continuous columns in their own units (rounded
        for integer columns), categorical ones as the index of their category (the most
        probable, or drawn from the softmax with the stateless `seed` under
        `categories="sample"`). What `sample` and the exported `sample_columns` read."""
        rows = tf.cast(rows, tf.float32)
        columns = {}
        seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(1, tf.int64)])
        for number, span in enumerate(self.transformer.spans):
            block = rows[:, span.start:span.start + span.width]
            if span.kind == "continuous":
                values = tf.cast(block[:, 0], tf.float64) * self.transformer.stds[span.name] + \
                    self.transformer.means[span.name]
                columns[span.name] = tf.round(values) if self._is_integer(span.name) else values
            elif self.categories == "argmax":
                columns[span.name] = tf.argmax(block, axis=-1, output_type=tf.int32)
            else:
                draw_seed = seed_pair + tf.constant([0, number], tf.int64)
                logits = tf.math.log(tf.maximum(block, 1e-12))
                columns[span.name] = tf.cast(tf.random.stateless_categorical(logits, 1, draw_seed)[:, 0], tf.int32)
        return columns

    def _is_integer(self, column):
        return np.issubdtype(np.dtype(self.transformer.dtypes[column]), np.integer)

    def served_columns_op(self, rows, seed):
        """`columns_op` with each category as its value: int64, float64 or string tensors."""
        columns = self.columns_op(rows, seed)
        for span in self.transformer.spans:
            if span.kind == "continuous":
                if self._is_integer(span.name):
                    columns[span.name] = tf.cast(columns[span.name], tf.int64)
                continue
            dtype = np.dtype(self.transformer.dtypes[span.name])
            if np.issubdtype(dtype, np.integer):
                values = tf.constant([int(v) for v in span.categories], tf.int64)
            elif np.issubdtype(dtype, np.floating):
                values = tf.constant([float(v) for v in span.categories], tf.float64)
            else:
                values = tf.constant([str(v) for v in span.categories], tf.string)
            columns[span.name] = tf.gather(values, columns[span.name])
        return columns

    def condition_index(self, labels):
        """The one-hot positions of `labels`, values of `condition_column`."""
        if self.condition_column is None:
            raise ValueError(f"tabular_gan {self.refuses_labels_because}; call sample(n) without labels, or build it "
                             "with condition_column=NAME.")
        return self.transformer.category_index(self.condition_column, list(labels))

    def sample(self, n, labels=None, seed=None):
        """`n` generated rows as a DataFrame with the table's columns, dtypes and categories.

        Args:
            n: number of rows.
            labels: with `condition_column`, one of its values per row; an unseen one is an
                error naming the known ones.
            seed: an int makes the draw reproducible (and equal to the exported
                `sample_columns`).
        """
        indices = None if labels is None else self.condition_index(labels)
        if indices is not None and len(indices) != n:
            raise ValueError(f"labels must hold one value of {self.condition_column!r} per row: {n}, got "
                             f"{len(indices)}.")
        # One seed for the rows and the category draws, random when None (as `sample_array`'s).
        seed = capabilities.draw_seed(seed)
        rows = self.sample_array(n, labels=indices, seed=int(seed))
        columns = self.columns_op(rows, seed)
        frame = {}
        for span in self.transformer.spans:
            values = columns[span.name].numpy()
            if span.kind == "categorical":
                values = np.asarray(span.categories, dtype=object)[values]
            frame[span.name] = pd.Series(values).astype(self.transformer.dtypes[span.name])
        return pd.DataFrame(frame, columns=list(self.transformer.columns))
