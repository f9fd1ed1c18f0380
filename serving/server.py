"""A local stand-in for TF Serving: the same REST and gRPC predict, metadata and
status APIs, answered from the same export directory.

For trying exports on a machine without `tensorflow_model_server`; production
serving is the official server (see serving/deploy/).
"""

import concurrent.futures
import http.server
import json
import re
import threading

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import any_pb2, json_format
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.apis import model_pb2

from keras_gan_zoo.serving.repository import ModelRepository, ServingError

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024

_REST_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?(?:/labels/[^/:]+)?"
    r"(?P<verb>:predict|/metadata)?$"
)


# -- REST ---------------------------------------------------------------------


def _instances_to_inputs(instances):
    """Row format: a list of per-example values or dicts of them, stacked on axis 0."""
    if not isinstance(instances, list) or not instances:
        raise ServingError("INVALID_ARGUMENT", '"instances" must be a non-empty list.')
    if all(isinstance(i, dict) for i in instances):
        keys = set(instances[0])
        if any(set(i) != keys for i in instances):
            raise ServingError("INVALID_ARGUMENT", "Every instance must name the same inputs.")
        return {k: [i[k] for i in instances] for k in keys}, True
    return {None: instances}, True


def _parse_predict_body(body, repository, name, version, signature_hint=None):
    try:
        request = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ServingError("INVALID_ARGUMENT", f"JSON Parse error: {error}") from None
    if not isinstance(request, dict) or ("inputs" in request) == ("instances" in request):
        raise ServingError(
            "INVALID_ARGUMENT", 'The request must be a JSON object with exactly one of "inputs" or "instances".'
        )
    signature_name = request.get("signature_name") or "serving_default"
    if "inputs" in request:
        inputs, row_format = request["inputs"], False
        if not isinstance(inputs, dict):
            inputs = {None: inputs}
    else:
        inputs, row_format = _instances_to_inputs(request["instances"])
    if None in inputs:  # an unnamed input: the signature's only one
        _, loaded = repository.resolve(name, version)
        if signature_name in loaded.signatures:
            names = list(loaded.signatures[signature_name].structured_input_signature[1])
            if len(names) != 1:
                raise ServingError("INVALID_ARGUMENT", f"Signature {signature_name!r} has inputs {names}: name them.")
            inputs = {names[0]: inputs[None]}
    return signature_name, inputs, row_format


def _predict_response(outputs, row_format):
    values = {k: v.tolist() for k, v in outputs.items()}
    if row_format:
        if len(values) == 1:
            return {"predictions": next(iter(values.values()))}
        batch = len(next(iter(values.values())))
        return {"predictions": [{k: v[i] for k, v in values.items()} for i in range(batch)]}
    return {"outputs": next(iter(values.values())) if len(values) == 1 else values}


def _make_rest_handler(repository, max_request_bytes):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # quiet: one line per request is noise here
            pass

        def _send(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self):
            match = _REST_PATH.match(self.path)
            if not match:
                raise ServingError("NOT_FOUND", f"Malformed request: {self.command} {self.path}")
            return match["name"], match["version"], match["verb"]

        def do_GET(self):
            try:
                name, version, verb = self._route()
                if verb == ":predict":
                    raise ServingError("INVALID_ARGUMENT", ":predict takes POST")
                if verb == "/metadata":
                    served_version, signature_defs = repository.metadata(name, version)
                    signature_def_map = {k: json_format.MessageToDict(v) for k, v in signature_defs.items()}
                    self._send(200, {
                        "model_spec": {"name": name, "signature_name": "", "version": str(served_version)},
                        "metadata": {"signature_def": {"signature_def": signature_def_map}},
                    })
                else:
                    self._send(200, {"model_version_status": repository.status(name, version)})
            except ServingError as error:
                self._send(error.http_status, {"error": error.message})

        def do_POST(self):
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length > max_request_bytes:
                    self.close_connection = True
                    raise ServingError(
                        "RESOURCE_EXHAUSTED",
                        f"Request of {length} bytes exceeds the limit of {max_request_bytes} bytes.",
                    )
                body = self.rfile.read(length)
                name, version, verb = self._route()
                if verb != ":predict":
                    raise ServingError("INVALID_ARGUMENT", f"POST {self.path}: only :predict takes POST")
                signature_name, inputs, row_format = _parse_predict_body(body, repository, name, version)
                _, outputs = repository.predict(name, inputs, signature_name, version)
                self._send(200, _predict_response(outputs, row_format))
            except ServingError as error:
                self._send(error.http_status, {"error": error.message})

    return Handler


# -- gRPC ---------------------------------------------------------------------


def _abort(context, error):
    """Ends the RPC with the ServingError's status code and message."""
    context.abort(getattr(grpc.StatusCode, error.code), error.message)


def _requested_version(model_spec):
    return model_spec.version.value if model_spec.HasField("version") else None


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, repository):
        self.repository = repository

    def Predict(self, request, context):
        spec = request.model_spec
        try:
            try:
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            except (TypeError, ValueError) as error:
                raise ServingError("INVALID_ARGUMENT", f"Malformed input tensor: {error}") from None
            signature_name = spec.signature_name or "serving_default"
            version, outputs = self.repository.predict(spec.name, inputs, signature_name, _requested_version(spec))
        except ServingError as error:
            _abort(context, error)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(model_pb2.ModelSpec(name=spec.name, signature_name=signature_name))
        response.model_spec.version.value = version
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
        return response

    def GetModelMetadata(self, request, context):
        spec = request.model_spec
        try:
            if list(request.metadata_field) != ["signature_def"]:
                raise ServingError("INVALID_ARGUMENT", 'metadata_field must be ["signature_def"]')
            version, signature_defs = self.repository.metadata(spec.name, _requested_version(spec))
        except ServingError as error:
            _abort(context, error)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, value in signature_defs.items():
            signature_map.signature_def[key].CopyFrom(value)
        packed = any_pb2.Any()
        packed.Pack(signature_map)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = spec.name
        response.model_spec.version.value = version
        response.metadata["signature_def"].CopyFrom(packed)
        return response


class _ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, repository):
        self.repository = repository

    def GetModelStatus(self, request, context):
        spec = request.model_spec
        try:
            statuses = self.repository.status(spec.name, _requested_version(spec))
        except ServingError as error:
            _abort(context, error)
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in statuses:
            entry = response.model_version_status.add()
            entry.version = int(status["version"])
            entry.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return response


# -- the server ---------------------------------------------------------------


class LocalServer:
    """REST and gRPC front ends over one `ModelRepository`.

    Args:
        export_dir: a directory written by `ganzoo export`.
        host: address to bind; loopback unless told otherwise.
        rest_port, grpc_port: 0 picks free ports (see `.rest_port`, `.grpc_port`).
        max_request_bytes: larger requests are refused (REST 413, gRPC
            RESOURCE_EXHAUSTED).
    """

    def __init__(self, export_dir, host="127.0.0.1", rest_port=8501, grpc_port=8500,
                 max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, workers=16):
        self.repository = ModelRepository(export_dir)
        self.host = host
        self._http = http.server.ThreadingHTTPServer(
            (host, rest_port), _make_rest_handler(self.repository, max_request_bytes)
        )
        self._http.daemon_threads = True
        self._grpc = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=workers),
            options=[("grpc.max_receive_message_length", max_request_bytes)],
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionService(self.repository), self._grpc
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelService(self.repository), self._grpc)
        self.grpc_port = self._grpc.add_insecure_port(f"{host}:{grpc_port}")
        if self.grpc_port == 0:
            raise OSError(f"gRPC could not bind {host}:{grpc_port}")
        self.rest_port = self._http.server_address[1]
        self._thread = None

    @property
    def rest_url(self):
        return f"http://{self.host}:{self.rest_port}"

    @property
    def grpc_target(self):
        return f"{self.host}:{self.grpc_port}"

    def start(self):
        """Serves in background threads; returns self."""
        self._grpc.start()
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._http.shutdown()
        self._http.server_close()
        self._grpc.stop(grace=None)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
