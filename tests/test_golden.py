"""Each shipped model gives the same graphs as when the golden files were written (float32).

The golden files (tests/fixtures/golden/, written by ``write_golden.py`` there) hold each shipped
model's graphs of the ContactPoint article and the first CDCP dev comments. A refactoring that
changes what a model finds fails here. Scores may differ in the last float32 bits between
machines (thread counts change summation order), so numbers compare to 1e-6; everything else
compares exactly.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

import argmine
from argmine.hub.registry import installed_models

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden"
_spec = importlib.util.spec_from_file_location("write_golden", GOLDEN / "write_golden.py")
write_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(write_golden)

SHIPPED = installed_models()
TOLERANCE = 1e-6


def _base_available(name: str) -> bool:
    from argmine.hub.bases import base_available

    return base_available(name)


def _fetch_command(name: str) -> str:
    from argmine.hub.bases import KNOWN_BASES

    return KNOWN_BASES[name].fetch_command


@pytest.mark.parametrize("model", SHIPPED, ids=[m.name for m in SHIPPED])
def test_shipped_model_gives_the_golden_graphs(model):
    if not _base_available(model.base_model):
        pytest.skip(f"base {model.base_model} not fetched here: {_fetch_command(model.base_model)}")
    golden = json.loads(write_golden.golden_path(model.name).read_text(encoding="utf-8"))
    miner = argmine.load(model.name, precision="float32")
    texts = write_golden.golden_texts()
    assert len(golden) == len(texts)
    for text, expected in zip(texts, golden, strict=True):
        found = miner.parse(text).to_dict()
        difference = _first_difference(found, expected)
        assert difference is None, f"{model.name}: {difference}"


def _first_difference(found, expected, where: str = "graph") -> str | None:
    """Where two JSON values first differ (floats within TOLERANCE), or None."""
    if isinstance(expected, float) and isinstance(found, (int, float)):
        if math.isclose(found, expected, rel_tol=0, abs_tol=TOLERANCE):
            return None
        return f"{where}: {found!r} != {expected!r}"
    if type(found) is not type(expected):
        return f"{where}: {found!r} != {expected!r}"
    if isinstance(expected, dict):
        if found.keys() != expected.keys():
            return f"{where}: keys {sorted(found)} != {sorted(expected)}"
        pairs = [(found[k], expected[k], f"{where}.{k}") for k in expected]
    elif isinstance(expected, list):
        if len(found) != len(expected):
            return f"{where}: {len(found)} items != {len(expected)}"
        pairs = [
            (f, e, f"{where}[{i}]") for i, (f, e) in enumerate(zip(found, expected, strict=True))
        ]
    else:
        return None if found == expected else f"{where}: {found!r} != {expected!r}"
    return next((d for d in (_first_difference(*p) for p in pairs) if d), None)


def test_the_comparison_can_fail():
    """The comparison sees a changed score, type or count (a golden test that cannot fail is no
    test)."""
    graph = {"components": [{"type": "claim", "score": 0.5}], "relations": []}
    assert _first_difference(graph, graph) is None
    assert _first_difference({**graph, "relations": [{}]}, graph)
    rescored = {"components": [{"type": "claim", "score": 0.51}], "relations": []}
    retyped = {"components": [{"type": "evidence", "score": 0.5}], "relations": []}
    assert _first_difference(rescored, graph)
    assert _first_difference(retyped, graph)
