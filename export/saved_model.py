"""One SavedModel per servable part, a signature per declared capability.

    DIR/<name>/<version>/             sample (serving_default), generate
                                      [, sample_png, sample_labelled, generate_labelled, decode]
    DIR/<name>-encoder/<version>/     encode [, cluster]         (models that encode)
    DIR/<name>-classifier/<version>/  classify | predict_codes   (sgan, infogan)
    DIR/models.config                 every exported model, for --model_config_file
    DIR/batching_parameters.txt       for --batching_parameters_file

Which signatures a model gets is read from its `capabilities`
(`keras_gan_zoo.capabilities`); each runs the very TensorFlow method its Python
twin runs. A SavedModel holds only the variables its signatures read (the
generator or its average, the encoder, the prior's statistics, a classifier
head): no discriminator that serving does not use, no optimizer state.

Every signature validates its inputs with plain TensorFlow assertions, which
TF Serving answers with INVALID_ARGUMENT and the message; there are no
custom ops and no XLA-compiled functions, so the stock CPU server loads them.
The assertions run before any computing: a request may ask for at most
`max_rows` rows (samples, codes or examples; an export option, 10,000 by
default), its float inputs must be finite, and an output that is not finite
(codes far outside the prior) is refused rather than sent.
"""

import dataclasses
import pathlib

import tensorflow as tf

import keras

from keras_gan_zoo import capabilities as caps
from keras_gan_zoo.export import serving_files

# Every signature refuses larger requests, so that one call cannot hold a server
# for long nor grow its memory (`export_model(..., max_rows=...)` sets another cap).
MAX_ROWS_PER_REQUEST = 10_000
# Rows in each warm-up request.
WARMUP_BATCH = 2


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One signature: its name, its function, its inputs, and a small valid input for warm-up."""

    name: str
    fn: object
    input_signature: list
    example: dict


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What one request may ask of a signature (at most `max_rows` rows), and whether image
    models also get `sample_png`."""

    max_rows: int = MAX_ROWS_PER_REQUEST
    png: bool = True

    def __post_init__(self):
        if int(self.max_rows) < 1:
            raise ValueError(f"max_rows must be a positive number of rows per request, got {self.max_rows!r}.")


def _check_rank_and_dims(tensor, expected_dims, what, options):
    """Asserts `tensor` has shape [batch, *expected_dims] with at most `options.max_rows` rows
    and finite values, naming the expectation."""
    expected = "[batch, " + ", ".join(str(d) for d in expected_dims) + "]"
    checks = [
        tf.debugging.assert_rank(
            tensor, len(expected_dims) + 1, message=f"{what} must have shape {expected}"
        )
    ]
    with tf.control_dependencies(checks):
        for axis, size in enumerate(expected_dims, start=1):
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(tensor)[axis], size, message=f"{what} must have shape {expected}"
                )
            )
        checks.append(tf.debugging.assert_less_equal(
            tf.shape(tensor)[0], options.max_rows, message=f"{what} must have at most {options.max_rows} rows per request"))
    with tf.control_dependencies(checks):
        checks.append(_finite_check(tensor, f"{what} must hold finite values (no NaN or Inf)"))
    return checks


def _finite_check(tensor, message):
    return tf.debugging.assert_equal(tf.reduce_all(tf.math.is_finite(tensor)), True, message=message)


def _finite_outputs(outputs, signature):
    """`outputs` with their float tensors asserted finite: a code far outside the prior can
    overflow a network, and NaN or Inf is not an answer (nor valid JSON)."""
    checks = [
        _finite_check(value, f"{signature}: the {key} for these inputs are not finite (inputs far outside "
                             f"the range the model was trained on?)")
        for key, value in outputs.items() if value.dtype.is_floating
    ]
    with tf.control_dependencies(checks):
        return {key: tf.identity(value) for key, value in outputs.items()}


def _checked(tensor, checks):
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def _count_checks(count, what, options):
    return [
        tf.debugging.assert_positive(count, message=f"{what} must be >= 1"),
        tf.debugging.assert_less_equal(
            count, options.max_rows, message=f"{what} must be <= {options.max_rows} per request"
        ),
    ]


def _label_checks(labels, model, signature, rows=None):
    checks = [
        tf.debugging.assert_rank(labels, 1, message=f"{signature}: labels must have shape [batch]"),
        tf.debugging.assert_non_negative(labels, message=f"{signature}: labels must be >= 0"),
        tf.debugging.assert_less(labels, model.num_classes,
                                 message=f"{signature}: labels must be < {model.num_classes}"),
    ]
    if rows is not None:
        checks.append(tf.debugging.assert_equal(
            tf.shape(labels), rows, message=f"{signature}: labels must hold one class per row of z"))
    return checks


def _z_spec():
    return tf.TensorSpec([None, None], tf.float32, name="z")


def _x_spec(model):
    return tf.TensorSpec([None] * (len(model.data_shape) + 1), tf.float32, name="x")


def _z_example(model):
    return {"z": tf.zeros([WARMUP_BATCH, model.latent_dim])}


def _x_example(model):
    return {"x": tf.zeros([WARMUP_BATCH, *model.data_shape])}


def _seed_spec():
    return tf.TensorSpec([], tf.int64, name="seed")


def _checked_samples(model, options, num_samples, seed, signature):
    """`model.sample_from_seed` behind the count checks, its samples asserted finite."""
    num_samples = _checked(num_samples, _count_checks(num_samples, "num_samples", options))
    return _finite_outputs({"samples": model.sample_from_seed(num_samples, seed)}, signature)["samples"]


def _count_and_seed(num_samples=WARMUP_BATCH):
    """The inputs of a signature drawing `num_samples` from a seed, and a warm-up example."""
    specs = [tf.TensorSpec([], tf.int32, name="num_samples"), _seed_spec()]
    return specs, {"num_samples": tf.constant(num_samples, tf.int32), "seed": tf.constant(0, tf.int64)}


def _sample_endpoints(model, options):
    def sample(num_samples, seed):
        return {"samples": _checked_samples(model, options, num_samples, seed, "sample")}

    return [
        Endpoint("sample", sample, *_count_and_seed()),
        *_z_endpoint(model, "generate", lambda z: {"samples": model.generate(z)}, options),
        *_png_endpoints(model, options),
    ]


def to_pixels(images):
    """Images in [-1, 1] as uint8 pixels, rounded to the nearest level."""
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def _png_endpoints(model, options):
    """`sample_png`: the samples of `sample`, each one PNG file; the output's name ends in
    `_bytes`, so that TF Serving's REST API sends each as `{"b64": ...}` (a 64-image answer is
    then some tens of kB, where its floats as JSON are about a megabyte)."""
    if not options.png or len(model.data_shape) != 3 or model.data_shape[-1] not in (1, 3, 4):
        return []

    def sample_png(num_samples, seed):
        pixels = to_pixels(_checked_samples(model, options, num_samples, seed, "sample_png"))
        return {"png_bytes": tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.string)}

    return [Endpoint("sample_png", sample_png, *_count_and_seed())]


def _labelled_sample_endpoints(model, options):
    def sample_labelled(labels, seed):
        checks = _label_checks(labels, model, "sample_labelled")
        checks += _count_checks(tf.size(labels), "sample_labelled: the number of labels", options)
        labels = _checked(labels, checks)
        return _finite_outputs({"samples": model.sample_from_seed(tf.size(labels), seed, labels)}, "sample_labelled")

    return [Endpoint("sample_labelled", sample_labelled, [tf.TensorSpec([None], tf.int32, name="labels"), _seed_spec()],
                     {"labels": tf.zeros([WARMUP_BATCH], tf.int32), "seed": tf.constant(0, tf.int64)})]


def _sample_columns_endpoints(model, options):
    """`sample_columns`: the rows of `sample` as one output per column, named as the column, in the
    column's own values (a table generator's `served_columns_op`)."""

    def sample_columns(num_samples, seed):
        rows = _checked_samples(model, options, num_samples, seed, "sample_columns")
        return model.served_columns_op(rows, seed)

    return [Endpoint("sample_columns", sample_columns, *_count_and_seed())]


def _generate_labelled_endpoints(model, options):
    def generate_labelled(z, labels):
        checks = _check_rank_and_dims(z, [model.latent_dim], "generate_labelled: z", options)
        checks += _label_checks(labels, model, "generate_labelled", rows=tf.shape(z)[:1])
        return _finite_outputs({"samples": model.generate(_checked(z, checks), labels)}, "generate_labelled")

    return [Endpoint("generate_labelled", generate_labelled, [_z_spec(), tf.TensorSpec([None], tf.int32, name="labels")],
                     {**_z_example(model), "labels": tf.zeros([WARMUP_BATCH], tf.int32)})]


def _z_endpoint(model, name, outputs, options):
    """A signature on latent codes z: `outputs(z)` gives its dict of outputs."""

    def fn(z):
        z = _checked(z, _check_rank_and_dims(z, [model.latent_dim], f"{name}: z", options))
        return _finite_outputs(outputs(z), name)

    return [Endpoint(name, fn, [_z_spec()], _z_example(model))]


def _x_endpoint(model, name, outputs, options):
    """A signature on examples x: `outputs(x)` gives its dict of outputs."""

    def fn(x):
        x = _checked(x, _check_rank_and_dims(x, model.data_shape, f"{name}: x", options))
        return _finite_outputs(outputs(x), name)

    return [Endpoint(name, fn, [_x_spec(model)], _x_example(model))]


def _most_probable(key, probabilities_op):
    """Outputs `key` (the arg-max) and `probabilities` of `probabilities_op(x)`."""

    def outputs(x):
        probabilities = probabilities_op(x)
        return {key: tf.argmax(probabilities, axis=-1), "probabilities": probabilities}

    return outputs


def _predict_codes_outputs(model):
    def outputs(x):
        categories, continuous = model.predict_codes_op(x)
        return {"categories": categories, "continuous": continuous}

    return outputs


# Capability -> (the part whose SavedModel serves it, its endpoints given the model and the ExportOptions).
ENDPOINTS = {
    caps.SAMPLE: ("", _sample_endpoints),
    caps.LABELLED_SAMPLE: ("", _labelled_sample_endpoints),
    caps.GENERATE_LABELLED: ("", _generate_labelled_endpoints),
    caps.SAMPLE_COLUMNS: ("", _sample_columns_endpoints),
    caps.DECODE: ("", lambda m, options: _z_endpoint(m, "decode", lambda z: {"x": m.decode_op(z)}, options)),
    caps.ENCODE: ("-encoder", lambda m, options: _x_endpoint(m, "encode", lambda x: {"z": m.encode_op(x)}, options)),
    caps.CLUSTER: ("-encoder",
                   lambda m, options: _x_endpoint(m, "cluster", _most_probable("clusters", m.cluster_op), options)),
    caps.CLASSIFY: ("-classifier",
                    lambda m, options: _x_endpoint(m, "classify", _most_probable("classes", m.classify_op), options)),
    caps.PREDICT_CODES: ("-classifier",
                         lambda m, options: _x_endpoint(m, "predict_codes", _predict_codes_outputs(m), options)),
}


def servable_parts(model, options=None):
    """`{part_suffix: [Endpoint, ...]}` from the model's declared capabilities.

    The first signature of a part is also its `serving_default`: `sample` for
    the main part. `options` (default `ExportOptions()`) caps what one request may ask.
    """
    options = options or ExportOptions()
    parts = {}
    for capability in caps.ALL:
        if capability in model.capabilities:
            suffix, endpoints = ENDPOINTS[capability]
            parts.setdefault(suffix, []).extend(endpoints(model, options))
    return parts


def _write_saved_model(endpoints, path):
    # Nothing is tracked by hand: the archive keeps exactly the variables its
    # endpoints read, so the discriminator and the optimizers stay out.
    archive = keras.export.ExportArchive()
    for endpoint in endpoints:
        archive.add_endpoint(name=endpoint.name, fn=endpoint.fn, input_signature=endpoint.input_signature)
    archive.write_out(str(path), verbose=False)


def saved_model_bytes(path):
    """The size of a SavedModel directory on disk, in bytes."""
    return sum(f.stat().st_size for f in pathlib.Path(path).rglob("*") if f.is_file())


def export_model(model, out_dir, name, version=1, base_path_prefix="/models", max_rows=MAX_ROWS_PER_REQUEST,
                 png=True):
    """Writes the model's servable parts under `out_dir` for TF Serving.

    Args:
        model: a zoo model; its `capabilities` say which signatures it gets.
        out_dir: the export directory; other models already there are kept
            and listed in `models.config` too.
        name: the model name clients ask for.
        version: the version number directory.
        base_path_prefix: where `out_dir` is mounted for the server
            (`/models` in the official image).
        max_rows: the most rows (samples, codes, examples) one request may
            ask of any signature; larger requests are refused before
            computing, with INVALID_ARGUMENT and a message naming the cap.
        png: image models also get `sample_png` (the samples as PNG files).

    Returns:
        `{served_model_name: SavedModel path}`.
    """
    if not name or "/" in name:
        raise ValueError(f"name must be a non-empty name without '/', got {name!r}.")
    if int(version) < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}.")
    options = ExportOptions(int(max_rows), bool(png))
    out_dir = pathlib.Path(out_dir)
    written = {}
    for suffix, endpoints in servable_parts(model, options).items():
        served_name = name + suffix
        path = out_dir / served_name / str(int(version))
        if path.exists():
            raise FileExistsError(f"{path} exists; export with another --version.")
        _write_saved_model(endpoints, path)
        serving_files.write_warmup_requests(path, served_name, {e.name: e.example for e in endpoints})
        if any(e.name == "sample_columns" for e in endpoints):
            serving_files.write_column_order(path, model.transformer.columns)
        written[served_name] = path
    serving_files.write_models_config(out_dir, base_path_prefix)
    serving_files.write_batching_parameters(out_dir)
    return written
