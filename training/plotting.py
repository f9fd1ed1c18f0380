"""The pictures `ganzoo plot` draws from a finished run, each a PNG.

    latent         2-D codes of the test split coloured by label beside samples
                   of the prior, and the images decoded from a lattice of codes
                   (aae, autoencoder, vae trained with a 2-D code)
    interpolation  rows of images decoded along straight lines between the
                   codes of two real test images (aae, autoencoder, vae)
    classes        one row of samples per class (cgan, latent_gan, guided_gan,
                   conditional wgan_gp, supervised aae)
"""

import numpy as np

from keras_gan_zoo import capabilities as caps
from keras_gan_zoo import data, plots

KINDS = ("latent", "interpolation", "classes")


def _encodes_and_decodes(offered):
    return {caps.ENCODE, caps.DECODE} <= offered and caps.GENERATE_LABELLED not in offered


def _check(condition, message):
    if not condition:
        raise ValueError(message)


def _check_unconditional_autoencoder(model, run, kind):
    _check(_encodes_and_decodes(model.capabilities),
           f"--kind {kind} needs an unconditional model with encode and decode (aae, autoencoder, vae); "
           f"this run's {run.model} offers: {', '.join(sorted(model.capabilities))}.")


def _test_split(run, count):
    x, y = data.load_arrays(run.data, "test", data_dir=run.data_dir)
    return x[:count], y[:count]


def latent(model, run, out_dir, seed=0):
    """latent_codes.png, and latent_lattice.png for image data."""
    _check_unconditional_autoencoder(model, run, "latent")
    _check(model.latent_dim == 2,
           f"--kind latent draws 2-D codes; this {run.model} has latent_dim {model.latent_dim}. "
           "Train with --latent-dim 2, or use --kind interpolation.")
    x, y = _test_split(run, 5000)
    codes = model.encode(x)
    prior = np.asarray(model.prior_sample(len(codes), seed=seed))
    written = [out_dir / "latent_codes.png"]
    plots.save_code_scatter(codes, y, prior, written[0], title=f"{run.model}: codes of {run.data} (test)")
    if len(model.data_shape) == 3:
        # The lattice spans where the prior puts 95% of its mass along each axis.
        low, high = np.percentile(prior, [2.5, 97.5])
        written.append(out_dir / "latent_lattice.png")
        plots.save_image_grid(model.decode(plots.code_lattice(low, high, 15)), written[1])
    return written


def interpolation(model, run, out_dir, pairs=6, steps=10, seed=0):
    """interpolation.png: per row a real image, `steps` decoded codes on the line between two codes,
    the other real image."""
    _check_unconditional_autoencoder(model, run, "interpolation")
    _check(len(model.data_shape) == 3, f"--kind interpolation draws images; {run.data} holds vectors.")
    x, _ = _test_split(run, 1000)
    rows = []
    for first, second in np.random.default_rng(seed).choice(len(x), size=(pairs, 2), replace=False):
        codes = model.encode(x[[first, second]])
        rows += [x[first], *model.decode(plots.linear_path(codes[0], codes[1], steps)), x[second]]
    path = out_dir / "interpolation.png"
    plots.save_image_grid(np.stack(rows), path, columns=steps + 2)
    return [path]


def classes(model, run, out_dir, per_class=10, seed=0):
    """classes.png: `per_class` samples of each class, one row per class."""
    _check(caps.LABELLED_SAMPLE in model.capabilities,
           f"--kind classes needs a model that samples by class (labelled_sample); this run's {run.model} "
           f"offers: {', '.join(sorted(model.capabilities))}.")
    labels = np.repeat(np.arange(model.num_classes), per_class)
    samples = model.sample(len(labels), labels=labels, seed=seed)
    path = out_dir / "classes.png"
    if samples.ndim == 4:
        plots.save_image_grid(samples, path, columns=per_class)
    else:
        plots.save_scatter(samples, path, title=f"{run.model}: {per_class} samples per class")
    return [path]


def draw(kind, model, run, out_dir, seed=0):
    """Writes the pictures of `kind` under `out_dir`; returns their paths."""
    _check(kind in KINDS, f"Unknown --kind {kind!r}; choose one of: {', '.join(KINDS)}.")
    out_dir.mkdir(parents=True, exist_ok=True)
    return {"latent": latent, "interpolation": interpolation, "classes": classes}[kind](model, run, out_dir, seed=seed)
