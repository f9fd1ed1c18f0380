"""Evaluation classifiers ("judges"): what `ganzoo evaluate` reads samples with.

A judge must differ from anything a model trained against, in architecture family
and in data, or it shares the model's blind spots and flatters it. So:

- The zoo's discriminators, encoders and guides are convolutional networks and
  MLPs; a judge is a small vision transformer (patches, self-attention, no
  convolution).
- The domain classifier that guides `guided_gan` (`zoo.classifiers`) trains on
  the first half of Fashion-MNIST's train split (`GUIDE_ROWS`); the Fashion-MNIST
  judge on the second half (`JUDGE_ROWS`). The two never see one example in common.
- The MNIST judge trains on the offline `mnist_5k` train split (4,000 digits); no
  zoo model trains against an MNIST classifier.

Every judge's test accuracy is shipped in a record beside its weights and printed
next to every score it gives (`Judge.describe()`). Train one with

    python -m keras_gan_zoo.judges fashion_mnist
    python -m keras_gan_zoo.judges mnist

which writes `zoo/weights/<name>_judge.weights.h5` (in float16, half the size;
the recorded test accuracy is measured on that stored copy) and its record.
"""

import argparse
import dataclasses
import datetime
import json
import pathlib
import sys
import time

import keras
import numpy as np

from keras_gan_zoo import data

WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"

# Fashion-MNIST's 60,000 train rows, split between the guide and the judge.
GUIDE_ROWS = (0, 30_000)
JUDGE_ROWS = (30_000, 60_000)


@dataclasses.dataclass(frozen=True)
class JudgeSpec:
    """One judge: the dataset it trains on, the train rows it uses, the test accuracy it
    must reach, and the datasets whose samples it reads (one channel at a time for the
    stacked ones)."""

    train_data: str
    rows: tuple
    required_accuracy: float
    reads: tuple
    epochs: int


JUDGES = {
    "fashion_mnist": JudgeSpec("fashion_mnist", JUDGE_ROWS, 0.87, ("fashion_mnist", "stacked_fashion_mnist"), 30),
    "mnist": JudgeSpec("mnist_5k", None, 0.93, ("mnist", "mnist_5k", "stacked_mnist"), 60),
}

# Patch size and width: 7x7 patches of a 28x28 image make 16 tokens.
PATCH = 7
WIDTH = 64
DEPTH = 4
HEADS = 4
# Training images move by up to this many pixels.
SHIFT = 2


def judge_for(dataset):
    """The judge name that reads `dataset`'s samples; a dataset without one is an error
    naming those that have one."""
    for name, spec in JUDGES.items():
        if dataset in spec.reads:
            return name
    readable = sorted(d for spec in JUDGES.values() for d in spec.reads)
    raise ValueError(f"No evaluation judge reads {dataset!r}; judges read: {', '.join(readable)}.")


def weights_path(name):
    return WEIGHTS_DIR / f"{name}_judge.weights.h5"


def record_path(name):
    return WEIGHTS_DIR / f"{name}_judge.json"


class _Patches(keras.layers.Layer):
    """(N, H, W, C) -> (N, H/p * W/p, p * p * C): the image cut into non-overlapping tiles,
    by reshapes alone (no convolution)."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, images):
        shape = keras.ops.shape(images)
        p = self.size
        rows, cols, channels = images.shape[1] // p, images.shape[2] // p, images.shape[3]
        tiles = keras.ops.reshape(images, (shape[0], rows, p, cols, p, channels))
        tiles = keras.ops.transpose(tiles, (0, 1, 3, 2, 4, 5))
        return keras.ops.reshape(tiles, (shape[0], rows * cols, p * p * channels))

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class _Positions(keras.layers.Layer):
    """Adds a learned embedding per token position."""

    def build(self, input_shape):
        self.table = self.add_weight(shape=tuple(input_shape[1:]), initializer=keras.initializers.RandomNormal(
            stddev=0.02), name="table")

    def call(self, tokens):
        return tokens + self.table


def build_judge(input_shape=(28, 28, 1), num_classes=10, name="judge"):
    """A vision transformer: 7x7 patches, 4 pre-norm blocks of 4-head self-attention and a
    2-layer MLP, width 64. Images in [-1, 1] -> {"features": (N, 64) mean token,
    "logits": (N, classes)}."""
    inputs = keras.Input(shape=tuple(input_shape), name="x")
    tokens = keras.layers.Dense(WIDTH, name="embed")(_Patches(PATCH)(inputs))
    tokens = _Positions(name="positions")(tokens)
    for block in range(DEPTH):
        h = keras.layers.LayerNormalization(epsilon=1e-6)(tokens)
        h = keras.layers.MultiHeadAttention(HEADS, WIDTH // HEADS, name=f"attention_{block}")(h, h)
        tokens = keras.layers.Add()([tokens, h])
        h = keras.layers.LayerNormalization(epsilon=1e-6)(tokens)
        h = keras.layers.Dense(2 * WIDTH, activation="gelu")(h)
        tokens = keras.layers.Add()([tokens, keras.layers.Dense(WIDTH)(h)])
    tokens = keras.layers.LayerNormalization(epsilon=1e-6)(tokens)
    features = keras.layers.GlobalAveragePooling1D(name="features")(tokens)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(
        keras.layers.Dropout(0.1)(features))
    return keras.Model(inputs, {"features": features, "logits": logits}, name=name)


def _training_arrays(spec, data_dir=None):
    x, y = data.load_arrays(spec.train_data, "train", data_dir=data_dir, download=False)
    if spec.rows is not None:
        x, y = x[spec.rows[0]:spec.rows[1]], y[spec.rows[0]:spec.rows[1]]
    return x, y


def _shifted(images, rng, most):
    """Each image moved by up to `most` pixels along each axis, the border filled with the
    background value (-1)."""
    padded = np.pad(images, ((0, 0), (most, most), (most, most), (0, 0)), constant_values=-1.0)
    moved = np.empty_like(images)
    rows, cols = images.shape[1:3]
    offsets = rng.integers(0, 2 * most + 1, size=(len(images), 2))
    for dy in range(2 * most + 1):
        for dx in range(2 * most + 1):
            chosen = (offsets[:, 0] == dy) & (offsets[:, 1] == dx)
            moved[chosen] = padded[chosen, dy:dy + rows, dx:dx + cols]
    return moved


def train_judge(name, epochs=None, batch_size=128, data_dir=None, seed=0, verbose=2):
    """Trains judge `name` on its rows, stores float16 weights, measures the stored copy on
    the test split and writes the record. Returns the test accuracy."""
    spec = JUDGES[name]
    keras.utils.set_random_seed(seed)
    epochs = epochs or spec.epochs
    x, y = _training_arrays(spec, data_dir)
    test_x, test_y = data.load_arrays(spec.train_data, "test", data_dir=data_dir, download=False)
    described = data.describe(spec.train_data)
    model = build_judge(described.shape, described.num_classes)
    steps = epochs * (len(x) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=2e-3, warmup_steps=steps // 20)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.05),
        loss={"logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
    )
    started = time.time()
    # A garment flipped left to right, or any image moved by two pixels, keeps its class;
    # digits are not flipped.
    flips = name == "fashion_mnist"
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        shown = _shifted(x, rng, SHIFT)
        if flips:
            flip = rng.random(len(x)) < 0.5
            shown[flip] = shown[flip, :, ::-1]
        model.fit(shown, {"logits": y}, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: {time.time() - started:.0f} s", flush=True)
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    stored = build_judge(described.shape, described.num_classes, name=model.name)
    stored.set_weights([w.astype("float16") for w in model.get_weights()])
    stored.save_weights(weights_path(name))
    accuracy = Judge.load(name, record=False).accuracy_on(test_x, test_y)
    rows = f"rows {spec.rows[0]}-{spec.rows[1] - 1} of " if spec.rows else ""
    record_path(name).write_text(json.dumps({
        "judge": name, "architecture": f"vision transformer: {PATCH}x{PATCH} patches, {DEPTH} blocks, "
                                        f"{HEADS} heads, width {WIDTH}, no convolution",
        "trained_on": f"{rows}{spec.train_data} train ({len(x)} examples)",
        "test_accuracy": round(accuracy, 4), "test_examples": int(len(test_y)), "epochs": epochs,
        "batch_size": batch_size, "seed": seed, "train_seconds": round(time.time() - started),
        "stored_as": "float16", "command": f"python -m keras_gan_zoo.judges {name}",
        "trained": datetime.date.today().isoformat(),
    }, indent=2) + "\n")
    return accuracy


class Judge:
    """A trained judge: features and class probabilities of images, and its own test
    accuracy, which every report prints beside the scores the judge gives.

    Examples:
        >>> judge = Judge.load("fashion_mnist")
        >>> judge.features(np.zeros((2, 28, 28, 1), "float32")).shape
        (2, 64)
    """

    def __init__(self, name, model, record):
        self.name, self.model, self.record = name, model, record

    @classmethod
    def load(cls, name, record=True):
        if name not in JUDGES:
            raise ValueError(f"Unknown judge {name!r}; judges: {', '.join(sorted(JUDGES))}.")
        path = weights_path(name)
        if not path.exists():
            raise FileNotFoundError(
                f"The {name} judge's weights are missing at {path}; train them with: "
                f"python -m keras_gan_zoo.judges {name}")
        spec = JUDGES[name]
        described = data.describe(spec.train_data)
        model = build_judge(described.shape, described.num_classes)
        model.load_weights(path)
        return cls(name, model, json.loads(record_path(name).read_text()) if record else {})

    @classmethod
    def for_dataset(cls, dataset):
        return cls.load(judge_for(dataset))

    @property
    def accuracy(self):
        """Its test accuracy as recorded when it was trained, in [0, 1]."""
        return self.record["test_accuracy"]

    def summary(self):
        """What a record of a score keeps of its judge: name, test accuracy, data, architecture."""
        return {"name": self.name, "test_accuracy": self.accuracy, "description": self.describe(),
                "trained_on": self.record["trained_on"], "architecture": self.record["architecture"]}

    def describe(self):
        return (f"{self.name} judge ({self.record['architecture']}; trained on {self.record['trained_on']}), "
                f"test accuracy {100 * self.accuracy:.2f}% on {self.record['test_examples']} test examples")

    def _check(self, images):
        images = np.asarray(images, "float32")
        expected = tuple(self.model.input_shape[1:])
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"the {self.name} judge reads images of shape (N, {', '.join(map(str, expected))}); "
                             f"got {images.shape}.")
        if not len(images):
            raise ValueError("no images to judge.")
        if not np.isfinite(images).all():
            raise ValueError("the images hold NaN or infinite values; a judge cannot score them.")
        return images

    def outputs(self, images, batch_size=500):
        """(features, probabilities) of `images` in [-1, 1]."""
        images = self._check(images)
        features, probabilities = [], []
        for start in range(0, len(images), batch_size):
            out = self.model(images[start:start + batch_size], training=False)
            features.append(np.asarray(out["features"], "float64"))
            probabilities.append(np.asarray(keras.ops.softmax(out["logits"]), "float64"))
        return np.concatenate(features), np.concatenate(probabilities)

    def features(self, images, batch_size=500):
        return self.outputs(images, batch_size)[0]

    def probabilities(self, images, batch_size=500):
        return self.outputs(images, batch_size)[1]

    def classify(self, images, batch_size=500):
        return np.argmax(self.probabilities(images, batch_size), axis=-1)

    def accuracy_on(self, images, labels, batch_size=500):
        return float((self.classify(images, batch_size) == np.asarray(labels)).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train an evaluation judge and ship its weights in the package.")
    parser.add_argument("name", choices=sorted(JUDGES))
    parser.add_argument("--epochs", type=int, help="default: the judge's own (JUDGES)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    accuracy = train_judge(args.name, args.epochs, args.batch_size, args.data_dir)
    required = JUDGES[args.name].required_accuracy
    print(f"{args.name} judge test accuracy {accuracy:.4f} (required {required}); weights: {weights_path(args.name)}")
    return 0 if accuracy >= required else 1


if __name__ == "__main__":
    sys.exit(main())
