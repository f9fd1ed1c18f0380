"""The models of an export directory, every version loaded, answering predict calls.

Errors are `ServingError`s carrying TF Serving's status codes, so the REST and
gRPC front ends answer exactly as the official server does.
"""

import pathlib
import sys

import tensorflow as tf
from google.protobuf import message, text_format
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.config import model_server_config_pb2

from keras_gan_zoo.export import serving_files

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
    pb = pathlib.Path(path) / "saved_model.pb"
    try:
        proto = saved_model_pb2.SavedModel.FromString(pb.read_bytes())
    except message.DecodeError as error:
        raise ValueError(f"{pb} is not a SavedModel protobuf ({error}): the file is damaged") from None
    graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags]
    if len(graphs) != 1:
        raise ValueError(f"{pb} holds {len(graphs)} meta graphs tagged 'serve'; TF Serving loads exactly one.")
    return graphs[0].signature_def


class ModelRepository:
    """Loads `DIR/<name>/<version>/` SavedModels; the highest version serves by default.

    When the directory holds a `models.config` (as `ganzoo export` writes), or one is
    given, it says which models to serve, and each must be there: a model it names with
    no loadable version is an error at start that names the file, not a failed request
    later. A version that does not load is skipped with a warning on stderr when another
    version of its model loads (as TF Serving keeps serving the last good version), and is
    an error otherwise. `skipped` maps each skipped version's path to why.

    Args:
        export_dir: a directory written by `ganzoo export`.
        model_config_file: a ModelServerConfig text file; default `export_dir/models.config`
            when present. Its base paths may be the container's (`/models/NAME`): a model
            is then looked for under `export_dir` by the base path's last folder.
    """

    def __init__(self, export_dir, model_config_file=None):
        self.export_dir = pathlib.Path(export_dir)
        if not self.export_dir.is_dir():
            raise FileNotFoundError(f"{self.export_dir} is not a directory; write exports with `ganzoo export`.")
        self.models = {}  # name -> {version: loaded SavedModel}
        self.signature_defs = {}  # (name, version) -> SignatureDef map
        self.skipped = {}  # path of a version that did not load -> why
        default_config = self.export_dir / serving_files.MODELS_CONFIG
        config_path = pathlib.Path(model_config_file) if model_config_file else (
            default_config if default_config.is_file() else None)
        if config_path is not None:
            for name, model_dir in self._configured_models(config_path).items():
                self._load_model(name, model_dir, f"{config_path} names model {name!r}, but ")
        else:
            for model_dir in sorted(p for p in self.export_dir.iterdir() if p.is_dir()):
                self._load_model(model_dir.name, model_dir, "")
        if not self.models:
            raise FileNotFoundError(
                f"No SavedModels under {self.export_dir} (expected NAME/VERSION/saved_model.pb); "
                "write some with `ganzoo export`."
            )

    def _configured_models(self, config_path):
        """`{name: directory}` of the models a ModelServerConfig text file lists."""
        try:
            config = text_format.Parse(config_path.read_text(), model_server_config_pb2.ModelServerConfig())
        except (OSError, UnicodeDecodeError, text_format.ParseError) as error:
            raise ValueError(f"{config_path} is not a readable ModelServerConfig text proto: {error}") from None
        models = {}
        for entry in config.model_config_list.config:
            base_path = pathlib.Path(entry.base_path)
            candidates = [base_path, self.export_dir / base_path.name] if entry.base_path else [
                self.export_dir / entry.name]
            found = next((c for c in candidates if c.is_dir()), None)
            if found is None:
                raise FileNotFoundError(
                    f"{config_path} names model {entry.name!r} at {entry.base_path!r}, and neither "
                    f"{' nor '.join(str(c) for c in candidates)} is a directory: export it, or remove it "
                    f"from {config_path}."
                )
            models[entry.name] = found
        if not models:
            raise ValueError(f"{config_path} lists no models; export one with `ganzoo export`.")
        return models

    def _load_model(self, name, model_dir, context):
        failures = {}
        for version_dir in sorted(model_dir.iterdir()):
            if not version_dir.name.isdigit():
                continue
            try:
                self._load(name, int(version_dir.name), version_dir)
            except Exception as error:  # TensorFlow and protobuf raise many kinds for a damaged file
                failures[version_dir] = _summary(str(error)) or type(error).__name__
        if not self.models.get(name):
            if context or failures:
                why = "; ".join(f"{path}: {message}" for path, message in failures.items()) or "no version folders"
                raise ValueError(
                    f"{context or ''}no version of {name!r} under {model_dir} loads ({why}). Export it again "
                    f"with `ganzoo export RUN --out {self.export_dir} --name {name} --version N`."
                )
            return
        for path, message in failures.items():
            self.skipped[path] = message
            print(f"ganzoo serve: skipping {path} ({message}); serving {name} versions "
                  f"{sorted(self.models[name])}.", file=sys.stderr)

    def _load(self, name, version, path):
        if not (path / "saved_model.pb").is_file():
            raise FileNotFoundError(f"{path / 'saved_model.pb'} is missing")
        signature_defs = served_signature_defs(path)
        loaded = tf.saved_model.load(str(path))
        self.models.setdefault(name, {})[version] = loaded
        self.signature_defs[(name, version)] = signature_defs

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
