"""Domain classifiers: small CNNs trained on real data, shipped with the package, that guide models.

The guided latent-space GAN (`guided_gan`) trains against one. It trains on the
first half of the train split only (`zoo.judges.GUIDE_ROWS`): the evaluation
judges (`zoo.judges`), which score samples, train on the other half and are
another architecture family, so that no model is scored by what it trained
against. Train one with

    python -m keras_gan_zoo.classifiers fashion_mnist

which writes `zoo/weights/fashion_mnist_classifier.weights.h5` and a JSON
record of its test accuracy next to it.
"""

import argparse
import datetime
import json
import pathlib
import sys
import time

import keras
import numpy as np

from keras_gan_zoo import data, judges

WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"
# Datasets that have a domain classifier, with the accuracy its test split must reach.
REQUIRED_TEST_ACCURACY = {"fashion_mnist": 0.90}


def weights_path(dataset):
    return WEIGHTS_DIR / f"{dataset}_classifier.weights.h5"


def record_path(dataset):
    return WEIGHTS_DIR / f"{dataset}_classifier.json"


def build_classifier(input_shape=(28, 28, 1), num_classes=10, name="domain_classifier"):
    """Images in [-1, 1] -> class logits: two conv-pool stages, then a 128-unit layer with dropout."""
    inputs = keras.Input(shape=tuple(input_shape), name="x")
    h = inputs
    for filters in (32, 64):
        h = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dropout(0.3)(keras.layers.Dense(128, activation="relu")(h))
    outputs = keras.layers.Dense(num_classes, dtype="float32")(h)
    return keras.Model(inputs, outputs, name=name)


def compiled_classifier(input_shape=(28, 28, 1), num_classes=10, name="domain_classifier"):
    """`build_classifier` compiled as every classifier here trains: Adam 1e-3, cross-entropy on
    logits, accuracy."""
    model = build_classifier(input_shape, num_classes, name=name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def _check_known(dataset):
    if dataset not in REQUIRED_TEST_ACCURACY:
        raise ValueError(
            f"No domain classifier for {dataset!r}; there is one for: {', '.join(REQUIRED_TEST_ACCURACY)}."
        )


def train_domain_classifier(dataset="fashion_mnist", epochs=10, batch_size=128, data_dir=None, seed=0, verbose=2):
    """Trains the classifier on the train split, measures the test split, writes weights and record.

    Returns:
        (model, test_accuracy).
    """
    _check_known(dataset)
    keras.utils.set_random_seed(seed)
    x, y = data.load_arrays(dataset, "train", data_dir=data_dir)
    first, last = judges.GUIDE_ROWS
    x, y = x[first:last], y[first:last]
    test_x, test_y = data.load_arrays(dataset, "test", data_dir=data_dir)
    spec = data.describe(dataset)
    model = compiled_classifier(spec.shape, spec.num_classes)
    started = time.time()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=0.05, verbose=verbose)
    _, test_accuracy = model.evaluate(test_x, test_y, batch_size=512, verbose=0)
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    # A fresh copy holds the weights alone, without the optimizer's state.
    shipped = build_classifier(spec.shape, spec.num_classes)
    shipped.set_weights(model.get_weights())
    shipped.save_weights(weights_path(dataset))
    record_path(dataset).write_text(json.dumps({
        "dataset": dataset, "trained_on": f"rows {first}-{last - 1} of {dataset} train ({len(x)} examples, 5% of "
                                          "them held out for validation)",
        "test_accuracy": round(float(test_accuracy), 4), "epochs": epochs,
        "batch_size": batch_size, "seed": seed, "train_seconds": round(time.time() - started),
        "command": f"python -m keras_gan_zoo.classifiers {dataset} --epochs {epochs}",
        "trained": datetime.date.today().isoformat(),
    }, indent=2) + "\n")
    return model, float(test_accuracy)


def domain_classifier(dataset="fashion_mnist"):
    """The shipped classifier for `dataset`, weights loaded; it outputs class logits."""
    _check_known(dataset)
    path = weights_path(dataset)
    if not path.exists():
        raise FileNotFoundError(
            f"The {dataset} domain classifier's weights are missing at {path}; "
            f"train them with: python -m keras_gan_zoo.classifiers {dataset}"
        )
    spec = data.describe(dataset)
    model = build_classifier(spec.shape, spec.num_classes)
    model.load_weights(path)
    return model


def classify(classifier, x, batch_size=512):
    """Most probable class of each example, as a numpy int array."""
    logits = classifier.predict(np.asarray(x, "float32"), batch_size=batch_size, verbose=0)
    return np.argmax(logits, axis=-1)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train a domain classifier and ship its weights in the package.")
    parser.add_argument("dataset", choices=sorted(REQUIRED_TEST_ACCURACY))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    _, accuracy = train_domain_classifier(args.dataset, args.epochs, args.batch_size, args.data_dir)
    required = REQUIRED_TEST_ACCURACY[args.dataset]
    print(f"{args.dataset} test accuracy {accuracy:.4f} (required {required}); weights: {weights_path(args.dataset)}")
    return 0 if accuracy >= required else 1


if __name__ == "__main__":
    sys.exit(main())
