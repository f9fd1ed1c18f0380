"""A client for TF Serving's REST and gRPC APIs, returning numpy arrays.

    >>> client = Client("http://127.0.0.1:8501", model="gan")      # REST  # doctest: +SKIP
    >>> client = Client("127.0.0.1:8500", model="gan")             # gRPC  # doctest: +SKIP
    >>> client.sample(16, seed=3).shape                                    # doctest: +SKIP
    (16, 2)
"""

import base64
import http.client
import json
import urllib.parse

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from keras_gan_zoo.serving.errors import ServingError

_CODE_OF_HTTP_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 413: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}

# The output each zoo signature returns (see export.saved_model).
_OUTPUT = {"sample": "samples", "sample_labelled": "samples", "generate": "samples", "generate_labelled": "samples",
           "decode": "x", "encode": "z", "sample_png": "png_bytes"}


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def _decode_pngs(pngs):
    """PNG files of one size to a (N, H, W, C) uint8 batch, in one graph call (a Python loop
    of eager decodes takes about four times as long for 64 small images)."""
    return tf.map_fn(lambda png: tf.io.decode_png(png, channels=0), pngs, fn_output_signature=tf.uint8)


def _from_json(key, values):
    """An output from JSON: `*_bytes` outputs come as `{"b64": ...}` objects (TF Serving's
    convention for binary data), every other as numbers."""
    if key.endswith("_bytes"):
        return np.array([base64.b64decode(value["b64"]) for value in values], dtype=object)
    return np.asarray(values, dtype="float32")


class _Rest:
    def __init__(self, url, timeout):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.timeout = timeout
        self._connection = None

    def _request(self, method, path, payload=None):
        body = None if payload is None else json.dumps(payload)
        for attempt in (0, 1):  # one retry on a connection the server closed
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
                response = self._connection.getresponse()
                text = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self._connection.close()
                self._connection = None
                if attempt:
                    raise
        answer = json.loads(text) if text else {}
        if response.status != 200:
            code = _CODE_OF_HTTP_STATUS.get(response.status, f"HTTP_{response.status}")
            raise ServingError(code, answer.get("error", text.decode(errors="replace")))
        return answer

    @staticmethod
    def _path(model, version):
        return f"/v1/models/{model}" + (f"/versions/{version}" if version is not None else "")

    def predict(self, model, version, signature, inputs):
        payload = {"signature_name": signature, "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()}}
        outputs = self._request("POST", self._path(model, version) + ":predict", payload)["outputs"]
        if not isinstance(outputs, dict):
            outputs = {_OUTPUT.get(signature, "output"): outputs}
        return {k: _from_json(k, v) for k, v in outputs.items()}

    def metadata(self, model, version):
        return self._request("GET", self._path(model, version) + "/metadata")["metadata"]["signature_def"]["signature_def"]

    def status(self, model, version):
        return self._request("GET", self._path(model, version))["model_version_status"]


class _Grpc:
    def __init__(self, target, timeout):
        self.channel = grpc.insecure_channel(target)
        self.predictions = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.models = model_service_pb2_grpc.ModelServiceStub(self.channel)
        self.timeout = timeout

    @staticmethod
    def _spec(request, model, version, signature=None):
        request.model_spec.name = model
        if version is not None:
            request.model_spec.version.value = int(version)
        if signature:
            request.model_spec.signature_name = signature

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise ServingError(error.code().name, error.details()) from None

    def predict(self, model, version, signature, inputs):
        request = predict_pb2.PredictRequest()
        self._spec(request, model, version, signature)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = self._call(self.predictions.Predict, request)
        return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}

    def metadata(self, model, version):
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request, model, version)
        response = self._call(self.predictions.GetModelMetadata, request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        return {k: json_format.MessageToDict(v) for k, v in signature_map.signature_def.items()}

    def status(self, model, version):
        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request, model, version)
        response = self._call(self.models.GetModelStatus, request)
        return [
            {
                "version": str(s.version),
                "state": get_model_status_pb2.ModelVersionStatus.State.Name(s.state),
            }
            for s in response.model_version_status
        ]


class Client:
    """Samples, generates, encodes and decodes through a TF Serving server.

    Args:
        target: "http://HOST:PORT" for REST, "HOST:PORT" or "grpc://HOST:PORT"
            for gRPC.
        model: the served model name; `encode` and `cluster` go to "<model>-encoder",
            `classify` and `predict_codes` to "<model>-classifier".
        version: a version number; None asks for the latest.
        timeout: seconds per request.

    Failed requests raise `ServingError` with TF Serving's status code name
    (`INVALID_ARGUMENT`, `NOT_FOUND`, ...) and its message.
    """

    def __init__(self, target, model, version=None, timeout=60):
        self.target = target
        self.model = model
        self.version = version
        if target.startswith(("http://", "https://")):
            self._transport = _Rest(target, timeout)
        else:
            self._transport = _Grpc(target.removeprefix("grpc://"), timeout)

    def predict(self, signature, inputs, model=None):
        """Any signature: `{input: array}` in, `{output: array}` out."""
        return self._transport.predict(model or self.model, self.version, signature, inputs)

    def sample(self, n=None, seed=0, labels=None):
        """`n` samples; with `labels` (one class per sample) the classes asked for (`sample_labelled`)."""
        if labels is not None:
            labels = np.asarray(labels, dtype="int32")
            return self.predict("sample_labelled", {"labels": labels, "seed": np.int64(seed)})["samples"]
        return self.predict("sample", {"num_samples": np.int32(n), "seed": np.int64(seed)})["samples"]

    def generate(self, z, labels=None):
        inputs = {"z": np.asarray(z, dtype="float32")}
        if labels is None:
            return self.predict("generate", inputs)["samples"]
        inputs["labels"] = np.asarray(labels, dtype="int32")
        return self.predict("generate_labelled", inputs)["samples"]

    def sample_png(self, n, seed=0):
        """`n` samples of an image model as PNG files (`sample_png`), a list of bytes."""
        return list(self.predict("sample_png", {"num_samples": np.int32(n), "seed": np.int64(seed)})["png_bytes"])

    def sample_images(self, n, seed=0):
        """`n` samples of an image model as uint8 pixels (N, H, W, C), sent as PNG files:
        `sample`'s images rounded to 256 levels, in a fraction of the bytes."""
        return _decode_pngs(tf.constant(self.sample_png(n, seed), dtype=tf.string)).numpy()

    def decode(self, z):
        return self.predict("decode", {"z": np.asarray(z, dtype="float32")})["x"]

    def encode(self, x):
        return self.predict("encode", {"x": np.asarray(x, dtype="float32")}, model=self.model + "-encoder")["z"]

    def cluster(self, x):
        return self.predict("cluster", {"x": np.asarray(x, dtype="float32")}, model=self.model + "-encoder")

    def classify(self, x):
        """`{"classes": ..., "probabilities": ...}` from "<model>-classifier"."""
        return self.predict("classify", {"x": np.asarray(x, dtype="float32")}, model=self.model + "-classifier")

    def predict_codes(self, x):
        """`{"categories": ..., "continuous": ...}` from "<model>-classifier"."""
        return self.predict("predict_codes", {"x": np.asarray(x, dtype="float32")}, model=self.model + "-classifier")

    def metadata(self, model=None):
        """`{signature name: SignatureDef as a dict}`."""
        return self._transport.metadata(model or self.model, self.version)

    def status(self, model=None):
        """`[{"version": "1", "state": "AVAILABLE", ...}, ...]`."""
        return self._transport.status(model or self.model, self.version)
