"""The files around the SavedModels that TF Serving reads.

- `<version>/assets.extra/tf_serving_warmup_requests`: a TFRecord file of
  PredictionLog records, replayed by the server before it reports the
  version as available, so the first real request is not the slow one.
- `<version>/assets.extra/columns.json`: a table generator's column names in the
  table's order (a signature's outputs come back keyed by name, in no order);
  the server ignores it, clients may read it.
- `models.config`: a ModelServerConfig text proto listing every model in the
  export directory (`--model_config_file`).
- `batching_parameters.txt`: a BatchingParameters text proto
  (`--enable_batching --batching_parameters_file`).
"""

import json
import pathlib

import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

WARMUP_FILE = pathlib.Path("assets.extra") / "tf_serving_warmup_requests"
COLUMNS_FILE = pathlib.Path("assets.extra") / "columns.json"
MODELS_CONFIG = "models.config"

# Server-side batching for the `generate`, `decode` and `encode` signatures.
BATCHING = {
    "max_batch_size": 256,
    "batch_timeout_micros": 2000,
    "num_batch_threads": 4,
    "max_enqueued_batches": 64,
}


def write_warmup_requests(saved_model_dir, model_name, inputs_by_signature):
    path = pathlib.Path(saved_model_dir) / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, inputs in inputs_by_signature.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
            )
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())


def read_warmup_requests(saved_model_dir):
    """The PredictionLog records of a SavedModel's warm-up file."""
    path = pathlib.Path(saved_model_dir) / WARMUP_FILE
    return [
        prediction_log_pb2.PredictionLog.FromString(record.numpy())
        for record in tf.data.TFRecordDataset(str(path))
    ]


def write_column_order(saved_model_dir, columns):
    path = pathlib.Path(saved_model_dir) / COLUMNS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"columns": [str(c) for c in columns]}) + "\n")


def read_column_order(saved_model_dir):
    """The column names in the table's order, or None for an export without them."""
    path = pathlib.Path(saved_model_dir) / COLUMNS_FILE
    return json.loads(path.read_text())["columns"] if path.exists() else None


def saved_versions(model_dir):
    """The version folders of a served model's directory that hold a SavedModel, oldest first."""
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted((v for v in model_dir.iterdir() if v.name.isdigit() and (v / "saved_model.pb").exists()),
                  key=lambda v: int(v.name))


def exported_models(out_dir):
    """Names of the model directories in `out_dir` that hold at least one version."""
    return sorted(p.name for p in pathlib.Path(out_dir).iterdir() if saved_versions(p))


def write_models_config(out_dir, base_path_prefix="/models"):
    config = model_server_config_pb2.ModelServerConfig()
    for name in exported_models(out_dir):
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = f"{base_path_prefix.rstrip('/')}/{name}"
        entry.model_platform = "tensorflow"
    (pathlib.Path(out_dir) / MODELS_CONFIG).write_text(text_format.MessageToString(config))


def batching_parameters_text(parameters=None):
    """BatchingParameters as text proto; each field is a wrapped int64 (`{ value: N }`).

    Written by hand: tensorflow-serving-api does not ship that proto's module.
    """
    parameters = parameters or BATCHING
    return "".join(f"{field} {{ value: {int(value)} }}\n" for field, value in parameters.items())


def write_batching_parameters(out_dir):
    (pathlib.Path(out_dir) / "batching_parameters.txt").write_text(batching_parameters_text())
