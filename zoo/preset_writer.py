"""Writing presets: `zoo.pretrained.save`, `update` and `index_entry` (what benchmarks/presets.py
calls), apart from the reading and checking that every user's `load` runs.

The float16 rule: weights are stored in float16 when that changes no sample of a check batch by
more than `pretrained.FLOAT16_TOLERANCE`, else in float32; the manifest records the change.
"""

import json
import pathlib
import shutil
import tempfile

import numpy as np

import keras

from keras_gan_zoo import pretrained
from keras_gan_zoo.pretrained import (
    CONFIG, FLOAT16_CHECK_SAMPLES, FLOAT16_TOLERANCE, FORMAT_VERSION, MANIFEST, METRICS, PICTURE, RATIO, RECIPE,
    WEIGHTS, sha256,
)


def _copy_h5(source, target, float16, leave_out=()):
    """Writes the Keras weights file `source` to `target`, its float32 arrays stored as float16 when
    `float16`, its top-level groups named in `leave_out` left out: h5py, Keras's own weights format,
    rewritten dataset by dataset (deleting in place leaves the freed bytes in the file)."""
    import h5py

    def copy(src, dst):
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for key, item in src.items():
            if src.name == "/" and key in leave_out:
                continue
            if isinstance(item, h5py.Group):
                copy(item, dst.create_group(key))
            else:
                data = item[()]
                if float16 and getattr(data, "dtype", None) == np.float32:
                    data = data.astype(np.float16)
                dst.create_dataset(key, data=data)
                for attr, attr_value in item.attrs.items():
                    dst[key].attrs[attr] = attr_value

    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        copy(src, dst)


def _largest_sample_change(model, weights_file):
    """The largest change float16-stored weights make to the check batch of samples (or of
    reconstructions, for a model without a prior's samples)."""
    from keras_gan_zoo import capabilities

    twin = type(model).from_config(model.get_config())
    twin.load_weights(weights_file)
    z = np.random.default_rng(0).standard_normal((FLOAT16_CHECK_SAMPLES, model.latent_dim)).astype("float32")
    if capabilities.GENERATE_LABELLED in model.capabilities:
        labels = np.arange(FLOAT16_CHECK_SAMPLES) % model.num_classes
        outputs = [m.generate(z, labels) for m in (model, twin)]
    else:
        outputs = [m.generate(z) for m in (model, twin)]
    a, b = (keras.ops.convert_to_numpy(o).astype("float64") for o in outputs)
    return float(np.max(np.abs(a - b)))


def save(model, folder, *, name, data, recipe, metrics=None, headline=None, description="", picture=None,
         pictures=(), trained=None, float16_tolerance=FLOAT16_TOLERANCE):
    """Writes `model` as a preset folder; returns its manifest.

    Args:
        model: a trained variant (with its rejection sampler attached, if it samples through one).
        folder: where the preset goes (created; must not hold files already).
        name: "variant/data", the name `load` takes.
        data: the dataset it was trained on.
        recipe: the `TrainConfig` dict that trained it.
        metrics: `ganzoo evaluate`'s record for it.
        headline: {"metric", "value", "real"}: the one figure `ganzoo pretrained` shows.
        description: one line.
        picture: a PNG of its samples, copied in.
        pictures: more PNGs (its codes, its classes: `ganzoo plot`'s pictures), copied in under
            their own file names.
        trained: {"steps", "seconds", "machine"}: what training it cost.
        float16_tolerance: the largest change to a sample that float16 storage may make
            (`FLOAT16_TOLERANCE` suits images in [-1, 1]; give data on a finer scale a smaller one).
    """
    if not pretrained.NAME_PATTERN.match(name):
        raise ValueError(f"A preset's name is 'variant/data' in lower case, digits and underscores; got {name!r}.")
    names = [pathlib.Path(p).name for p in pictures]
    taken = {CONFIG, WEIGHTS, RECIPE, METRICS, RATIO, PICTURE, MANIFEST}
    if len(set(names)) < len(names) or taken & set(names) or not all(n.endswith(".png") for n in names):
        raise ValueError(f"pictures are PNG files of distinct names other than the preset's own files "
                         f"({', '.join(sorted(taken))}); got {', '.join(names)}.")
    folder = pathlib.Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: a preset is written into a new folder.")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG).write_text(json.dumps(model.get_config(), indent=1) + "\n")
    with tempfile.TemporaryDirectory() as scratch:
        everything = pathlib.Path(scratch) / "everything.weights.h5"
        model.save_weights(everything)
        # The networks' weights alone: fine-tuning starts its optimizers afresh.
        optimizers = set(getattr(model, "optimizer_names", ())) | {"optimizer"}
        full, half = pathlib.Path(scratch) / WEIGHTS, pathlib.Path(scratch) / "float16.weights.h5"
        _copy_h5(everything, full, float16=False, leave_out=optimizers)
        _copy_h5(everything, half, float16=True, leave_out=optimizers)
        change = _largest_sample_change(model, half)
        stored = "float16" if change <= float16_tolerance else "float32"
        shutil.copyfile(half if stored == "float16" else full, folder / WEIGHTS)
    (folder / RECIPE).write_text(json.dumps(recipe, indent=2) + "\n")
    (folder / METRICS).write_text(json.dumps(metrics or {}, indent=2) + "\n")
    sampler = None
    if model.sampler is not None:
        model.sampler.classifier.save(folder / RATIO)
        sampler = model.sampler.options()
    if picture is not None:
        shutil.copyfile(picture, folder / PICTURE)
    for path in pictures:
        shutil.copyfile(path, folder / pathlib.Path(path).name)
    from importlib import metadata

    try:
        version = metadata.version("keras-gan-zoo")
    except metadata.PackageNotFoundError:
        version = None
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "variant": model.registered_name,
        "data": data,
        "description": description,
        "capabilities": sorted(model.capabilities),
        "headline": headline,
        "sampler": sampler,
        "pictures": names,
        "weights": {"stored_as": stored, "largest_sample_change_float16": change,
                    "tolerance": float16_tolerance, "parameters": int(model.count_params())},
        "trained": trained,
        "package_version": version,
    }
    return _write_manifest(folder, manifest)


def _write_manifest(folder, manifest):
    files = {path.name: {"sha256": sha256(path), "bytes": path.stat().st_size}
             for path in sorted(folder.iterdir()) if path.name != MANIFEST}
    manifest = {**manifest, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def update(folder, metrics=None, headline=None, trained=None):
    """Writes `metrics` (metrics.json), `headline` and `trained` into the preset in `folder`,
    measured on the preset as loaded from there; the manifest's checksums follow. Returns the
    manifest."""
    folder = pathlib.Path(folder)
    manifest = pretrained.verify(folder)
    if metrics is not None:
        (folder / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
    if headline is not None:
        manifest["headline"] = headline
    if trained is not None:
        manifest["trained"] = trained
    return _write_manifest(folder, manifest)


def index_entry(folder):
    """What presets/index.json records for the preset in `folder`: its manifest's sha256."""
    return {"manifest_sha256": sha256(pathlib.Path(folder) / MANIFEST)}
