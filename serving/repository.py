"""The models of an export directory, every version loaded, answering predict calls.

Errors are `ServingError`s carrying TF Serving's status codes, so the REST and
gRPC front ends answer exactly as the official server does.
"""

import pathlib

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from keras_gan_zoo.serving import inputs as input_decoding
from keras_gan_zoo.serving.errors import ServingError


def _summary(message):
    """The line of a TensorFlow error that says what went wrong (an assertion's text)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("assertion failed:"):
            return line
    return lines[-1] if lines else message


def served_signature_defs(path):
    """The SignatureDef map of the meta graph tagged "serve" in `path`/saved_model.pb:
    the graph TF Serving loads."""
    proto = saved_model_pb2.SavedModel.FromString((pathlib.Path(path) / "saved_model.pb").read_bytes())
    graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags]
    if len(graphs) != 1:
        raise ValueError(f"{path} holds {len(graphs)} meta graphs tagged 'serve'; TF Serving loads exactly one.")
    return graphs[0].signature_def


class ModelRepository:
    """Loads `DIR/<name>/<version>/` SavedModels; the highest version serves by default."""

    def __init__(self, export_dir):
        self.export_dir = pathlib.Path(export_dir)
        self.models = {}  # name -> {version: loaded SavedModel}
        self.signature_defs = {}  # (name, version) -> SignatureDef map
        for model_dir in sorted(p for p in self.export_dir.iterdir() if p.is_dir()):
            for version_dir in sorted(model_dir.iterdir()):
                if version_dir.name.isdigit() and (version_dir / "saved_model.pb").exists():
                    self._load(model_dir.name, int(version_dir.name), version_dir)
        if not self.models:
            raise FileNotFoundError(
                f"No SavedModels under {self.export_dir} (expected NAME/VERSION/saved_model.pb); "
                "write some with `ganzoo export`."
            )

    def _load(self, name, version, path):
        self.models.setdefault(name, {})[version] = tf.saved_model.load(str(path))
        self.signature_defs[(name, version)] = served_signature_defs(path)

    def resolve(self, name, version=None):
        """`(version, loaded)` for a model name and an optional version."""
        if name not in self.models:
            raise ServingError("NOT_FOUND", f"Servable not found for request: Latest({name})")
        versions = self.models[name]
        if version is None:
            version = max(versions)
        elif int(version) not in versions:
            raise ServingError("NOT_FOUND", f"Servable not found for request: Specific({name}, {version})")
        return int(version), versions[int(version)]

    def signature(self, name, signature_name="serving_default", version=None):
        """`(version, function, {input: TensorSpec})` of a model's signature."""
        version, loaded = self.resolve(name, version)
        signature_name = signature_name or "serving_default"
        if signature_name not in loaded.signatures:
            raise ServingError(
                "FAILED_PRECONDITION", f'Serving signature key "{signature_name}" not found.'
            )
        function = loaded.signatures[signature_name]
        return version, function, function.structured_input_signature[1]

    def predict(self, name, inputs, signature_name="serving_default", version=None, decode=None):
        """Runs one signature; returns `(version, {output: ndarray})`.

        `inputs` maps input names to values that `decode(key, value, spec)` turns into
        tensors: `serving.inputs.from_json` for REST, `from_proto` for gRPC, and by default
        `from_array` for numpy arrays.
        """
        version, function, specs = self.signature(name, signature_name, version)
        missing, unknown = set(specs) - set(inputs), set(inputs) - set(specs)
        if missing or unknown:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"Signature {signature_name!r} takes inputs {sorted(specs)}; "
                f"missing {sorted(missing)}, unexpected {sorted(unknown)}.",
            )
        decode = decode or input_decoding.from_array
        tensors = {key: decode(key, value, specs[key]) for key, value in inputs.items()}
        try:
            outputs = function(**tensors)
        except tf.errors.InvalidArgumentError as error:
            raise ServingError("INVALID_ARGUMENT", _summary(error.message)) from None
        return version, {key: value.numpy() for key, value in outputs.items()}

    def status(self, name, version=None):
        """TF Serving's model status: every loaded version is AVAILABLE."""
        self.resolve(name, version)
        versions = [int(version)] if version is not None else sorted(self.models[name], reverse=True)
        return [{"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}} for v in versions]

    def metadata(self, name, version=None):
        """`(version, SignatureDef map)` of a model version."""
        version, _ = self.resolve(name, version)
        return version, self.signature_defs[(name, version)]
