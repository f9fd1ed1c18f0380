"""Config recorded from the constructor, once, for every variant.

`get_config` returns the arguments the model was constructed with (the
defaults of the class's own signature filled in; a parent's defaults are left
to the parent, since a subclass may pass its own), so `from_config` is
`cls(**config)` and no variant writes a config by hand. Sub-networks passed by
the user are stored serialized and rebuilt by `as_network`; networks the
model built itself are rebuilt from the same arguments, and their weights
come from the saved file.

    >>> import keras_gan_zoo as zoo
    >>> gan = zoo.create("gan", data_shape=(3,), hidden_units=(16,), packing=2)
    >>> config = gan.get_config()
    >>> config["data_shape"], config["hidden_units"], config["packing"], "generator" in config
    ([3], [16], 2, False)
    >>> type(gan).from_config(config).get_config() == config
    True
"""

import contextlib
import copy
import inspect

import numpy as np

import keras


@contextlib.contextmanager
def dtype_policy(name):
    """Keras's global dtype policy set to `name` inside the block and put back after it.

    Layers keep the policy they were built under; nothing built later inherits it.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def as_network(network):
    """Accepts a `keras.Model` or its serialized config (as found in `get_config`)."""
    if network is None or isinstance(network, keras.Model):
        return network
    # Deserialization consumes the dict it is given; keep the caller's intact.
    return keras.saving.deserialize_keras_object(copy.deepcopy(network))


def config_value(value):
    """A constructor argument as JSON-ready config: networks serialized, tuples as lists."""
    if isinstance(value, keras.layers.Layer):
        return keras.saving.serialize_keras_object(value)
    if isinstance(value, (tuple, list)):
        return [config_value(v) for v in value]
    if isinstance(value, dict):
        return {k: config_value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if callable(getattr(value, "get_config", None)):
        # A fitted helper the model was given (a table's transformer): its own config.
        return config_value(value.get_config())
    return value


def constructor_arguments(cls, args, kwargs):
    """`{parameter: value}` of a call `cls(*args, **kwargs)`: the class's own defaults filled in,
    arguments bound for a parent's `**kwargs` kept by name. None when the call does not bind (the
    constructor then raises Python's own error)."""
    signature = inspect.signature(cls.__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    arguments = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            arguments[name] = value
    return arguments


class ConstructorConfig:
    """Records the arguments of the outermost constructor call; `get_config` returns them.

    The global dtype policy the networks were built under is recorded too
    (`dtype_policy`), and `from_config` builds under it again, so a model
    trained under mixed precision loads computing in the same precision.
    """

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls, *args, **kwargs)
        # Set past Keras's attribute tracking: a plain record, not a layer's state.
        object.__setattr__(instance, "_constructor_arguments", constructor_arguments(cls, args, kwargs))
        object.__setattr__(instance, "_built_under_policy", keras.mixed_precision.global_policy().name)
        return instance

    def get_config(self):
        config = {name: config_value(value) for name, value in self._constructor_arguments.items()}
        return {**config, "dtype_policy": self._built_under_policy}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        with dtype_policy(config.pop("dtype_policy", "float32")):
            return cls(**config)
