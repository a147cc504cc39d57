"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing
included file or an unknown API name fails it), documents the public API by its public names
and includes the model cards as they are in ``models/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")
pytest.importorskip("material")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    result = subprocess.run(build, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_api_reference_documents_the_public_names(site):
    miner = page(site, "reference/miner")
    for anchor in ("argmine.load", "argmine.ArgumentMiner", "argmine.ArgumentMiner.parse"):
        assert f'id="{anchor}"' in miner
    assert 'id="argmine.ArgumentMiner.pipe"' in miner
    assert 'id="argmine.graph.ArgumentGraph"' in page(site, "reference/graph")
    spacy_api = page(site, "reference/integrations")
    assert 'id="argmine.integrations.spacy.ArgumentMinerComponent"' in spacy_api
    assert ":class:`" not in miner + spacy_api  # Sphinx roles became links or code


@pytest.mark.parametrize("model", ["argmine-minilm-policy", "argmine-mpnet-policy"])
def test_model_cards_are_included_from_models(site, model):
    card = (ROOT / "models" / model / "README.md").read_text(encoding="utf-8")
    title = card.splitlines()[0].removeprefix("# ")
    assert title in page(site, f"models/{model}")


def test_every_page_of_the_nav_is_built(site):
    for name in ("getting-started", "cli", "server", "spacy", "training", "graph-schema"):
        assert (site / name / "index.html").is_file()
    assert "flowchart TD" in page(site, "architecture")  # the Mermaid picture
