"""LSTM bodies for series of shape (steps, features), conditioned on a one-hot class
(Esteban et al. 2017, "Real-valued (Medical) Time Series Generation with Recurrent
Conditional GANs").

The generator reads the same latent code and class at every step; the discriminator
reads each step's values beside the class and judges every step, its logit the mean of
the steps' logits. Output layers compute in float32 under any dtype policy (see `nets.mlp`).
"""

import keras

from keras_gan_zoo.layers import ClassProjection, StepCode, StepPosition


def check_series_shape(data_shape, who="A recurrent network"):
    """Raises unless `data_shape` is (steps, features) with at least two steps."""
    data_shape = tuple(data_shape)
    if len(data_shape) != 2 or data_shape[0] < 2 or data_shape[1] < 1:
        raise ValueError(
            f"{who} expects series of shape (steps, features) with at least 2 steps, such as (30, 1); "
            f"got {data_shape}."
        )


def _per_step(vector, steps):
    """(batch, d) -> (batch, steps, d): the vector repeated at every step."""
    return keras.layers.RepeatVector(steps)(vector)


def _lstm_stack(h, units, return_last_sequence=True):
    for width in units:
        h = keras.layers.LSTM(width, return_sequences=return_last_sequence)(h)
    return h


def recurrent_generator(latent_dim, num_classes, data_shape, lstm_units=(100,), step_position=False,
                        step_noise=0, name="generator"):
    """[z, one-hot y] -> series (steps, features): LSTM layers over [z, y] repeated per step,
    then a linear map of each step's state to its features. With `step_position`, every step also
    reads its position in the series (`zoo.layers.StepPosition`), so the LSTM need not count.
    With `step_noise` k, the last steps * k entries of z are k fresh ones per step (Esteban et
    al.'s noise at every step, `zoo.layers.StepCode`), read beside the rest of z, which every
    step shares."""
    check_series_shape(data_shape, who="rcgan's generator")
    steps, features = data_shape
    z = keras.Input(shape=(latent_dim,), name="z")
    y = keras.Input(shape=(num_classes,), name="y")
    if step_noise:
        h = keras.layers.Concatenate()([StepCode(latent_dim - steps * step_noise, steps, step_noise)(z), _per_step(y, steps)])
    else:
        h = _per_step(keras.layers.Concatenate()([z, y]), steps)
    if step_position:
        h = keras.layers.Concatenate()([h, StepPosition()(h)])
    h = _lstm_stack(h, lstm_units)
    outputs = keras.layers.Dense(features, dtype="float32")(h)
    return keras.Model([z, y], outputs, name=name)


def recurrent_discriminator(data_shape, num_classes, lstm_units=(100,), class_projection=False,
                            series_logit=False, name="discriminator"):
    """[series, one-hot y] -> one logit: LSTM layers over each step's values beside y, one logit per
    step, their mean. With `class_projection`, each step's logit also adds the inner product of its
    state with an embedding of y (`zoo.layers.ClassProjection`, Miyato & Koyama 2018). With
    `series_logit`, a logit of the last step's state, which has read the whole series, is added to
    that mean: a shape shown in a few steps (a sawtooth's fall) then weighs as much as the rest,
    where the mean alone gives it a few steps' share."""
    check_series_shape(data_shape, who="rcgan's discriminator")
    steps, _ = data_shape
    x = keras.Input(shape=tuple(data_shape), name="x")
    y = keras.Input(shape=(num_classes,), name="y")
    h = keras.layers.Concatenate()([x, _per_step(y, steps)])
    h = _lstm_stack(h, lstm_units)
    step_logits = keras.layers.Dense(1, dtype="float32")(h)
    if class_projection:
        step_logits = keras.layers.Add(dtype="float32")([step_logits, ClassProjection(dtype="float32")([h, y])])
    logit = keras.layers.GlobalAveragePooling1D(dtype="float32")(step_logits)
    if series_logit:
        last_state = keras.layers.Flatten()(keras.layers.Cropping1D((steps - 1, 0))(h))
        logit = keras.layers.Add(dtype="float32")([logit, keras.layers.Dense(1, dtype="float32")(last_state)])
    return keras.Model([x, y], logit, name=name)
