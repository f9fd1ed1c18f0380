"""Training speed: the zoo's DCGAN against a plain keras-io-style DCGAN, XLA off and on.

Both train the same networks (zoo.nets' DCGAN bodies) on the same batches of
Fashion-MNIST (or mnist_5k when it is not installed); only the training
wrapper differs. The four configurations run interleaved, `--repeats` times
each, and the median steps per second is reported, so that drift of a shared
machine hits all of them alike.

    python benchmarks/train_throughput.py            # writes docs/results/throughput.md
"""

import argparse
import datetime
import os
import pathlib
import platform
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_gan_zoo as zoo  # noqa: E402
from reporting import steps_per_second  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "results" / "throughput.md"


class PlainDCGAN(keras.Model):
    """The keras-io DCGAN example's training loop, written out as a reference."""

    def __init__(self, generator, discriminator, latent_dim):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_images = self.generator(noise, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = self.loss_fn(tf.ones_like(real_logits), real_logits) + self.loss_fn(
                tf.zeros_like(fake_logits), fake_logits
            )
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = self.loss_fn(tf.ones_like(fake_logits), fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def make_zoo(xla, latent_dim, filters):
    model = zoo.create("dcgan", latent_dim=latent_dim, filters=filters, seed=1337)
    model.compile(jit_compile=xla)
    return model


def make_plain(xla, latent_dim, filters):
    shape = (28, 28, 1)
    model = PlainDCGAN(
        zoo.nets.conv_decoder(latent_dim, shape, filters, name="generator"),
        zoo.nets.conv_encoder(shape, 1, filters, name="discriminator"),
        latent_dim,
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
        jit_compile=xla,
    )
    return model


def image_batches(batch_size, num_batches):
    for name in ("fashion_mnist", "mnist_5k"):
        try:
            x, _ = zoo.data.load_arrays(name, download=False)
            break
        except zoo.data.DatasetNotFoundError:
            continue
    batches = zoo.data.pipeline(x[: batch_size * num_batches], batch_size=batch_size, shuffle=False)
    return name, batches.cache().repeat()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    data_name, dataset = image_batches(args.batch_size, num_batches=20)
    configs = {
        (wrapper, xla): factory(xla, args.latent_dim, args.filters)
        for wrapper, factory in (("zoo", make_zoo), ("plain", make_plain))
        # XLA is measured in one place, benchmarks/scaling.py.
        for xla in (False,)
    }
    for key, model in configs.items():  # compile the train functions before timing
        steps_per_second(model, dataset, args.warmup_steps)
    rates = {key: [] for key in configs}
    for repeat in range(args.repeats):
        for key, model in configs.items():
            rates[key].append(steps_per_second(model, dataset, args.steps))
            print(f"repeat {repeat + 1}: {key[0]:<5} xla={key[1]!s:<5} {rates[key][-1]:.2f} steps/s", flush=True)
        # Rewritten after every round, so a cut-off run keeps what it measured.
        median = {key: statistics.median(values) for key, values in rates.items()}
        write_report(args, data_name, median, rates, rounds_done=repeat + 1)
    print(pathlib.Path(args.out).read_text())


def write_report(args, data_name, median, rates, rounds_done):
    lines = [
        "# Training throughput: zoo DCGAN against a plain keras-io-style DCGAN",
        "",
        f"Command: `python benchmarks/train_throughput.py --batch-size {args.batch_size} "
        f"--steps {args.steps} --repeats {args.repeats} --warmup-steps {args.warmup_steps} "
        f"--latent-dim {args.latent_dim} --filters {args.filters}`",
        "",
        f"Measured {datetime.date.today()} on {os.cpu_count()} CPU cores ({platform.machine()}), "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {sys.version.split()[0]}. "
        f"Data: {data_name}, batch {args.batch_size}, 28x28x1, DCGAN bodies with {args.filters} "
        f"filters and a {args.latent_dim}-d latent. Budget: {args.warmup_steps} warm-up steps, then "
        f"{args.repeats} interleaved measurements of {args.steps} steps per configuration "
        f"({rounds_done} done), each timed inside one `fit` call from the end of its first "
        "step to the end of its last; the median is reported.",
        "",
        "| training wrapper | XLA | steps/s (median) | all measurements |",
        "|---|---|---|---|",
    ]
    for (wrapper, xla), value in median.items():
        every = ", ".join(f"{v:.2f}" for v in rates[(wrapper, xla)])
        lines.append(f"| {wrapper} | {'on' if xla else 'off'} | {value:.2f} | {every} |")
    lines += [
        "",
        f"- zoo / plain, XLA off: {median[('zoo', False)] / median[('plain', False)]:.3f} (goal: at least 0.95)",
        "- What XLA does to training speed is measured in one place: docs/results/scaling.md.",
        "",
    ]
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # benchmarks/vs_pytorch.py writes the section from "## Beside PyTorch" on: it stays.
    kept = out.read_text().partition("## Beside PyTorch") if out.exists() else ("", "", "")
    out.write_text("\n".join(lines) + (f"\n{kept[1]}{kept[2]}" if kept[1] else ""))


if __name__ == "__main__":
    main()
