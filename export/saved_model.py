"""One SavedModel per servable part, with signatures named for what they do.

    DIR/<name>/<version>/            sample (serving_default), generate [, decode]
                                     [, generate_labelled]  (conditional models)
    DIR/<name>-encoder/<version>/    encode            (models with an encoder)
    DIR/models.config                every exported model, for --model_config_file
    DIR/batching_parameters.txt      for --batching_parameters_file

Every signature validates its inputs with plain TensorFlow assertions, which
TF Serving answers with INVALID_ARGUMENT and the message; there are no
custom ops and no XLA-compiled functions, so the stock CPU server loads them.
"""

import pathlib

import tensorflow as tf

import keras

from keras_gan_zoo.export import serving_files

# `sample` refuses larger requests: one call should not hold a server for long.
MAX_SAMPLES_PER_REQUEST = 10_000


def _check_rank_and_dims(tensor, expected_dims, what):
    """Asserts `tensor` has shape [batch, *expected_dims], naming the expectation."""
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
    return checks


def _latent_spec():
    return tf.TensorSpec([None, None], tf.float32, name="z")


def _sample_endpoint(model):
    def sample(num_samples, seed):
        checks = [
            tf.debugging.assert_positive(num_samples, message="num_samples must be >= 1"),
            tf.debugging.assert_less_equal(
                num_samples, MAX_SAMPLES_PER_REQUEST,
                message=f"num_samples must be <= {MAX_SAMPLES_PER_REQUEST} per request",
            ),
        ]
        with tf.control_dependencies(checks):
            z = model.prior_from_seed(num_samples, seed)
        return {"samples": model.generate(z)}

    spec = [tf.TensorSpec([], tf.int32, name="num_samples"), tf.TensorSpec([], tf.int64, name="seed")]
    return "sample", sample, spec


def _latent_endpoint(model, name, output_key):
    def from_latent(z):
        with tf.control_dependencies(_check_rank_and_dims(z, [model.latent_dim], f"{name}: z")):
            z = tf.identity(z)
        return {output_key: model.generate(z)}

    return name, from_latent, [_latent_spec()]


def _labelled_endpoint(model):
    def generate_labelled(z, labels):
        checks = _check_rank_and_dims(z, [model.latent_dim], "generate_labelled: z")
        checks += [
            tf.debugging.assert_equal(tf.shape(labels), tf.shape(z)[:1],
                                      message="generate_labelled: labels must hold one class per row of z"),
            tf.debugging.assert_non_negative(labels, message="generate_labelled: labels must be >= 0"),
            tf.debugging.assert_less(labels, model.num_classes,
                                     message=f"generate_labelled: labels must be < {model.num_classes}"),
        ]
        with tf.control_dependencies(checks):
            z = tf.identity(z)
        return {"samples": model.generate(z, labels)}

    return "generate_labelled", generate_labelled, [_latent_spec(), tf.TensorSpec([None], tf.int32, name="labels")]


def _encode_endpoint(model):
    def encode(x):
        with tf.control_dependencies(_check_rank_and_dims(x, model.data_shape, "encode: x")):
            x = tf.identity(x)
        return {"z": model.encode(x)}

    spec = tf.TensorSpec([None] * (len(model.data_shape) + 1), tf.float32, name="x")
    return "encode", encode, [spec]


def servable_parts(model):
    """`{part_suffix: [(signature, fn, input_signature), ...]}` for a zoo model.

    The first signature of a part is also its `serving_default`.
    """
    main = [_sample_endpoint(model), _latent_endpoint(model, "generate", "samples")]
    if getattr(model, "conditional", False):
        main.append(_labelled_endpoint(model))
    parts = {"": main}
    if hasattr(model, "decode") and hasattr(model, "encode"):
        main.append(_latent_endpoint(model, "decode", "x"))
        parts["-encoder"] = [_encode_endpoint(model)]
    return parts


def _write_saved_model(model, endpoints, path):
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, fn, input_signature in endpoints:
        archive.add_endpoint(name=name, fn=fn, input_signature=input_signature)
    archive.write_out(str(path), verbose=False)


def export_model(model, out_dir, name, version=1, base_path_prefix="/models"):
    """Writes the model's servable parts under `out_dir` for TF Serving.

    Args:
        model: a zoo model (anything with `generate`, `prior_from_seed`,
            `latent_dim`, and optionally `encode`/`decode`).
        out_dir: the export directory; other models already there are kept
            and listed in `models.config` too.
        name: the model name clients ask for.
        version: the version number directory.
        base_path_prefix: where `out_dir` is mounted for the server
            (`/models` in the official image).

    Returns:
        `{served_model_name: SavedModel path}`.
    """
    if not name or "/" in name:
        raise ValueError(f"name must be a non-empty name without '/', got {name!r}.")
    if int(version) < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}.")
    out_dir = pathlib.Path(out_dir)
    written = {}
    for suffix, endpoints in servable_parts(model).items():
        served_name = name + suffix
        path = out_dir / served_name / str(int(version))
        if path.exists():
            raise FileExistsError(f"{path} exists; export with another --version.")
        _write_saved_model(model, endpoints, path)
        serving_files.write_warmup_requests(path, served_name, warmup_inputs(model, endpoints))
        written[served_name] = path
    serving_files.write_models_config(out_dir, base_path_prefix)
    serving_files.write_batching_parameters(out_dir)
    return written


def warmup_inputs(model, endpoints, batch=2):
    """One small valid input per signature, for the server's warm-up requests."""
    examples = {
        "sample": {"num_samples": tf.constant(batch, tf.int32), "seed": tf.constant(0, tf.int64)},
        "generate": {"z": tf.zeros([batch, model.latent_dim])},
        "decode": {"z": tf.zeros([batch, model.latent_dim])},
        "encode": {"x": tf.zeros([batch, *model.data_shape])},
        "generate_labelled": {"z": tf.zeros([batch, model.latent_dim]), "labels": tf.zeros([batch], tf.int32)},
    }
    return {signature: examples[signature] for signature, _, _ in endpoints}
