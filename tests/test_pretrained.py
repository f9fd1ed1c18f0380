"""Presets (`zoo.pretrained`): written, checked, loaded, fine-tuned, sampled and exported."""

import json
import shutil
import zipfile

import numpy as np
import pytest

import keras_gan_zoo as zoo
from keras_gan_zoo import pretrained, registry
from keras_gan_zoo.export import export_model
from keras_gan_zoo.export.loaded import ExportedGenerator
from keras_gan_zoo.training import cli

from conftest import tiny_data

RECIPE = {"model": "dcgan", "data": "fashion_mnist", "epochs": 1, "seed": 0}


def tiny(name, **options):
    entry = registry.get_entry(name)
    return zoo.create(name, **{**entry.tiny, **options, "seed": 0})


def write_preset(folder, model=None, name="dcgan/tiny", recipe=RECIPE, **options):
    model = model or tiny("dcgan")
    manifest = pretrained.save(model, folder, name=name, data=recipe["data"], recipe=recipe,
                               headline={"metric": "fid", "value": 12.5, "real": 0.5}, **options)
    return model, manifest


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """An index of presets in a folder of its own, as the package's is: `add(model, name)` writes one."""
    root = tmp_path / "presets"
    root.mkdir()
    monkeypatch.setattr(pretrained, "PRESETS_DIR", root)
    monkeypatch.setattr(pretrained, "INDEX_FILE", root / "index.json")
    monkeypatch.setattr(pretrained, "CACHE_DIR", str(tmp_path / "cache"))

    def add(model=None, name="dcgan/tiny", recipe=RECIPE, **options):
        model, manifest = write_preset(root / name, model, name, recipe, **options)
        index = pretrained._read_index()
        index[name] = pretrained.index_entry(root / name)
        (root / "index.json").write_text(json.dumps(index))
        return model, manifest

    return add


@pytest.mark.parametrize("name, options", [
    ("dcgan", {}), ("wgan_gp", {"conditional": True, "num_classes": 3}), ("vae", {}), ("sgan", {}),
    ("bigan", {}), ("infogan", {}), ("tabular_gan", {}), ("rcgan", {}),
])
def test_a_preset_loads_as_the_model_it_was_written_from(name, options, tmp_path):
    model = tiny(name, **options)
    _, manifest = write_preset(tmp_path / "p", model, name=f"{name}/tiny")
    loaded = pretrained.load(tmp_path / "p")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    again, recipe = pretrained.load_with_recipe(tmp_path / "p", compile=False)
    assert recipe == RECIPE and again.get_config() == model.get_config()
    assert manifest["capabilities"] == sorted(loaded.capabilities) == sorted(model.capabilities)
    assert loaded.preset["name"] == f"{name}/tiny" and loaded.compiled
    # Weights stored in float16 change a sample by at most what the manifest records.
    assert manifest["weights"]["stored_as"] == "float16"
    change = manifest["weights"]["largest_sample_change_float16"]
    assert 0 < change <= pretrained.FLOAT16_TOLERANCE
    z = np.random.default_rng(1).standard_normal((pretrained.FLOAT16_CHECK_SAMPLES, model.latent_dim)).astype("float32")
    args = (z, np.arange(len(z)) % model.num_classes) if model.conditional else (z,)
    np.testing.assert_allclose(np.asarray(loaded.generate(*args)), np.asarray(model.generate(*args)),
                               atol=2 * change, rtol=0)


def test_weights_that_float16_would_change_too_much_are_stored_in_float32(tmp_path):
    model, manifest = write_preset(tmp_path / "p", float16_tolerance=0.0)
    assert manifest["weights"]["stored_as"] == "float32"
    loaded = pretrained.load(tmp_path / "p")
    np.testing.assert_array_equal(loaded.sample(8, seed=3), model.sample(8, seed=3))
    assert (tmp_path / "p" / pretrained.WEIGHTS).stat().st_size > 1.9 * manifest["weights"]["parameters"] * 2


def test_a_preset_samples_through_its_rejection_sampler(tmp_path):
    model = tiny("gan")
    x = zoo.data.load_arrays("ring8", "train")[0][:512]
    classifier = zoo.sampling.fit_density_ratio(model, x, steps=5, batch_size=32, hidden_units=(8,))
    model.attach_sampler(zoo.sampling.RejectionSampler(classifier, gamma=0.5))
    _, manifest = write_preset(tmp_path / "p", model, name="gan/ring8", float16_tolerance=0.0)
    loaded = pretrained.load(tmp_path / "p")
    assert manifest["sampler"] == {"gamma": 0.5, "max_quantile": 1.0} and loaded.sampler is not None
    np.testing.assert_array_equal(loaded.sample(16, seed=2), model.sample(16, seed=2))


def test_from_preset_on_a_class_loads_its_own_and_refuses_another_variants(tmp_path):
    write_preset(tmp_path / "p")
    assert isinstance(zoo.DCGAN.from_preset(tmp_path / "p"), zoo.DCGAN)
    assert isinstance(zoo.GenerativeModel.from_preset(tmp_path / "p"), zoo.DCGAN)
    with pytest.raises(pretrained.PresetError, match=r"holds a DCGAN \(dcgan\), not a VAE"):
        zoo.VAE.from_preset(tmp_path / "p")


@pytest.mark.parametrize("damage, says", [
    ("truncate", r"model\.weights\.h5 has sha256 .* bytes where .* were written: truncated"),
    ("flip", r"model\.weights\.h5 has sha256 .* as written, but altered"),
    ("delete", r"model\.weights\.h5 is missing"),
])
def test_a_damaged_preset_file_fails_with_a_checksum_error_naming_it(damage, says, tmp_path):
    write_preset(tmp_path / "p")
    path = tmp_path / "p" / pretrained.WEIGHTS
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    else:
        path.unlink()
    with pytest.raises(pretrained.PresetChecksumError, match=says):
        pretrained.load(tmp_path / "p")


def test_an_altered_manifest_of_a_shipped_preset_fails_against_the_index(shipped):
    shipped()
    manifest = pretrained.PRESETS_DIR / "dcgan" / "tiny" / pretrained.MANIFEST
    manifest.write_text(manifest.read_text().replace('"fid"', '"kid"'))
    with pytest.raises(pretrained.PresetChecksumError, match=r"dcgan/tiny: .*preset\.json has sha256 .* index records"):
        pretrained.load("dcgan/tiny")


def test_unknown_names_and_folders_say_what_exists(shipped, tmp_path):
    shipped()
    with pytest.raises(pretrained.PresetError, match=r"no preset 'dcgan/mnist'\. The shipped presets are: dcgan/tiny"):
        pretrained.load("dcgan/mnist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(pretrained.PresetError, match=r"holds no preset\.json"):
        pretrained.load(tmp_path / "empty")


def test_a_preset_archive_loads_from_a_file_url_and_a_wrong_archive_hash_is_refused(shipped, tmp_path):
    model, _ = write_preset(tmp_path / "dcgan_tiny")
    archive = shutil.make_archive(str(tmp_path / "dcgan_tiny"), "zip", tmp_path, "dcgan_tiny")
    url = f"file://{archive}"
    loaded = pretrained.load(url)
    np.testing.assert_allclose(loaded.sample(4, seed=1), model.sample(4, seed=1), atol=2e-3)
    # Listed in the index by URL with its archive's sha256, as a preset too large for the wheel is.
    # The same archive with one file added: altered after its sha256 was recorded.
    shutil.copyfile(archive, tmp_path / "altered.zip")
    with zipfile.ZipFile(tmp_path / "altered.zip", "a") as extra:
        extra.writestr("dcgan_tiny/extra.txt", "not in the preset")
    index = {"dcgan/hosted": {"url": url, "archive_sha256": pretrained.sha256(archive)},
             "dcgan/wrong": {"url": f"file://{tmp_path / 'altered.zip'}", "archive_sha256": pretrained.sha256(archive)}}
    pretrained.INDEX_FILE.write_text(json.dumps(index))
    assert pretrained.list() == ["dcgan/hosted", "dcgan/wrong"]
    assert pretrained.load("dcgan/hosted").preset["name"] == "dcgan/tiny"
    with pytest.raises(pretrained.PresetChecksumError, match="does not match the sha256 the index records"):
        pretrained.load("dcgan/wrong")


def test_fit_continues_training_a_loaded_preset(tmp_path):
    model, _ = write_preset(tmp_path / "p")
    loaded = pretrained.load(tmp_path / "p")
    before = [w.copy() for w in loaded.generator.get_weights()]
    history = loaded.fit(tiny_data(loaded), epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, loaded.generator.get_weights()))


def test_the_cli_lists_samples_and_exports_a_preset(shipped, tmp_path, capsys):
    model, _ = shipped()
    assert cli.main(["pretrained"]) == 0
    out = capsys.readouterr().out
    assert "dcgan/tiny" in out and "on fashion_mnist; offers sample; fid 12.5 (real data 0.5)" in out
    samples = tmp_path / "samples.npy"
    assert cli.main(["sample", "pretrained:dcgan/tiny", "--n", "6", "--seed", "4", "--out", str(samples)]) == 0
    loaded = pretrained.load("dcgan/tiny")
    np.testing.assert_array_equal(np.load(samples), loaded.sample(6, seed=4))
    assert cli.main(["sample", "pretrained:dcgan/tiny", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["export", "pretrained:dcgan/tiny", "--out", str(tmp_path / "export")]) == 0
    served = ExportedGenerator(tmp_path / "export" / "dcgan")
    np.testing.assert_allclose(served.sample(6, seed=4), loaded.sample(6, seed=4), atol=1e-5)
    assert cli.main(["sample", "pretrained:dcgan/none", "--out", str(samples)]) == 2
    assert "no preset 'dcgan/none'" in capsys.readouterr().err


def test_a_preset_is_written_into_a_new_folder_under_a_checked_name(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(FileExistsError, match="not empty"):
        write_preset(tmp_path / "full")
    with pytest.raises(ValueError, match="'variant/data'"):
        write_preset(tmp_path / "p", name="DCGAN fashion")


@pytest.mark.parametrize("name", pretrained.list())
def test_every_shipped_preset_loads_checked_samples_and_exports_the_same_samples(name, tmp_path):
    model = pretrained.load(name)
    manifest = model.preset
    assert manifest["name"] == name and sorted(model.capabilities) == manifest["capabilities"]
    export_model(model, tmp_path, name="preset")
    served = ExportedGenerator(tmp_path / "preset")
    if "sample_columns" in model.capabilities:
        # A table's rows, columns in the table's order: categories equal, numbers within float error.
        import pandas as pd

        pd.testing.assert_frame_equal(served.sample_table(8, seed=5), model.sample(8, seed=5),
                                      check_exact=False, atol=1e-4, check_dtype=False)
    elif "sample" in model.capabilities:
        np.testing.assert_allclose(served.sample(8, seed=5), model.sample(8, seed=5), atol=1e-5)


@pytest.mark.parametrize("name", pretrained.list())
def test_every_shipped_cards_python_and_sample_command_run_as_written(name, tmp_path, monkeypatch):
    from keras_gan_zoo.training import cards

    card = cards.card_markdown(name)
    python = card.split("Python:\n\n```python\n", 1)[1].split("```", 1)[0]
    # Everything but fine-tuning, which needs the user's data.
    code = "\n".join(line for line in python.splitlines() if "my_data" not in line)
    scope = {}
    exec(code, scope)
    assert len(scope["samples"]) == 16
    command = next(line for line in card.splitlines() if line.startswith(f"ganzoo sample pretrained:{name} "))
    monkeypatch.chdir(tmp_path)
    assert cli.main(command.split()[1:]) == 0
    out = tmp_path / command.split("--out ")[1]
    assert out.stat().st_size > 0


def test_metrics_measured_on_a_written_preset_join_its_manifest_and_checksums(tmp_path):
    write_preset(tmp_path / "p")
    manifest = pretrained.update(tmp_path / "p", metrics={"fid": 3.0}, headline={"metric": "fid", "value": 3.0, "real": 1.0})
    assert json.loads((tmp_path / "p" / pretrained.METRICS).read_text()) == {"fid": 3.0}
    assert pretrained.load(tmp_path / "p").preset["headline"]["value"] == manifest["headline"]["value"] == 3.0


def test_a_preset_holds_the_networks_weights_and_no_optimizer_state(tmp_path):
    import h5py

    model = tiny("dcgan")
    model.compile()
    model.fit(tiny_data(model), epochs=1, verbose=0)
    _, manifest = write_preset(tmp_path / "p", model)
    stored = {}
    with h5py.File(tmp_path / "p" / pretrained.WEIGHTS, "r") as weights:
        weights.visititems(lambda path, item: stored.update({path: item.size}) if isinstance(item, h5py.Dataset) else None)
    assert {path.split("/")[0] for path in stored} == {"generator", "discriminator"}
    assert sum(stored.values()) == manifest["weights"]["parameters"] == model.count_params()


def test_a_card_shows_what_the_preset_records_and_how_to_call_it(shipped):
    shipped()
    report = {"judge": {"description": "a judge, test accuracy 88.15% on 10000 test examples"},
              "reference": "real: 10 train examples against 10 test examples",
              "metrics": {"fid": {"samples": 12.5, "real": 0.5}, "score": {"samples": 7.25, "real": 8.5}}}
    pretrained.update(pretrained.PRESETS_DIR / "dcgan" / "tiny", metrics={
        "command": "ganzoo evaluate pretrained:dcgan/tiny --seed 0", "recipe_name": "dcgan_fashion_mnist",
        "report": report, "tolerance": {"fid": 0.75, "score": 0.125}, "tolerance_seeds": [1, 2],
        "classifier": {"accuracy": 0.8125, "test_examples": 1000, "dataset": "mnist_5k"}})
    pretrained.INDEX_FILE.write_text(json.dumps({"dcgan/tiny": pretrained.index_entry(pretrained.PRESETS_DIR / "dcgan" / "tiny")}))
    from keras_gan_zoo.training import cards

    card = cards.card_markdown("dcgan/tiny")
    for line in ("Judge: a judge, test accuracy 88.15% on 10000 test examples.", "| fid | 12.5 | 0.5 | +- 0.75 |",
                 "| score | 7.25 | 8.5 | +- 0.12 |", "`ganzoo train --recipe dcgan_fashion_mnist` reproduces it",
                 "evaluation seeds 1, 2", "puts 81.2% of the 1,000 test examples of mnist_5k in their class",
                 'model = zoo.pretrained.load("dcgan/tiny")',
                 "ganzoo export pretrained:dcgan/tiny --out exports", "stored as float16, which changes none of 64"):
        assert line in card, line
    gallery = cards.gallery_markdown()
    assert "| `dcgan/tiny` |" in gallery and "fid 12.5 (0.5)" in gallery and "(dcgan_tiny.md)" in gallery


def test_a_presets_pictures_are_checked_files_its_card_shows(shipped, tmp_path):
    from keras_gan_zoo import plots
    from keras_gan_zoo.training import cards

    png = tmp_path / "latent_codes.png"
    plots.save_image_grid(np.zeros((4, 28, 28, 1), "float32"), png)
    with pytest.raises(ValueError, match="distinct names"):
        write_preset(tmp_path / "clash", pictures=[png, png])
    with pytest.raises(ValueError, match="other than the preset's own files"):
        write_preset(tmp_path / "own", pictures=[tmp_path / pretrained.PICTURE])
    assert not (tmp_path / "clash").exists() and not (tmp_path / "own").exists()
    _, manifest = shipped(pictures=[png])
    assert manifest["pictures"] == ["latent_codes.png"] and "latent_codes.png" in manifest["files"]
    card = cards.card_markdown("dcgan/tiny")
    assert "![latent_codes.png of dcgan/tiny](../../zoo/presets/dcgan/tiny/latent_codes.png)" in card
    assert cards.PICTURE_CAPTIONS["latent_codes.png"] in card
    (pretrained.PRESETS_DIR / "dcgan" / "tiny" / "latent_codes.png").write_bytes(b"altered")
    with pytest.raises(pretrained.PresetChecksumError, match="latent_codes.png"):
        pretrained.load("dcgan/tiny")


def test_a_mode_coverage_card_puts_modes_and_high_quality_beside_real_data(shipped):
    from keras_gan_zoo.training import cards

    shipped(tiny("gan"), name="gan/tiny", recipe={"model": "gan", "data": "ring8", "epochs": 1, "seed": 0})
    report = {"dataset": "ring8", "n": 500, "metrics": {"modes": {
        "modes": 7, "num_modes": 8, "high_quality": 0.9, "quality_rule": 2,
        "real": {"modes": 8, "num_modes": 8, "high_quality": 0.99}}}}
    pretrained.update(pretrained.PRESETS_DIR / "gan" / "tiny", metrics={
        "command": "ganzoo evaluate pretrained:gan/tiny", "recipe_name": "packed_critic_ring8",
        "train_command": "ganzoo train --recipe packed_critic_ring8 --seed 20", "report": report,
        "tolerance": {"modes": 0, "high_quality": 0.01}})
    pretrained.INDEX_FILE.write_text(json.dumps({"gan/tiny": pretrained.index_entry(pretrained.PRESETS_DIR / "gan" / "tiny")}))
    card = cards.card_markdown("gan/tiny")
    for line in ("| modes | 7 | 8 | +- 0 |", "| high_quality | 0.9 | 0.99 | +- 0.01 |",
                 "Reference: real: 500 test examples of ring8.",
                 "`ganzoo train --recipe packed_critic_ring8 --seed 20` reproduces it"):
        assert line in card, line
    assert "Judge:" not in card


def test_the_model_pages_are_what_the_shipped_presets_write():
    from keras_gan_zoo.training import cards

    assert (cards.MODELS_DIR / "README.md").read_text() == cards.gallery_markdown()
    for name in pretrained.list():
        assert cards.card_file(name).read_text() == cards.card_markdown(name), "rewrite: python benchmarks/presets.py --cards-only"


def test_the_readmes_first_screen_names_every_shipped_preset():
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    first_screen = readme.partition("\n## ")[0]
    missing = [name for name in pretrained.list() if f"`{name}`" not in first_screen]
    assert not missing, f"the README's first screen (before its first section) should name {', '.join(missing)}"


def weights_of(network):
    """{position among the layers with weights: their values}: positions, since two builds name layers apart."""
    return dict(enumerate([w.copy() for w in layer.get_weights()] for layer in network.layers if layer.weights))


def changed(before, after):
    return {name for name in before if any(not np.array_equal(a, b) for a, b in zip(before[name], after[name]))}


def test_freezing_a_body_keeps_it_and_trains_its_head_and_the_other_networks(tmp_path):
    write_preset(tmp_path / "p")
    model = pretrained.load(tmp_path / "p", freeze=("discriminator",))
    discriminator, generator = weights_of(model.discriminator), weights_of(model.generator)
    model.fit(tiny_data(model), epochs=1, verbose=0)
    assert changed(discriminator, weights_of(model.discriminator)) == {max(discriminator)}
    assert changed(generator, weights_of(model.generator)) == set(generator)
    with pytest.raises(ValueError, match="has no network 'critic' to freeze; its networks are: generator, discriminator"):
        pretrained.load(tmp_path / "p", freeze=("critic",))
    with pytest.raises(ValueError, match="must come before compile"):
        model.freeze_body("generator")


def test_ganzoo_train_from_a_preset_fine_tunes_it_on_other_data(shipped, tmp_path, capsys):
    recipe = {"model": "dcgan", "data": "fashion_mnist", "batch_size": 16, "epochs": 9, "seed": 0}
    preset, _ = shipped(tiny("dcgan", data_shape=(28, 28, 1)), name="dcgan/tiny28", recipe=recipe)
    out = tmp_path / "tuned"
    args = ["train", "--from-preset", "dcgan/tiny28", "--data", "mnist_5k", "--epochs", "1", "--steps-per-epoch", "3",
            "--freeze", "discriminator", "--out", str(out)]
    assert cli.main(args) == 0
    run = json.loads((out / "run.json").read_text())
    assert (run["from_preset"], run["freeze"], run["data"], run["batch_size"]) == ("dcgan/tiny28", ["discriminator"], "mnist_5k", 16)
    tuned = zoo.training.run.load_run(out)[0]
    start = weights_of(pretrained.load("dcgan/tiny28").discriminator)
    assert changed(start, weights_of(tuned.discriminator)) == {max(start)}
    assert changed(weights_of(preset.generator), weights_of(tuned.generator))
    # Data of another shape is refused before anything trains.
    assert cli.main(["train", "--from-preset", "dcgan/tiny28", "--data", "ring8", "--out", str(tmp_path / "x")]) == 2
    assert "models examples of shape (28, 28, 1); ring8 holds vectors of shape (2,)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_ganzoo_evaluate_and_plot_take_a_preset(shipped, tmp_path, capsys):
    shipped(tiny("dcgan", data_shape=(28, 28, 1)), name="dcgan/tiny28")
    out = tmp_path / "evaluation"
    assert cli.main(["evaluate", "pretrained:dcgan/tiny28", "--metrics", "score", "--n", "50", "--out", str(out)]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["dataset"] == "fashion_mnist" and report["command"].startswith("ganzoo evaluate pretrained:dcgan/tiny28")
    assert 1 <= report["metrics"]["score"]["samples"] <= 10
    # A preset is no folder to draw into: plot asks where.
    assert cli.main(["plot", "pretrained:dcgan/tiny28", "--kind", "latent"]) == 2
    assert "add --out DIR" in capsys.readouterr().err
