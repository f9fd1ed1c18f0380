"""Property-based fuzzing of the local server's REST and gRPC predict endpoints.

Invariant: whatever arrives, the answer is a success or a client error (REST 2xx
or 4xx with a JSON body; gRPC OK or one of TF Serving's client-error codes), never
a dropped connection, a 5xx or UNKNOWN, and the next good request still succeeds.

The "ci" profile (default) runs a short search; benchmarks/serving_fuzz.py runs
the "long" one and records what it tried.
"""

import http.client
import json
import os

import grpc
import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_service_pb2_grpc

from keras_gan_zoo import export
import keras_gan_zoo as zoo
from keras_gan_zoo.serving import Client, LocalServer

hypothesis.settings.register_profile(
    "ci", max_examples=120, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
hypothesis.settings.register_profile(
    "long", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5000")), deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MAX_REQUEST_BYTES = 256 * 1024
LATENT = zoo.get_entry("gan").tiny["latent_dim"]
CLIENT_ERRORS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                 grpc.StatusCode.RESOURCE_EXHAUSTED}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("export")
    export.export_model(zoo.create("gan", **zoo.get_entry("gan").tiny), directory, name="gan", max_rows=64)
    with LocalServer(directory, rest_port=0, grpc_port=0, max_request_bytes=MAX_REQUEST_BYTES,
                     read_timeout=2.0) as running:
        yield running


def good_request_succeeds(server):
    assert Client(server.rest_url, "gan").sample(2, seed=0).shape == (2, 2)
    assert Client(server.grpc_target, "gan").sample(2, seed=0).shape == (2, 2)


# -- REST ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=40,
)
# Near-valid bodies find more than random ones: the right keys, arbitrary values.
near_valid = st.fixed_dictionaries(
    {"inputs": st.dictionaries(st.sampled_from(["num_samples", "seed", "z", "labels", "x"]), json_values, max_size=3)},
    optional={"signature_name": st.sampled_from(["sample", "generate", "serving_default", "nope", ""]) | json_values},
)
rows_of_z = st.lists(st.lists(st.floats(width=32) | st.integers(-10, 10), min_size=LATENT, max_size=LATENT),
                     max_size=80)
bodies = st.one_of(
    json_values.map(json.dumps),
    near_valid.map(json.dumps),
    rows_of_z.map(lambda z: json.dumps({"signature_name": "generate", "inputs": {"z": z}})),
    st.binary(max_size=200),
)
paths = st.sampled_from([
    "/v1/models/gan:predict", "/v1/models/gan/versions/1:predict", "/v1/models/gan/versions/7:predict",
    "/v1/models/gan/labels/a:predict", "/v1/models/nope:predict", "/v1/models/gan", "/v1/models/gan/metadata",
    "/v1/models/gan:classify", "/", "/v1/models//:predict",
])


@hypothesis.given(method=st.sampled_from(["POST", "GET", "PUT"]), path=paths, body=bodies,
                  length=st.none() | st.sampled_from(["-1", "abc", "1e3", "0", " 5", "99999999999999999999999"]))
def test_rest_answers_anything_with_a_status_and_json_and_goes_on(server, method, path, body, length):
    body = body.encode() if isinstance(body, str) else body
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("Content-Length", length if length is not None else str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        status, answer = response.status, response.read()
    finally:
        connection.close()
    assert 200 <= status < 300 or 400 <= status < 500, (status, answer[:200])
    json.loads(answer)
    good_request_succeeds(server)


# -- gRPC ----------------------------------------------------------------------

dtypes = st.sampled_from(sorted(types_pb2.DataType.values()))
dims = st.lists(st.integers(-3, 3) | st.integers(0, 80) | st.sampled_from([2 ** 31, 2 ** 40, 2 ** 62]), max_size=5)
tensor_protos = st.builds(
    lambda dtype, shape, floats, ints, content, strings: tensor_pb2.TensorProto(
        dtype=dtype,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d)
                                                            for d in shape]),
        float_val=floats, int_val=ints, tensor_content=content, string_val=strings),
    dtypes, dims,
    st.lists(st.floats(width=32), max_size=20), st.lists(st.integers(-2 ** 31, 2 ** 31 - 1), max_size=5),
    st.binary(max_size=64), st.lists(st.binary(max_size=8), max_size=3),
)


@hypothesis.given(signature=st.sampled_from(["sample", "generate", "serving_default", "nope", ""]),
                  inputs=st.dictionaries(st.sampled_from(["num_samples", "seed", "z", "x"]), tensor_protos, max_size=3),
                  version=st.none() | st.integers(0, 3))
def test_grpc_answers_anything_with_a_client_error_code_and_goes_on(server, signature, inputs, version):
    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name="gan", signature_name=signature))
    if version is not None:
        request.model_spec.version.value = version
    for key, proto in inputs.items():
        request.inputs[key].CopyFrom(proto)
    with grpc.insecure_channel(server.grpc_target) as channel:
        try:
            response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)
            assert all(np.isfinite(np.asarray(o.float_val)).all() for o in response.outputs.values())
        except grpc.RpcError as error:
            assert error.code() in CLIENT_ERRORS, (error.code(), error.details())
    good_request_succeeds(server)
