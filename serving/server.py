"""A local stand-in for TF Serving: the same REST and gRPC predict, metadata and
status APIs, answered from the same export directory.

For trying exports on a machine without `tensorflow_model_server`; production
serving is the official server (see serving/deploy/).
"""

import base64
import concurrent.futures
import errno
import http.server
import json
import re
import sys
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

from keras_gan_zoo.serving import inputs as input_decoding
from keras_gan_zoo.serving.errors import ServingError
from keras_gan_zoo.serving.repository import ModelRepository

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
# Threads answering REST connections, and connections that may wait for one; beyond
# both a connection is answered 503 at once. A keep-alive connection holds its thread
# until it goes idle for READ_TIMEOUT_SECONDS, so the pool is sized above the
# documented load (32 clients, benchmarks/serving_load.py).
DEFAULT_WORKERS = 64
DEFAULT_PENDING = 256
# A request's head and body must arrive within this many seconds of silence.
READ_TIMEOUT_SECONDS = 10
# Connections the kernel queues before the server accepts them (listen's backlog).
LISTEN_BACKLOG = 512

_REST_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<verb>:predict|/metadata)?$"
)
_DIGITS = re.compile(r"[0-9]{1,20}")


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


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _parse_json(body):
    """The JSON body; standard JSON only (no NaN or Infinity tokens), nesting as deep as the
    parser's recursion limit allows."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise ServingError("INVALID_ARGUMENT", "JSON Parse error: the body is nested too deeply.") from None
    except ValueError as error:  # also bad UTF-8 and integers of more digits than Python converts
        raise ServingError("INVALID_ARGUMENT", f"JSON Parse error: {error}") from None


def _parse_predict_body(body, repository, name, version):
    request = _parse_json(body)
    if not isinstance(request, dict) or ("inputs" in request) == ("instances" in request):
        raise ServingError(
            "INVALID_ARGUMENT", 'The request must be a JSON object with exactly one of "inputs" or "instances".'
        )
    signature_name = request.get("signature_name") or "serving_default"
    if not isinstance(signature_name, str):
        raise ServingError("INVALID_ARGUMENT", f"signature_name must be a string, got {type(signature_name).__name__}.")
    if "inputs" in request:
        inputs, row_format = request["inputs"], False
        if not isinstance(inputs, dict):
            inputs = {None: inputs}
    else:
        inputs, row_format = _instances_to_inputs(request["instances"])
    if None in inputs:  # an unnamed input: the signature's only one
        _, _, specs = repository.signature(name, signature_name, version)
        names = list(specs)
        if len(names) != 1:
            raise ServingError("INVALID_ARGUMENT", f"Signature {signature_name!r} has inputs {names}: name them.")
        inputs = {names[0]: inputs[None]}
    return signature_name, inputs, row_format


def _json_values(key, array):
    """An output as JSON values. Strings are bytes here: an output named `*_bytes` goes as
    `{"b64": ...}` objects, as TF Serving sends binary outputs, any other as UTF-8 text."""
    if array.dtype.kind not in "OSU":
        return array.tolist()
    if key.endswith("_bytes"):
        def encode(value):
            return {"b64": base64.b64encode(value).decode("ascii")}
    else:
        def encode(value):
            return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return np.vectorize(encode, otypes=[object])(array).tolist()


def _predict_response(outputs, row_format):
    values = {k: _json_values(k, v) for k, v in outputs.items()}
    if row_format:
        if len(values) == 1:
            return {"predictions": next(iter(values.values()))}
        batch = len(next(iter(values.values())))
        return {"predictions": [{k: v[i] for k, v in values.items()} for i in range(batch)]}
    return {"outputs": next(iter(values.values())) if len(values) == 1 else values}


def _make_rest_handler(repository, max_request_bytes, read_timeout=READ_TIMEOUT_SECONDS):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = read_timeout

        def log_message(self, format, *args):  # quiet: one line per request is noise here
            pass

        def _send(self, status, payload):
            try:
                body = json.dumps(payload, allow_nan=False).encode()
            except ValueError:
                status, body = 500, b'{"error": "the outputs are not finite"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def send_error(self, code, message=None, explain=None):
            """http.server's own refusals (a malformed request line, headers too long), as JSON.

            A method other than GET and POST is the client's error: 405, not http.server's 501.
            """
            self.close_connection = True
            if code == 501:
                code, message = 405, f"{self.command} is not served: use GET (status, metadata) or POST (:predict)."
            self._send(code, {"error": message or self.responses.get(code, ("",))[0]})

        def _route(self):
            match = _REST_PATH.match(self.path)
            if not match:
                raise ServingError("NOT_FOUND", f"Malformed request: {self.command} {self.path}")
            if match["label"] is not None:
                # Version labels come from a models.config's version_labels, which exports do not write.
                raise ServingError("INVALID_ARGUMENT", f"Unrecognized servable version label: {match['label']}")
            return match["name"], match["version"], match["verb"]

        def _body(self):
            """The request body, its Content-Length checked first: digits only, within the limit."""
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                raise _HttpRefusal(411, "Send the body with a Content-Length; Transfer-Encoding is not accepted.")
            length = self.headers.get("Content-Length")
            if length is None:
                self.close_connection = True
                raise _HttpRefusal(411, "A POST needs a Content-Length header.")
            if not _DIGITS.fullmatch(length.strip()):
                self.close_connection = True
                raise _HttpRefusal(400, f"Content-Length must be a non-negative integer, got {length[:40]!r}.")
            if int(length) > max_request_bytes:
                self.close_connection = True
                raise ServingError(
                    "RESOURCE_EXHAUSTED",
                    f"Request of {int(length)} bytes exceeds the limit of {max_request_bytes} bytes.",
                )
            body = self.rfile.read(int(length))
            if len(body) < int(length):
                self.close_connection = True
                raise _HttpRefusal(400, f"The body ended after {len(body)} of {int(length)} bytes.")
            return body

        def _answer(self, work):
            """Runs `work()`, which returns a payload, and answers every outcome with a status and JSON."""
            try:
                self._send(200, work())
            except ServingError as error:
                self._send(error.http_status, {"error": error.message})
            except _HttpRefusal as refusal:
                self._send(refusal.status, {"error": refusal.message})
            except TimeoutError:
                self.close_connection = True
                self._send(408, {"error": f"The request did not arrive within {read_timeout} s."})
            except Exception as error:  # a bug here must not cost the client its answer
                print(f"ganzoo serve: {type(error).__name__}: {error}", file=sys.stderr)
                self.close_connection = True
                self._send(500, {"error": f"internal error: {type(error).__name__}"})

        def do_GET(self):
            def work():
                name, version, verb = self._route()
                if verb == ":predict":
                    raise ServingError("INVALID_ARGUMENT", ":predict takes POST")
                if verb == "/metadata":
                    served_version, signature_defs = repository.metadata(name, version)
                    signature_def_map = {k: json_format.MessageToDict(v) for k, v in signature_defs.items()}
                    return {
                        "model_spec": {"name": name, "signature_name": "", "version": str(served_version)},
                        "metadata": {"signature_def": {"signature_def": signature_def_map}},
                    }
                return {"model_version_status": repository.status(name, version)}

            self._answer(work)

        def do_POST(self):
            def work():
                body = self._body()
                name, version, verb = self._route()
                if verb != ":predict":
                    raise ServingError("INVALID_ARGUMENT", f"POST {self.path}: only :predict takes POST")
                signature_name, inputs, row_format = _parse_predict_body(body, repository, name, version)
                _, outputs = repository.predict(name, inputs, signature_name, version, decode=input_decoding.from_json)
                return _predict_response(outputs, row_format)

            self._answer(work)

    return Handler


class _HttpRefusal(Exception):
    """A request refused at the HTTP level (no TF Serving code applies): its status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
         b"Content-Length: 49\r\n\r\n" + b'{"error": "the server is busy; try again later"}\n')


class _PooledHTTPServer(http.server.HTTPServer):
    """An HTTP server whose connections are served by a bounded pool of threads.

    `ThreadingHTTPServer` starts a thread per connection, so slow or idle
    clients can make threads without end; here at most `workers` connections
    are served at once, `pending` more wait, and the next is answered 503.
    """

    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address, handler, workers, pending):
        # Made before binding: a failed bind closes the server, which shuts the pool down.
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="ganzoo-rest")
        self._slots = threading.BoundedSemaphore(workers + pending)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception as error:
            print(f"ganzoo serve: connection from {client_address[0]}: {type(error).__name__}: {error}",
                  file=sys.stderr)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def server_close(self):
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- gRPC ---------------------------------------------------------------------


def _abort(context, error):
    """Ends the RPC with the ServingError's status code and message."""
    context.abort(getattr(grpc.StatusCode, error.code), error.message)


def _requested_version(model_spec):
    if model_spec.HasField("version_label"):
        raise ServingError("INVALID_ARGUMENT", f"Unrecognized servable version label: {model_spec.version_label}")
    return model_spec.version.value if model_spec.HasField("version") else None


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, repository, max_request_bytes):
        self.repository = repository
        self.max_request_bytes = max_request_bytes

    def _decode(self, key, proto, spec):
        return input_decoding.from_proto(key, proto, spec, self.max_request_bytes)

    def Predict(self, request, context):
        spec = request.model_spec
        try:
            signature_name = spec.signature_name or "serving_default"
            version, outputs = self.repository.predict(
                spec.name, dict(request.inputs), signature_name, _requested_version(spec), decode=self._decode)
        except ServingError as error:
            _abort(context, error)
        except Exception as error:  # a bug here must still end the call with a status
            print(f"ganzoo serve: {type(error).__name__}: {error}", file=sys.stderr)
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}")
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


def _bind_error(api, host, port, flag, error):
    return OSError(f"the {api} API cannot listen on {host}:{port} ({error}): another server (ganzoo serve or "
                   f"TF Serving?) may hold it; stop it or pick another port with {flag}.")



class LocalServer:
    """REST and gRPC front ends over one `ModelRepository`.

    Args:
        export_dir: a directory written by `ganzoo export`.
        host: address to bind; loopback unless told otherwise.
        rest_port, grpc_port: 0 picks free ports (see `.rest_port`, `.grpc_port`);
            a port in use is an error at start, never shared.
        max_request_bytes: larger requests are refused (REST 413, gRPC
            RESOURCE_EXHAUSTED), and no gRPC input may decode to more.
        workers: threads serving gRPC calls and REST connections each;
            `pending` more REST connections may wait, and further ones are
            answered 503 (gRPC: RESOURCE_EXHAUSTED) at once.
        read_timeout: seconds of silence after which a REST connection is
            closed (408 when a body was under way).
        model_config_file: which models to serve (`ModelRepository`); default
            `export_dir/models.config` when present.
    """

    def __init__(self, export_dir, host="127.0.0.1", rest_port=8501, grpc_port=8500,
                 max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, workers=DEFAULT_WORKERS, pending=DEFAULT_PENDING,
                 read_timeout=READ_TIMEOUT_SECONDS, model_config_file=None):
        self.repository = ModelRepository(export_dir, model_config_file)
        self.host = host
        try:
            self._http = _PooledHTTPServer(
                (host, rest_port), _make_rest_handler(self.repository, max_request_bytes, read_timeout), workers, pending)
        except OSError as error:
            raise _bind_error("REST", host, rest_port, "--rest-port", error) from None
        self._grpc = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ganzoo-grpc"),
            # Exclusive: with SO_REUSEPORT a second server on the port would get half the calls.
            options=[("grpc.max_receive_message_length", max_request_bytes), ("grpc.so_reuseport", 0)],
            maximum_concurrent_rpcs=workers + pending,
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionService(self.repository, max_request_bytes), self._grpc
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelService(self.repository), self._grpc)
        try:
            self.grpc_port = self._grpc.add_insecure_port(f"{host}:{grpc_port}")
        except RuntimeError as error:  # grpcio raises where older versions returned 0
            self.grpc_port, bind_failure = 0, error
        else:
            bind_failure = OSError(errno.EADDRINUSE, "address in use or not bindable")
        if self.grpc_port == 0:
            self._http.server_close()
            raise _bind_error("gRPC", host, grpc_port, "--grpc-port", bind_failure)
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
