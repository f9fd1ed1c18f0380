"""zoo.judges (the evaluation classifiers), zoo.evaluation and `ganzoo evaluate`."""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan_zoo as zoo
from keras_gan_zoo import classifiers, data, evaluation, export, judges
from keras_gan_zoo.training.cli import main as cli

HAS_FASHION_MNIST = pathlib.Path(data.images.DEBIAN_FASHION_MNIST).is_dir()
needs_fashion_mnist = pytest.mark.skipif(
    not HAS_FASHION_MNIST,
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")


def _layer_kinds(model):
    """The class names of every layer in `model`, nested models included."""
    kinds = set()
    for layer in model.layers:
        kinds.add(type(layer).__name__)
        if isinstance(layer, keras.Model):
            kinds |= _layer_kinds(layer)
    return kinds


def test_a_judge_is_an_attention_network_without_convolutions():
    kinds = _layer_kinds(judges.build_judge())
    assert "MultiHeadAttention" in kinds
    assert not {kind for kind in kinds if "Conv" in kind or "Pool" in kind.replace("GlobalAveragePooling1D", "")}


@pytest.mark.parametrize("name", zoo.list_models())
def test_no_variant_trains_against_the_judges_architecture_family(name):
    """Every network a variant builds (discriminators, encoders, guides), in every tiny
    configuration, is free of self-attention: the judge differs from each in family."""
    entry = zoo.get_entry(name)
    for _, options in entry.cases():
        model = zoo.create(name, **{**entry.tiny, **options})
        # Frozen networks too (guided_gan's guide): all the model holds.
        held = {role: value for role, value in vars(model).items() if isinstance(value, keras.Model)}
        assert held
        for role, network in held.items():
            assert "MultiHeadAttention" not in _layer_kinds(network), (name, options, role)


def test_the_guide_and_the_judge_train_on_disjoint_rows():
    (guide_first, guide_last), (judge_first, judge_last) = judges.GUIDE_ROWS, judges.JUDGE_ROWS
    assert guide_last <= judge_first or judge_last <= guide_first
    assert judges.JUDGES["fashion_mnist"].rows == judges.JUDGE_ROWS
    guide = json.loads(classifiers.record_path("fashion_mnist").read_text())
    assert guide["trained_on"].startswith(f"rows {guide_first}-{guide_last - 1} of fashion_mnist train")
    judge = json.loads(judges.record_path("fashion_mnist").read_text())
    assert judge["trained_on"].startswith(f"rows {judge_first}-{judge_last - 1} of fashion_mnist train")


@pytest.mark.parametrize("name", sorted(judges.JUDGES))
def test_every_judge_ships_with_its_accuracy_record(name):
    judge = judges.Judge.load(name)
    assert judges.weights_path(name).is_relative_to(pathlib.Path(zoo.__file__).parent)
    assert judge.accuracy >= judges.JUDGES[name].required_accuracy
    assert f"test accuracy {100 * judge.accuracy:.2f}%" in judge.describe()
    assert judge.features(np.zeros((3, 28, 28, 1))).shape == (3, judges.WIDTH)
    probabilities = judge.probabilities(np.zeros((3, 28, 28, 1)))
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)


def test_a_judge_refuses_what_it_cannot_read():
    judge = judges.Judge.load("mnist")
    with pytest.raises(ValueError, match=r"reads images of shape \(N, 28, 28, 1\); got \(2, 28, 28, 3\)"):
        judge.features(np.zeros((2, 28, 28, 3)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        judge.features(np.full((2, 28, 28, 1), np.nan))
    with pytest.raises(ValueError, match="No evaluation judge reads 'ring8'"):
        judges.judge_for("ring8")


def test_the_mnist_judge_reaches_its_recorded_accuracy_on_mnist_5k():
    x, y = data.load_arrays("mnist_5k", "test")
    judge = judges.Judge.load("mnist")
    # Within two of the 1,000 digits: another CPU's kernels may round a borderline image otherwise.
    assert judge.accuracy_on(x, y) == pytest.approx(judge.accuracy, abs=2 / len(y))


@needs_fashion_mnist
def test_the_fashion_mnist_judge_reaches_its_recorded_accuracy():
    x, y = data.load_arrays("fashion_mnist", "test", download=False)
    judge = judges.Judge.load("fashion_mnist")
    # Within five of the 10,000 images: another CPU's kernels may round a borderline image otherwise.
    assert judge.accuracy_on(x, y) == pytest.approx(judge.accuracy, abs=5 / len(y))


def test_ivom_of_a_generator_on_its_own_samples_is_near_zero_and_high_on_other_data():
    keras.utils.set_random_seed(0)
    network = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="tanh"),
                                keras.layers.Dense(8)])
    own = network(tf.random.normal((32, 4), seed=1)).numpy()
    elsewhere = own + 3.0 * np.random.default_rng(0).standard_normal(own.shape).astype("float32")
    reached = evaluation.ivom(network, 4, own, steps=400, restarts=3)
    missed = evaluation.ivom(network, 4, elsewhere, steps=400, restarts=3)
    assert reached.errors.shape == (32,)
    assert reached.mean < 1e-3
    assert missed.mean > 1.0
    assert reached.std >= 0.0


def test_ivom_passes_labels_to_a_conditional_generator():
    seen = []

    def generate(z, labels):
        seen.append(labels)
        return tf.matmul(z, tf.eye(2)) + tf.cast(labels, tf.float32)[:, None]

    targets = np.array([[0.0, 0.0], [5.0, 5.0]], "float32")
    result = evaluation.ivom(generate, 2, targets, labels=np.array([0, 5]), steps=300, restarts=1)
    assert seen and result.mean < 1e-3


class _Fixed:
    """A 'generator' that returns given examples: the known answers of the image metrics."""

    latent_dim = None
    conditional = False

    def __init__(self, examples, description):
        self.examples, self.description = examples, description

    def sample(self, n, seed):
        rng = np.random.default_rng(seed)
        return self.examples[rng.choice(len(self.examples), n, replace=n > len(self.examples))]


def test_evaluate_gives_real_data_real_scores_and_a_collapsed_generator_bad_ones():
    """On mnist_5k (offline): the train split as a generator scores about what the real
    reference scores; one repeated digit scores a classifier score of 1, no recall and a
    far larger Frechet distance."""
    train_x, _ = data.load_arrays("mnist_5k", "train")
    real = evaluation.evaluate(_Fixed(train_x, "real"), "mnist_5k", n=1000)
    collapsed = evaluation.evaluate(_Fixed(train_x[:1], "one digit"), "mnist_5k", n=1000)
    assert real["judge"]["test_accuracy"] == judges.Judge.load("mnist").accuracy
    assert real["metrics"]["fid"]["samples"] < 2.0 * real["metrics"]["fid"]["real"] + 1e-6
    assert collapsed["metrics"]["fid"]["samples"] > 10.0 * real["metrics"]["fid"]["samples"]
    assert collapsed["metrics"]["score"]["samples"] == pytest.approx(1.0, abs=1e-3)
    assert real["metrics"]["score"]["samples"] > 5.0
    assert collapsed["metrics"]["recall"]["samples"] < 0.01 < 0.5 < real["metrics"]["recall"]["samples"]
    assert collapsed["metrics"]["kid"]["samples"] > 10.0 * abs(real["metrics"]["kid"]["samples"])
    page = evaluation.markdown(real)
    assert "test accuracy" in page and "| fid |" in page


def test_figures_put_every_single_number_beside_real_datas():
    """Mode coverage's figures come apart into modes and high quality; real data's points as a
    generator cover every mode, one repeated point covers one."""
    test_x, _ = data.load_arrays("ring8", "test")
    real = evaluation.figures(evaluation.evaluate(_Fixed(test_x, "real"), "ring8", n=500))
    one = evaluation.figures(evaluation.evaluate(_Fixed(test_x[:1], "one point"), "ring8", n=500))
    assert set(real) == {"modes", "high_quality"}
    assert real["modes"] == {"samples": 8, "real": 8} and one["modes"]["samples"] == 1
    assert real["high_quality"]["samples"] > 0.95 and real["high_quality"]["real"] > 0.95
    train_x, _ = data.load_arrays("mnist_5k", "train")
    images = evaluation.figures(evaluation.evaluate(_Fixed(train_x, "real"), "mnist_5k", n=200))
    assert set(images) == {"fid", "kid", "score", "precision", "recall"}
    assert all(set(v) == {"samples", "real"} for v in images.values())


class _Known:
    """A 'classifier' with given answers: the first `right` test examples right, the rest wrong."""

    capabilities = frozenset({"classify"})

    def __init__(self, labels, right):
        self.labels, self.right, self.seen = labels, right, 0

    def require(self, capability):
        assert capability in self.capabilities

    def classify(self, x):
        answers = self.labels[self.seen:self.seen + len(x)].copy()
        wrong = np.arange(self.seen, self.seen + len(x)) >= self.right
        answers[wrong] = (answers[wrong] + 1) % 10
        self.seen += len(x)
        return answers


def test_classifier_accuracy_counts_the_test_split_in_its_class():
    _, test_y = data.load_arrays("mnist_5k", "test")
    assert evaluation.classifier_accuracy(_Known(test_y, len(test_y)), "mnist_5k", batch_size=300) == {
        "accuracy": 1.0, "test_examples": len(test_y)}
    assert evaluation.classifier_accuracy(_Known(test_y, 250), "mnist_5k", batch_size=300)["accuracy"] == \
        pytest.approx(250 / len(test_y))
    with pytest.raises(Exception, match="classify"):
        evaluation.classifier_accuracy(zoo.create("gan"), "ring8")


class _ByClass(_Fixed):
    """A 'generator' that samples by class: real examples of the class asked for, or of the next
    class with `shift`."""

    labelled = True

    def __init__(self, examples, labels, description, shift=0):
        super().__init__(examples, description)
        self.labels, self.shift = labels, shift

    def sample_labelled(self, labels, seed):
        rng = np.random.default_rng(seed)
        return np.stack([self.examples[rng.choice(np.flatnonzero(self.labels == (k + self.shift) % 10))]
                         for k in labels])


def test_classes_on_images_scores_the_asked_class_as_the_judge_reads_real_data_and_a_shifted_one_near_zero():
    train_x, train_y = data.load_arrays("mnist_5k", "train")
    right = evaluation.evaluate(_ByClass(train_x, train_y, "right"), "mnist_5k", n=500)
    shifted = evaluation.evaluate(_ByClass(train_x, train_y, "shifted", shift=1), "mnist_5k", n=500)
    assert right["metrics_asked"] == ["fid", "kid", "score", "precision_recall", "classes"]
    classes = right["metrics"]["classes"]
    assert classes["real"] > 0.9 and classes["samples"] > 0.9
    assert shifted["metrics"]["classes"]["samples"] < 0.1
    # A generator that cannot sample by class is not scored so unless asked, and refused when asked.
    unlabelled = evaluation.evaluate(_Fixed(train_x, "real"), "mnist_5k", n=100)
    assert "classes" not in unlabelled["metrics_asked"]
    with pytest.raises(ValueError, match="classes compare samples with the class asked for; real does not"):
        evaluation.evaluate(_Fixed(train_x, "real"), "mnist_5k", ["classes"], n=100)


def test_evaluate_refuses_unsupported_metrics_and_other_datasets_samples():
    with pytest.raises(ValueError, match="ring8 supports the metrics modes, ivom; not fid"):
        evaluation.evaluate(zoo.create("gan"), "ring8", ["fid"], n=100)
    with pytest.raises(ValueError, match="samples of shape \\(2,\\), mnist_5k's examples are \\(28, 28, 1\\)"):
        evaluation.evaluate(zoo.create("gan"), "mnist_5k", ["score"], n=100)


def test_ganzoo_evaluate_scores_a_run_and_its_export(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli(["train", "gan", "--data", "ring8", "--epochs", "1", "--steps-per-epoch", "5",
                "--out", str(run)]) == 0
    assert cli(["evaluate", str(run), "--n", "500", "--metrics", "modes,ivom", "--ivom-targets", "8",
                "--ivom-steps", "20"]) == 0
    report = json.loads((run / "evaluation" / "evaluation.json").read_text())
    assert report["dataset"] == "ring8" and report["metrics"]["modes"]["num_modes"] == 8
    assert report["metrics"]["ivom"]["targets"] == 8
    assert report["command"].startswith(f"ganzoo evaluate {run} --data ring8 --metrics modes,ivom --n 500")
    assert "modes (rule 2)" in (run / "evaluation" / "evaluation.md").read_text()

    exports = tmp_path / "exports"
    assert cli(["export", str(run), "--out", str(exports)]) == 0
    capsys.readouterr()
    assert cli(["evaluate", str(exports / "gan")]) == 2
    assert "does not record its dataset: add --data NAME" in capsys.readouterr().err
    out = tmp_path / "scores"
    assert cli(["evaluate", str(exports / "gan"), "--data", "ring8", "--n", "500", "--metrics", "modes,ivom",
                "--ivom-targets", "8", "--ivom-steps", "20", "--out", str(out)]) == 0
    served = json.loads((out / "evaluation.json").read_text())
    # The export samples what the run samples: the same seed gives the same modes.
    assert served["metrics"]["modes"] == report["metrics"]["modes"]
    assert served["metrics"]["ivom"]["mean"] == pytest.approx(report["metrics"]["ivom"]["mean"], rel=1e-3)


class _FixedSeries:
    """A conditional 'generator' of given series by class: `transform` maps (series, labels) to what it returns."""

    latent_dim = None
    conditional = True

    def __init__(self, transform, description):
        self.x, self.y = data.load_arrays("waves", "train")
        self.transform, self.description = transform, description

    def sample_labelled(self, labels, seed):
        rng = np.random.default_rng(seed)
        picked = np.array([rng.choice(np.flatnonzero(self.y == label)) for label in labels])
        return self.transform(self.x[picked], np.asarray(labels))


def test_evaluate_on_waves_scores_real_series_as_real_and_catches_swapped_and_collapsed_ones():
    from keras_gan_zoo.data import sequences

    real = evaluation.evaluate(_FixedSeries(lambda x, y: x, "real"), "waves", n=1000)
    swapped = evaluation.evaluate(_FixedSeries(lambda x, y: x[::-1], "swapped"), "waves", n=1000)
    one_each = evaluation.evaluate(_FixedSeries(
        lambda x, y: sequences.wave(y, np.full(len(y), 0.5), np.full(len(y), 2.0), np.zeros(len(y)))[..., None],
        "one wave per class"), "waves", n=1000)
    assert real["judge"]["test_accuracy"] >= 0.99
    assert real["metrics"]["classes"]["samples"] >= 0.99 and real["metrics"]["classes"]["real"] >= 0.99
    assert real["metrics"]["amplitude_distance"]["samples"] < 0.03
    # Reversing the batch pairs each series with the other class's label (they alternate).
    assert swapped["metrics"]["classes"]["samples"] < 0.01
    assert one_each["metrics"]["classes"]["samples"] == 1.0
    assert one_each["metrics"]["frequency_distance"]["samples"] > 0.3
    page = evaluation.markdown(real)
    assert "labelled as the class asked for" in page and "frequency distance" in page
    with pytest.raises(ValueError, match="compare samples with the class asked for"):
        evaluation.evaluate(_Fixed(np.zeros((4, 30, 1), "float32"), "unconditional"), "waves", n=100)


def test_an_rcgan_and_its_export_score_the_same_on_waves(tmp_path):
    model = zoo.create("rcgan", lstm_units=(8,), seed=0)
    served = export.export_model(model, tmp_path, name="waves")["waves"]
    here = evaluation.evaluate(model, "waves", n=200, metric_names=["classes", "properties"])
    there = evaluation.evaluate(str(served), "waves", n=200, metric_names=["classes", "properties"])
    assert here["metrics"]["classes"] == there["metrics"]["classes"]
    for name in ("amplitude_distance", "frequency_distance"):
        assert here["metrics"][name]["samples"] == pytest.approx(there["metrics"][name]["samples"], abs=1e-4)


class _FixedRows:
    """A table 'generator' returning rows of a given DataFrame."""

    latent_dim = None
    conditional = False

    def __init__(self, frame, description):
        self.frame, self.description = frame, description

    def sample_table(self, n, seed):
        rng = np.random.default_rng(seed)
        return self.frame.iloc[rng.choice(len(self.frame), n, replace=n > len(self.frame))].reset_index(drop=True)


def test_evaluate_on_a_table_scores_its_own_rows_well_and_shuffled_columns_badly():
    from keras_gan_zoo.data import tables

    train = tables.shipped_split("autompg", "train")
    rng = np.random.default_rng(0)
    shuffled = train.apply(lambda column: column.to_numpy()[rng.permutation(len(column))])
    own = evaluation.evaluate(_FixedRows(train, "train rows"), "autompg")
    broken = evaluation.evaluate(_FixedRows(shuffled, "shuffled"), "autompg")
    assert own["n"] == 313 and set(own["metrics"]) == {"mean_ks", "mean_tvd", "correlation_distance", "efficacy"}
    # Resampled train rows: the columns' shapes are the train rows' own, within resampling noise.
    assert own["metrics"]["mean_ks"]["samples"] < 0.1 and own["metrics"]["mean_tvd"]["samples"] < 0.1
    # Shuffling keeps every column's shape and breaks every relation between columns.
    assert broken["metrics"]["mean_ks"]["samples"] < 0.1
    assert broken["metrics"]["correlation_distance"]["samples"] > 5 * own["metrics"]["correlation_distance"]["samples"]
    assert broken["metrics"]["efficacy"]["ratio"] < 0.3 < 0.8 < own["metrics"]["efficacy"]["ratio"]
    assert "efficacy: R^2 predicting mpg" in evaluation.markdown(own)


def test_a_tabular_gan_and_its_export_score_the_same(tmp_path):
    model = zoo.create("tabular_gan", hidden_units=(16,), latent_dim=8, seed=0)
    served = export.export_model(model, tmp_path, name="cars")["cars"]
    here = evaluation.evaluate(model, "autompg", ["columns", "correlation"], n=200)
    there = evaluation.evaluate(str(served), "autompg", ["columns", "correlation"], n=200)
    for name in ("mean_ks", "mean_tvd", "correlation_distance"):
        assert here["metrics"][name]["samples"] == pytest.approx(there["metrics"][name]["samples"], abs=1e-6), name


def test_stacked_mnist_stacks_three_real_digits_with_their_triple_as_label():
    x, y = data.load_arrays("stacked_mnist", "test", num_examples=500)
    assert x.shape == (500, 28, 28, 3) and x.min() >= -1.0 and x.max() <= 1.0
    assert y.min() >= 0 and y.max() < 1000 and len(np.unique(y)) > 350
    digits, digit_labels = data.load_arrays("mnist_5k", "test")
    # Every channel is one real digit of the split, and its class is the label's digit.
    for c, place in enumerate((100, 10, 1)):
        channel = x[:20, ..., c:c + 1]
        matches = [np.flatnonzero((np.abs(digits - image) < 1e-6).all(axis=(1, 2, 3))) for image in channel]
        assert all(len(m) for m in matches)
        assert [int(digit_labels[m[0]]) for m in matches] == list(y[:20] // place % 10)
    again, _ = data.load_arrays("stacked_mnist", "test", num_examples=500)
    np.testing.assert_array_equal(x, again)
    assert not np.array_equal(data.load_arrays("stacked_mnist", "train", num_examples=500)[0], x)


def test_stacked_modes_count_real_triples_as_many_modes_and_one_repeated_image_as_one():
    train_x, _ = data.load_arrays("stacked_mnist", "train", num_examples=2000)
    real = evaluation.evaluate(_Fixed(train_x, "real"), "stacked_mnist", n=2000)
    collapsed = evaluation.evaluate(_Fixed(train_x[:1], "one image"), "stacked_mnist", n=2000)
    # 2,000 uniform draws of 1,000 triples reach about 1000 (1 - e^-2) = 865 of them.
    assert 780 < real["metrics"]["stacked_modes"]["modes"] <= 1000
    assert real["metrics"]["stacked_modes"]["real"]["modes"] > 780
    assert collapsed["metrics"]["stacked_modes"]["modes"] == 1
    assert collapsed["metrics"]["stacked_modes"]["kl"] == pytest.approx(np.log(1000), abs=1e-6)
    assert "mnist judge" in real["judge"]["description"]


def test_the_judge_reads_real_stacked_digits_sure_and_two_digits_overlaid_unsure():
    x, _ = data.load_arrays("stacked_mnist", "train", num_examples=2000)
    overlaid = 0.5 * (x[:1000] + x[1000:])
    real = evaluation.evaluate(_Fixed(x, "real"), "stacked_mnist", n=1000)["metrics"]["stacked_modes"]
    blends = evaluation.evaluate(_Fixed(overlaid, "overlaid"), "stacked_mnist", n=1000)["metrics"]["stacked_modes"]
    assert real["unsure"] < 0.08 and real["real"]["unsure"] < 0.08
    assert blends["unsure"] > 0.3
    # The share's limit: uniform noise is no digit, yet the judge reads most of it at over 0.9.
    noise = np.random.default_rng(0).uniform(-1, 1, x[:1000].shape).astype("float32")
    assert evaluation.evaluate(_Fixed(noise, "noise"), "stacked_mnist", n=1000)["metrics"]["stacked_modes"]["unsure"] < 0.2


class _ReadsPixel:
    """A judge whose reading is set by each image's first pixel: 0..9 a sure reading of that
    digit (0.95), 10 an unsure one of digit 0 (0.5)."""

    def probabilities(self, images):
        code = np.asarray(images)[:, 0, 0, 0].astype(int)
        p = np.full((len(code), 10), 0.05 / 9)
        p[code < 10, code[code < 10]] = 0.95
        p[code == 10] = 0.5 / 9
        p[code == 10, 0] = 0.5
        return p


def test_sure_digit_balance_leaves_out_where_the_judge_puts_digits_it_cannot_read():
    # Channel 0: each digit 100 times read surely, and 500 images read unsure, all as digit 0.
    codes = np.concatenate([np.repeat(np.arange(10), 100), np.full(500, 10)])
    images = np.zeros((len(codes), 2, 2, 3), "float32")
    images[..., 0] = codes[:, None, None]
    images[..., 1:] = (np.arange(len(codes)) % 10)[:, None, None, None]
    _, scores = evaluation.stacked_reading(_ReadsPixel(), images)
    assert scores["unsure"] == pytest.approx(500 / 4500)
    # All reads of channel 0: digit 0 600 of 1500 times; the sure reads alone are balanced.
    assert scores["channel_kl"][0] > 0.3
    assert scores["sure_channel_kl"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)


def test_sure_digit_balance_of_real_digits_shows_a_channel_missing_half_its_digits():
    x, y = data.load_arrays("mnist_5k", "train")
    rng = np.random.default_rng(0)
    picks = rng.choice(len(x), (3, 1500))
    balanced = np.concatenate([x[i] for i in picks], axis=-1)
    low = np.concatenate([x[rng.choice(np.flatnonzero(y < 5), 1500)], x[picks[1]], x[picks[2]]], axis=-1)
    judge = judges.Judge.for_dataset("stacked_mnist")
    _, even = evaluation.stacked_reading(judge, balanced)
    _, half = evaluation.stacked_reading(judge, low)
    assert max(even["sure_channel_kl"]) < 0.02
    assert half["sure_channel_kl"][0] == pytest.approx(np.log(2.0), abs=0.05)
    assert max(half["sure_channel_kl"][1:]) < 0.02


@pytest.mark.parametrize("generator, generators_per_run", [("cgan", 1), ("gan", 10), ("guided_gan", 1)])
def test_amplify_on_a_tiny_configuration_writes_its_whole_table(tmp_path, capsys, generator, generators_per_run):
    out, written = tmp_path / "out", tmp_path / "amplified"
    assert cli(["amplify", "--data", "mnist_5k", "--fraction", "0.05", "--generator", generator, "--mix", "0.25,0.5",
                "--runs", "2", "--generator-steps", "2", "--classifier-steps", "2", "--pool", "100", "--out", str(out),
                "--write", str(written)]) == 0
    record = json.loads((out / "amplification.json").read_text())
    assert [row["condition"] for row in record["rows"]] == [
        "full train split", "fraction", "fraction + generated 0.25", "fraction + generated 0.5",
        "fraction + classic augmentation"]
    assert all(len(row["accuracies"]) == 2 and 0.0 <= row["mean"] <= 1.0 for row in record["rows"])
    assert record["fraction_examples"] == 200 and record["generators_per_run"] == generators_per_run
    page = (out / "amplification.md").read_text()
    assert page.count("\n| fraction") == 4 and "share of the gap closed" in page
    amplified = tf.data.Dataset.load(str(written))
    labels = np.array([e["label"] for e in amplified.as_numpy_iterator()])
    generated = np.array([e["generated"] for e in amplified.as_numpy_iterator()])
    assert (~generated).sum() == 200 and generated.sum() == 100
    assert np.array_equal(np.bincount(labels[generated]), np.full(10, 10))


def test_amplify_refuses_what_it_cannot_study():
    from keras_gan_zoo.training.amplify import AmplifyConfig

    with pytest.raises(ValueError, match="needs a labelled image dataset"):
        AmplifyConfig(data="ring8")
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        AmplifyConfig(data="mnist_5k", fraction=1.5)
    with pytest.raises(ValueError, match="Unknown generator 'nope'"):
        AmplifyConfig(data="mnist_5k", generator="nope")


def test_amplify_reuses_given_baselines_instead_of_training_them(tmp_path):
    from keras_gan_zoo.training import amplify

    config = amplify.AmplifyConfig(data="mnist_5k", fraction=0.05, generator="cgan", mix=(0.5,), runs=1,
                                   generator_steps=1, classifier_steps=1, pool=20)
    given = {amplify.FULL: [0.5], amplify.FRACTION: [0.25], amplify.AUGMENTED: [0.375]}
    trained = []
    record = amplify.amplify(config, progress=trained.append, baselines=given)
    rows = {row["condition"]: row for row in record["rows"]}
    assert rows[amplify.FULL]["accuracies"] == [0.5] and rows[amplify.AUGMENTED]["accuracies"] == [0.375]
    assert not any(amplify.FULL in line or amplify.AUGMENTED in line for line in trained)
    assert any("generated 0.5" in line for line in trained)
    # The gap closed is measured against the given baselines: (a - 0.25) / (0.5 - 0.25).
    generated = rows["fraction + generated 0.5"]
    assert generated["gap_closed"] == pytest.approx((generated["mean"] - 0.25) / 0.25)
    assert record["baselines_reused"] == sorted(given)


def test_amplify_goes_on_from_the_runs_a_cut_off_study_finished():
    from keras_gan_zoo.training import amplify

    config = amplify.AmplifyConfig(data="mnist_5k", fraction=0.05, generator="cgan", mix=(0.5,), runs=2,
                                   generator_steps=1, classifier_steps=1, pool=20)
    given = {amplify.FULL: [0.5, 0.5], amplify.FRACTION: [0.25, 0.25], amplify.AUGMENTED: [0.375, 0.375]}
    kept = []
    amplify.amplify(config, progress=lambda line: None, baselines=given,
                    on_run=lambda state: kept.append(json.loads(json.dumps(state))))
    assert [len(state["accuracies"][amplify.FULL]) for state in kept] == [1, 2]
    assert kept[0]["generators_per_run"] == 1 and kept[1]["seconds"] >= kept[0]["seconds"]
    # A process cut off after run 1: the next one trains run 2 only and keeps run 1's accuracies.
    first = kept[0]
    first["accuracies"]["fraction + generated 0.5"] = [0.125]  # a value no classifier of this test could give
    log = []
    record = amplify.amplify(config, progress=log.append, baselines=given, finished=first)
    assert "run 2/2" in log and "run 1/2" not in log
    rows = {row["condition"]: row for row in record["rows"]}
    assert rows["fraction + generated 0.5"]["accuracies"][0] == 0.125
    assert len(rows["fraction + generated 0.5"]["accuracies"]) == 2
    uneven = {"accuracies": {amplify.FULL: [0.5], amplify.FRACTION: []}}
    with pytest.raises(ValueError, match="finished must hold the same number of runs, at most 2"):
        amplify.amplify(config, progress=lambda line: None, baselines=given, finished=uneven)
