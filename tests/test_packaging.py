"""The package installs whole: every subpackage and the shipped data are in the wheel's list."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setuptools_config() -> dict:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed(setuptools_config):
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "argmine").rglob("__init__.py")
    }
    data_dirs = {"argmine.labelmaps"} | set(setuptools_config["package-dir"])
    assert on_disk | data_dirs == set(setuptools_config["packages"])


def test_model_and_corpus_folders_are_installed_inside_the_package(setuptools_config):
    mapped = setuptools_config["package-dir"]
    assert mapped == {"argmine._models": "models", "argmine._corpus": "corpus"}
    for folder in mapped.values():
        assert (ROOT / folder).is_dir(), folder
