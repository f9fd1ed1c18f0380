"""The local server under careless and hostile requests: every one gets a status and a
message (REST: an HTTP status and a JSON error; gRPC: TF Serving's code), and the next
good request is still answered. Each case is one found by probing `ganzoo serve`.
"""

import http.client
import json
import shutil
import socket
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_service_pb2_grpc

from keras_gan_zoo import export
import keras_gan_zoo as zoo
from keras_gan_zoo.serving import Client, LocalServer, ModelRepository

MAX_REQUEST_BYTES = 64 * 1024
MAX_ROWS = 8
LATENT = zoo.get_entry("gan").tiny["latent_dim"]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("export")
    model = zoo.create("gan", **zoo.get_entry("gan").tiny)
    export.export_model(model, directory, name="gan", max_rows=MAX_ROWS)
    return directory


@pytest.fixture(scope="module")
def server(export_dir):
    with LocalServer(export_dir, rest_port=0, grpc_port=0, max_request_bytes=MAX_REQUEST_BYTES,
                     read_timeout=1.0) as running:
        yield running


def raw_rest(server, method, path, body=b"", headers=None, content_length="auto"):
    """One request with the headers exactly as given; returns (status, JSON answer)."""
    body = body.encode() if isinstance(body, str) else body
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
    connection.putrequest(method, path, skip_accept_encoding=True)
    if content_length == "auto":
        content_length = str(len(body))
    if content_length is not None:
        connection.putheader("Content-Length", content_length)
    for key, value in (headers or {}).items():
        connection.putheader(key, value)
    connection.endheaders(body)
    response = connection.getresponse()
    answer = response.status, json.loads(response.read() or b"{}")
    connection.close()
    return answer


def predict_body(inputs, signature="sample", **extra):
    return json.dumps({"signature_name": signature, "inputs": inputs, **extra})


def assert_still_serves(server):
    status, answer = raw_rest(server, "POST", "/v1/models/gan:predict", predict_body({"num_samples": 2, "seed": 1}))
    assert status == 200 and np.asarray(answer["outputs"]).shape == (2, 2)
    assert Client(server.grpc_target, "gan").sample(2, seed=1).shape == (2, 2)


PREDICT = "/v1/models/gan:predict"
DEEP = "[" * 30_000 + "]" * 30_000

REST_CASES = [
    # 1. Every signature caps its rows in the graph, and refuses what is not finite.
    ("generate over the cap", PREDICT, predict_body({"z": [[0.1] * LATENT] * (MAX_ROWS + 1)}, "generate"), {},
     400, f"generate: z must have at most {MAX_ROWS} rows per request"),
    ("sample over the cap", PREDICT, predict_body({"num_samples": MAX_ROWS + 1, "seed": 0}), {},
     400, f"num_samples must be <= {MAX_ROWS} per request"),
    ("1e39 in z", PREDICT, predict_body({"z": [[1e39] + [0.0] * (LATENT - 1)]}, "generate"), {},
     400, "z must hold finite values"),
    ("NaN token", PREDICT, '{"signature_name": "generate", "inputs": {"z": [[NaN, 0, 0, 0]]}}', {},
     400, "NaN is not a JSON number"),
    ("Infinity token", PREDICT, '{"signature_name": "generate", "inputs": {"z": [[Infinity, 0, 0, 0]]}}', {},
     400, "Infinity is not a JSON number"),
    # 2. Content-Length and the body's JSON.
    ("Content-Length -1", PREDICT, predict_body({"num_samples": 2, "seed": 0}), {"content_length": "-1"},
     400, "Content-Length must be a non-negative integer"),
    ("Content-Length abc", PREDICT, predict_body({"num_samples": 2, "seed": 0}), {"content_length": "abc"},
     400, "Content-Length must be a non-negative integer"),
    ("Content-Length 1e3", PREDICT, predict_body({"num_samples": 2, "seed": 0}), {"content_length": "1e3"},
     400, "Content-Length must be a non-negative integer"),
    ("no Content-Length", PREDICT, b"", {"content_length": None}, 411, "needs a Content-Length"),
    ("chunked", PREDICT, b"0\r\n\r\n", {"content_length": None, "headers": {"Transfer-Encoding": "chunked"}},
     411, "Transfer-Encoding is not accepted"),
    ("signature_name a list", PREDICT, predict_body({"num_samples": 2, "seed": 0}, ["sample"]), {},
     400, "signature_name must be a string, got list"),
    ("signature_name a dict", PREDICT, predict_body({"num_samples": 2, "seed": 0}, {"a": 1}), {},
     400, "signature_name must be a string, got dict"),
    ("5,000-digit integer", PREDICT, '{"inputs": {"num_samples": ' + "9" * 5000 + ', "seed": 0}}', {},
     400, "JSON Parse error"),
    ("nested 30,000 deep", PREDICT, '{"inputs": ' + DEEP + "}", {}, 400, "nested too deeply"),
    ("not UTF-8", PREDICT, b'{"inputs": "\xff\xfe"}', {}, 400, "JSON Parse error"),
    # 3. Integers are JSON integers in their dtype's range; nothing is coerced.
    ("num_samples 2**32 + 3", PREDICT, predict_body({"num_samples": 2 ** 32 + 3, "seed": 0}), {},
     400, "4294967299 is outside [-2147483648, 2147483647]"),
    ("seed 2**63", PREDICT, predict_body({"num_samples": 2, "seed": 2 ** 63}), {},
     400, "Input 'seed' must be int64"),
    ('num_samples "3"', PREDICT, predict_body({"num_samples": "3", "seed": 0}), {}, 400, "JSON integers only, got str"),
    ("num_samples true", PREDICT, predict_body({"num_samples": True, "seed": 0}), {}, 400, "got bool True"),
    ("num_samples 3.0", PREDICT, predict_body({"num_samples": 3.0, "seed": 0}), {}, 400, "got float 3.0"),
    ("z of strings", PREDICT, predict_body({"z": [["a"] * LATENT]}, "generate"), {}, 400, "JSON numbers only, got str"),
    ("z with a bool", PREDICT, predict_body({"z": [[True] + [0.0] * (LATENT - 1)]}, "generate"), {},
     400, "got bool True"),
    ("ragged z", PREDICT, predict_body({"z": [[0.0] * LATENT, [0.0]]}, "generate"), {}, 400, "Input 'z' must be"),
    ("z too deep", PREDICT, predict_body({"z": [[[0.0]] * LATENT]}, "generate"), {}, 400, "a list nested too deeply"),
    # 7. A version label is refused, not ignored.
    ("version label", "/v1/models/gan/labels/x:predict", predict_body({"num_samples": 2, "seed": 0}), {},
     400, "Unrecognized servable version label: x"),
]


@pytest.mark.parametrize("case, path, body, options, status, message", REST_CASES, ids=[c[0] for c in REST_CASES])
def test_rest_answers_every_bad_request_and_goes_on(server, case, path, body, options, status, message):
    got_status, answer = raw_rest(server, "POST", path, body, **options)
    assert (got_status, message in answer.get("error", "")) == (status, True), answer
    assert_still_serves(server)


def _tensor(dtype, dims, **values):
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape, **values)


def _grpc_predict(server, signature, inputs, **spec):
    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name="gan", signature_name=signature, **spec))
    for key, proto in inputs.items():
        request.inputs[key].CopyFrom(proto)
    with grpc.insecure_channel(server.grpc_target) as channel:
        return prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)


SEED = _tensor(types_pb2.DT_INT64, [], int64_val=[0])

GRPC_CASES = [
    # 1. A 44-byte request that declares 2,000,000 rows of one repeated value.
    ("2,000,000 repeated rows", "generate", {"z": _tensor(types_pb2.DT_FLOAT, [2_000_000, LATENT], float_val=[0.5])},
     "would take 32000000 bytes"),
    ("2**40 rows", "generate", {"z": _tensor(types_pb2.DT_FLOAT, [2 ** 40, LATENT], float_val=[0.5])},
     "more than the 65536 a request may carry"),
    ("generate over the cap", "generate", {"z": _tensor(types_pb2.DT_FLOAT, [MAX_ROWS + 1, LATENT], float_val=[0.5])},
     f"generate: z must have at most {MAX_ROWS} rows per request"),
    ("NaN in z", "generate", {"z": tf.make_tensor_proto(np.full((2, LATENT), np.nan, "float32"))},
     "z must hold finite values"),
    # 3. The dtype is the signature's own: nothing is converted.
    ("num_samples bool", "sample", {"num_samples": _tensor(types_pb2.DT_BOOL, [], bool_val=[True]), "seed": SEED},
     "Input 'num_samples' must be int32 of shape []; got bool"),
    ("num_samples complex64", "sample",
     {"num_samples": _tensor(types_pb2.DT_COMPLEX64, [], scomplex_val=[3, 0]), "seed": SEED}, "got complex64"),
    ("num_samples int64", "sample", {"num_samples": _tensor(types_pb2.DT_INT64, [], int64_val=[3]), "seed": SEED},
     "got int64"),
    ("num_samples uint64", "sample", {"num_samples": _tensor(types_pb2.DT_UINT64, [], uint64_val=[3]), "seed": SEED},
     "got uint64"),
    ("num_samples resource", "sample", {"num_samples": _tensor(types_pb2.DT_RESOURCE, []), "seed": SEED},
     "got resource"),
    ("negative dimension", "generate", {"z": _tensor(types_pb2.DT_FLOAT, [-1, LATENT], float_val=[0.5])},
     "unknown or negative shape"),
]


@pytest.mark.parametrize("case, signature, inputs, message", GRPC_CASES, ids=[c[0] for c in GRPC_CASES])
def test_grpc_answers_every_bad_request_with_invalid_argument_and_goes_on(server, case, signature, inputs, message):
    started = time.perf_counter()
    with pytest.raises(grpc.RpcError) as error:
        _grpc_predict(server, signature, inputs)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.value.details()
    assert time.perf_counter() - started < 5, "refused only after computing"
    assert_still_serves(server)


def test_grpc_refuses_a_version_label(server):
    with pytest.raises(grpc.RpcError) as error:
        _grpc_predict(server, "sample", {"num_samples": _tensor(types_pb2.DT_INT32, [], int_val=[2]), "seed": SEED},
                      version_label="stable")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Unrecognized servable version label: stable" in error.value.details()


def test_a_port_in_use_is_a_start_up_error_not_a_shared_port(server, export_dir):
    # 5. A second server on the same gRPC port would have split the calls with the first.
    with pytest.raises(OSError, match=rf"gRPC API cannot listen on 127.0.0.1:{server.grpc_port} .*--grpc-port"):
        LocalServer(export_dir, rest_port=0, grpc_port=server.grpc_port)
    with pytest.raises(OSError, match=rf"REST API cannot listen on 127.0.0.1:{server.rest_port} .*--rest-port"):
        LocalServer(export_dir, rest_port=server.rest_port, grpc_port=0)
    assert_still_serves(server)


def test_idle_and_half_sent_connections_are_bounded_and_timed_out(export_dir):
    # 4. Idle clients cannot make threads without end: past workers + pending, a connection
    # is answered 503 at once; a body that stops arriving is answered 408 after the timeout.
    with LocalServer(export_dir, rest_port=0, grpc_port=0, workers=2, pending=2, read_timeout=2.0) as small:
        idle = []
        for _ in range(4):
            connection = socket.create_connection(("127.0.0.1", small.rest_port))
            connection.sendall(b"POST /v1/models/gan:predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
            idle.append(connection)
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", small.rest_port), timeout=5) as refused:
            answer = refused.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503") and b"the server is busy" in answer
        idle[0].settimeout(10)
        timed_out = b"".join(iter(lambda: idle[0].recv(4096), b""))  # until the server closes it
        assert timed_out.startswith(b"HTTP/1.1 408") and b"did not arrive within 2.0 s" in timed_out
        for connection in idle:
            connection.close()
        time.sleep(2.5)  # the other half-sent bodies time out too, freeing their threads
        assert_still_serves(small)


def test_concurrent_good_requests_are_all_answered(server):
    # 4. The listen backlog and the pool take 32 clients at once without a reset.
    import concurrent.futures

    def one(seed):
        status, answer = raw_rest(server, "POST", PREDICT, predict_body({"num_samples": 2, "seed": seed}))
        return status

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(one, range(256)))
    assert statuses == [200] * 256


# 6. What the server is told to serve is checked at start, and damaged files are named.

@pytest.fixture
def two_versions(tmp_path):
    model = zoo.create("gan", **zoo.get_entry("gan").tiny)
    for version in (1, 2):
        export.export_model(model, tmp_path, name="gan", version=version)
    return tmp_path


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_models_config_naming_a_missing_model_fails_at_start_naming_the_file(two_versions):
    config = two_versions / "models.config"
    config.write_text('model_config_list { config { name: "gan" base_path: "/models/gan" model_platform: '
                      '"tensorflow" } config { name: "ghost" base_path: "/models/ghost" model_platform: '
                      '"tensorflow" } }\n')
    with pytest.raises(FileNotFoundError, match=rf"{config} names model 'ghost' at '/models/ghost'.*remove it from"):
        ModelRepository(two_versions)
    config.write_text("config { name: ")
    with pytest.raises(ValueError, match=rf"{config} is not a readable ModelServerConfig"):
        ModelRepository(two_versions)


def test_only_the_models_the_config_names_are_served(two_versions, tmp_path_factory):
    other = tmp_path_factory.mktemp("config") / "only.config"
    other.write_text('model_config_list { config { name: "gan" base_path: "/models/gan" model_platform: '
                     '"tensorflow" } }\n')
    model = zoo.create("vae", **zoo.get_entry("vae").tiny)
    export.export_model(model, two_versions, name="vae")
    assert set(ModelRepository(two_versions).models) == {"gan", "vae", "vae-encoder"}
    assert set(ModelRepository(two_versions, model_config_file=other).models) == {"gan"}


@pytest.mark.parametrize("damage", ["truncated variables", "empty saved_model.pb"])
def test_a_damaged_version_is_skipped_while_another_serves_and_refused_alone(two_versions, capsys, damage):
    broken = two_versions / "gan" / "2"
    if damage == "empty saved_model.pb":
        (broken / "saved_model.pb").write_bytes(b"")
    else:
        _truncate(broken / "variables" / "variables.data-00000-of-00001")
    repository = ModelRepository(two_versions)
    assert sorted(repository.models["gan"]) == [1] and list(repository.skipped) == [broken]
    assert f"skipping {broken}" in capsys.readouterr().err
    assert repository.resolve("gan")[0] == 1

    shutil.rmtree(two_versions / "gan" / "1")
    with pytest.raises(ValueError, match=rf"no version of 'gan' under .* loads \({broken}: .*\)\. Export it again"):
        ModelRepository(two_versions)
