"""The registry is the single source: the README, the CLI help and the declarations agree with it.

A registered variant without a README row, or a README row, technique list or
help text that disagrees with the variants' own declarations, fails here.
"""

import pathlib
import re

import pytest

import keras_gan_zoo as zoo
from keras_gan_zoo import capabilities, techniques
from keras_gan_zoo.training import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def table_rows(heading_cell):
    """The rows of the README table whose header starts with `heading_cell`, as lists of cells."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading_cell} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def offering(technique):
    return {name for name in zoo.list_models() if technique in zoo.get_entry(name).cls.techniques}


def test_the_readme_model_table_has_one_row_per_registered_variant():
    names = [re.match(r"`(\w+)`", row[0]).group(1) for row in table_rows("name")]
    assert sorted(names) == zoo.list_models(), "add or remove the README row of each variant"
    for name in zoo.list_models():
        for alias in zoo.get_entry(name).aliases:
            row = next(r for r in table_rows("name") if r[0].startswith(f"`{name}`"))
            assert f"`{alias}`" in row[0], f"the README row of {name} does not name its alias {alias}"


@pytest.mark.parametrize("technique", techniques.ALL)
def test_the_readme_technique_table_lists_the_variants_that_declare_it(technique):
    row = next(r for r in table_rows("option") if r[0].startswith(f"`{technique}="))
    listed = {re.sub(r"\s*\(.*\)", "", name).strip() for name in row[-1].split(",")}
    assert listed == offering(technique), (
        f"README's {technique} row should list: {', '.join(sorted(offering(technique)))}")


def test_declarations_use_the_known_vocabulary():
    for name, options in zoo.registry.all_cases():
        model = zoo.create(name, **{**zoo.get_entry(name).tiny, **options})
        assert model.techniques <= set(techniques.ALL), name
        assert model.capabilities <= set(capabilities.ALL), name
        assert capabilities.SAMPLE in model.capabilities, f"{name} must at least sample"


def test_the_packing_flag_help_names_the_variants_that_pack():
    help_text = " ".join(cli.parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    assert f"({', '.join(sorted(offering('packing')))})" in help_text


def test_no_file_in_the_library_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "zoo").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"split by concern: {long}"


def test_every_module_of_the_variant_packages_registers_one_variant_found_without_a_list():
    registered = {zoo.get_entry(name).cls.__module__ for name in zoo.list_models()}
    for package in ("gans", "autoencoders"):
        for path in sorted((ROOT / "zoo" / package).glob("*.py")):
            if path.stem != "__init__":
                assert f"keras_gan_zoo.{package}.{path.stem}" in registered, f"{path} registers no variant"
    assert {cls.__name__ for cls in (zoo.get_entry(n).cls for n in zoo.list_models())} <= set(zoo.__all__)
