"""The client against the local server (and TF Serving when installed), REST and gRPC."""

import http.client
import json
import pathlib
import re
import shutil
import socket
import subprocess
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_gan_zoo import export
import keras_gan_zoo as zoo
from keras_gan_zoo.serving import Client, LocalServer, ServingError

MAX_REQUEST_BYTES = 64 * 1024
# The exports' row cap (export_model's max_rows), small so that a test can cross it cheaply.
MAX_ROWS = 8
TF_SERVING = shutil.which("tensorflow_model_server")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    export_dir = tmp_path_factory.mktemp("export")
    built = {}
    for name in ("gan", "vae"):
        model = zoo.create(name, **zoo.get_entry(name).tiny)
        export.export_model(model, export_dir, name=name, base_path_prefix=str(export_dir), max_rows=MAX_ROWS)
        built[name] = model
    return export_dir, built


@pytest.fixture(scope="module")
def local_server(models):
    server = LocalServer(models[0], rest_port=0, grpc_port=0, max_request_bytes=MAX_REQUEST_BYTES).start()
    yield server
    server.stop()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tf_serving(models):
    if not TF_SERVING:
        pytest.skip("tensorflow_model_server is not on PATH (TF Serving's binary cannot be installed here)")
    grpc_port, rest_port = _free_port(), _free_port()
    process = subprocess.Popen([
        TF_SERVING, f"--port={grpc_port}", f"--rest_api_port={rest_port}",
        f"--model_config_file={models[0] / 'models.config'}", "--rest_api_timeout_in_ms=60000",
    ])
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if Client(f"http://127.0.0.1:{rest_port}", "gan").status()[0]["state"] == "AVAILABLE":
                break
        except (ServingError, OSError):
            time.sleep(0.5)
    yield f"http://127.0.0.1:{rest_port}", f"127.0.0.1:{grpc_port}"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(params=["local-rest", "local-grpc", "tfserving-rest", "tfserving-grpc"])
def target(request):
    server, protocol = request.param.split("-")
    if server == "local":
        local = request.getfixturevalue("local_server")
        return local.rest_url if protocol == "rest" else local.grpc_target
    rest, grpc_target = request.getfixturevalue("tf_serving")
    return rest if protocol == "rest" else grpc_target


def test_sample_equals_the_keras_model(target, models):
    for name, model in models[1].items():
        np.testing.assert_allclose(Client(target, name).sample(6, seed=4), model.sample(6, seed=4), atol=1e-5)


def test_generate_and_decode_equal_the_keras_model(target, models):
    for name, model in models[1].items():
        z = np.random.default_rng(0).standard_normal((5, model.latent_dim)).astype("float32")
        np.testing.assert_allclose(Client(target, name).generate(z), model.generate(z), atol=1e-5)
    vae = models[1]["vae"]
    np.testing.assert_allclose(Client(target, "vae").decode(z), vae.decode(z), atol=1e-5)


def test_encode_equals_the_keras_model(target, models):
    vae = models[1]["vae"]
    x = np.random.default_rng(1).uniform(-1, 1, (5, *vae.data_shape)).astype("float32")
    np.testing.assert_allclose(Client(target, "vae").encode(x), vae.encode(x), atol=1e-5)


def test_sample_png_carries_the_samples_as_png_files(target, models):
    vae = models[1]["vae"]
    expected = np.clip(np.round((vae.sample(5, seed=2) + 1.0) * 127.5), 0, 255).astype("uint8")
    client = Client(target, "vae")
    pngs = client.sample_png(5, seed=2)
    assert len(pngs) == 5 and all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in pngs)
    images = client.sample_images(5, seed=2)
    assert images.shape == (5, 16, 16, 1) and images.dtype == np.uint8
    # The same numbers as Python's sample, rounded to 256 levels (a level's edge may fall either way).
    assert np.abs(images.astype(int) - expected).max() <= 1 and (images == expected).mean() > 0.99
    assert "sample_png" not in Client(target, "gan").metadata(), "2-d points are not images"


def test_metadata_and_status(target):
    client = Client(target, "gan")
    assert {"sample", "generate", "serving_default"} <= set(client.metadata())
    assert client.status()[0]["state"] == "AVAILABLE"
    assert client.status()[0]["version"] == "1"


# -- bad input: TF Serving's answers, and the server keeps serving ------------


def _rest(server, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
    connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read() or b"{}")
    connection.close()
    return answer


BAD_REST_REQUESTS = [
    ("malformed JSON", "/v1/models/gan:predict", b'{"inputs": {"z": [[0.1, ', 400, "JSON Parse error"),
    ("wrong shape", "/v1/models/gan:predict", json.dumps({"signature_name": "generate", "inputs": {"z": [[0.0] * 7]}}), 400, "z must have shape [batch, 4]"),
    ("wrong dtype", "/v1/models/gan:predict", json.dumps({"signature_name": "generate", "inputs": {"z": [["a"] * 4]}}), 400, "must be float32"),
    ("fractional int", "/v1/models/gan:predict", json.dumps({"inputs": {"num_samples": 2.5, "seed": 0}}), 400, "must be int32"),
    ("missing input", "/v1/models/gan:predict", json.dumps({"inputs": {"num_samples": 2}}), 400, "missing ['seed']"),
    ("unknown model", "/v1/models/nope:predict", json.dumps({"inputs": {"num_samples": 2, "seed": 0}}), 404, "Servable not found"),
    ("unknown version", "/v1/models/gan/versions/9:predict", json.dumps({"inputs": {"num_samples": 2, "seed": 0}}), 404, "Specific(gan, 9)"),
    ("unknown signature", "/v1/models/gan:predict", json.dumps({"signature_name": "nope", "inputs": {"z": [[0.0] * 4]}}), 400, 'signature key "nope" not found'),
    ("oversized", "/v1/models/gan:predict", json.dumps({"signature_name": "generate", "inputs": {"z": [[0.0] * 4] * 5000}}), 413, "exceeds the limit"),
]


@pytest.mark.parametrize("case, path, body, status, message", BAD_REST_REQUESTS, ids=[c[0] for c in BAD_REST_REQUESTS])
def test_rest_bad_requests_get_tf_serving_answers_and_the_server_goes_on(local_server, case, path, body, status, message):
    got_status, answer = _rest(local_server, "POST", path, body)
    assert got_status == status
    assert message in answer["error"]
    good_status, good = _rest(local_server, "POST", "/v1/models/gan:predict", json.dumps({"inputs": {"num_samples": 2, "seed": 1}}))
    assert good_status == 200 and np.asarray(good["outputs"]).shape == (2, 2)


BAD_GRPC_CALLS = [
    ("wrong shape", lambda c: c.generate(np.zeros((2, 7))), "INVALID_ARGUMENT", "z must have shape [batch, 4]"),
    ("wrong dtype", lambda c: c.predict("generate", {"z": np.array([["a"] * 4])}), "INVALID_ARGUMENT", "must be float32"),
    ("unknown model", lambda c: Client(c.target, "nope").sample(2), "NOT_FOUND", "Servable not found"),
    ("unknown version", lambda c: Client(c.target, "gan", version=9).sample(2), "NOT_FOUND", "Specific(gan, 9)"),
    ("unknown signature", lambda c: c.predict("nope", {"z": np.zeros((1, 4), "float32")}), "FAILED_PRECONDITION", 'signature key "nope"'),
    ("too many samples", lambda c: c.sample(MAX_ROWS + 1), "INVALID_ARGUMENT", f"num_samples must be <= {MAX_ROWS}"),
    ("oversized", lambda c: c.generate(np.zeros((5000, 4))), "RESOURCE_EXHAUSTED", ""),
]


@pytest.mark.parametrize("case, call, code, message", BAD_GRPC_CALLS, ids=[c[0] for c in BAD_GRPC_CALLS])
def test_grpc_bad_requests_get_tf_serving_codes_and_the_server_goes_on(local_server, case, call, code, message):
    client = Client(local_server.grpc_target, "gan")
    with pytest.raises(ServingError) as error:
        call(client)
    assert error.value.code == code
    assert message in error.value.message
    assert client.sample(2, seed=1).shape == (2, 2)


def test_serve_refuses_a_directory_without_exports(tmp_path):
    with pytest.raises(FileNotFoundError, match="ganzoo export"):
        LocalServer(tmp_path, rest_port=0, grpc_port=0)


def test_every_version_is_served_and_the_highest_by_default(tmp_path):
    first = zoo.create("gan", **zoo.get_entry("gan").tiny, seed=1)
    second = zoo.create("gan", **zoo.get_entry("gan").tiny, seed=2)
    export.export_model(first, tmp_path, name="gan", version=1)
    export.export_model(second, tmp_path, name="gan", version=2)
    with LocalServer(tmp_path, rest_port=0, grpc_port=0) as server:
        for target in (server.rest_url, server.grpc_target):
            np.testing.assert_allclose(Client(target, "gan").sample(3, seed=0), second.sample(3, seed=0), atol=1e-5)
            np.testing.assert_allclose(Client(target, "gan", version=1).sample(3, seed=0), first.sample(3, seed=0), atol=1e-5)
            assert [s["version"] for s in Client(target, "gan").status()] == ["2", "1"]


# -- deployment files ---------------------------------------------------------

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "serving" / "deploy"


def test_the_compose_file_serves_the_export_the_readme_writes():
    compose = (DEPLOY / "docker-compose.yml").read_text()
    default = re.search(r"^\s*- \$\{EXPORT_DIR:-(?P<path>[^}]+)\}:/models:ro\s*$", compose, re.M)["path"]
    # Compose resolves a relative host path against the project directory, which is the
    # folder of the first -f file, whatever folder the command runs in.
    served = (DEPLOY / default).resolve()
    readme_out = re.search(r"ganzoo export \S+ --out (\S+)", (ROOT / "README.md").read_text())[1]
    assert served == (ROOT / readme_out).resolve(), "the compose default does not mount the README's export"
    documented = (ROOT / "docs" / "serving.md").read_text() + compose
    for value in re.findall(r"EXPORT_DIR=(\S+)", documented):
        assert value.strip('"').startswith(("$PWD", "/")), f"EXPORT_DIR={value} resolves against serving/deploy"


def test_the_tf_serving_image_is_not_older_than_the_exporters_tensorflow():
    exporter = tuple(int(part) for part in tf.__version__.split(".")[:2])
    for name in ("docker-compose.yml", "kubernetes.yaml"):
        tags = re.findall(r"image: tensorflow/serving:(\d+)\.(\d+)\.\d+", (DEPLOY / name).read_text())
        assert tags, f"{name} pins no tensorflow/serving release"
        assert all((int(major), int(minor)) >= exporter for major, minor in tags), (
            f"{name} pins {tags}, older than the TensorFlow {tf.__version__} that writes the exports")
