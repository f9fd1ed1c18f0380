"""What each adversarial variant adds beyond the common base: its own API and losses."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_gan_zoo import capabilities, export
import keras_gan_zoo as zoo
from conftest import tiny_batches


@pytest.fixture(autouse=True)
def fixed_initial_weights():
    """Every test starts from the same weights, so a short run's outcome does not vary."""
    keras.utils.set_random_seed(0)


def tiny_model(name, **overrides):
    return zoo.create(name, **{**zoo.get_entry(name).tiny, **overrides})


def mixture(name="ring8", n=400):
    x, y = zoo.data.synthetic.GENERATORS[name]("train", num_examples=n)
    return x, y


def test_veegan_reconstructor_learns_to_invert_the_generator():
    # Two noise dimensions for 2-D data, so that G can be inverted at all.
    model = zoo.create("veegan", hidden_units=(32, 32), latent_dim=2, seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3))
    x, _ = mixture()
    z = model.prior_sample(500, seed=1)

    def reconstruction_error():
        return np.mean(np.sum((model.encode(model.generate(z)) - z) ** 2, axis=1))

    before = reconstruction_error()
    model.fit(zoo.data.pipeline(x, batch_size=100, seed=0).repeat(), epochs=1, steps_per_epoch=300, verbose=0)
    assert reconstruction_error() < 0.25 * before, (before, reconstruction_error())
    assert model.reconstructor is model.encoder


def test_veegan_reconstructor_gets_no_gradient_from_the_discriminator_term():
    model = tiny_model("veegan", data_shape=(2,), seed=0)
    z = tf.random.normal((8, model.latent_dim), seed=1)
    with tf.GradientTape() as tape:
        logits = model.discriminator([model.generator(z), z])
        term = -tf.reduce_mean(logits)
    gradients = tape.gradient(term, model.encoder.trainable_variables)
    assert all(g is None for g in gradients)


@pytest.mark.parametrize("name", ["bigan", "veegan"])
def test_packing_packs_both_halves_of_the_joint_discriminator_pairs(name):
    model = tiny_model(name, data_shape=(3,), packing=4)
    latent = model.latent_dim
    assert [tuple(s[1:]) for s in model.discriminator.input_shape] == [(12,), (4 * latent,)]
    z = np.arange(8 * latent, dtype="float32").reshape(8, latent)
    # Pack 1 holds codes 4 to 7 whole, in order, as its x half holds their examples.
    np.testing.assert_array_equal(model.packed().pack(tf.constant(z), 1).numpy()[1].reshape(4, latent), z[4:])
    model.compile()
    logs = model.fit(tiny_batches((3,), num_examples=32, batch_size=8), epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in logs.values())
    assert type(model).from_config(model.get_config()).packing == 4


def test_packed_veegan_counts_a_pack_logit_once_over_its_pairs():
    def veegan_with_constant_logit(packing, logit=6.0):
        model = tiny_model("veegan", data_shape=(3,), packing=packing, seed=0)
        x, z = keras.Input((3 * packing,)), keras.Input((model.latent_dim * packing,))
        constant = keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(logit))
        model.discriminator = keras.Model([x, z], constant(keras.layers.Concatenate()([x, z])))
        model.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0))
        logs = model.fit(tiny_batches((3,), num_examples=8, batch_size=8), epochs=1, verbose=0).history
        return logs["g_loss"][0] - logs["reconstruction"][0]

    # A packed logit estimates the log ratio of 4 pairs together: 6 per pack is 1.5 per pair.
    np.testing.assert_allclose(veegan_with_constant_logit(packing=1), -6.0, rtol=1e-5)
    np.testing.assert_allclose(veegan_with_constant_logit(packing=4), -1.5, rtol=1e-5)


def test_cramer_gan_critic_has_feature_outputs_and_generator_uses_two_fake_batches():
    model = tiny_model("cramer_gan", data_shape=(2,), critic_dim=5)
    assert model.discriminator.output_shape == (None, 5)
    model.compile()
    history = model.fit(tiny_batches((2,), num_examples=64, batch_size=16), epochs=3, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    with pytest.raises(ValueError, match="cramer_gan is unconditional"):
        tiny_model("cramer_gan", conditional=True)


def test_infogan_prior_holds_one_category_and_bounded_continuous_codes():
    model = tiny_model("infogan", data_shape=(2,), noise_dim=3, num_categories=4, num_continuous=2)
    assert model.latent_dim == 9
    z = model.prior_sample(500, seed=0).numpy()
    categories, continuous = z[:, 3:7], z[:, 7:]
    np.testing.assert_array_equal(categories.sum(axis=1), np.ones(500))
    assert set(np.unique(categories)) == {0.0, 1.0}
    assert np.bincount(categories.argmax(1), minlength=4).min() > 80, "categories are not uniform"
    assert continuous.min() >= -1 and continuous.max() <= 1 and continuous.std() > 0.4
    with pytest.raises(ValueError, match="latent_dim is noise_dim \\+ num_categories \\+ num_continuous = 9"):
        tiny_model("infogan", data_shape=(2,), noise_dim=3, num_categories=4, num_continuous=2, latent_dim=10)


def test_infogan_trains_generator_faster_and_q_with_the_discriminator():
    model = tiny_model("infogan", data_shape=(2,))
    model.compile()
    assert np.isclose(float(model.g_optimizer.learning_rate), 1e-3)
    assert np.isclose(float(model.d_optimizer.learning_rate), 2e-4)
    q_weights = {id(w) for w in model.q_head.trainable_variables}
    assert q_weights <= {id(w) for w in model.discriminator_side_variables()}
    before = [w.numpy() for w in model.q_head.trainable_variables]
    model.fit(tiny_batches((2,)), epochs=1, verbose=0)
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.q_head.trainable_variables))


def test_infogan_q_head_learns_the_codes_and_sample_fixes_the_category():
    model = zoo.create("infogan", data_shape=(2,), noise_dim=2, num_categories=8, num_continuous=1,
                       hidden_units=(32, 32), seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    x, _ = mixture()
    data = zoo.data.pipeline(x, batch_size=100, seed=0).repeat()
    history = model.fit(data, epochs=4, steps_per_epoch=100, verbose=0)
    info = history.history["info_loss"]
    assert info[-1] < 0.5 * info[0], info
    samples = model.sample(64, labels=[5] * 64, seed=0)
    probabilities, _ = model.predict_codes(samples)
    assert np.mean(np.argmax(probabilities, axis=1) == 5) > 0.5, "Q does not read back the category asked for"
    with pytest.raises(ValueError, match=r"labels must hold 3 categorical codes in \[0, 8\)"):
        model.sample(3, labels=[0, 8, 1])


def test_infogan_export_samples_from_its_structured_prior(tmp_path):
    model = tiny_model("infogan", data_shape=(2,))
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="info")["info"]))
    exported = served.signatures["sample"](num_samples=tf.constant(6), seed=tf.constant(3, tf.int64))["samples"]
    np.testing.assert_allclose(exported, model.sample(6, seed=3), atol=1e-5)


def test_semi_supervised_infogan_ties_each_code_to_its_labelled_class():
    # Unsupervised codes come out in any order; 16 labels of 8 ring modes fix code c to mode c.
    model = zoo.create("infogan", data_shape=(2,), noise_dim=2, num_categories=8, num_continuous=0,
                       num_labelled=16, hidden_units=(32, 32), seed=0)
    assert model.trains_on_labels and model.get_config()["num_labelled"] == 16
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    x, y = mixture(n=2000)
    data = model.training_data(x, y, batch_size=50, seed=0).repeat()
    history = model.fit(data, epochs=4, steps_per_epoch=100, verbose=0)
    assert history.history["label_loss"][-1] < 0.5 * history.history["label_loss"][0], history.history["label_loss"]
    codes = np.repeat(np.arange(8), 50)
    samples = model.sample(len(codes), labels=codes, seed=0)
    means = zoo.data.synthetic.ring8_means()
    nearest = np.argmin(((samples[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == codes) > 0.6, np.bincount(nearest[nearest != codes], minlength=8)


def test_semi_supervised_infogan_refuses_too_few_labels_and_unlabelled_data():
    with pytest.raises(ValueError, match="num_labelled must be 0 \\(unsupervised\\) or give every category"):
        tiny_model("infogan", num_categories=3, num_labelled=2)
    model = tiny_model("infogan", data_shape=(2,), num_labelled=6)
    with pytest.raises(ValueError, match="infogan with num_labelled=6 needs the labels y of x"):
        model.training_data(np.zeros((10, 2), "float32"))
    model.compile()
    with pytest.raises(ValueError, match="infogan with num_labelled=6 trains on batches \\(x, y\\)"):
        model.fit(tiny_batches((2,)), epochs=1, verbose=0)


def test_sgan_training_data_mixes_the_kept_labels_into_every_batch():
    model = tiny_model("sgan", data_shape=(2,), num_classes=8, num_labelled=16)
    x, y = mixture(n=800)
    batches = list(model.training_data(x, y, batch_size=20, seed=0).take(10))
    labelled = np.concatenate([b[0].numpy()[b[1].numpy() >= 0] for b in batches])
    for batch_x, batch_y in batches:
        assert batch_x.shape == (20, 2) and np.sum(batch_y.numpy() >= 0) == 10
        assert np.all(batch_y.numpy()[10:] == -1)
    assert len(np.unique(labelled, axis=0)) == 16, "more or fewer than num_labelled examples carry labels"
    kept = np.concatenate([b[1].numpy()[:10] for b in batches])
    assert np.bincount(kept, minlength=8).min() > 0


def test_sgan_learns_the_classes_from_a_few_labels():
    model = zoo.create("sgan", data_shape=(2,), num_classes=8, num_labelled=16, hidden_units=(32, 32), seed=0)
    model.compile()
    x, y = mixture(n=2000)
    history = model.fit(model.training_data(x, y, batch_size=50, seed=0), epochs=8, verbose=0)
    assert history.history["classifier_loss"][-1] < history.history["classifier_loss"][0]
    test_x, test_y = zoo.data.synthetic.ring8("test", num_examples=400)
    predicted = model.classify(test_x)
    assert predicted.shape == (400,) and predicted.dtype == np.int64
    assert np.mean(predicted == test_y) > 0.8, np.mean(predicted == test_y)
    np.testing.assert_allclose(model.class_probabilities(test_x[:3]).sum(axis=1), 1.0, rtol=1e-5)


def test_sgan_refuses_too_few_labels_and_unlabelled_batches():
    with pytest.raises(ValueError, match="num_labelled must give every class a label"):
        tiny_model("sgan", num_classes=10, num_labelled=5)
    model = tiny_model("sgan")
    model.compile()
    with pytest.raises(ValueError, match="sgan trains on batches \\(x, y\\) with y = -1"):
        model.fit(tiny_batches(model.data_shape), epochs=1, verbose=0)


def test_conditional_wgan_gp_samples_classes_and_exports_them(tmp_path):
    model = tiny_model("wgan_gp", data_shape=(3,), conditional=True, num_classes=3)
    assert model.techniques == frozenset() and model.trains_on_labels
    model.compile()
    model.fit(tiny_batches((3,), num_classes=3), epochs=1, verbose=0)
    z = model.prior_sample(6, seed=0)
    assert not np.allclose(model.generate(z, [0] * 6), model.generate(z, [1] * 6)), "the label changes nothing"
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="cw")["cw"]))
    labels = tf.constant([2, 2, 1, 0, 0, 1])
    np.testing.assert_allclose(
        served.signatures["generate_labelled"](z=z, labels=labels)["samples"], model.generate(z, labels), atol=1e-5)
    restored = zoo.WGANGP.from_config(model.get_config())
    assert restored.conditional and restored.num_classes == 3
    with pytest.raises(ValueError, match="wgan_gp trains on labelled batches"):
        model.fit(tiny_batches((3,)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="is unconditional"):
        tiny_model("wgan_gp", data_shape=(3,)).sample(2, labels=[0, 1])


def test_aae_codes_move_toward_the_prior_moments():
    model = zoo.create("aae", data_shape=(2,), latent_dim=2, prior_std=5.0, hidden_units=(32, 32), seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, 0.5), d_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    x, _ = mixture(n=1000)
    data = zoo.data.pipeline(x, batch_size=100, seed=0).repeat()

    def distance_from_prior_moments():
        codes = model.encode(x)
        return np.abs(codes.mean(0)).sum() + np.abs(codes.std(0) - 5.0).sum()

    before = distance_from_prior_moments()
    model.fit(data, epochs=1, steps_per_epoch=300, verbose=0)
    assert distance_from_prior_moments() < 0.5 * before, (before, distance_from_prior_moments())


def test_supervised_aae_with_mixture_prior_decodes_labels_and_draws_their_components(tmp_path):
    model = tiny_model("aae", data_shape=(3,), prior="mog", supervised=True, num_classes=4, mog_radius=10.0)
    assert model.trains_on_labels and model.code_discriminator.input_shape == (None, 2 + 4)
    model.compile()
    model.fit(tiny_batches((3,), num_classes=4), epochs=1, verbose=0)
    codes = model.prior_from_seed(tf.constant(400), tf.constant(0, tf.int64), components=tf.fill([400], 3)).numpy()
    np.testing.assert_allclose(codes.mean(0), model.mixture_means()[3], atol=0.2)
    z = model.prior_sample(6, seed=0)
    assert not np.allclose(model.decode(z, [0] * 6), model.decode(z, [1] * 6)), "the label changes nothing"
    assert model.sample(4, labels=[0, 1, 2, 3], seed=0).shape == (4, 3)
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="aae")["aae"]))
    labels = tf.constant([2, 2, 1, 0, 0, 1])
    np.testing.assert_allclose(
        served.signatures["generate_labelled"](z=z, labels=labels)["samples"], model.generate(z, labels), atol=1e-5)
    with pytest.raises(ValueError, match=r"aae trains on labelled batches \(x, y\) when supervised"):
        model.fit(tiny_batches((3,)), epochs=1, verbose=0)


def test_aae_refuses_unknown_priors_and_labels_when_unsupervised():
    with pytest.raises(ValueError, match="Unknown prior 'uniform'; choose one of: gaussian, mog"):
        tiny_model("aae", prior="uniform")
    with pytest.raises(ValueError, match="unsupervised"):
        tiny_model("aae", data_shape=(2,)).sample(2, labels=[0, 1])


def test_aae_clusters_become_one_hot_and_name_every_example(tmp_path):
    model = zoo.create("aae", data_shape=(2,), latent_dim=2, clusters=8, hidden_units=(32, 32), seed=0)
    assert model.encoder.output_shape == (None, 10) and model.num_classes == 8
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, 0.5), d_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    x, _ = mixture(n=1000)

    def mean_top_probability():
        return float(tf.reduce_max(model._encode_parts(x, training=False)[1], axis=-1).numpy().mean())

    before = mean_top_probability()
    model.fit(zoo.data.pipeline(x, batch_size=100, seed=0).repeat(), epochs=1, steps_per_epoch=300, verbose=0)
    assert mean_top_probability() > max(0.8, before + 0.3), (before, mean_top_probability())
    clusters = model.cluster(x)
    assert clusters.shape == (1000,) and clusters.min() >= 0 and clusters.max() < 8
    assert model.encode(x).shape == (1000, 2)
    assert model.sample(4, labels=[0, 7, 3, 3], seed=0).shape == (4, 2)
    restored = zoo.AAE.from_config(model.get_config())
    assert restored.clusters == 8 and restored.category_discriminator is not None
    with pytest.raises(ValueError, match="clusters needs K >= 2, the Gaussian prior and supervised=False"):
        tiny_model("aae", clusters=4, supervised=True)


def test_latent_gan_orthogonality_penalty_falls_toward_zero():
    model = tiny_model("latent_gan", data_shape=(2,), num_classes=2, code_dim=4, basis_size=3, seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    x, y = mixture(n=1000)
    data = zoo.data.pipeline(x, y % 2, batch_size=100, seed=0).repeat()

    def penalty():
        return np.mean(model.basis_cosines(200) ** 2)

    start = penalty()
    history = model.fit(data, epochs=4, steps_per_epoch=100, verbose=0).history["orthogonality"]
    assert start > 0.05, "the untrained bases are orthogonal already: the test checks nothing"
    assert history[-1] < history[0], history
    assert penalty() < 0.1 * start, (start, penalty())


def test_latent_gan_samples_are_decoded_combinations_of_their_class_basis(tmp_path):
    model = tiny_model("latent_gan", num_classes=3, code_dim=4, basis_size=3, noise_dim=2)
    model.compile()
    model.fit(tiny_batches((3,), num_classes=3), epochs=1, verbose=0)
    z = model.prior_sample(6, seed=0).numpy()
    labels = np.array([0, 1, 2, 2, 1, 0])
    basis = model.generator(z[:, :2]).numpy()[np.arange(6), labels]
    origin, vectors, coefficients = basis[:, 0], basis[:, 1:], z[:, 2:]
    codes = origin + np.einsum("bk,bkd->bd", coefficients, vectors)
    decoders = [model.decoder.get_layer(f"decoder_{k}") for k in range(3)]
    expected = np.stack([decoders[k](codes[i:i + 1]).numpy()[0] for i, k in enumerate(labels)])
    np.testing.assert_allclose(model.generate(z, labels), expected, atol=1e-5)
    np.testing.assert_allclose(model.codes(z, labels)[0], codes, atol=1e-5)
    assert not np.allclose(model.generate(z, [0] * 6), model.generate(z, [1] * 6)), "the class changes nothing"
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="latent_gan")["latent_gan"]))
    np.testing.assert_allclose(
        served.signatures["generate_labelled"](z=tf.constant(z), labels=tf.constant(labels, tf.int32))["samples"],
        expected, atol=1e-5)


def test_latent_gan_trains_each_class_model_on_its_own_class_only():
    model = tiny_model("latent_gan", num_classes=3)
    model.compile()
    before = {name: [w.numpy() for w in layer.weights] for name, layer in
              [(f"{role}_{k}", getattr(model, role).get_layer(f"{role}_{k}"))
               for role in ("encoder", "decoder", "generator", "code_discriminator") for k in range(3)]}
    x = np.random.default_rng(0).uniform(-1, 1, (32, 3)).astype("float32")
    model.fit(zoo.data.pipeline(x, np.ones(32, "int32"), batch_size=8), epochs=1, verbose=0)
    for name, weights in before.items():
        layer = getattr(model, name.rsplit("_", 1)[0]).get_layer(name)
        moved = any(not np.allclose(a, b.numpy()) for a, b in zip(weights, layer.weights))
        assert moved == name.endswith("_1"), f"{name} {'moved' if moved else 'stayed'} on class-1 data"


def test_latent_gan_refuses_unlabelled_data_and_oversized_bases():
    model = tiny_model("latent_gan")
    model.compile()
    with pytest.raises(ValueError, match=r"latent_gan trains on labelled batches \(x, y\), one latent model per"):
        model.fit(tiny_batches((3,)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="basis_size must be between 2 and code_dim"):
        tiny_model("latent_gan", code_dim=3, basis_size=4)
    with pytest.raises(ValueError, match=r"labels must hold 2 class numbers in \[0, 3\)"):
        model.sample(2, labels=[0, 3])


def ring_classifier(num_classes=4):
    """A small classifier of ring8's points by mode number mod `num_classes`, trained in a few seconds."""
    x, y = mixture(n=2000)
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    classifier = keras.Model(inputs, keras.layers.Dense(num_classes)(hidden))
    classifier.compile(keras.optimizers.Adam(1e-2),
                       keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    classifier.fit(x, y % num_classes, epochs=20, batch_size=100, verbose=0)
    assert classifier.evaluate(x, y % num_classes, verbose=0)[1] > 0.95
    return classifier


def test_guided_gan_classifier_loss_falls_for_each_class_subspace():
    model = tiny_model("guided_gan", data_shape=(2,), num_classes=4, classifier=ring_classifier(),
                       hidden_units=(32, 32), seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    x, y = mixture(n=2000)
    before = model.classifier_loss_per_class()
    model.fit(zoo.data.pipeline(x, y % 4, batch_size=100, seed=0).repeat(), epochs=1, steps_per_epoch=150,
              verbose=0)
    after = model.classifier_loss_per_class()
    assert np.all(after < 0.5 * before), (before, after)


def test_guided_gan_variance_loss_is_zero_on_real_statistics_and_positive_on_collapse():
    model = tiny_model("guided_gan", data_shape=(2,), num_classes=4, classifier=ring_classifier())
    x, y = mixture(n=400)
    x, one_hot = tf.constant(x), tf.one_hot(y % 4, 4)
    assert float(model._variance_loss(x, x, one_hot)) < 1e-6
    # One sample per class, repeated: the collapse the loss is there to stop.
    collapsed = tf.gather(x, tf.argmax(one_hot, axis=0))
    collapsed = tf.gather(collapsed, tf.argmax(one_hot, axis=1))
    assert float(model._variance_loss(x, collapsed, one_hot)) > 1e-2


def test_guided_gan_samples_put_noise_in_their_class_subspace_and_export_it(tmp_path):
    model = tiny_model("guided_gan", num_classes=3, subspace_dim=2)
    assert capabilities.LABELLED_SAMPLE in model.capabilities and not model.conditional
    z = model.prior_from_seed(6, 0, tf.constant([2, 0, 1, 1, 0, 2])).numpy().reshape(6, 3, 2)
    active = np.abs(z).sum(axis=2) > 0
    np.testing.assert_array_equal(active.argmax(axis=1), [2, 0, 1, 1, 0, 2])
    assert active.sum() == 6, "noise outside the class's block"
    assert not np.allclose(model.sample(3, labels=[0, 0, 0], seed=1), model.sample(3, labels=[1, 1, 1], seed=1))
    served = tf.saved_model.load(str(export.export_model(model, tmp_path, name="guided_gan")["guided_gan"]))
    np.testing.assert_allclose(
        served.signatures["sample"](num_samples=tf.constant(4), seed=tf.constant(3, tf.int64))["samples"],
        model.sample(4, labels=[0, 1, 2, 0], seed=3), atol=1e-5)


def test_guided_gan_defaults_to_the_shipped_fashion_mnist_classifier_and_keeps_it_frozen():
    model = zoo.create("guided_gan", filters=8)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(model.classifier(images), zoo.classifiers.domain_classifier("fashion_mnist")(images),
                               atol=1e-5)
    assert not model.classifier.trainable_weights


def test_guided_gan_says_what_it_needs():
    with pytest.raises(ValueError, match="guided_gan needs a pretrained classifier"):
        tiny_model("guided_gan", classifier=None)
    with pytest.raises(ValueError, match="classifier of GuidedGAN must map"):
        tiny_model("guided_gan", classifier=ring_classifier())
    model = tiny_model("guided_gan")
    model.compile()
    with pytest.raises(ValueError, match="guided_gan trains on labelled batches"):
        model.fit(tiny_batches((3,)), epochs=1, verbose=0)


def test_rcgan_samples_series_of_the_requested_length_and_the_class_changes_them():
    model = tiny_model("rcgan", data_shape=(12, 3), seed=0)
    z = model.prior_sample(6, seed=4)
    first, second = model.generate(z, np.zeros(6, "int32")), model.generate(z, np.ones(6, "int32"))
    assert first.shape == (6, 12, 3)
    assert not np.allclose(first, second), "the class changes nothing"
    assert model.sample(4, labels=[2, 2, 0, 1], seed=0).shape == (4, 12, 3)
    # One code and class are read at every step: the steps differ all the same (the LSTM runs on).
    assert np.abs(np.diff(np.asarray(first), axis=1)).max() > 0


@pytest.mark.parametrize("shape", [(2,), (16, 16, 1), (1, 3)])
def test_rcgan_refuses_data_that_is_not_a_series(shape):
    with pytest.raises(ValueError, match=r"expects series of shape \(steps, features\) with at least 2 steps"):
        tiny_model("rcgan", data_shape=shape)


def test_rcgan_discriminator_judges_every_step_and_averages():
    model = tiny_model("rcgan", data_shape=(7, 1), seed=0)
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 7, 1)).astype("float32"))
    y = tf.one_hot([0, 1, 2], model.num_classes)
    logits = model.discriminator([x, y])
    assert logits.shape == (3, 1)
    # The logit of a series is the mean of its steps' logits: the layer below the pooling.
    per_step = keras.Model(model.discriminator.inputs, model.discriminator.layers[-2].output)([x, y])
    np.testing.assert_allclose(np.asarray(logits)[:, 0], np.asarray(per_step).mean(axis=(1, 2)), atol=1e-6)


def test_rcgan_step_position_gives_the_generator_each_steps_place_in_the_series():
    model = tiny_model("rcgan", data_shape=(5, 1), seed=0, step_position=True)
    net = model.generator
    position = next(layer for layer in net.layers if isinstance(layer, zoo.layers.StepPosition))
    z, y = model.prior_sample(3, seed=1), tf.one_hot([0, 1, 2], model.num_classes)
    np.testing.assert_allclose(np.asarray(keras.Model(net.inputs, position.output)([z, y]))[:, :, 0],
                               np.tile([0, 0.25, 0.5, 0.75, 1], (3, 1)), atol=1e-7)
    first_lstm = next(layer for layer in net.layers if isinstance(layer, keras.layers.LSTM))
    assert first_lstm.input.shape[-1] == model.latent_dim + model.num_classes + 1


def test_rcgan_class_projection_adds_each_steps_state_against_the_class_embedding():
    model = tiny_model("rcgan", data_shape=(7, 1), seed=0, class_projection=True)
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 7, 1)).astype("float32"))
    y = tf.one_hot([0, 1, 2], model.num_classes)
    net = model.discriminator
    projection = next(layer for layer in net.layers if isinstance(layer, zoo.layers.ClassProjection))
    states = keras.Model(net.inputs, projection.input[0])([x, y])
    dense = keras.Model(net.inputs, next(layer for layer in net.layers if isinstance(layer, keras.layers.Dense)).output)
    expected = np.asarray(dense([x, y]))[..., 0] + np.einsum(
        "btu,bu->bt", np.asarray(states), np.asarray(y) @ np.asarray(projection.embedding))
    np.testing.assert_allclose(np.asarray(net([x, y]))[:, 0], expected.mean(axis=1), atol=1e-5)
    # The embedding's rows differ, so the same states are scored differently under another class.
    other = tf.one_hot([1, 2, 0], model.num_classes)
    assert not np.allclose(np.asarray(projection([states, y])), np.asarray(projection([states, other])))


def test_rcgan_series_logit_adds_a_logit_of_the_last_steps_state_to_the_steps_mean():
    model = tiny_model("rcgan", data_shape=(7, 1), seed=0, series_logit=True)
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 7, 1)).astype("float32"))
    y = tf.one_hot([0, 1, 2], model.num_classes)
    net = model.discriminator
    step_dense, series_dense = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    states = np.asarray(keras.Model(net.inputs, step_dense.input)([x, y]))
    step_logits = np.asarray(step_dense(states))[..., 0]
    expected = step_logits.mean(axis=1) + np.asarray(series_dense(states[:, -1]))[:, 0]
    np.testing.assert_allclose(np.asarray(net([x, y]))[:, 0], expected, atol=1e-5)


def test_rcgan_step_noise_gives_each_step_its_own_noise_after_the_shared_code():
    model = tiny_model("rcgan", data_shape=(6, 1), latent_dim=3, seed=0, step_noise=2)
    assert model.latent_dim == 3 + 6 * 2 and model.get_config()["latent_dim"] == 3
    assert type(model).from_config(model.get_config()).latent_dim == 15
    z = np.asarray(model.prior_sample(4, seed=1))
    labels = np.array([0, 1, 2, 0])
    base = np.asarray(model.generate(z, labels))
    # Step 4's noise (entries 3 + 4 * 2 onwards) moves steps 4 and 5 only: the LSTM reads it
    # there, and the steps before cannot see ahead.
    later = z.copy()
    later[:, 3 + 4 * 2:] += 1.0
    moved = np.abs(np.asarray(model.generate(later, labels)) - base)
    assert moved[:, :4].max() == 0 and moved[:, 4:].max() > 0
    # The shared code reaches the first step.
    shared = z.copy()
    shared[:, :3] += 1.0
    assert np.abs(np.asarray(model.generate(shared, labels)) - base)[:, 0].max() > 0
    with pytest.raises(ValueError, match="step_noise must be >= 0"):
        tiny_model("rcgan", data_shape=(6, 1), step_noise=-1)


def test_rcgan_takes_the_gradient_penalty_with_the_class_of_each_pair():
    model = tiny_model("rcgan", data_shape=(6, 1), seed=0, gradient_penalty=10.0)
    model.compile()
    real = tf.constant(np.random.default_rng(0).normal(size=(4, 6, 1)).astype("float32"))
    fake = tf.constant(np.random.default_rng(1).normal(size=(4, 6, 1)).astype("float32"))
    y, other = tf.one_hot([0, 1, 2, 0], model.num_classes), tf.one_hot([1, 2, 0, 1], model.num_classes)
    # Midpoints, so that only the class differs: the penalty reads the discriminator under the
    # pair's class, and another class gives another penalty.
    model._uniform = lambda shape: tf.fill(shape, 0.5)
    penalty = np.asarray(model._penalty_between(real, fake, y))
    assert penalty.shape == (4,)
    np.testing.assert_allclose(penalty, model._penalty_between(real, fake, y))
    assert not np.allclose(penalty, model._penalty_between(real, fake, other))
    history = model.fit(tiny_batches((6, 1), num_classes=model.num_classes), epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][-1])


def uneven_groups(shares=(0.6, 0.3, 0.1), n=2000, seed=0):
    """Points around three far-apart centres in 4-d, in the given shares, with their group."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(len(shares), n, p=shares)
    centres = np.array([[4, 0, 0, 0], [0, 4, 0, 0], [0, 0, 4, 0]], "float32")
    return (centres[groups] + rng.normal(0, 0.3, (n, 4))).astype("float32"), groups


def test_cluster_cgan_finds_the_groups_of_unlabelled_data_and_draws_them_at_the_datas_shares():
    x, groups = uneven_groups()
    model = zoo.create("cluster_cgan", data_shape=(4,), latent_dim=3, clusters=3, components=3, hidden_units=(8,))
    assert not model.clusters_fitted
    shares = model.fit_clusters(x)
    found = model.cluster(x)
    # Each group is one cluster (numbered in k-means's order).
    for g in range(3):
        assert len(set(found[groups == g])) == 1, g
    assert len(set(found)) == 3
    np.testing.assert_allclose(sorted(shares), sorted(np.bincount(groups) / len(groups)), atol=1e-6)
    drawn = np.bincount(np.asarray(model.clusters_of_codes(model.prior_sample(20_000, seed=1))), minlength=3)
    np.testing.assert_allclose(drawn / 20_000, shares, atol=0.015)
    # generate(z) is the conditional generator under the clusters drawn from z.
    z = model.prior_sample(6, seed=2)
    np.testing.assert_allclose(model.generate(z), model.generate(z, model.clusters_of_codes(z)), atol=1e-6)
    assert model.sample(3, labels=[2, 2, 0], seed=0).shape == (3, 4)


def test_cluster_cgan_trains_on_each_examples_nearest_cluster_and_keeps_its_clusters(tmp_path):
    x, groups = uneven_groups()
    model = zoo.create("cluster_cgan", data_shape=(4,), latent_dim=3, clusters=3, components=3, hidden_units=(8,),
                       seed=0)
    # A dataset's own labels are not read: the batches are unlabelled, the clusters found on x.
    batch = next(iter(model.training_data(x, groups, batch_size=16)))
    assert not isinstance(batch, tuple) and batch.shape == (16, 4)
    assert model.clusters_fitted
    real, labels = model._unpack(batch)
    np.testing.assert_array_equal(labels, model.cluster(batch))
    centres = model.centres.numpy().copy()
    # Data given later (a resumed or fine-tuned run) does not move the clusters.
    model.training_data(x[:500] + 10.0, batch_size=16)
    np.testing.assert_array_equal(model.centres.numpy(), centres)
    model.compile()
    model.fit(model.training_data(x, batch_size=100), epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(loaded.cluster(x), model.cluster(x))
    np.testing.assert_allclose(loaded.sample(5, seed=3), model.sample(5, seed=3), atol=1e-6)


def test_cluster_cgan_refuses_bad_settings_and_data():
    with pytest.raises(ValueError, match="clusters must be >= 2"):
        zoo.create("cluster_cgan", data_shape=(4,), clusters=1)
    with pytest.raises(ValueError, match="give clusters=K, not num_classes"):
        zoo.create("cluster_cgan", data_shape=(4,), num_classes=3)
    model = zoo.create("cluster_cgan", data_shape=(4,), clusters=5, hidden_units=(8,))
    with pytest.raises(ValueError, match="5 clusters need at least as many examples; got 3"):
        model.fit_clusters(np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match=r"expects examples of shape \(4,\), got \(5,\)"):
        model.fit_clusters(np.zeros((10, 5), "float32"))
    with pytest.raises(ValueError, match="cluster numbers"):
        model.sample(2, labels=[0, 7])


def tiny_table_model(**overrides):
    return tiny_model("tabular_gan", **overrides)


def test_tabular_gan_samples_frames_with_the_tables_columns_dtypes_and_categories():
    cars = zoo.data.tables.load_autompg()
    model = zoo.create("tabular_gan", hidden_units=(16,), latent_dim=8, seed=0)
    assert model.data_shape == (26,) and model.transformer.columns == tuple(cars.columns)
    rows = model.sample(200, seed=3)
    assert list(rows.columns) == list(cars.columns) and rows.dtypes.equals(cars.dtypes)
    for column in zoo.data.tables.AUTOMPG_CATEGORICAL:
        assert set(rows[column]) <= set(cars[column]), column
    assert rows.equals(model.sample(200, seed=3))
    assert not rows.equals(model.sample(200, seed=4))
    # A softmax block is read as its most probable category, or drawn from it.
    drawn = zoo.create("tabular_gan", hidden_units=(16,), latent_dim=8, seed=0, categories="sample")
    drawn.set_weights(model.get_weights())
    sampled = drawn.sample(200, seed=3)
    assert sampled["mpg"].equals(rows["mpg"]) and not sampled["model_year"].equals(rows["model_year"])
    assert sampled.equals(drawn.sample(200, seed=3))


def test_tabular_gan_conditions_on_a_column_and_names_unknown_categories():
    model = tiny_table_model(condition_column="colour", seed=0)
    rows = model.sample(6, labels=["red", "blue", "green", "red", "red", "blue"], seed=1)
    assert rows.colour.tolist() == ["red", "blue", "green", "red", "red", "blue"]
    with pytest.raises(ValueError, match=r"column 'colour' has no categories \['purple'\]; known: \['blue', 'green', 'red'\]"):
        model.sample(2, labels=["red", "purple"])
    with pytest.raises(ValueError, match="labels must hold one value of 'colour' per row: 3, got 2"):
        model.sample(3, labels=["red", "blue"])
    with pytest.raises(ValueError, match="tabular_gan has no condition_column; call sample\\(n\\) without labels"):
        tiny_table_model().sample(2, labels=["red", "blue"])
    # Training reads each real row's own category as the condition.
    rows_matrix = model.transformer.transform(pd.DataFrame({
        "weight": [1.0, 2.0], "colour": ["green", "red"], "size": [1, 2], "price": [9.5, 10.5]}))
    _, labels = model._unpack(tf.constant(rows_matrix))
    assert labels.numpy().tolist() == [1, 2]


def test_tabular_gan_refuses_bad_tables_and_columns_saying_what_and_where():
    with pytest.raises(ValueError, match="condition_column 'weight' is not a categorical column of the table; "
                                         "those are \\['colour', 'size'\\]"):
        tiny_table_model(condition_column="weight")
    with pytest.raises(ValueError, match="condition_column 'age' is not a categorical column"):
        tiny_table_model(condition_column="age")
    with pytest.raises(ValueError, match=r"data_shape must be \(7,\) or None, got \(10,\)"):
        tiny_table_model(data_shape=(10,))
    with pytest.raises(ValueError, match="categories must be 'argmax' or 'sample'"):
        tiny_table_model(categories="mode")
    with pytest.raises(TypeError, match="table must be a fitted TableTransformer"):
        tiny_table_model(table=3)
    with pytest.raises(ValueError, match="Unknown table 'cars'; the shipped ones are: autompg"):
        tiny_table_model(table="cars")
