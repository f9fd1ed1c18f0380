"""Model cards (docs/models/NAME.md) and the gallery (docs/models/README.md), written from the
shipped presets' own files, so that a page cannot say other than what ships.

`benchmarks/presets.py` writes them after making a preset (and with `--cards-only`);
tests/test_pretrained.py fails when a page on disk differs from what these functions write.
"""

import json
import pathlib

from keras_gan_zoo import capabilities as caps
from keras_gan_zoo import data as zoo_data
from keras_gan_zoo import evaluation, pretrained, registry

MODELS_DIR = pathlib.Path(__file__).resolve().parents[1] / "docs" / "models"


def card_file(name):
    """docs/models/VARIANT_DATA.md for the preset "variant/data"."""
    return MODELS_DIR / (name.replace("/", "_") + ".md")


def _picture_link(name, file=pretrained.PICTURE):
    # The preset's own picture, where the package keeps it: one copy of the bytes.
    return f"../../zoo/presets/{name}/{file}"


# What each of `ganzoo plot`'s pictures shows, by file name (training/plotting.py).
PICTURE_CAPTIONS = {
    "latent_codes.png": "The 2-d codes of test examples, coloured by class, beside draws of the prior.",
    "latent_lattice.png": "Images decoded from a 15 x 15 lattice of codes, where the prior puts 95% of its mass.",
    "interpolation.png": "Each row: a test image, the images decoded on the line between its code and another "
                         "test image's, that image.",
    "classes.png": "Samples of each class in class order: a row of images per class, or each class's series "
                   "beside real ones.",
}


def _caption(file):
    if file.startswith("walk_"):
        return (f"Series of class {file[5:-4]} generated from a 7 x 7 lattice over the code's first two axes, "
                "from -1.96 to 1.96, every other axis at 0.")
    return PICTURE_CAPTIONS.get(file, file)


def _seconds(value):
    return f"{value / 60:.0f} min" if value >= 600 else f"{value:.0f} s"


# What `ganzoo sample --out` writes best for each kind of data.
SAMPLE_FILE = {"image": "grid.png", "vector": "points.png", "sequence": "series.png", "table": "rows.csv"}


def _call_examples(name, manifest):
    served = manifest["variant"]
    offered = set(manifest["capabilities"])
    lines = ["## Call it", "", "Python:", "", "```python", "import keras_gan_zoo as zoo", "",
             f"model = zoo.pretrained.load(\"{name}\")   # checked and compiled"]
    kind = zoo_data.describe(manifest["data"]).kind
    if caps.SAMPLE in offered:
        lines.append("samples = model.sample(16, seed=0)                   # "
                     + ("a DataFrame of rows" if kind == "table" else "numpy"))
    if caps.LABELLED_SAMPLE in offered:
        lines.append("ones = model.sample(16, labels=[1] * 16, seed=0)      # of the class (or code) asked for")
    if caps.ENCODE in offered:
        lines.append("codes = model.encode(samples)")
    if caps.CLASSIFY in offered:
        lines.append("classes = model.classify(samples)")
    lines += ["model.fit(my_data, epochs=1)                         # fine-tune: training goes on", "```", "",
              "Shell:", "", "```bash",
              f"ganzoo sample pretrained:{name} --n 64 --out {SAMPLE_FILE[kind]}",
              f"ganzoo evaluate pretrained:{name}",
              f"ganzoo export pretrained:{name} --out exports        # exports/{served}/1 for TF Serving",
              "ganzoo serve exports &",
              f"curl -s -d '{{\"inputs\": {{\"num_samples\": 4, \"seed\": 3}}}}' "
              f"localhost:8501/v1/models/{served}:predict", "```", "",
              "gRPC:", "", "```python", "from keras_gan_zoo.serving import Client",
              f"Client(\"127.0.0.1:8500\", model=\"{served}\").sample(4, seed=3)", "```"]
    return lines


def _storage(weights):
    change, checked = weights["largest_sample_change_float16"], pretrained.FLOAT16_CHECK_SAMPLES
    if weights["stored_as"] == "float16":
        return f"stored as float16, which changes none of {checked} check samples by more than {change:.1e}"
    return f"stored as float32: float16 would change one of {checked} check samples by {change:.1e}"


def card_markdown(name):
    """The model card of the shipped preset `name`."""
    # Checked once; both files come from the checked folder.
    folder, manifest = pretrained.checked_folder(name)
    metrics = json.loads((folder / pretrained.METRICS).read_text())
    recipe_name = metrics.get("recipe_name")
    entry = registry.get_entry(manifest["variant"])
    trained = manifest.get("trained") or {}
    weights = manifest["weights"]
    order = list(caps.DESCRIPTIONS)
    rows = [f"| variant | `{manifest['variant']}`: {entry.description} |",
            f"| data | `{manifest['data']}` |"]
    if recipe_name:
        command = metrics.get("train_command") or f"ganzoo train --recipe {recipe_name}"
        rows.append(f"| recipe | `{command}` reproduces it |")
    if trained:
        rows.append(f"| training | {trained['steps']:,} steps of {trained['batch_size']}, "
                    f"{_seconds(trained['seconds'])} on {trained['machine']} |")
    lines = [f"# {name}", "", manifest["description"], "", f"![samples of {name}]({_picture_link(name)})", "",
             "| | |", "|---|---|", *rows,
             f"| parameters | {weights['parameters']:,}, {_storage(weights)} |",
             "| offers | " + "; ".join(caps.DESCRIPTIONS[c] for c in sorted(manifest["capabilities"], key=order.index))
             + " |"]
    for file in manifest.get("pictures", ()):
        caption = _caption(file)
        lines += ["", caption, "", f"![{file} of {name}]({_picture_link(name, file)})"]
    report = metrics.get("report")
    if report:
        tolerance = metrics.get("tolerance", {})
        judge = f" Judge: {report['judge']['description']}." if "judge" in report else ""
        # Mode coverage has no reference line of its own: real data there is the test split.
        reference = report.get("reference") or f"real: {report['n']} test examples of {report['dataset']}"
        lines += ["", "## Measured", "", f"`{metrics['command']}` on the preset as it ships.{judge}", "",
                  f"Reference: {reference}.", "",
                  "| metric | this preset | real data | tolerance |", "|---|---|---|---|"]
        for metric, value in evaluation.figures(report).items():
            spread = tolerance.get(metric)
            lines.append(f"| {metric} | {value['samples']:.4g} | {value['real']:.4g} | "
                         f"{'+- %.2g' % spread if spread is not None else ''} |")
        classifier = metrics.get("classifier")
        if classifier:
            lines += ["", f"Its classifier (`model.classify`) puts {100 * classifier['accuracy']:.1f}% of the "
                          f"{classifier['test_examples']:,} test examples of {classifier['dataset']} in their class."]
        seeds = metrics.get("tolerance_seeds")
        if seeds:
            lines += ["", f"Tolerance: the largest difference from these figures that evaluation seeds "
                          f"{', '.join(map(str, seeds))} gave; `ganzoo evaluate` reproduces the figures within it."]
    lines += [""] + _call_examples(name, manifest)
    return "\n".join(lines) + "\n"


def _headline_figure(name, manifest):
    """The gallery's figure: the headline beside real data's; a mode count also with its share
    of high-quality samples, without which all modes covered by scattered samples would read
    as a success."""
    headline = manifest.get("headline") or {}
    if not headline.get("metric"):
        return ""
    figure = f"{headline['metric']} {headline['value']:.4g} ({headline['real']:.4g})"
    if headline["metric"] == "modes":
        folder, _ = pretrained.checked_folder(name)
        report = json.loads((folder / pretrained.METRICS).read_text()).get("report")
        quality = evaluation.figures(report).get("high_quality") if report else None
        if quality:
            figure += f", high quality {100 * quality['samples']:.1f}% ({100 * quality['real']:.1f}%)"
    return figure


def gallery_markdown():
    """docs/models/README.md: one row per shipped preset, its picture and headline figure."""
    described = pretrained.describe()
    lines = ["# Pretrained models", "",
             "Every preset here loads in one line, offline: `zoo.pretrained.load(NAME)` in Python,",
             "`pretrained:NAME` wherever `ganzoo` takes a run (`ganzoo pretrained` lists them). Each card",
             "says how it was trained and measured. This page is written from the presets themselves",
             "(`python benchmarks/presets.py --cards-only`).", ""]
    if not described:
        return "\n".join(lines + ["No presets ship yet."]) + "\n"
    lines += ["| preset | samples | data | offers | headline (real data) | card |", "|---|---|---|---|---|---|"]
    for name, manifest in described.items():
        figure = _headline_figure(name, manifest)
        picture = f"<img src=\"{_picture_link(name)}\" width=\"160\">"
        lines.append(f"| `{name}` | {picture} | `{manifest['data']}` | {', '.join(manifest['capabilities'])} | "
                     f"{figure} | [{card_file(name).name}]({card_file(name).name}) |")
    return "\n".join(lines) + "\n"


def write_all():
    """Writes every shipped preset's card and the gallery; returns the paths written."""
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for name in pretrained.list():
        card_file(name).write_text(card_markdown(name))
        written.append(card_file(name))
    (MODELS_DIR / "README.md").write_text(gallery_markdown())
    return written + [MODELS_DIR / "README.md"]
