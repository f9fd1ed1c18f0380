"""The distribution installs one import package, keras_gan_zoo, and works installed either way."""

import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

import keras_gan_zoo as zoo

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The repository's folders and where each lands inside the import package.
FOLDERS = {"zoo": "keras_gan_zoo", "training": "keras_gan_zoo/training", "export": "keras_gan_zoo/export",
           "serving": "keras_gan_zoo/serving"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Built from a copy, so that setuptools' build/ folder stays out of the checkout.
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, cwd=out,
    )
    (path,) = out.glob("keras_gan_zoo-*.whl")
    return path


def test_wheel_holds_exactly_one_top_level_package_and_every_module(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top_level == {"keras_gan_zoo"}
    expected = {
        f"{target}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, target in FOLDERS.items()
        for path in (ROOT / folder).rglob("*.py")
        if not (folder == "zoo" and path.relative_to(ROOT / folder).parts[0] in FOLDERS)
    }
    missing = expected - set(names)
    assert not missing, f"the wheel lacks {sorted(missing)}: list their packages in setup.cfg"
    assert any(n.startswith("keras_gan_zoo/weights/") and n.endswith(".weights.h5") for n in names)
    presets = {f"keras_gan_zoo/{path.relative_to(ROOT / 'zoo').as_posix()}"
               for path in (ROOT / "zoo" / "presets").rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert not presets - set(names), f"the wheel lacks preset files {sorted(presets - set(names))}: see setup.cfg"
    # What the wheel may weigh with its presets inside.
    assert wheel.stat().st_size < 80e6
    (top_level_txt,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as archive:
        assert "ganzoo = keras_gan_zoo.training.cli:run" in archive.read(top_level_txt).decode()


def test_the_regular_install_imports_from_site_packages_and_runs_the_command(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    # The target comes first on sys.path, ahead of the editable install's finder.
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = ("import keras_gan_zoo, keras_gan_zoo.training.cli as cli; print(keras_gan_zoo.__file__); "
            "cli.main(['list']); "
            "[print('preset', n, keras_gan_zoo.pretrained.load(n).sample(4).shape) for n in keras_gan_zoo.pretrained.list()]")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, capture_output=True,
                          text=True)
    first, *rest = done.stdout.splitlines()
    assert pathlib.Path(first).is_relative_to(target)
    assert any(line.startswith("gan ") for line in rest)
    # Every shipped preset loads and samples from the installed package, offline.
    loaded = [line.split()[1] for line in rest if line.startswith("preset ")]
    assert loaded == zoo.pretrained.list()


def test_the_editable_install_maps_the_repository_folders():
    from keras_gan_zoo import export, serving, training

    for module, folder in ((zoo, "zoo"), (training, "training"), (export, "export"), (serving, "serving")):
        assert pathlib.Path(module.__file__).parent == ROOT / folder
