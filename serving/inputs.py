"""Request inputs turned into tensors by the signature's own input spec, strictly.

TF Serving checks an input against the signature before it runs anything, and
so does the local server: a value of the wrong type, an integer out of its
dtype's range, a ragged list or a tensor declaring more elements than a
request may carry is refused with INVALID_ARGUMENT and a message that says
what the input must be. Nothing is wrapped or coerced: `"3"`, `true` and
`3.0` are not the int32 3, and 2**32 + 3 is not 3.
"""

import numpy as np
import tensorflow as tf

from keras_gan_zoo.serving.errors import ServingError


def _expected(key, spec):
    shape = ["batch" if d is None else str(d) for d in spec.shape.as_list()]
    return f"Input {key!r} must be {spec.dtype.name} of shape [{', '.join(shape)}]"


def _check_range(key, spec, low, high):
    """Refuses integer values outside the dtype's range (`low` and `high`: the smallest and
    largest given), where a cast would wrap them."""
    info = np.iinfo(spec.dtype.as_numpy_dtype)
    outside = next((int(v) for v in (low, high) if not info.min <= v <= info.max), None)
    if outside is not None:
        shown = str(outside) if len(str(outside)) <= 24 else f"an integer of {len(str(outside))} digits"
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}; {shown} is outside [{info.min}, {info.max}].")


def _leaves(value, rank, key, spec):
    """The scalars of a nested JSON list of depth `rank`, level by level (no recursion, so
    nesting costs nothing beyond the signature's own rank)."""
    level = [value]
    for _ in range(rank):
        next_level = []
        for item in level:
            if type(item) is not list:
                raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}: it is nested less deeply.")
            next_level.extend(item)
        level = next_level
    return level


def from_json(key, value, spec):
    """A tensor from a JSON value (parsed by `json.loads`) for an input of `spec`.

    Integer inputs take JSON integers within the dtype's range; float inputs take JSON
    numbers (their finiteness is the signature's own check); nothing takes strings or
    booleans.
    """
    rank = spec.shape.rank
    leaves = _leaves(value, rank, key, spec)
    if spec.dtype.is_integer:
        allowed, kind = (int,), "integers"
    elif spec.dtype.is_floating:
        allowed, kind = (int, float), "numbers"
    else:
        raise ServingError("INVALID_ARGUMENT", f"Input {key!r} of dtype {spec.dtype.name} cannot be sent as JSON.")
    wrong = next((v for v in leaves if type(v) not in allowed), None)
    if wrong is not None:
        shown = "a list nested too deeply" if type(wrong) is list else f"{type(wrong).__name__} {wrong!r:.40}"
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}; JSON {kind} only, got {shown}.")
    if spec.dtype.is_integer and leaves:
        _check_range(key, spec, min(leaves), max(leaves))
    try:
        array = np.asarray(value, dtype=spec.dtype.as_numpy_dtype)
    except (ValueError, OverflowError) as error:  # ragged lists
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}: {error}") from None
    return _shaped(key, tf.convert_to_tensor(array), spec)


def from_proto(key, proto, spec, max_bytes):
    """A tensor from a gRPC TensorProto for an input of `spec`: the proto's dtype must be the
    signature's, and the tensor it declares at most `max_bytes` once decoded (a few bytes
    of repeated values can declare gigabytes)."""
    try:
        dtype = tf.dtypes.as_dtype(proto.dtype)
    except TypeError:  # not a dtype TensorFlow knows
        dtype = None
    if dtype != spec.dtype:
        got = dtype.name if dtype is not None else f"dtype enum {proto.dtype}"
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}; got {got}.")
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}; got an unknown or negative shape {dims}.")
    size = int(np.prod(dims, dtype=object)) * spec.dtype.size
    if size > max_bytes:
        raise ServingError("INVALID_ARGUMENT",
                           f"Input {key!r} of shape {dims} would take {size} bytes, more than the {max_bytes} "
                           f"a request may carry.")
    try:
        array = tf.make_ndarray(proto)
    except (TypeError, ValueError) as error:
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}; malformed tensor: {error}") from None
    return _shaped(key, tf.convert_to_tensor(array), spec)


def from_array(key, value, spec):
    """A tensor from an array-like of Python code: numpy arrays of the signature's dtype kind
    (integers for integer inputs, numbers for float ones), cast to it without wrapping."""
    array = np.asarray(value)
    kinds = "iu" if spec.dtype.is_integer else "iuf" if spec.dtype.is_floating else ""
    if array.dtype.kind not in kinds:
        raise ServingError("INVALID_ARGUMENT", f"{_expected(key, spec)}; got {array.dtype}.")
    if spec.dtype.is_integer and array.size:
        _check_range(key, spec, array.min(), array.max())
    return _shaped(key, tf.convert_to_tensor(array.astype(spec.dtype.as_numpy_dtype)), spec)


def _shaped(key, tensor, spec):
    if not spec.shape.is_compatible_with(tensor.shape):
        raise ServingError(
            "INVALID_ARGUMENT",
            f"Input {key!r} must have shape {spec.shape.as_list()} (None: any size), got {tensor.shape.as_list()}.",
        )
    return tensor
