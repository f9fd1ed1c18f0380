"""`evaluate`: every metric a dataset supports, for a model or an exported generator.

Image datasets are read through their judge (`zoo.judges`, an evaluation
classifier independent of every model): a Frechet distance ("fid") and a kernel
distance ("kid") between the judge's features of samples and of the held-out test
split, the classifier score of the samples ("score"), precision and recall in the
judge's feature space ("precision_recall"), for a model that samples by class the share of
its samples the judge labels as the class asked for ("classes"), and IvOM ("ivom", `ivom`),
which needs no judge. Each image metric also comes for real data: the train split against the
test split, so that a reader sees what a perfect generator scores with this
judge. The synthetic mixtures get VEEGAN's mode coverage ("modes"). The `waves` series get
the share of samples that their judge (`zoo.metrics.series`) labels as the class asked for
("classes"), and the distances between the generated and real amplitudes and frequencies,
class by class ("properties"). Tables get `zoo.metrics.tabular`'s measures against the train
rows: mean KS and total variation per column ("columns"), the correlation distance
("correlation"), and the efficacy of a random forest trained on the samples and tested on the
test rows, against one trained on the train rows ("efficacy").

    >>> import keras_gan_zoo as zoo
    >>> report = evaluate(zoo.create("gan"), "ring8", n=500)
    >>> report["metrics"]["modes"]["num_modes"]
    8
"""

import pathlib
import time

import keras
import numpy as np

from keras_gan_zoo import capabilities as caps
from keras_gan_zoo import data, judges, metrics
# IvOM is a metric of its own module; `evaluation.ivom` is where reports have always called it.
from keras_gan_zoo.metrics.ivom import IvOM, ivom  # noqa: F401

IMAGE_METRICS = ("fid", "kid", "score", "precision_recall", "classes", "ivom")
SYNTHETIC_METRICS = ("modes", "ivom")
STACKED_METRICS = ("stacked_modes", "ivom")
SERIES_METRICS = ("classes", "properties", "ivom")
TABLE_METRICS = ("columns", "correlation", "efficacy")
# The column an efficacy model predicts, per shipped table.
EFFICACY_TARGETS = {"autompg": "mpg"}
# Samples drawn unless told: VEEGAN and PacGAN count Stacked MNIST's modes over 26,000.
DEFAULT_SAMPLES = 10_000
STACKED_SAMPLES = 26_000


def supported_metrics(dataset):
    """The metric names `evaluate` computes for `dataset`."""
    spec = data.describe(dataset)
    if dataset.startswith("stacked_"):
        return STACKED_METRICS
    if spec.kind == "table":
        # Efficacy needs a column to predict: known for the shipped tables.
        return TABLE_METRICS if dataset in EFFICACY_TARGETS else TABLE_METRICS[:2]
    return {"vector": SYNTHETIC_METRICS, "sequence": SERIES_METRICS}.get(spec.kind, IMAGE_METRICS)


def default_samples(dataset):
    """26,000 on the stacked sets, a table's train rows on a table, else 10,000."""
    if data.describe(dataset).kind == "table":
        from keras_gan_zoo.data import tables

        return len(tables.shipped_split(dataset, "train"))
    return STACKED_SAMPLES if dataset.startswith("stacked_") else DEFAULT_SAMPLES


def default_metrics(dataset, labelled=False):
    """What `evaluate` computes unless told: all but IvOM, which optimises codes and is slow, and on
    images "classes" only for a generator that samples by class (`labelled`)."""
    image = data.describe(dataset).kind == "image"
    return tuple(m for m in supported_metrics(dataset)
                 if m != "ivom" and not (m == "classes" and image and not labelled))


class ModelGenerator:
    """A zoo model as `evaluate` reads it: `sample(n, seed)`, and `generate(z, labels)` for IvOM."""

    def __init__(self, model):
        model.require(caps.SAMPLE)
        self.model = model
        self.latent_dim = model.latent_dim
        self.conditional = model.conditional
        self.labelled = caps.LABELLED_SAMPLE in model.capabilities
        self.description = model.registered_name or type(model).__name__

    def sample(self, n, seed):
        return self.model.sample_array(n, seed=seed)

    def sample_labelled(self, labels, seed):
        return self.model.sample_array(len(labels), labels=labels, seed=seed)

    def sample_table(self, n, seed):
        self.model.require(caps.SAMPLE_COLUMNS)
        return self.model.sample(n, seed=seed)

    def generate(self, z, labels=None):
        return self.model.generate(z) if labels is None else self.model.generate(z, labels)


def generator_of(source):
    """What `evaluate` reads: a `ModelGenerator` for a zoo model, an `ExportedGenerator`
    (`zoo.export.loaded`) for an export path, else `source` itself (anything with
    `sample(n, seed)`, `description`, `latent_dim`, `conditional` and `generate`)."""
    if isinstance(source, (str, pathlib.Path)):
        # Imported here: the exporter's package builds on this one.
        from keras_gan_zoo.export.loaded import ExportedGenerator

        return ExportedGenerator(source)
    if isinstance(source, keras.Model):
        return ModelGenerator(source)
    return source


def _sample_in_chunks(generator, n, seed, chunk, progress, labels=None):
    """`n` samples in chunks of `chunk` (chunk i drawn with seed + i); of the classes `labels`
    when given."""
    parts = []
    for index, start in enumerate(range(0, n, chunk)):
        count = min(chunk, n - start)
        parts.append(generator.sample(count, seed + index) if labels is None
                     else generator.sample_labelled(labels[start:start + count], seed + index))
        if progress:
            progress("sampling", start + len(parts[-1]), n)
    samples = np.concatenate(parts)
    if not np.isfinite(samples).all():
        raise FloatingPointError("the generator's samples hold NaN or infinite values; nothing can score them.")
    return samples


def _mode_scores(fake, real, dataset):
    coverage, reference = metrics.mode_coverage(fake, dataset), metrics.mode_coverage(real, dataset)
    return {"modes": coverage.modes, "num_modes": coverage.num_modes, "high_quality": coverage.high_quality,
            "quality_rule": metrics.RULE_VERSION,
            "real": {"modes": reference.modes, "num_modes": reference.num_modes,
                     "high_quality": reference.high_quality}}


# A channel's digit read with a top probability under this counts as unsure.
SURE_PROBABILITY = 0.9


def stacked_reading(judge, images):
    """The modes `judge` reads in (N, H, W, 3) stacked images and their scores: modes, kl, channel_kl, unsure
    (the share of channel digits read under SURE_PROBABILITY) and sure_channel_kl (each channel's digit KL
    over digits read surely: the model's imbalance, without where the judge puts digits it cannot read)."""
    probabilities = np.stack([judge.probabilities(images[..., c:c + 1]) for c in range(images.shape[-1])], 1)
    digits, sure = probabilities.argmax(axis=-1), probabilities.max(axis=-1) >= SURE_PROBABILITY
    counted = metrics.stacked_modes(digits)
    return counted, {"modes": counted.modes, "kl": counted.kl, "channel_kl": list(counted.channel_kl),
                     "unsure": float(1.0 - np.mean(sure)),
                     "sure_channel_kl": [metrics.class_balance_kl(digits[sure[:, c], c]) for c in range(3)]}


def _stacked_scores(judge, fake, real):
    """Modes and KL of the triples the judge reads, and the share of digits it reads unsure:
    a histogram of digits the judge can barely tell apart measures the judge as much as the model."""
    (counted, scores), (_, real_scores) = stacked_reading(judge, fake), stacked_reading(judge, real)
    return {"stacked_modes": {**scores, "num_modes": counted.num_modes, "real": real_scores}}


def _series_scores(fake, labels, real, real_labels, wanted):
    from keras_gan_zoo.metrics import series

    judge = series.wave_judge()
    results = {}
    if "classes" in wanted:
        results["classes"] = {"samples": series.class_agreement(fake, labels, judge),
                              "real": series.class_agreement(real, real_labels, judge)}
    if "properties" in wanted:
        generated = series.property_distances(fake, labels, real, real_labels)
        train_x, train_y = data.load_arrays("waves", "train")
        reference = series.property_distances(train_x, train_y, real, real_labels)
        for name in ("amplitude", "frequency"):
            results[f"{name}_distance"] = {
                "samples": generated[name], "real": reference[name],
                "per_class": {label: d[name] for label, d in generated["per_class"].items()}}
    return judge.summary(), results


def _table_scores(generator, dataset, n, seed, wanted):
    """The tabular measures of `n` rows of `generator` against the shipped table's rows."""
    import pandas as pd

    from keras_gan_zoo.data import tables
    from keras_gan_zoo.metrics import tabular

    train, test = tables.shipped_splits(dataset)
    categorical = list(tables.source(dataset)[1])
    rows = generator.sample_table(n, seed)
    if not isinstance(rows, pd.DataFrame) or set(rows.columns) != set(train.columns):
        raise ValueError(f"the generator's rows have columns {list(getattr(rows, 'columns', []))}; {dataset}'s are "
                         f"{list(train.columns)}: is it a model of another table?")
    results = {}
    if "columns" in wanted:
        fake, real = (tabular.column_similarity(train, t, categorical) for t in (rows, test))
        for name, kinds in (("mean_ks", lambda c: c not in categorical), ("mean_tvd", lambda c: c in categorical)):
            results[name] = {"samples": float(np.mean([v for c, v in fake.items() if kinds(c)])),
                             "real": float(np.mean([v for c, v in real.items() if kinds(c)])),
                             "per_column": {c: v for c, v in fake.items() if kinds(c)}}
    if "correlation" in wanted:
        results["correlation_distance"] = {"samples": tabular.correlation_distance(train, rows, categorical),
                                           "real": tabular.correlation_distance(train, test, categorical)}
    if "efficacy" in wanted:
        synthetic, real, ratio = tabular.ml_efficacy(train, test, rows, EFFICACY_TARGETS[dataset], categorical,
                                                     seed=seed)
        results["efficacy"] = {"samples": synthetic, "real": real, "ratio": ratio,
                               "target": EFFICACY_TARGETS[dataset]}
    return results


def _image_scores(judge, fake, fake_labels, real_test, test_labels, real_train, wanted, seed):
    fake_features, fake_probabilities = judge.outputs(fake)
    test_features, test_probabilities = judge.outputs(real_test)
    train_features, train_probabilities = judge.outputs(real_train)
    results = {}
    if "fid" in wanted:
        results["fid"] = {"samples": metrics.frechet_distance(fake_features, test_features),
                          "real": metrics.frechet_distance(train_features, test_features)}
    if "kid" in wanted:
        results["kid"] = {"samples": metrics.kernel_distance(fake_features, test_features, seed=seed),
                          "real": metrics.kernel_distance(train_features, test_features, seed=seed)}
    if "score" in wanted:
        results["score"] = {"samples": metrics.classifier_score(fake_probabilities),
                            "real": metrics.classifier_score(train_probabilities)}
    if "classes" in wanted:
        # The judge's accuracy on the same test examples is what a perfect generator would score. Its
        # classes are the arg-max of the probabilities read above: no second pass through the judge.
        results["classes"] = {"samples": float(np.mean(fake_probabilities.argmax(-1) == fake_labels)),
                              "real": float(np.mean(test_probabilities.argmax(-1) == test_labels))}
    if "precision_recall" in wanted:
        precision, recall = metrics.precision_recall(test_features, fake_features)
        real_precision, real_recall = metrics.precision_recall(test_features, train_features)
        results["precision"] = {"samples": precision, "real": real_precision}
        results["recall"] = {"samples": recall, "real": real_recall}
    return results


def evaluate(source, dataset, metric_names=None, n=None, seed=0, data_dir=None, ivom_targets=256,
             ivom_steps=500, ivom_restarts=3, progress=None):
    """Scores a generator on `dataset` with each metric in `metric_names`.

    Args:
        source: a zoo model offering `sample`, or the path of an exported generator.
        dataset: the data the generator models (a name from `zoo.data.list_datasets()`).
        metric_names: names from `supported_metrics(dataset)`; default `default_metrics`.
        n: samples drawn (image metrics compare them with at most `n` test examples);
            default 26,000 on the stacked sets, else 10,000.
        seed: the draw's seed; the real reference set and the metrics' subsets use it too.
        ivom_targets, ivom_steps, ivom_restarts: IvOM's held-out test examples and its
            optimisation (see `ivom`).
        progress: called as progress(stage, done, total).

    Returns:
        A JSON-ready dict: the dataset, n, seed, the judge (with its own test accuracy) where
        one reads the samples, and per metric the samples' value beside real data's.
    """
    supported = supported_metrics(dataset)
    generator = generator_of(source)
    labelled = getattr(generator, "labelled", generator.conditional)
    wanted = tuple(metric_names or default_metrics(dataset, labelled))
    unknown = [m for m in wanted if m not in supported]
    if unknown:
        raise ValueError(f"{dataset} supports the metrics {', '.join(supported)}; not {', '.join(unknown)}.")
    n = int(n or default_samples(dataset))
    if n < 20:
        raise ValueError(f"n must be at least 20 samples to estimate anything; got {n}.")
    started = time.time()
    report = {"dataset": dataset, "source": generator.description, "n": int(n), "seed": int(seed),
              "metrics_asked": list(wanted), "metrics": {}}
    spec = data.describe(dataset)
    test_x, test_y = data.load_arrays(dataset, "test", data_dir=data_dir, download=False)
    sample_wanted = [m for m in wanted if m != "ivom"]
    if spec.kind == "table":
        report["reference"] = ("the train rows; the real column for columns and correlation scores the test rows "
                               "against them, for efficacy a forest trained on the train rows")
        report["metrics"].update(_table_scores(generator, dataset, n, seed, sample_wanted))
        sample_wanted = []
    if sample_wanted:
        # Series, and images when "classes" is asked for, are drawn class by class: every class in turn.
        by_class = spec.kind == "sequence" or "classes" in sample_wanted
        labels = np.arange(n) % spec.num_classes if by_class else None
        if by_class and not labelled:
            asked = ", ".join(sample_wanted if spec.kind == "sequence" else ["classes"])
            raise ValueError(f"{dataset}'s metrics {asked} compare samples with the class asked for; "
                             f"{generator.description} does not sample by class.")
        fake = _sample_in_chunks(generator, n, seed, chunk=1000, progress=progress, labels=labels)
        if fake.shape[1:] != tuple(spec.shape):
            raise ValueError(f"the generator makes samples of shape {fake.shape[1:]}, {dataset}'s examples are "
                             f"{spec.shape}: is it a model of another dataset?")
        if spec.kind == "vector":
            report["metrics"]["modes"] = _mode_scores(fake, test_x[:n], dataset)
        elif spec.kind == "sequence":
            report["judge"], scores = _series_scores(fake, labels, test_x, test_y, sample_wanted)
            report["reference"] = (f"real: the {len(test_x)} test series; distances of real data are the train "
                                   f"split's to them")
            report["metrics"].update(scores)
        else:
            judge = judges.Judge.for_dataset(dataset)
            report["judge"] = judge.summary()
            if progress:
                progress("judging", 0, 1)
            if dataset.startswith("stacked_"):
                real = data.load_arrays(dataset, "train", data_dir=data_dir, download=False, num_examples=n)[0]
                report["reference"] = f"real: {n} stacked train examples, counted by the same judge"
                report["metrics"].update(_stacked_scores(judge, fake, real))
            else:
                rng = np.random.default_rng(seed)
                train_x, _ = data.load_arrays(dataset, "train", data_dir=data_dir, download=False)
                count = min(n, len(test_x))
                chosen = rng.choice(len(test_x), count, replace=False)
                real_test, test_labels = test_x[chosen], test_y[chosen]
                real_train = train_x[rng.choice(len(train_x), min(n, len(train_x)), replace=False)]
                report["reference"] = (f"real: {len(real_train)} train examples against {count} test examples; "
                                       f"samples against the same {count} test examples")
                report["metrics"].update(_image_scores(judge, fake, labels, real_test, test_labels, real_train,
                                                       sample_wanted, seed))
            if progress:
                progress("judging", 1, 1)
    if "ivom" in wanted:
        if not generator.latent_dim:
            raise ValueError(f"{generator.description} does not say its code length; IvOM cannot optimise codes.")
        count = min(ivom_targets, len(test_x))
        chosen = np.random.default_rng(seed + 1).choice(len(test_x), count, replace=False)
        labels = test_y[chosen] if generator.conditional else None
        result = ivom(generator.generate, generator.latent_dim, test_x[chosen], labels=labels, steps=ivom_steps,
                      restarts=ivom_restarts, seed=seed,
                      progress=(lambda done, total: progress("ivom", done, total)) if progress else None)
        report["metrics"]["ivom"] = {"mean": result.mean, "std": result.std, "targets": int(count),
                                     "steps": ivom_steps, "restarts": ivom_restarts}
    report["seconds"] = round(time.time() - started, 1)
    return report


def markdown(report):
    """The report of `evaluate` as a short markdown page."""
    lines = [f"# Evaluation: {report['source']} on {report['dataset']}", "",
             f"{report['n']} samples, seed {report['seed']}, {report['seconds']} s."]
    if "judge" in report:
        lines += ["", f"Judge: {report['judge']['description']}."]
    if "reference" in report:
        lines += ["", f"Reference: {report['reference']}."]
    lines += ["", "| metric | samples | real data |", "|---|---|---|"]
    for name, value in report["metrics"].items():
        if name == "modes":
            real = value["real"]
            lines.append(f"| modes (rule {value['quality_rule']}) | {value['modes']} / {value['num_modes']}, "
                         f"{100 * value['high_quality']:.1f}% high quality | {real['modes']} / {real['num_modes']}, "
                         f"{100 * real['high_quality']:.1f}% |")
        elif name == "stacked_modes":
            real = value["real"]
            lines.append(f"| modes of {value['num_modes']}, KL from uniform | {value['modes']}, {value['kl']:.3f} "
                         f"| {real['modes']}, {real['kl']:.3f} |")
        elif name == "classes":
            lines.append(f"| labelled as the class asked for | {100 * value['samples']:.1f}% | "
                         f"{100 * value['real']:.1f}% |")
        elif name.endswith("_distance"):
            lines.append(f"| {name.replace('_', ' ')} (1-Wasserstein, mean over classes) | {value['samples']:.4f} | "
                         f"{value['real']:.4f} |")
        elif name == "efficacy":
            lines.append(f"| efficacy: R^2 predicting {value['target']} on the test rows (ratio) | "
                         f"{value['samples']:.3f} ({value['ratio']:.2f}) | {value['real']:.3f} |")
        elif name == "ivom":
            lines.append(f"| IvOM ({value['targets']} test examples, {value['restarts']} x {value['steps']} steps) "
                         f"| {value['mean']:.4f} +- {value['std']:.4f} | |")
        else:
            lines.append(f"| {name} | {value['samples']:.4g} | {value['real']:.4g} |")
    return "\n".join(lines) + "\n"


def figures(report):
    """Every single-number figure of an `evaluate` report, each beside real data's:
    `{name: {"samples": x, "real": y}}`.

    Mode coverage gives two ("modes" and "high_quality"), Stacked MNIST's count two
    ("stacked_modes" and "stacked_kl"); IvOM, which has no real-data figure, gives none.

        >>> figures({"metrics": {"modes": {"modes": 7, "num_modes": 8, "high_quality": 0.9,
        ...          "quality_rule": 2, "real": {"modes": 8, "num_modes": 8, "high_quality": 1.0}}}})
        {'modes': {'samples': 7, 'real': 8}, 'high_quality': {'samples': 0.9, 'real': 1.0}}
    """
    found = {}
    for name, value in report["metrics"].items():
        if name in ("modes", "stacked_modes"):
            prefix = "" if name == "modes" else "stacked_"
            second = "high_quality" if name == "modes" else "kl"
            found[f"{prefix}modes"] = {"samples": value["modes"], "real": value["real"]["modes"]}
            found[f"{prefix}{second}"] = {"samples": value[second], "real": value["real"][second]}
        elif isinstance(value, dict) and "samples" in value and "real" in value:
            found[name] = {"samples": value["samples"], "real": value["real"]}
    return found


def classifier_accuracy(model, dataset, data_dir=None, batch_size=1000):
    """The share of `dataset`'s test split that a model offering `classify` puts in its class:
    `{"accuracy", "test_examples"}`."""
    model.require(caps.CLASSIFY)
    x, y = data.load_arrays(dataset, "test", data_dir=data_dir, download=False)
    predicted = np.concatenate([model.classify(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    return {"accuracy": float(np.mean(predicted == y)), "test_examples": int(len(y))}
