"""Pretrained models: presets loaded and called in one line.

    >>> import keras_gan_zoo as zoo
    >>> "dcgan/fashion_mnist" in zoo.pretrained.list()
    True
    >>> zoo.pretrained.load("dcgan/fashion_mnist").sample(4).shape
    (4, 28, 28, 1)
    >>> zoo.DCGAN.from_preset("dcgan/fashion_mnist").preset["data"]
    'fashion_mnist'

A preset is a folder:

    preset.json        the manifest: name, variant, data, what it can do, its headline figure,
                       and the sha256 and size of every other file
    config.json        the model's Keras config (`zoo.create` arguments, the dtype policy)
    model.weights.h5   every network's weights (float16 where that changes no sample
                       measurably: the manifest records the largest change it made)
    recipe.json        the `TrainConfig` that trained it (`ganzoo train --recipe` reproduces it)
    metrics.json       what `ganzoo evaluate` measured on it, beside the same metrics on real data
    ratio.keras        the density-ratio classifier, for a preset sampling through rejection
    samples.png        a picture of its samples

The presets shipped in the package are listed in presets/index.json, with the sha256 of each
manifest; a preset too large for the wheel is listed there by URL and the sha256 of its
archive, fetched once into Keras's cache (`keras.utils.get_file`) and checked. A folder, or
an archive's path or URL, loads too: its manifest's checksums are checked all the same. Every
file is checked before anything reads it, so a damaged preset fails naming the file, never
deep inside Keras. Nothing downloads unless a URL is asked for.
"""

import builtins
import hashlib
import json
import pathlib
import re

import keras

PRESETS_DIR = pathlib.Path(__file__).with_name("presets")
INDEX_FILE = PRESETS_DIR / "index.json"
MANIFEST = "preset.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
RECIPE = "recipe.json"
METRICS = "metrics.json"
RATIO = "ratio.keras"
PICTURE = "samples.png"
FORMAT_VERSION = 1
# The largest change (in data units) float16 storage may make to any sample of the check
# batch for the weights to be stored so; above it they are stored in float32. Images span
# [-1, 1] in 255 steps of 2/255: 1/255 is half a grey level, below what an 8-bit picture of
# the sample can show. (docs/results/presets.md measures a preset's figures both ways.)
FLOAT16_TOLERANCE = 1 / 255
# Samples drawn to measure that change.
FLOAT16_CHECK_SAMPLES = 64
# Where fetched presets are kept; None: Keras's cache (KERAS_HOME, else ~/.keras).
CACHE_DIR = None
NAME_PATTERN = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+$")


class PresetError(ValueError):
    """A preset that is not there, or cannot be read as one."""


class PresetChecksumError(PresetError):
    """A preset file whose contents differ from what its manifest (or the index) records."""


def sha256(path):
    """The hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_index():
    if not INDEX_FILE.exists():
        return {}
    return json.loads(INDEX_FILE.read_text())


def list():  # noqa: A001 - `zoo.pretrained.list()`, as keras-hub's `presets` listing reads
    """The names of the presets the package knows, sorted ("variant/data")."""
    return sorted(_read_index())


def describe():
    """`{name: manifest}` for every shipped preset (data, capabilities, headline figure...).

    Reads the manifests of presets inside the package; a preset hosted by URL is described by
    its index entry (which may carry the manifest's "data", "description", "capabilities" and
    "headline"), so that listing fetches nothing.
    """
    described = {}
    for name, entry in _read_index().items():
        described[name] = _checked_manifest(PRESETS_DIR / name, name, entry) if "url" not in entry else dict(entry)
    return described


def _checked_manifest(folder, name, indexed=None):
    path = pathlib.Path(folder) / MANIFEST
    if not path.is_file():
        raise PresetError(f"{folder} is not a preset: it holds no {MANIFEST}. A preset is a folder written by "
                          f"zoo.pretrained.save (zoo.pretrained.list() names the shipped ones).")
    expected = (indexed or {}).get("manifest_sha256")
    if expected is not None:
        got = sha256(path)
        if got != expected:
            raise PresetChecksumError(
                f"Preset {name}: {path} has sha256 {got}, the package's index records {expected}: the file is "
                f"damaged or altered. Reinstall the package (pip install --force-reinstall keras-gan-zoo).")
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PresetError(f"Preset {name}: {path} is not valid JSON ({error}): the file is damaged.") from None
    if (not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION
            or not isinstance(manifest.get("files"), dict) or "variant" not in manifest):
        raise PresetError(f"Preset {name}: {path} is not a version-{FORMAT_VERSION} preset manifest (with its "
                          f"variant and files).")
    return manifest


def verify(folder, name=None, indexed=None):
    """Checks every file of the preset in `folder` against its manifest; returns the manifest.

    Raises `PresetChecksumError` naming the first missing, truncated or altered file.
    """
    folder = pathlib.Path(folder)
    name = name or str(folder)
    manifest = _checked_manifest(folder, name, indexed)
    for file_name, recorded in sorted(manifest["files"].items()):
        path = folder / file_name
        if not path.is_file():
            raise PresetChecksumError(f"Preset {name}: {path} is missing; the manifest lists it "
                                      f"({recorded['bytes']:,} bytes). Reinstall or fetch the preset again.")
        size, digest = path.stat().st_size, sha256(path)
        if digest != recorded["sha256"]:
            size_note = (f"{size:,} bytes where {recorded['bytes']:,} were written: truncated or padded"
                         if size != recorded["bytes"] else f"{size:,} bytes as written, but altered")
            raise PresetChecksumError(
                f"Preset {name}: {path} has sha256 {digest}, its manifest records {recorded['sha256']} "
                f"({size_note}). The file is damaged: reinstall or fetch the preset again.")
    return manifest


def locate(preset):
    """The folder of `preset` (a shipped name, a folder, or an archive's path or URL) and its
    index entry (None outside the index).

    A URL (https://, file://) or an archive (.zip, .tar.gz) is fetched or unpacked into Keras's
    cache once (`keras.utils.get_file`); the index gives the archive's sha256 for the shipped
    ones, which `get_file` checks.
    """
    index = _read_index()
    if preset in index:
        entry = index[preset]
        if "url" not in entry:
            return PRESETS_DIR / preset, entry
        return _fetch(entry["url"], preset, entry.get("archive_sha256")), entry
    if isinstance(preset, str) and re.match(r"^[a-z][a-z0-9+.-]*://", preset):
        return _fetch(preset, preset, None), None
    path = pathlib.Path(preset)
    if path.is_dir():
        return path, None
    if path.is_file() and path.name.endswith((".zip", ".tar.gz", ".tgz", ".tar")):
        return _fetch(path.resolve().as_uri(), preset, None), None
    known = ", ".join(builtins.list(index)) or "none yet"
    if isinstance(preset, str) and NAME_PATTERN.match(preset):
        raise PresetError(f"There is no preset {preset!r}. The shipped presets are: {known} "
                          f"(ganzoo pretrained lists them).")
    raise PresetError(f"{preset!r} is neither a shipped preset ({known}), a preset folder, an archive of one, "
                      f"nor a URL.")


def _fetch(url, name, archive_sha256):
    """The preset folder inside the archive at `url`, fetched and unpacked into Keras's cache once."""
    # One cache entry per URL: get_file names the unpacked folder after `fname` up to its first dot.
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", url.rsplit("/", 1)[-1].split(".")[0]) or "preset"
    fname = f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.archive"
    try:
        unpacked = keras.utils.get_file(
            fname=fname, origin=url, file_hash=archive_sha256, hash_algorithm="sha256",
            cache_subdir="keras_gan_zoo_presets", cache_dir=CACHE_DIR, extract=True)
    except ValueError as error:
        if archive_sha256 is None or "hash" not in str(error):
            raise PresetError(f"Preset {name}: cannot fetch {url} ({error}).") from None
        # What get_file raises when the fetched archive's hash differs; it is not unpacked.
        raise PresetChecksumError(f"Preset {name}: the archive at {url} does not match the sha256 the index "
                                  f"records ({error}).") from None
    except Exception as error:
        raise PresetError(f"Preset {name}: cannot fetch {url} ({type(error).__name__}: {error}).") from None
    folder = pathlib.Path(unpacked)
    if not (folder / MANIFEST).is_file():
        found = sorted(p.parent for p in folder.rglob(MANIFEST))
        if len(found) != 1:
            raise PresetError(f"Preset {name}: the archive at {url} holds {len(found)} preset manifests, not one.")
        folder = found[0]
    return folder


def checked_folder(preset):
    """The folder of `preset` and its manifest, every file checked (what `load` reads)."""
    folder, entry = locate(preset)
    return folder, verify(folder, preset, entry)


def load(preset, compile=True, freeze=()):
    """The model of `preset`, its files checked, ready to `sample`, `encode`, `classify` and
    `fit` as its capabilities say.

    Args:
        preset: a shipped preset's name ("dcgan/fashion_mnist"; `list()` names them), a preset
            folder, or the path or URL of an archive of one.
        compile: compile with the variant's default optimizers, fresh (what `fit` continues
            training with); False leaves the model uncompiled.
        freeze: networks whose body to freeze for fine-tuning ("discriminator", "encoder", ...;
            `GenerativeModel.freeze_body`).

    The model's `preset` attribute holds the manifest.
    """
    folder, manifest = checked_folder(preset)
    return _build(folder, manifest, compile, freeze)


def recipe(preset):
    """The `TrainConfig` dict that trained `preset` (its recipe.json, checked)."""
    folder, _ = checked_folder(preset)
    return json.loads((folder / RECIPE).read_text())


def load_with_recipe(preset, compile=True, freeze=()):
    """`(load(preset, ...), recipe(preset))`, the files checked once."""
    folder, manifest = checked_folder(preset)
    return _build(folder, manifest, compile, freeze), json.loads((folder / RECIPE).read_text())


def _variant(manifest, preset):
    from keras_gan_zoo import registry

    try:
        return registry.get_entry(manifest["variant"]).cls
    except ValueError:
        raise PresetError(f"Preset {preset} holds a {manifest['variant']!r}, which this version of the package does "
                          f"not know: upgrade keras-gan-zoo.") from None


def _build(folder, manifest, compile, freeze=()):
    from keras_gan_zoo import sampling

    variant = _variant(manifest, manifest.get("name", folder))
    config = json.loads((folder / CONFIG).read_text())
    model = variant.from_config(config)
    model.load_weights(folder / WEIGHTS)
    if manifest.get("sampler"):
        classifier = keras.models.load_model(folder / RATIO)
        model.attach_sampler(sampling.RejectionSampler(classifier, **manifest["sampler"]))
    model.freeze_body(*freeze)
    if compile:
        model.compile()
    object.__setattr__(model, "preset", manifest)
    return model


def from_preset(cls, preset, compile=True, freeze=()):
    """`load(preset, compile, freeze)`, refusing a preset of another variant than `cls` (or its subclasses)."""
    folder, manifest = checked_folder(preset)
    variant = _variant(manifest, preset)
    if not issubclass(variant, cls):
        raise PresetError(f"Preset {preset} holds a {variant.__name__} ({manifest['variant']}), not a {cls.__name__}: "
                          f"load it with zoo.pretrained.load({preset!r}) or {variant.__name__}.from_preset.")
    return _build(folder, manifest, compile, freeze)


# Writing presets is a concern of its own (zoo/preset_writer.py); its functions answer here too.
from keras_gan_zoo.preset_writer import index_entry, save, update  # noqa: E402,F401
