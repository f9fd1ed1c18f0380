"""The common test base: every registered model passes the same checks.

A new variant is covered by registering it with a `tiny` config; nothing
here changes.
"""

import contextlib
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan_zoo import export
import keras_gan_zoo as zoo
from keras_gan_zoo import capabilities, nets, xla
from conftest import tiny_batches, tiny_data
from keras_gan_zoo.export import serving_files
from google.protobuf import text_format
from keras_gan_zoo.serving.repository import served_signature_defs
from tensorflow_serving.config import model_server_config_pb2

MODELS = zoo.list_models()
# Every variant's tiny config, then its registered options (conditional, clusters, ...).
CASES = zoo.registry.all_cases()
CASE_IDS = [name + "".join(f"-{k}={v}" for k, v in options.items()) for name, options in CASES]


def tiny_model(name, **overrides):
    return zoo.create(name, **{**zoo.get_entry(name).tiny, **overrides})


def fit_once(model, **fit_kwargs):
    history = model.fit(
        tiny_data(model), epochs=1, verbose=0, shuffle=False, **fit_kwargs
    )
    return {key: values[-1] for key, values in history.history.items()}


def assert_finite_logs(logs):
    assert logs, "fit logged no metrics"
    for key, value in logs.items():
        assert np.isfinite(value), f"{key} is {value}"


def weights_of(model):
    return [w.numpy() for w in model.trainable_weights]


def networks_of(model):
    return model.networks()


@pytest.mark.parametrize("name", MODELS)
def test_fit_gives_finite_losses_and_trains_every_network(name):
    model = tiny_model(name)
    model.compile()
    before = {n: weights_of(net) for n, net in networks_of(model).items()}
    assert_finite_logs(fit_once(model))
    for network_name, network in networks_of(model).items():
        moved = [not np.allclose(a, b) for a, b in zip(before[network_name], weights_of(network))]
        assert any(moved), f"the {network_name} of {name} did not train"


@pytest.mark.parametrize("name", MODELS)
def test_sample_shape_dtype_range_and_seed(name):
    model = tiny_model(name)
    samples = model.sample_array(6, seed=1)
    assert samples.shape == (6, *model.data_shape)
    assert samples.dtype == np.float32
    assert np.all(np.isfinite(samples))
    if len(model.data_shape) == 3:
        assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, model.sample_array(6, seed=1))
    assert not np.allclose(samples, model.sample_array(6, seed=2))


@pytest.mark.parametrize("name", MODELS)
def test_get_config_round_trip(name):
    model = tiny_model(name)
    config = model.get_config()
    json.dumps(config)  # a JSON config must rebuild the model
    rebuilt = type(model).from_config(json.loads(json.dumps(config)))
    assert json.dumps(rebuilt.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]


def test_config_is_the_constructor_arguments_and_a_users_network_round_trips(tmp_path):
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(5, activation="tanh", name="users_hidden")(inputs)
    generator = keras.Model(inputs, keras.layers.Dense(2)(hidden), name="users_generator")
    model = zoo.create("gan", data_shape=(2,), latent_dim=4, hidden_units=(8,), generator=generator, packing=2)
    config = model.get_config()
    assert config["generator"]["config"]["name"] == "users_generator"
    assert {k: config[k] for k in ("data_shape", "latent_dim", "hidden_units", "packing")} == {
        "data_shape": [2], "latent_dim": 4, "hidden_units": [8], "packing": 2}
    assert "discriminator" not in config, "a network the model built itself is rebuilt from the arguments"
    rebuilt = zoo.GAN.from_config(json.loads(json.dumps(config)))
    assert [layer.name for layer in rebuilt.generator.layers] == [layer.name for layer in generator.layers]
    model.compile()
    fit_once(model)
    model.save(tmp_path / "users.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "users.keras").sample(4, seed=0),
                               model.sample(4, seed=0), atol=1e-6)


def test_no_variant_writes_its_config_by_hand():
    for name in MODELS:
        for cls in zoo.get_entry(name).cls.__mro__:
            if cls.__module__.startswith("keras_gan_zoo") and cls is not zoo.serialization.ConstructorConfig:
                assert "get_config" not in vars(cls), f"{cls.__name__} writes get_config by hand"


@pytest.mark.parametrize("name", MODELS)
def test_save_and_load_give_the_same_samples(name, tmp_path):
    model = tiny_model(name)
    model.compile()
    fit_once(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.sample_array(5, seed=3), model.sample_array(5, seed=3), atol=1e-6)
    # The optimizers come back too, so a loaded model can go on training.
    assert loaded.compiled
    assert_finite_logs(fit_once(loaded))


@pytest.mark.parametrize("name", MODELS)
def test_fit_with_xla(name):
    model = tiny_model(name)
    model.compile(jit_compile=True)
    assert_finite_logs(fit_once(model))
    assert model.jit_compile is True


@pytest.mark.parametrize("name", MODELS)
def test_xla_compiles_the_step_on_one_device_and_under_mirrored_strategy(name, tmp_path):
    """XLA's own dump shows what was compiled; its flags are read once, so a new process."""
    dump, report_path = tmp_path / "xla_dump", tmp_path / "report.json"
    env = {**os.environ, "XLA_FLAGS": f"--xla_dump_to={dump}", "TF_XLA_FLAGS": "--tf_xla_cpu_global_jit"}
    script = pathlib.Path(__file__).with_name("xla_dump_run.py")
    subprocess.run([sys.executable, str(script), name, str(dump), str(report_path)],
                   env=env, cwd=script.parent, check=True, capture_output=True)
    report = json.loads(report_path.read_text())

    one_device, mirrored = report["one_device"], report["mirrored"]
    assert one_device["xla_compiles"] == xla.WHOLE_STEP
    assert any("one_step_on_data" in m for m in one_device["modules"]), one_device["modules"]
    assert mirrored["xla_compiles"] == xla.AUTO_CLUSTERING
    assert any(m.startswith("module_") and ".cluster_" in m for m in mirrored["modules"]), mirrored["modules"]
    for phase in (one_device, mirrored):
        assert phase["modules_with_matmul_or_conv"], "XLA compiled none of the networks' layers"
        assert_finite_logs(phase["logs"])


@pytest.mark.parametrize("name", MODELS)
def test_fit_under_mirrored_strategy(name, two_device_strategy):
    with two_device_strategy.scope():
        model = tiny_model(name)
        model.compile()
    assert model.distribute_strategy is two_device_strategy
    before = weights_of(model)
    assert_finite_logs(fit_once(model))
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights))


@pytest.fixture
def dtype_policy():
    """Sets a global dtype policy for one test, then puts float32 back."""
    yield keras.mixed_precision.set_dtype_policy
    keras.mixed_precision.set_dtype_policy("float32")


def output_dtypes(model):
    z = model.prior_sample(2, seed=0)
    dtypes = {"samples": model.generate(z).dtype}
    x = model.generate(z)
    for network_name, network in networks_of(model).items():
        if network_name == "encoder" or (network_name == "discriminator" and not isinstance(network.input, list)):
            dtypes[network_name] = network(x).dtype
    if isinstance(model, zoo.BiGAN):
        dtypes["discriminator"] = model.discriminator([x, z]).dtype
    if model.conditional and "discriminator" in networks_of(model):
        dtypes["discriminator"] = model.discriminator([x, tf.one_hot([0, 1], model.num_classes)]).dtype
    return {k: keras.backend.standardize_dtype(v) for k, v in dtypes.items()}


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("name", MODELS)
def test_mixed_precision_trains_with_float32_outputs_and_losses(name, policy, dtype_policy):
    dtype_policy(policy)
    model = tiny_model(name)
    model.compile()
    compute_dtypes = {layer.compute_dtype for net in networks_of(model).values() for layer in net.layers}
    assert policy.removeprefix("mixed_") in compute_dtypes, "no layer computes in reduced precision"
    assert set(output_dtypes(model).values()) == {"float32"}, output_dtypes(model)
    scaled = [isinstance(getattr(model, n), keras.optimizers.LossScaleOptimizer) for n in model.optimizer_names]
    assert all(scaled) if policy == "mixed_float16" else not any(scaled)
    logs = fit_once(model)
    assert_finite_logs(logs)
    assert model.sample_array(3, seed=0).dtype == np.float32


def test_float16_overflow_on_one_replica_skips_the_step_on_all(two_device_strategy, dtype_policy):
    """The second replica's half of the batch is huge, so only its scaled gradients overflow.

    Every variant steps through `GenerativeModel._minimize`; the autoencoder is
    the one whose gradients this data reliably overflows.
    """
    dtype_policy("mixed_float16")
    with two_device_strategy.scope():
        model = tiny_model("autoencoder", seed=1)
        model.compile()
    shape = model.data_shape
    x = np.concatenate([np.full((4, *shape), 0.01), np.full((4, *shape), 300.0)]).astype("float32")
    model.fit(zoo.data.pipeline(x, batch_size=8, shuffle=False), epochs=1, verbose=0)
    assert model.optimizer.dynamic_scale.numpy() < model.optimizer.initial_scale, (
        "no step overflowed: the test data no longer provokes the case it checks")
    for weight in model.weights:
        assert np.all(np.isfinite(weight.numpy())), f"{weight.path} took a non-finite update"


@pytest.mark.parametrize("name", MODELS)
def test_train_step_scales_the_loss_and_the_optimizer_unscales_it(name):
    """A loss scale of 1024 must leave an SGD step unchanged: fails if a train step skips scaling."""
    config = {**zoo.get_entry(name).tiny, "seed": 5}
    plain, scaled = zoo.create(name, **config), zoo.create(name, **config)
    scaled.set_weights(plain.get_weights())
    plain.compile()
    plain.compile(**{n: keras.optimizers.SGD(0.1) for n in plain.optimizer_names})
    scaled.compile(**{n: keras.optimizers.SGD(0.1, loss_scale_factor=1024.0) for n in plain.optimizer_names})
    initial = weights_of(plain)
    batch = tiny_data(plain, num_examples=8, batch_size=8)
    plain.fit(batch, epochs=1, verbose=0)
    scaled.fit(batch, epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(initial, weights_of(plain))), "the step changed nothing"
    for a, b in zip(plain.trainable_weights, scaled.trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_wrong_data_shape_names_the_expected_shape(name):
    model = tiny_model(name)
    model.compile()
    wrong = tuple(d + 4 for d in model.data_shape)
    with pytest.raises(ValueError, match=r"built for examples of shape"):
        model.fit(tiny_data(model, wrong), epochs=1, verbose=0)


@pytest.mark.parametrize("name", [n for n in MODELS if zoo.get_entry(n).data_kinds == ("image",)])
def test_image_models_reject_vector_shapes(name):
    with pytest.raises(ValueError, match=r"expects images of shape \(H, W, C\)"):
        tiny_model(name, data_shape=(2,))


def test_unknown_model_lists_the_valid_names():
    with pytest.raises(ValueError, match=f"Valid names: {', '.join(MODELS)}"):
        zoo.create("stylegan9")


def test_unconditional_models_refuse_labels():
    with pytest.raises(ValueError, match="unconditional"):
        tiny_model("gan").sample(2, labels=[0, 1])


def test_replicas_draw_different_noise(two_device_strategy):
    with two_device_strategy.scope():
        model = tiny_model("gan")

    @tf.function
    def draw():
        return two_device_strategy.run(lambda: model._latent_noise(4))

    first, second = two_device_strategy.experimental_local_results(draw())
    assert not np.allclose(first, second)
    again = two_device_strategy.experimental_local_results(draw())[0]
    assert not np.allclose(first, again), "each step must draw new noise"


SHAPE_OF_KIND = {"image": (16, 16, 1), "vector": (3,), "sequence": (5, 2), "table": None}
OTHER_KINDS = [
    (name, kind)
    for name in MODELS
    for kind in zoo.get_entry(name).data_kinds
    # A table's rows follow from its table, which the tiny config gives.
    if kind != "table" and len(SHAPE_OF_KIND[kind]) != len(zoo.get_entry(name).tiny["data_shape"])
]


@pytest.mark.parametrize("name, kind", OTHER_KINDS)
def test_trains_and_samples_on_every_kind_of_data_it_accepts(name, kind):
    model = tiny_model(name, data_shape=SHAPE_OF_KIND[kind])
    model.compile()
    assert_finite_logs(fit_once(model))
    assert model.sample_array(3, seed=0).shape == (3, *SHAPE_OF_KIND[kind])


def _check_sample(model, signatures):
    got = signatures["sample"](num_samples=tf.constant(5), seed=tf.constant(11, tf.int64))
    np.testing.assert_allclose(got["samples"], model.sample_array(5, seed=11), atol=1e-5)
    z = np.random.default_rng(0).standard_normal((4, model.latent_dim)).astype("float32")
    np.testing.assert_allclose(signatures["generate"](z=tf.constant(z))["samples"], model.generate(z), atol=1e-5)


def _labels(model, n):
    return np.random.default_rng(2).integers(0, model.num_classes, n).astype("int32")


def _check_labelled_sample(model, signatures):
    labels = _labels(model, 5)
    got = signatures["sample_labelled"](labels=tf.constant(labels), seed=tf.constant(7, tf.int64))["samples"]
    np.testing.assert_allclose(got, model.sample_array(5, labels=labels, seed=7), atol=1e-5)
    assert not np.allclose(got, model.sample_array(5, seed=7)), "the labels change nothing"


def _check_generate_labelled(model, signatures):
    z, labels = model.prior_sample(4, seed=3), _labels(model, 4)
    got = signatures["generate_labelled"](z=z, labels=tf.constant(labels))["samples"]
    np.testing.assert_allclose(got, model.generate(z, labels), atol=1e-5)


def _z(model):
    return np.random.default_rng(0).standard_normal((4, model.latent_dim)).astype("float32")


def _x(model):
    return np.random.default_rng(1).uniform(-1, 1, (4, *model.data_shape)).astype("float32")


def _check_decode(model, signatures):
    np.testing.assert_allclose(signatures["decode"](z=tf.constant(_z(model)))["x"], model.decode(_z(model)), atol=1e-5)


def _check_encode(model, signatures):
    np.testing.assert_allclose(signatures["encode"](x=tf.constant(_x(model)))["z"], model.encode(_x(model)), atol=1e-5)


def _check_classify(model, signatures):
    got = signatures["classify"](x=tf.constant(_x(model)))
    np.testing.assert_array_equal(got["classes"], model.classify(_x(model)))
    np.testing.assert_allclose(got["probabilities"], model.class_probabilities(_x(model)), atol=1e-5)


def _check_predict_codes(model, signatures):
    got = signatures["predict_codes"](x=tf.constant(_x(model)))
    categories, continuous = model.predict_codes(_x(model))
    np.testing.assert_allclose(got["categories"], categories, atol=1e-5)
    np.testing.assert_allclose(got["continuous"], continuous, atol=1e-5)


def _check_cluster(model, signatures):
    np.testing.assert_array_equal(signatures["cluster"](x=tf.constant(_x(model)))["clusters"], model.cluster(_x(model)))


def _check_sample_columns(model, signatures):
    got = signatures["sample_columns"](num_samples=tf.constant(5), seed=tf.constant(11, tf.int64))
    frame = model.sample(5, seed=11)
    assert sorted(got) == sorted(frame.columns)
    for column in frame.columns:
        served = got[column].numpy()
        served = [v.decode() for v in served] if served.dtype == object else served
        np.testing.assert_array_equal(np.asarray(served), frame[column].to_numpy(), err_msg=column)


# One check per capability: the exported signature computes what Python computes.
CAPABILITY_CHECKS = {
    capabilities.SAMPLE: _check_sample,
    capabilities.LABELLED_SAMPLE: _check_labelled_sample,
    capabilities.GENERATE_LABELLED: _check_generate_labelled,
    capabilities.DECODE: _check_decode,
    capabilities.ENCODE: _check_encode,
    capabilities.CLASSIFY: _check_classify,
    capabilities.PREDICT_CODES: _check_predict_codes,
    capabilities.CLUSTER: _check_cluster,
    capabilities.SAMPLE_COLUMNS: _check_sample_columns,
}


def test_every_capability_has_an_export_and_a_check():
    assert set(CAPABILITY_CHECKS) == set(capabilities.ALL) == set(export.ENDPOINTS)
    offered = {c for name, options in CASES for c in tiny_model(name, **options).capabilities}
    assert offered == set(capabilities.ALL), f"no test case offers {set(capabilities.ALL) - offered}"


def saved_variable_count(path):
    return sum(int(np.prod(shape)) for name, shape in tf.train.list_variables(str(path / "variables" / "variables"))
               if name != "_CHECKPOINTABLE_OBJECT_GRAPH")


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_export_computes_what_keras_computes_for_every_declared_capability(name, options, tmp_path):
    model = tiny_model(name, **options)
    model.compile()
    fit_once(model)
    written = export.export_model(model, tmp_path, name=name)
    parts = export.servable_parts(model)
    assert set(written) == {name + suffix for suffix in parts}
    signatures = {}
    for suffix, endpoints in parts.items():
        loaded = tf.saved_model.load(str(written[name + suffix]))
        served = set(served_signature_defs(written[name + suffix])) - {"__saved_model_init_op"}
        assert {e.name for e in endpoints} | {"serving_default"} == served
        signatures.update({e.name: loaded.signatures[e.name] for e in endpoints})
    for capability in model.capabilities:
        CAPABILITY_CHECKS[capability](model, signatures)

    # Only what serving reads: no optimizer state, and no discriminator unless a classifier is served.
    exported = sum(saved_variable_count(path) for path in written.values())
    trained = sum(int(np.prod(w.shape)) for w in model.weights)
    assert 0 < exported <= trained
    for network_name in ("discriminator", "code_discriminator", "category_discriminator"):
        network = networks_of(model).get(network_name)
        if network is not None and not {capabilities.CLASSIFY, capabilities.PREDICT_CODES} & model.capabilities:
            assert exported <= trained - network.count_params(), f"the {network_name} was exported"

    for served_name, path in written.items():
        logs = serving_files.read_warmup_requests(path)
        signature_names = [e.name for e in parts[served_name[len(name):]]]
        assert [log.predict_log.request.model_spec.signature_name for log in logs] == signature_names

    config = text_format.Parse((tmp_path / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    assert sorted(c.name for c in config.model_config_list.config) == sorted(written)
    assert all(c.base_path == f"/models/{c.name}" for c in config.model_config_list.config)


@pytest.mark.parametrize("name", MODELS)
def test_exported_signatures_reject_bad_input_saying_what_they_expect(name, tmp_path):
    model = tiny_model(name)
    main = tf.saved_model.load(str(export.export_model(model, tmp_path, name=name)[name]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=rf"z must have shape \[batch, {model.latent_dim}\]"):
        main.signatures["generate"](z=tf.zeros([2, model.latent_dim + 1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples must be <= 10000"):
        main.signatures["sample"](num_samples=tf.constant(10_001), seed=tf.constant(0, tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples must be >= 1"):
        main.signatures["sample"](num_samples=tf.constant(0), seed=tf.constant(0, tf.int64))


def _doubled(inputs):
    """The warm-up example with every batch input twice as long (scalars kept)."""
    return {key: tf.concat([value, value], axis=0) if value.shape.rank else value for key, value in inputs.items()}


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_every_exported_signature_caps_its_rows_and_refuses_non_finite_input(name, options, tmp_path):
    model = tiny_model(name, **options)
    written = export.export_model(model, tmp_path, name=name, max_rows=3)
    checked = []
    for suffix, endpoints in export.servable_parts(model).items():
        loaded = tf.saved_model.load(str(written[name + suffix]))
        for endpoint in endpoints:
            signature = loaded.signatures[endpoint.name]
            example = dict(endpoint.example)
            assert all(np.isfinite(v).all() for v in signature(**example).values() if v.dtype.is_floating)
            if "num_samples" in example:
                example["num_samples"] = tf.constant(4, tf.int32)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"at most 3 rows per request|<= 3 per request"):
                signature(**_doubled(example))
            for key in {"z", "x"} & set(example):
                bad = example[key].numpy().copy()
                bad.flat[-1] = np.nan
                with pytest.raises(tf.errors.InvalidArgumentError, match=f"{key} must hold finite values"):
                    signature(**{**endpoint.example, key: tf.constant(bad)})
            checked.append(endpoint.name)
    assert {"sample", "generate"} <= set(checked)


def test_a_served_output_that_overflows_is_refused_not_sent(tmp_path):
    codes = keras.Input((4,))
    # Weights of 10 take a code of 3e38 past float32's largest value.
    generator = keras.Model(codes, keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant(10.0))(codes))
    model = tiny_model("gan", data_shape=(2,), latent_dim=4, generator=generator)
    main = tf.saved_model.load(str(export.export_model(model, tmp_path, name="gan")["gan"]))
    np.testing.assert_allclose(main.signatures["generate"](z=tf.ones([2, 4]))["samples"], np.full((2, 2), 40.0))
    huge = tf.fill([2, model.latent_dim], 3e38)
    assert not np.isfinite(model.generate(huge)).all(), "the case must overflow the generator"
    with pytest.raises(tf.errors.InvalidArgumentError, match="generate: the samples for these inputs are not finite"):
        main.signatures["generate"](z=huge)


def unnormalized_shape(name):
    """A shape the variant trains on without batch normalization: its tiny vector (else a 3-d
    one), its tiny series or table rows; None for image-only variants."""
    entry = zoo.get_entry(name)
    shape = tuple(entry.tiny["data_shape"])
    if "vector" in entry.data_kinds:
        return shape if len(shape) == 1 else (3,)
    return shape if {"sequence", "table"} & set(entry.data_kinds) else None


# Every case on vectors or series; image-only variants are checked below to batch-normalize,
# which makes a step on two replicas differ from one on one device by design.
REPLICA_CASES = [(name, unnormalized_shape(name), options) for name, options in CASES
                 if unnormalized_shape(name) is not None]
IMAGE_ONLY = [name for name in MODELS if unnormalized_shape(name) is None]


@pytest.mark.parametrize("name", IMAGE_ONLY)
def test_image_only_variants_batch_normalize_per_replica(name):
    layers = [layer for net in networks_of(tiny_model(name)).values() for layer in net.layers]
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers), (
        f"{name} trains on images only and does not batch-normalize: add it to the two-replica test")


@pytest.mark.parametrize("name, data_shape, options", REPLICA_CASES)
def test_a_step_on_two_replicas_equals_a_step_on_one_device(name, data_shape, options, two_device_strategy):
    """The global batch is split, losses averaged over it, and noise sliced from it."""
    config = {**zoo.get_entry(name).tiny, "data_shape": data_shape, "seed": 7, **options}
    single = zoo.create(name, **config)
    single.compile()
    with two_device_strategy.scope():
        mirrored = zoo.create(name, **config)
        mirrored.compile()
    mirrored.set_weights(single.get_weights())
    batch = tiny_data(single, num_examples=8, batch_size=8)
    single.fit(batch, epochs=1, verbose=0)
    mirrored.fit(batch, epochs=1, verbose=0)
    for a, b in zip(single.trainable_weights, mirrored.trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def gan_with_ema(decay, strategy=None):
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = tiny_model("gan", ema_decay=decay, seed=3)
        model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    return model


@pytest.mark.parametrize("replicas", [1, 2])
def test_ema_generator_follows_the_warmed_up_average(replicas, two_device_strategy):
    model = gan_with_ema(0.5, two_device_strategy if replicas == 2 else None)
    start = weights_of(model.generator)
    for average, weight in zip(model.ema_generator.weights, start):
        np.testing.assert_array_equal(average.numpy(), weight)
    model.fit(tiny_data(model, num_examples=8, batch_size=8), epochs=1, verbose=0)
    decay = min(0.5, (1 + 1) / (10 + 1))  # one generator step taken
    for average, before, after in zip(model.ema_generator.weights, start, weights_of(model.generator)):
        assert not np.allclose(before, after)
        np.testing.assert_allclose(average.numpy(), decay * before + (1 - decay) * after, atol=1e-6)


def test_ema_generator_samples_saves_and_exports(tmp_path):
    model = gan_with_ema(0.9)
    fit_once(model)
    z = model.prior_sample(5, seed=0)
    np.testing.assert_array_equal(model.generate(z), model.ema_generator(z))
    assert not np.allclose(model.generate(z), model.generator(z))
    model.save(tmp_path / "ema.keras")
    loaded = keras.models.load_model(tmp_path / "ema.keras")
    assert loaded.ema_decay == 0.9
    np.testing.assert_allclose(loaded.sample(5, seed=0), model.sample(5, seed=0), atol=1e-6)
    served = tf.saved_model.load(str(export.export_model(model, tmp_path / "export", name="gan")["gan"]))
    np.testing.assert_allclose(served.signatures["generate"](z=z)["samples"], model.ema_generator(z), atol=1e-6)


def test_ema_decay_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match=r"ema_decay must lie strictly between 0 and 1"):
        tiny_model("gan", ema_decay=1.0)


@pytest.mark.parametrize("replicas", [1, 2])
def test_wgan_clips_every_critic_weight_after_each_update(replicas, two_device_strategy):
    with two_device_strategy.scope() if replicas == 2 else contextlib.nullcontext():
        model = tiny_model("wgan", clip_value=0.01)
        model.compile(d_optimizer=keras.optimizers.SGD(1.0))
    assert max(np.abs(w).max() for w in weights_of(model.discriminator)) > 0.01, "nothing to clip"
    fit_once(model)
    for weight in model.discriminator.trainable_weights:
        assert np.abs(weight.numpy()).max() <= 0.01 + 1e-7
    if replicas == 2:
        for weight in model.discriminator.trainable_weights:
            first, second = (v.numpy() for v in weight.value.values)
            np.testing.assert_array_equal(first, second)


def test_wgan_gp_has_no_clipping_and_a_penalty():
    model = tiny_model("wgan_gp")
    assert model.clip_value is None and "clip_value" not in model.get_config()
    with pytest.raises(ValueError, match="replaces weight clipping"):
        tiny_model("wgan_gp", clip_value=0.01)
    model.compile()
    logs = fit_once(model)
    assert logs["gradient_penalty"] > 0


def test_ali_is_an_alias_of_bigan_and_listed_with_it():
    assert type(zoo.create("ali", **zoo.get_entry("bigan").tiny)) is zoo.BiGAN
    assert "ali" not in zoo.list_models()
    assert "(also: ali)" in zoo.describe_models()["bigan"]


def test_bigan_trains_generator_and_encoder_with_one_optimizer():
    model = tiny_model("bigan")
    model.compile()
    # Adam keeps two slots per variable it updates, plus its step count and learning rate.
    players = len(model.generator.trainable_variables) + len(model.encoder.trainable_variables)
    assert len(model.g_optimizer.variables) == 2 * players + 2
    assert len(model.d_optimizer.variables) == 2 * len(model.discriminator.trainable_variables) + 2


def test_cgan_samples_the_classes_asked_for_and_exports_them(tmp_path):
    model = tiny_model("cgan", num_classes=3)
    model.compile()
    fit_once(model)
    z = model.prior_sample(6, seed=0)
    cycled = model.generate(z)
    np.testing.assert_allclose(cycled, model.generate(z, [0, 1, 2, 0, 1, 2]), atol=1e-6)
    assert not np.allclose(model.generate(z, [0] * 6), model.generate(z, [1] * 6)), "the label changes nothing"
    with pytest.raises(ValueError, match=r"labels must hold 6 class numbers in \[0, 3\)"):
        model.sample(6, labels=[0, 1, 2, 3, 0, 1])
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="cgan")["cgan"]))
    labels = tf.constant([2, 2, 1, 0, 0, 1])
    np.testing.assert_allclose(
        served.signatures["generate_labelled"](z=z, labels=labels)["samples"], model.generate(z, labels), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must be < 3"):
        served.signatures["generate_labelled"](z=z, labels=tf.constant([3, 0, 0, 0, 0, 0]))


def test_cgan_without_labels_says_how_to_get_them():
    model = tiny_model("cgan")
    model.compile()
    with pytest.raises(ValueError, match="cgan trains on labelled batches"):
        model.fit(tiny_batches(model.data_shape), epochs=1, verbose=0)


def test_unrolled_gan_generator_gradient_flows_through_the_unrolled_updates():
    model = tiny_model("unrolled_gan", unrolling_steps=3, unrolling_learning_rate=0.5, seed=0)
    rng = np.random.default_rng(0)
    real = tf.constant(rng.uniform(-1, 1, (16, 2)), tf.float32)
    z = tf.constant(rng.standard_normal((16, model.latent_dim)), tf.float32)

    def generator_gradients(through_unrolling):
        with tf.GradientTape() as tape:
            fake = model.generator(z, training=True)
            weights, frozen = model._unrolled_discriminator(real, fake)
            if not through_unrolling:
                weights = [tf.stop_gradient(w) for w in weights]
            logits, _ = model.discriminator.stateless_call(weights, frozen, fake, training=True)
            loss = tf.reduce_mean(model.generator_loss_fn(logits))
        return [g.numpy() for g in tape.gradient(loss, model.generator.trainable_weights)]

    unrolled, copied = generator_gradients(True), generator_gradients(False)
    assert any(not np.allclose(a, b, atol=1e-6) for a, b in zip(unrolled, copied)), (
        "the generator's gradient ignores how the discriminator's updates depend on it")


def offering(technique):
    """The registered variants that declare `technique`: each is a case of that technique's tests."""
    return [name for name in MODELS if technique in zoo.get_entry(name).cls.techniques]


@pytest.mark.parametrize("name", offering("packing"))
def test_packing_widens_the_discriminator_input_and_trains(name):
    data_shape = unnormalized_shape(name) or zoo.get_entry(name).tiny["data_shape"]
    packed_shape = (*data_shape[:-1], 4 * data_shape[-1])
    model = tiny_model(name, data_shape=data_shape, packing=4)
    inputs = model.discriminator.input_shape
    # A joint discriminator's first input is x (tests/test_variants.py checks its z).
    assert tuple((inputs[0] if isinstance(inputs, list) else inputs)[1:]) == packed_shape
    x = np.arange(8 * np.prod(data_shape), dtype="float32").reshape(8, *data_shape)
    packed = model.packed().pack(tf.constant(x)).numpy()
    assert packed.shape == (2, *packed_shape)
    # Each packed example holds 4 consecutive examples, whole, side by side.
    np.testing.assert_array_equal(packed[1][..., data_shape[-1]:2 * data_shape[-1]], x[5])
    model.compile()
    assert_finite_logs(fit_once(model))
    rebuilt = type(model).from_config(model.get_config())
    assert rebuilt.packing == 4


def test_packing_refuses_batches_it_cannot_split_and_variants_it_cannot_pack():
    model = tiny_model("gan", packing=3)
    model.compile()
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="must be divisible by 3"):
        model.fit(tiny_data(model), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="InfoGAN does not support packing"):
        tiny_model("infogan", packing=2)


def _constant_uniform(value):
    return lambda shape: tf.fill(shape, value)


def test_diff_augment_translation_moves_each_image_whole_and_fills_the_border_with_background():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    # Uniform draws of 0 give the largest shift up and left: 16 // 8 = 2 pixels.
    moved = zoo.techniques.diff_augment(tf.constant(x), ("translation",), _constant_uniform(0.0)).numpy()
    np.testing.assert_array_equal(moved[:, :14, :14], x[:, 2:, 2:])
    np.testing.assert_array_equal(moved[:, 14:], -1.0)
    np.testing.assert_array_equal(moved[:, :, 14:], -1.0)
    # A draw just under 1 gives the largest shift down and right; 0.5 none.
    moved = zoo.techniques.diff_augment(tf.constant(x), ("translation",), _constant_uniform(0.999)).numpy()
    np.testing.assert_array_equal(moved[:, 2:, 2:], x[:, :14, :14])
    still = zoo.techniques.diff_augment(tf.constant(x), ("translation",), _constant_uniform(0.5)).numpy()
    np.testing.assert_array_equal(still, x)


def test_diff_augment_cutout_zeroes_one_half_size_square_and_lets_gradients_through():
    x = tf.constant(np.random.default_rng(1).uniform(0.5, 1, (3, 8, 8, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        cut = zoo.techniques.diff_augment(x, ("cutout",), _constant_uniform(0.0))
        total = tf.reduce_sum(cut)
    cut, gradient = cut.numpy(), tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(cut[:, :4, :4], 0.0)
    np.testing.assert_array_equal(cut[:, 4:], x.numpy()[:, 4:])
    np.testing.assert_array_equal(cut[:, :, 4:], x.numpy()[:, :, 4:])
    # The generator learns through the augmentation: gradient 1 where kept, 0 where cut.
    np.testing.assert_array_equal(gradient, (cut != 0).astype("float32"))


def test_diff_augment_trains_dcgan_round_trips_and_refuses_what_it_cannot_augment():
    model = tiny_model("dcgan", diff_augment=("translation", "cutout"))
    model.compile()
    assert_finite_logs(fit_once(model))
    assert type(model).from_config(model.get_config()).diff_augment == ("translation", "cutout")
    assert tiny_model("dcgan", diff_augment="translation").diff_augment == ("translation",)
    with pytest.raises(ValueError, match="Unknown diff_augment transformation 'flip'"):
        tiny_model("dcgan", diff_augment=("flip",))
    with pytest.raises(ValueError, match="transforms images"):
        zoo.techniques.check_augmentations(("translation",), (2,))
    with pytest.raises(ValueError, match="GAN does not support diff_augment"):
        zoo.create("gan", diff_augment=("translation",))
    with pytest.raises(ValueError, match="WGAN does not support diff_augment"):
        tiny_model("wgan", diff_augment=("translation",))


def test_dcgan_without_discriminator_batch_norm_judges_each_image_apart_from_its_batch():
    x = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 1)).astype("float32")

    def first_scores(model):
        # The first four images' scores in training mode, judged with two different rests of the batch.
        return [model.discriminator(np.concatenate([x[:4], rest]), training=True).numpy()[:4]
                for rest in (x[4:], -x[4:])]

    plain = tiny_model("dcgan", seed=0)
    apart = tiny_model("dcgan", seed=0, discriminator_batch_norm=False)
    kinds = {type(layer).__name__ for layer in apart.discriminator.layers}
    assert not any("Normalization" in kind for kind in kinds)
    assert any("Normalization" in type(layer).__name__ for layer in plain.discriminator.layers)
    a, b = first_scores(apart)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    a, b = first_scores(plain)
    assert np.abs(a - b).max() > 1e-3
    apart.compile()
    assert_finite_logs(fit_once(apart))
    assert type(apart).from_config(apart.get_config()).discriminator_batch_norm is False


@pytest.mark.parametrize("packing", [1, 4])
def test_gradient_penalty_holds_the_discriminator_slope_to_one(packing):
    model = tiny_model("gan", data_shape=(3,), packing=packing, gradient_penalty=10.0, seed=1)
    # A linear discriminator has the same input gradient everywhere: its weights.
    slope = np.random.default_rng(0).standard_normal((3 * packing, 1)).astype("float32")
    inputs = keras.Input((3 * packing,))
    linear = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(slope))
    model.discriminator = keras.Model(inputs, linear(inputs))
    real, fake = tf.random.normal((8, 3)), tf.random.normal((8, 3))
    penalty = model._penalty_between(real, fake, None).numpy()
    assert penalty.shape == (8 // packing,)
    np.testing.assert_allclose(penalty, (np.linalg.norm(slope) - 1.0) ** 2, rtol=1e-5)


def test_gradient_penalty_adds_to_the_discriminator_loss_only():
    def gan(weight):
        model = tiny_model("gan", gradient_penalty=weight, seed=3)
        model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
        return model

    penalized, plain = gan(10.0), gan(0.0)
    plain.set_weights(penalized.get_weights())
    batch = tiny_data(penalized, num_examples=8, batch_size=8)
    penalized_logs = penalized.fit(batch, epochs=1, verbose=0).history
    plain_logs = plain.fit(batch, epochs=1, verbose=0).history
    assert penalized_logs["d_loss"][0] > plain_logs["d_loss"][0]
    assert any(not np.allclose(a, b) for a, b in
               zip(weights_of(penalized.discriminator), weights_of(plain.discriminator)))
    assert type(penalized).from_config(penalized.get_config()).gradient_penalty == 10.0
    with pytest.raises(ValueError, match="WGAN does not support gradient_penalty"):
        tiny_model("wgan", gradient_penalty=1.0)
    with pytest.raises(ValueError, match="gradient_penalty must be >= 0"):
        tiny_model("gan", gradient_penalty=-1.0)


@pytest.mark.parametrize("replicas", [1, 2])
def test_historical_averaging_penalty_starts_at_zero_grows_and_pulls(replicas, two_device_strategy):
    def gan(weight):
        with two_device_strategy.scope() if replicas == 2 else contextlib.nullcontext():
            model = tiny_model("gan", historical_averaging=weight, seed=4)
            model.compile(g_optimizer=keras.optimizers.SGD(0.5), d_optimizer=keras.optimizers.SGD(0.5))
        return model

    # Seeded: from some initial weights 4 steps of SGD at 0.5 end nearer their mean than 1 step did.
    keras.utils.set_random_seed(0)
    averaged, plain = gan(0.05), gan(0.0)
    plain.set_weights(averaged.get_weights()[:len(plain.get_weights())])
    assert averaged.historical_penalty() == 0.0
    one_batch = tiny_data(averaged, num_examples=8, batch_size=8)
    averaged.fit(one_batch, epochs=1, verbose=0)
    plain.fit(one_batch, epochs=1, verbose=0)
    # At the first step every weight equals its mean: the penalty pulls nothing yet.
    for a, b in zip(averaged.trainable_weights, plain.trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    first = averaged.historical_penalty()
    assert first > 0.0
    averaged.fit(one_batch, epochs=3, verbose=0)
    plain.fit(one_batch, epochs=3, verbose=0)
    assert averaged.historical_penalty() > first
    assert any(not np.allclose(a.numpy(), b.numpy(), atol=1e-6)
               for a, b in zip(averaged.trainable_weights, plain.trainable_weights)), "the penalty pulled nothing"


def test_historical_means_are_saved_with_the_model(tmp_path):
    model = tiny_model("dcgan", historical_averaging=0.1)
    model.compile()
    fit_once(model)
    model.save(tmp_path / "h.keras")
    loaded = keras.models.load_model(tmp_path / "h.keras")
    assert loaded.historical_penalty() == pytest.approx(model.historical_penalty(), rel=1e-6)
    assert_finite_logs(fit_once(loaded))


@pytest.mark.parametrize("name", offering("feature_matching"))
def test_feature_matching_changes_what_the_generator_minimises(name):
    def model(matching):
        m = tiny_model(name, feature_matching=matching, seed=2)
        m.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
        return m

    matched, plain = model(True), model(False)
    plain.set_weights(matched.get_weights())
    hidden = matched.discriminator.layers[-2].output.shape[1:]
    assert tuple(matched._feature_model.output.shape[1:]) == tuple(hidden)
    batch = tiny_data(matched, num_examples=8, batch_size=8)
    matched_logs = matched.fit(batch, epochs=1, verbose=0).history
    plain_logs = plain.fit(batch, epochs=1, verbose=0).history
    assert matched_logs["g_loss"][0] >= 0.0 and matched_logs["g_loss"][0] != plain_logs["g_loss"][0]
    assert any(not np.allclose(a, b) for a, b in zip(weights_of(matched.generator), weights_of(plain.generator)))
    # The discriminator's own objective is unchanged.
    np.testing.assert_allclose(matched_logs["d_loss"], plain_logs["d_loss"], rtol=1e-6)


def test_minibatch_discrimination_output_for_one_example_depends_on_the_others():
    layer = zoo.layers.MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((4, 5)).astype("float32")
    other = batch.copy()
    other[1:] = rng.standard_normal((3, 5))
    first, changed = layer(batch).numpy(), layer(other).numpy()
    assert first.shape == (4, 5 + 3)
    np.testing.assert_array_equal(first[0, :5], changed[0, :5])  # its own features pass through
    assert not np.allclose(first[0, 5:], changed[0, 5:]), "example 0's closeness ignores the rest of its batch"
    alone = layer(batch[:1]).numpy()
    np.testing.assert_allclose(alone[0, 5:], np.ones(3), rtol=1e-6)  # only itself: exp(0) per kernel


@pytest.mark.parametrize("name", offering("minibatch_discrimination"))
def test_minibatch_discrimination_option_trains_and_round_trips(name, tmp_path):
    model = tiny_model(name, minibatch_discrimination=[4, 3])
    layers = [l for l in model.discriminator.layers if isinstance(l, zoo.layers.MinibatchDiscrimination)]
    assert len(layers) == 1 and layers[0].num_kernels == 4
    model.compile()
    assert_finite_logs(fit_once(model))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.sample(3, seed=0), model.sample(3, seed=0), atol=1e-6)
    with pytest.raises(ValueError, match="WGANGP does not support minibatch_discrimination"):
        tiny_model("wgan_gp", minibatch_discrimination=[4, 3])


def test_virtual_batch_norm_output_for_one_example_ignores_the_rest_of_its_batch():
    layer = zoo.layers.VirtualBatchNormalization(reference_size=3)
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((3, 4, 4, 2)).astype("float32")
    batch = rng.standard_normal((5, 4, 4, 2)).astype("float32")
    other = np.concatenate([batch[:1], rng.standard_normal((4, 4, 4, 2)).astype("float32")])
    first = layer(np.concatenate([reference, batch])).numpy()[3]
    again = layer(np.concatenate([reference, other])).numpy()[3]
    np.testing.assert_allclose(first, again, rtol=1e-6)
    changed_reference = layer(np.concatenate([reference * 2.0, batch])).numpy()[3]
    assert not np.allclose(first, changed_reference), "the reference batch plays no part"
    bn = keras.layers.BatchNormalization()
    assert not np.allclose(bn(batch, training=True).numpy()[0], bn(other, training=True).numpy()[0])


@pytest.mark.parametrize("name", offering("virtual_batch_norm"))
def test_virtual_batch_norm_option_samples_independently_of_the_batch(name, tmp_path):
    model = tiny_model(name, virtual_batch_norm=4)
    kinds = {type(l).__name__ for l in model.generator.layers}
    assert "VirtualBatchNormalization" in kinds and "BatchNormalization" not in kinds
    model.compile()
    assert_finite_logs(fit_once(model))
    z = model.prior_sample(6, seed=0)
    np.testing.assert_allclose(model.generate(z)[:2], model.generate(z[:2]), atol=1e-5)
    model.save(tmp_path / "v.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "v.keras").generate(z), model.generate(z), atol=1e-6)
    served = tf.saved_model.load(str(export.export_model(model, tmp_path / "export", name=name)[name]))
    np.testing.assert_allclose(served.signatures["generate"](z=z)["samples"], model.generate(z), atol=1e-5)


def paired_batch_norms(shape, seed=0):
    """A Keras batch normalization and a fused one, built for `shape` with the same random gamma and beta."""
    rng = np.random.default_rng(seed)
    keras_bn, fused = keras.layers.BatchNormalization(), zoo.layers.FusedBatchNormalization()
    for layer in (keras_bn, fused):
        layer.build(shape)
    gamma, beta = rng.normal(1.0, 0.3, shape[-1]), rng.normal(0.0, 0.3, shape[-1])
    for layer in (keras_bn, fused):
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    return keras_bn, fused


def normalized_with_gradients(layer, x, training):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        weighting = tf.constant(np.random.default_rng(5).normal(size=y.shape), "float32")
        loss = tf.reduce_sum(tf.cast(y, "float32") * weighting)
    return [y, *tape.gradient(loss, [x, layer.gamma, layer.beta])]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shape", [(32, 6), (16, 5, 7), (8, 4, 4, 3)])
def test_fused_batch_norm_matches_keras_batch_norm(shape, policy, dtype_policy):
    dtype_policy(policy)
    keras_bn, fused = paired_batch_norms(shape)
    x = tf.cast(np.random.default_rng(1).normal(2.0, 3.0, shape).astype("float32"), keras_bn.compute_dtype)
    tolerance = {"float32": 1e-5, "mixed_bfloat16": 1e-2}[policy]
    for step in range(2):  # the second step normalizes with moving statistics already moved
        expected, got = (normalized_with_gradients(layer, x * (step + 1), True) for layer in (keras_bn, fused))
        assert got[0].dtype == expected[0].dtype
        for a, b, what in zip(expected, got, ["output", "input gradient", "gamma gradient", "beta gradient"]):
            a, b = (np.asarray(tf.cast(t, "float32")) for t in (a, b))
            np.testing.assert_allclose(b, a, atol=tolerance * (1 + np.abs(a).max()), err_msg=what)
        np.testing.assert_allclose(fused.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(fused.moving_variance.numpy(), keras_bn.moving_variance.numpy(), rtol=1e-5)
    assert not np.allclose(fused.moving_mean.numpy(), 0.0), "the moving mean never moved"
    for training in (False, None):
        a, b = (np.asarray(tf.cast(layer(x, training=training), "float32")) for layer in (keras_bn, fused))
        np.testing.assert_allclose(b, a, atol=tolerance * (1 + np.abs(a).max()))


def test_fused_batch_norm_falls_back_to_keras_where_the_kernel_does_not_apply():
    x = np.random.default_rng(0).normal(1.0, 2.0, (6, 3, 4)).astype("float32")
    mask = np.ones((6, 3), bool)
    mask[:, 2] = False
    for options, kwargs in [({}, {"mask": mask}), ({"axis": 1}, {})]:
        keras_bn, fused = keras.layers.BatchNormalization(**options), zoo.layers.FusedBatchNormalization(**options)
        assert not fused._fusable(tf.constant(x), kwargs.get("mask"))
        np.testing.assert_allclose(fused(x, training=True, **kwargs), keras_bn(x, training=True, **kwargs), atol=1e-5)
    assert not zoo.layers.FusedBatchNormalization()._fusable(tf.constant(x, "float64"), None)


def test_fused_batch_norm_weights_and_config_load_into_keras_batch_norm_and_back(tmp_path):
    keras_bn, fused = paired_batch_norms((10, 4), seed=3)
    x = np.random.default_rng(2).normal(0.5, 1.5, (10, 4)).astype("float32")
    fused(x, training=True)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, zoo.layers.FusedBatchNormalization.from_config(fused.get_config())(inputs))
    model.layers[-1].set_weights(fused.get_weights())
    model.save(tmp_path / "fused.keras")
    loaded = keras.models.load_model(tmp_path / "fused.keras")
    assert isinstance(loaded.layers[-1], zoo.layers.FusedBatchNormalization)
    keras_bn.set_weights(fused.get_weights())
    for reference in (loaded, keras_bn):
        np.testing.assert_allclose(reference(x, training=False), fused(x, training=False), atol=1e-6)


def test_convolutional_networks_batch_normalize_with_the_fused_layer():
    for net in (nets.conv_encoder((8, 8, 1), 1, 4), nets.conv_decoder(3, (8, 8, 1), 4)):
        assert any(isinstance(layer, zoo.layers.FusedBatchNormalization) for layer in net.layers), net.name


def paired_convolutions(phased_class, keras_class, input_shape, seed=0, **options):
    """A polyphase layer and Keras's, built for `input_shape` with the same random kernel and bias."""
    phased, plain = phased_class(**options), keras_class(**options)
    for layer in (phased, plain):
        layer.build(input_shape)
    plain.set_weights([np.random.default_rng(seed + i).normal(0, 0.3, w.shape) for i, w in enumerate(plain.get_weights())])
    phased.set_weights(plain.get_weights())
    return phased, plain


def outputs_and_gradients(layer, x, penalty=False):
    """The layer's output, the gradients of a weighted sum of it with respect to the input, the
    kernel and the bias, and with `penalty` the kernel's and bias's gradients of the input
    gradient's squared norm (a gradient penalty's second derivative)."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            weighting = tf.constant(np.random.default_rng(7).normal(size=y.shape), "float32")
            loss = tf.reduce_sum(tf.cast(y, "float32") * weighting)
        gradients = tape.gradient(loss, [x, layer.kernel, layer.bias])
        norm = tf.reduce_sum(tf.square(tf.cast(gradients[0], "float32")))
    # The bias does not reach the input gradient: its penalty gradient is None, compared as zeros.
    second = ([g if g is not None else tf.zeros(v.shape) for g, v in
               zip(outer.gradient(norm, [layer.kernel, layer.bias]), [layer.kernel, layer.bias])] if penalty else [])
    return [tf.cast(t, "float32").numpy() for t in [y, *gradients, *second]]


# bfloat16 keeps 8 significant bits: a bias gradient summed over a few hundred bfloat16 terms in
# another order differs by a few percent.
PHASE_TOLERANCE = {"float32": 1e-5, "mixed_bfloat16": 5e-2}


def assert_all_close(got, expected, tolerance, names):
    for a, b, what in zip(expected, got, names):
        np.testing.assert_allclose(b, a, atol=tolerance * (1 + np.abs(a).max()), err_msg=what)


@pytest.fixture
def phase_calls(monkeypatch):
    """Counts the calls of the phase computation inside the polyphase layers."""
    from keras_gan_zoo.layers import polyphase_conv

    calls = []
    original = polyphase_conv.transposed_conv_by_phases
    monkeypatch.setattr(polyphase_conv, "transposed_conv_by_phases", lambda *a: calls.append(a) or original(*a))
    return calls


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("kernel, stride, filters, size", [(5, 2, 1, 7), (5, 2, 3, 4), (4, 2, 2, 5), (3, 3, 1, 4),
                                                           (6, 3, 4, 3), (2, 2, 1, 3), ((5, 4), (2, 3), 1, 4)])
def test_polyphase_transposed_convolution_matches_keras(kernel, stride, filters, size, policy, dtype_policy, phase_calls):
    dtype_policy(policy)
    phased, plain = paired_convolutions(
        zoo.layers.PolyphaseConv2DTranspose, keras.layers.Conv2DTranspose, (3, size, size, 5), filters=filters,
        kernel_size=kernel, strides=stride, padding="same", activation="tanh")
    x = tf.cast(np.random.default_rng(1).normal(size=(3, size, size, 5)).astype("float32"), plain.compute_dtype)
    expected, got = outputs_and_gradients(plain, x), outputs_and_gradients(phased, x)
    rows, columns = (stride, stride) if isinstance(stride, int) else stride
    assert got[0].shape == expected[0].shape == (3, rows * size, columns * size, filters)
    assert_all_close(got, expected, PHASE_TOLERANCE[policy],
                     ["output", "input gradient", "kernel gradient", "bias gradient"])
    assert phase_calls, "the layer did not compute by phases"


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("kernel, stride, channels, size", [(5, 2, 1, 28), (5, 2, 3, 8), (4, 2, 4, 6), (3, 3, 1, 9)])
def test_polyphase_convolution_input_gradient_matches_keras_to_the_second_derivative(
        kernel, stride, channels, size, policy, dtype_policy, phase_calls):
    dtype_policy(policy)
    phased, plain = paired_convolutions(zoo.layers.PolyphaseConv2D, keras.layers.Conv2D, (2, size, size, channels),
                                        filters=6, kernel_size=kernel, strides=stride, padding="same")
    x = tf.cast(np.random.default_rng(2).normal(size=(2, size, size, channels)).astype("float32"), plain.compute_dtype)
    expected, got = outputs_and_gradients(plain, x, penalty=True), outputs_and_gradients(phased, x, penalty=True)
    assert_all_close(got, expected, PHASE_TOLERANCE[policy],
                     ["output", "input gradient", "kernel gradient", "bias gradient", "kernel's penalty gradient",
                      "bias's penalty gradient"])
    assert phase_calls, "the input gradient was not computed by phases"


@pytest.mark.parametrize("options, input_shape", [
    ({"filters": 8}, (2, 4, 4, 3)),  # too many output channels for the phases to pay
    ({"filters": 1, "padding": "valid"}, (2, 4, 4, 3)),
    ({"filters": 1, "strides": 1}, (2, 4, 4, 3)),
    ({"filters": 1, "kernel_size": 1}, (2, 4, 4, 3)),  # narrower than the stride: TensorFlow's own path
    ({"filters": 1, "output_padding": 1}, (2, 4, 4, 3)),
])
def test_polyphase_transposed_convolution_falls_back_to_keras(options, input_shape, phase_calls):
    options = {"kernel_size": 3, "strides": 2, "padding": "same", **options}
    phased, plain = paired_convolutions(zoo.layers.PolyphaseConv2DTranspose, keras.layers.Conv2DTranspose,
                                        input_shape, **options)
    x = np.random.default_rng(3).normal(size=input_shape).astype("float32")
    if options["kernel_size"] < options["strides"]:
        np.testing.assert_allclose(phased(x), plain(x), atol=1e-5)  # forward only: see the layer's comment
    else:
        assert_all_close(outputs_and_gradients(phased, x), outputs_and_gradients(plain, x), 1e-5,
                         ["output", "input gradient", "kernel gradient", "bias gradient"])
    assert not phase_calls


@pytest.mark.parametrize("options, input_shape", [
    ({}, (2, 8, 8, 8)),  # too many input channels
    ({"padding": "valid"}, (2, 8, 8, 1)),
    ({"strides": 1}, (2, 8, 8, 1)),
    ({}, (2, 9, 9, 1)),  # the stride does not divide the input
])
def test_polyphase_convolution_falls_back_to_keras(options, input_shape, phase_calls):
    options = {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", **options}
    phased, plain = paired_convolutions(zoo.layers.PolyphaseConv2D, keras.layers.Conv2D, input_shape, **options)
    x = np.random.default_rng(4).normal(size=input_shape).astype("float32")
    assert_all_close(outputs_and_gradients(phased, x, penalty=True), outputs_and_gradients(plain, x, penalty=True),
                     1e-5, ["output", "input gradient", "kernel gradient", "bias gradient", "kernel's penalty gradient",
                            "bias's penalty gradient"])
    assert not phase_calls


def test_polyphase_layers_trace_with_every_dimension_unknown():
    # As an exported signature traces them: (None, None, None, None) inputs.
    conv = zoo.layers.PolyphaseConv2D(4, 5, strides=2, padding="same")
    transposed = zoo.layers.PolyphaseConv2DTranspose(1, 5, strides=2, padding="same")
    x = np.random.default_rng(8).normal(size=(2, 8, 8, 1)).astype("float32")
    expected = transposed(conv(x))
    traced = tf.function(lambda x: transposed(conv(x)), input_signature=[tf.TensorSpec((None, None, None, None))])
    np.testing.assert_allclose(traced(x), expected, atol=1e-5)


def test_polyphase_layers_save_load_and_share_weights_with_keras_layers(tmp_path):
    inputs = keras.Input((8, 8, 1))
    h = zoo.layers.PolyphaseConv2D(4, 5, strides=2, padding="same")(inputs)
    outputs = zoo.layers.PolyphaseConv2DTranspose(1, 5, strides=2, padding="same")(h)
    model = keras.Model(inputs, outputs)
    model.set_weights([np.random.default_rng(i).normal(0, 0.3, w.shape) for i, w in enumerate(model.get_weights())])
    x = np.random.default_rng(9).normal(size=(2, 8, 8, 1)).astype("float32")
    model.save(tmp_path / "phased.keras")
    loaded = keras.models.load_model(tmp_path / "phased.keras")
    assert [type(layer) for layer in loaded.layers[1:]] == [zoo.layers.PolyphaseConv2D, zoo.layers.PolyphaseConv2DTranspose]
    h = keras.layers.Conv2D(4, 5, strides=2, padding="same")(inputs)
    plain = keras.Model(inputs, keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same")(h))
    plain.set_weights(model.get_weights())
    for reference in (loaded, plain):
        np.testing.assert_allclose(reference(x), model(x), atol=1e-5)


def test_convolutional_networks_compute_their_few_channel_convolutions_by_phases():
    encoder, decoder = nets.conv_encoder((8, 8, 1), 1, 4), nets.conv_decoder(3, (8, 8, 1), 4)
    convolutions = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert isinstance(convolutions[0], zoo.layers.PolyphaseConv2D)
    transposed = [layer for layer in decoder.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert isinstance(transposed[-1], zoo.layers.PolyphaseConv2DTranspose)


def test_a_variant_that_sets_its_options_after_the_base_builds_its_networks_is_told_so():
    class LateWidth(zoo.get_entry("gan").cls):
        def __init__(self, width=4, **kwargs):
            super().__init__(**kwargs)
            self.width = width

        def build_generator(self):
            return nets.mlp_decoder(self.latent_dim, self.data_shape, (self.width,), name="generator")

    with pytest.raises(AttributeError, match=r"LateWidth.build_generator\(\) reads self.width, which is not set yet: "
                                             r"set the variant's own options before calling super\(\).__init__\(\)"):
        LateWidth()
