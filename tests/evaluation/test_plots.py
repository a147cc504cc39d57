"""Evaluation you can see: the diagnostics behind the plots (hand-made cases), and
``argmine evaluate --plots`` with the tiny model (files, model card, errors)."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import assert_one_line_error

from argmine.cli import main
from argmine.corpus.records import write_jsonl
from argmine.evaluation import given_units_scores
from argmine.evaluation.diagnostics import (
    confusion,
    counterfactual_confusion,
    link_diagnostics,
    precision_recall_by_min_score,
    proposition_type_confusion,
    reliability_table,
)
from argmine.graph import ArgumentGraph, Component, Relation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------- the numbers
def test_reliability_bins_by_hand():
    scores = [0.05, 0.15, 0.12, 0.95, 1.0, 0.55]
    correct = [False, True, False, True, True, False]
    table = reliability_table(scores, correct, bins=10)
    counts = [b["count"] for b in table["bins"]]
    assert counts == [1, 2, 0, 0, 0, 1, 0, 0, 0, 2]  # a score of 1.0 is in the last bin
    first, second, sixth, last = (table["bins"][k] for k in (0, 1, 5, 9))
    assert (first["lower"], first["upper"]) == (0.0, 0.1)
    assert first["accuracy"] == 0 and first["mean_score"] == pytest.approx(0.05)
    assert second["accuracy"] == 0.5 and second["mean_score"] == pytest.approx(0.135)
    assert sixth["accuracy"] == 0 and last["accuracy"] == 1
    assert last["mean_score"] == pytest.approx(0.975)
    assert table["bins"][2]["accuracy"] is None and table["links"] == 6
    # (1 * 0.05 + 2 * 0.365 + 1 * 0.55 + 2 * 0.025) / 6
    assert table["expected_calibration_error"] == pytest.approx(1.38 / 6)


def test_precision_recall_by_min_score_by_hand():
    rows = precision_recall_by_min_score(
        [0.9, 0.6, 0.3, 0.2], [True, False, True, False], gold_links=4, min_scores=[0.5, 0.0, 0.95]
    )
    assert [r["min_score"] for r in rows] == [0.0, 0.5, 0.95]
    assert (rows[0]["precision"], rows[0]["recall"]) == (0.5, 0.5)
    assert (rows[1]["precision"], rows[1]["recall"]) == (0.5, 0.25)
    assert (rows[2]["precision"], rows[2]["recall"], rows[2]["f1"]) == (0.0, 0.0, 0.0)


def test_confusion_counts_gold_rows_and_predicted_columns():
    table = confusion(
        ["claim", "claim", "evidence", "conclusion"],
        ["claim", "evidence", "evidence", "odd"],
        ["conclusion", "claim", "evidence"],
    )
    assert table["labels"] == ["conclusion", "claim", "evidence", "odd"]  # unknown ones last
    assert table["matrix"] == [[0, 0, 0, 1], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]


def _graph(text: str, units: list[tuple[int, int]], relations=(), **attributes) -> ArgumentGraph:
    components = [
        Component(f"c{i}", a, b, text[a:b], "claim", attributes=dict(attributes.get(f"c{i}", {})))
        for i, (a, b) in enumerate(units)
    ]
    return ArgumentGraph(text, components, [Relation(*r) for r in relations])


TEXT = "Ban cars. Cars pollute. Buses are fine."
UNITS = [(0, 8), (10, 22), (24, 38)]


def test_link_diagnostics_match_link_f1_at_the_models_min_score():
    gold = [_graph(TEXT, UNITS, [("c1", "c0", "support"), ("c2", "c0", "support")])]
    every = [
        _graph(TEXT, UNITS, [("c1", "c0", "support", 0.8), ("c0", "c2", "attack", 0.45)]),
    ]
    links = link_diagnostics(gold, every, min_score=0.5)
    assert links["gold_links"] == 2 and links["min_score"] == 0.5
    assert links["reliability"]["bins"][8]["accuracy"] == 1.0  # 0.8: a gold link
    assert links["reliability"]["bins"][4]["accuracy"] == 0.0  # 0.45: reversed, not gold
    at_model = next(r for r in links["precision_recall"] if r["min_score"] == 0.5)
    kept = [_graph(TEXT, UNITS, [("c1", "c0", "support", 0.8)])]
    assert {k: at_model[k] for k in ("precision", "recall", "f1")} == {
        k: given_units_scores(gold, kept)["link"][k] for k in ("precision", "recall", "f1")
    }


def test_proposition_and_counterfactual_confusion():
    gold_labels = {"c0": "policy", "c1": "fact", "c2": "other"}  # "other": not the model's
    predicted_labels = {"c0": "policy", "c1": "value", "c2": "fact"}
    gold = [_graph(TEXT, UNITS, **{c: {"native_label": v} for c, v in gold_labels.items()})]
    pred = [
        _graph(TEXT, UNITS, **{c: {"proposition_type": v} for c, v in predicted_labels.items()})
    ]
    table = proposition_type_confusion(gold, pred, ["fact", "policy", "reference", "value"])
    assert table["labels"] == ["fact", "policy", "value"]  # reference: in neither
    assert table["matrix"] == [[0, 0, 1], [0, 1, 0], [0, 0, 0]]
    assert proposition_type_confusion(gold, pred, []) is None

    sentence = "If it had rained, we would have stayed."

    def semeval(actual: bool, subtasks: list[int]) -> ArgumentGraph:
        metadata = {"annotates": "counterfactual", "counterfactual": actual, "subtasks": subtasks}
        return ArgumentGraph(sentence, [], [], metadata)

    def predicted(found: bool) -> ArgumentGraph:
        return _graph(sentence, [(0, len(sentence))], c0={"counterfactual": found})

    gold = [semeval(True, [1]), semeval(True, [1]), semeval(False, [1]), semeval(True, [2])]
    pred = [predicted(True), predicted(False), predicted(True), predicted(False)]
    assert counterfactual_confusion(gold, pred) == {
        "labels": ["other", "counterfactual"],
        "matrix": [[0, 1], [1, 1]],  # the subtask-2 sentence is not a detection sentence
    }


# ---------------------------------------------------------------------------- the command
@pytest.fixture
def matplotlib():
    return pytest.importorskip("matplotlib", reason="the plots need the plots extra")


@pytest.fixture
def corpus(tmp_path, tiny_graphs):
    path = tmp_path / "mine.jsonl"
    write_jsonl(tiny_graphs, path)
    return path


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and 5_000 < len(data) < 200_000, (path, len(data))


def assert_svg(path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_evaluate_with_plots_writes_pngs_and_svgs(
    matplotlib, shared_miner, tiny_model_dir, tiny_graphs, corpus, tmp_path, capsys
):
    plots, scores_file = tmp_path / "plots", tmp_path / "scores.json"
    args = ["evaluate", "--model", str(tiny_model_dir), "--corpus", str(corpus)]
    assert main([*args, "--plots", str(plots), "--json", str(scores_file)]) == 0
    assert "plot files in" in capsys.readouterr().out
    scores = json.loads(scores_file.read_text())

    expected = ["confusion-component-type", "link-reliability", "link-precision-recall"]
    assert sorted(p.name for p in plots.iterdir()) == sorted(
        f"mine.jsonl-all-{plot}.{fmt}" for plot in expected for fmt in ("png", "svg")
    )
    for plot in expected:
        assert_png(plots / f"mine.jsonl-all-{plot}.png")
        assert_svg(plots / f"mine.jsonl-all-{plot}.svg")

    # the numbers drawn are those of the same predictions as the scores
    diagnostics = scores["diagnostics"]
    matrix = diagnostics["confusion"]["component_type"]["matrix"]
    assert sum(map(sum, matrix)) == sum(len(g.components) for g in tiny_graphs)
    links = diagnostics["links"]
    assert links["min_score"] == shared_miner.config.min_link_score
    at_model = next(r for r in links["precision_recall"] if r["min_score"] == links["min_score"])
    link = scores["given_units"]["link"]
    assert (at_model["precision"], at_model["recall"]) == (link["precision"], link["recall"])
    # ... and the given-units scores are those of a plain parse (the model's min_score)
    units = [[(c.start, c.end) for c in g] for g in tiny_graphs]
    plain = list(shared_miner.pipe([g.text for g in tiny_graphs], segments=units))
    assert scores["given_units"]["link"] == given_units_scores(tiny_graphs, plain)["link"]


def test_model_card_shows_the_plots_and_drops_stale_ones(
    matplotlib, tiny_model_dir, corpus, tmp_path, capsys
):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    args = ["evaluate", "--model", str(model), "--corpus", str(corpus), "--model-card"]
    assert main([*args, "--plots"]) == 0
    card = (model / "README.md").read_text()
    links = [line for line in card.splitlines() if line.startswith("[![")]
    assert len(links) == 3
    for line in links:  # [![caption](plots/x.png)](plots/x.svg), relative to the card
        png, svg = line.split("](")[1].split(")")[0], line.rsplit("(", 1)[1].rstrip(")")
        assert png.startswith("plots/mine.jsonl-all-") and (model / png).is_file()
        assert (model / svg).is_file() and svg == png.removesuffix(".png") + ".svg"
    assert "expected calibration error" in card
    assert "--model-card --plots`" in card  # the command that drew them

    assert main(args) == 0  # evaluated again without --plots: the old plots would mislead
    assert not list((model / "plots").iterdir())
    assert "[![" not in (model / "README.md").read_text()


def test_plots_option_errors(tiny_model_dir, corpus, tmp_path, capsys, monkeypatch):
    base = ["evaluate", "--model", str(tiny_model_dir), "--corpus", str(corpus)]
    assert_one_line_error(main([*base, "--plots"]), capsys.readouterr().err, "--plots needs")
    config = tmp_path / "cv.json"
    config.write_text("{}")
    code = main([*base, "--plots", str(tmp_path), "--cross-validate", str(config)])
    assert_one_line_error(code, capsys.readouterr().err, "--cross-validate")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # not installed
    code = main([*base, "--plots", str(tmp_path / "p")])
    assert_one_line_error(code, capsys.readouterr().err, "pip install 'argmine[plots]'")
    assert not (tmp_path / "p").exists()
