"""A flat code read as a shared part beside a part per step."""

import keras


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class StepCode(keras.layers.Layer):
    """`(batch, shared + steps * per_step) -> (batch, steps, shared + per_step)`: every step reads
    the code's first `shared` entries and its own `per_step` entries (step t the t-th group of the
    rest). The code stays one flat vector, so a generator that reads it keeps a flat latent
    input, and its exports the same signature as one without noise per step.

    Examples:
        >>> import numpy as np
        >>> StepCode(shared=1, steps=3, per_step=1)(np.arange(4, dtype="float32")[None]).numpy()[0].tolist()
        [[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]]
    """

    def __init__(self, shared, steps, per_step, **kwargs):
        super().__init__(**kwargs)
        self.shared, self.steps, self.per_step = int(shared), int(steps), int(per_step)

    def build(self, input_shape):
        width = self.shared + self.steps * self.per_step
        if input_shape[-1] is not None and input_shape[-1] != width:
            raise ValueError(f"StepCode(shared={self.shared}, steps={self.steps}, per_step={self.per_step}) reads "
                             f"codes of {width} entries; got {input_shape[-1]}.")

    def call(self, inputs):
        shared = keras.ops.repeat(keras.ops.expand_dims(inputs[:, :self.shared], 1), self.steps, axis=1)
        per_step = keras.ops.reshape(inputs[:, self.shared:], (-1, self.steps, self.per_step))
        return keras.ops.concatenate([shared, per_step], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.steps, self.shared + self.per_step)

    def get_config(self):
        return {**super().get_config(), "shared": self.shared, "steps": self.steps, "per_step": self.per_step}
