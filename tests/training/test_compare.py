"""Comparing two recipes on seed means (training/compare.py): statistics, reuse, the report."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from argmine.corpus.records import write_jsonl
from argmine.training import compare as comparison
from argmine.training.compare import (
    CompareOptions,
    RecipeRuns,
    markdown_table,
    paired_bootstrap,
    paired_difference,
    spread,
    summarize,
)

ROOT = Path(__file__).resolve().parents[2]


def test_spread_and_paired_difference_with_a_t_interval():
    s = spread([0.30, 0.36, 0.33])
    assert s["mean"] == pytest.approx(0.33) and (s["min"], s["max"]) == (0.30, 0.36)
    assert s["sd"] == pytest.approx(0.03)
    d = paired_difference([0.30, 0.36, 0.33], [0.32, 0.40, 0.36])
    assert d["per_seed"] == pytest.approx([0.02, 0.04, 0.03])
    # mean 0.03, sd 0.01, t(0.975, 2) = 4.303: half-width 4.303 * 0.01 / sqrt(3)
    half = 4.302653 * 0.01 / math.sqrt(3)
    assert d["t_interval_95"] == pytest.approx([0.03 - half, 0.03 + half], abs=1e-6)
    assert paired_difference([0.3], [0.4])["t_interval_95"] is None
    assert spread([0.5])["sd"] is None


def test_paired_bootstrap_over_documents_pooled_across_seeds():
    # two seeds, four documents, one class: [tp, predicted, gold]
    a = [[[[1, 2, 2]], [[0, 1, 1]], [[1, 1, 2]], [[0, 2, 1]]]] * 2
    assert paired_bootstrap(a, a, samples=200) == [0.0, 0.0]
    better = [[[[2, 2, 2]], [[1, 1, 1]], [[2, 2, 2]], [[1, 1, 1]]]] * 2
    low, high = paired_bootstrap(a, better, samples=200)
    assert 0 < low <= high <= 1


def test_summary_table_and_the_primary_measure():
    options = CompareOptions(measures=("link_f1", "component_macro_f1"), cv=False)
    a = RecipeRuns("plain", "a.json", [13, 14], ["r/13", "r/14"])
    a.scores = [
        {"link_f1": 0.30, "component_macro_f1": 0.60},
        {"link_f1": 0.36, "component_macro_f1": 0.62},
    ]
    b = RecipeRuns("distilled", "b.json", [13, 14], ["s/13", "s/14"])
    b.scores = [
        {"link_f1": 0.34, "component_macro_f1": 0.60},
        {"link_f1": 0.38, "component_macro_f1": 0.64},
    ]
    a.counts = b.counts = [{}, {}]
    record = summarize(a, b, options)
    rows = {row["measure"]: row for row in record["measures"]}
    assert rows["primary"]["a"]["values"] == pytest.approx([0.45, 0.49])
    assert rows["link_f1"]["difference"]["per_seed"] == pytest.approx([0.04, 0.02])
    assert comparison.choose(record) == "b"
    table = markdown_table(record)
    assert "| CDCP dev, given units: link F1 | 0.330 (0.300 to 0.360, sd 0.042) |" in table
    assert "+0.040 / +0.020 | +0.030 (" in table


def test_options_reject_unknown_measures_and_an_empty_selection():
    with pytest.raises(ValueError, match="unknown measure"):
        CompareOptions(measures=("link_F1",))
    with pytest.raises(ValueError, match="no measure left"):
        CompareOptions(measures=("central_claim_macro_f1",), cv=False)


TINY_RECIPE = {
    "version": "0.0.1",
    "encoder_layers": 1,
    "max_steps": 2,
    "batch_size": 2,
    "log_every": 100,
    "loss_weights": {"tags": 1, "types": 1, "links": 1},
}


def _recipes(tmp_path: Path, tiny_graphs) -> tuple[Path, Path, Path]:
    corpus = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_graphs, corpus)
    paths = []
    for name, head_lr in (("plain", 1e-3), ("faster", 3e-3)):
        recipe = dict(TINY_RECIPE, name=name, head_lr=head_lr, train=[str(corpus)])
        recipe["dev"] = [str(corpus)]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(recipe))
        paths.append(path)
    return paths[0], paths[1], corpus


@pytest.mark.slow
def test_compare_trains_each_seed_once_and_a_rerun_reuses_models_and_scores(
    tmp_path, tiny_graphs, monkeypatch, capsys
):
    sys.path.insert(0, str(ROOT / "training"))
    import compare as script  # training/compare.py

    a, b, corpus = _recipes(tmp_path, tiny_graphs)
    tiny = {"cdcp": (str(corpus), None)}
    monkeypatch.setattr(comparison, "CORPORA", {**comparison.CORPORA, **tiny})
    args = [str(a), str(b), "--seeds", "2", "--first-seed", "5", "--skip-cv"]
    args += ["--root", str(tmp_path / "runs"), "--measures", "link_f1", "component_macro_f1"]
    assert script.main(args) == 0
    out = capsys.readouterr().out
    trained = [line.split(":")[0] for line in out.splitlines() if ": training (seed" in line]
    runs = tmp_path / "runs"
    order = [
        runs / "plain" / "5",
        runs / "faster" / "5",
        runs / "plain" / "6",
        runs / "faster" / "6",
    ]
    assert trained == [str(folder) for folder in order]  # paired seeds alternate
    for recipe in ("plain", "faster"):
        for seed in (5, 6):
            folder = tmp_path / "runs" / recipe / str(seed)
            assert json.loads((folder / "training_config.json").read_text())["seed"] == seed
            assert (folder / comparison.SCORES_NAME).is_file()
    record = json.loads((tmp_path / "runs" / "plain-vs-faster.json").read_text())
    assert [row["measure"] for row in record["measures"]] == [
        "link_f1",
        "component_macro_f1",
        "primary",
    ]
    assert record["a"]["seeds"] == [5, 6]
    assert "bootstrap_95" in record["measures"][0]["difference"]
    assert "| CDCP dev, given units: link F1 |" in out

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    def no_loading(*args, **kwargs):
        raise AssertionError("cached scores were computed again")

    import argmine
    import argmine.training.loop

    monkeypatch.setattr(argmine.training.loop, "train", no_training)
    monkeypatch.setattr(argmine, "load", no_loading)
    assert script.main(args) == 0
    assert "reusing the model" in capsys.readouterr().out
    again = json.loads((tmp_path / "runs" / "plain-vs-faster.json").read_text())
    assert again["measures"] == record["measures"]


@pytest.mark.slow
def test_compare_cross_validates_microtexts_per_seed(tmp_path, tiny_graphs):
    a, b, corpus = _recipes(tmp_path, tiny_graphs)
    options = CompareOptions(
        seeds=1,
        root=tmp_path / "runs",
        measures=("central_claim_macro_f1", "attachment_macro_f1"),
        folds=2,
        cv_alone=True,
        corpora={"microtexts": (str(corpus), None)},
        log=lambda line: None,
    )
    record = comparison.compare(a, b, options)
    assert {row["measure"] for row in record["measures"]} == {
        "central_claim_macro_f1",
        "attachment_macro_f1",
        "primary",
    }
    for k in (1, 2):
        fold = tmp_path / "runs" / "plain" / "13" / "cv" / f"fold-{k}" / "model"
        assert (fold / "model.safetensors").is_file()
    assert (tmp_path / "runs" / "plain" / "13" / "cv" / "scores.json").is_file()


def _canned_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    return folder


def test_two_model_folders_are_compared_on_the_same_documents(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "training"))
    import compare as script  # training/compare.py

    # three documents, one class: [tp, predicted, gold]; B finds one more link than A
    counts = {
        "shipped": [[[1, 2, 2]], [[0, 1, 1]], [[1, 1, 1]]],
        "soup": [[[2, 2, 2]], [[0, 1, 1]], [[1, 1, 1]]],
    }
    link_f1 = {"shipped": 0.5, "soup": 0.75}

    def canned_scores(folder, options, precision="float32"):
        name = Path(folder).name
        return {"link_f1": link_f1[name]}, {"link_f1": counts[name]}

    monkeypatch.setattr(comparison, "score_model", canned_scores)
    a = _canned_model(tmp_path / "shipped")
    b = _canned_model(tmp_path / "soup")
    out = tmp_path / "report"
    args = [str(a), str(b), "--skip-cv", "--measures", "link_f1", "-o", str(out)]
    assert script.main(args) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    row = record["measures"][0]
    assert row["difference"]["per_seed"] == pytest.approx([0.25])
    assert row["difference"]["t_interval_95"] is None  # one model a side: no seed interval
    assert row["difference"]["bootstrap_95"] is not None
    assert record["chosen"] == str(b)
    table = out.with_suffix(".md").read_text()
    assert f"A = `{a}`, B = `{b}`" in table
    assert "| measure | A | B | B - A | B - A paired bootstrap 95% |" in table
    assert "| CDCP dev, given units: link F1 | 0.500 | 0.750 | +0.250 | " in table
    assert "the higher primary measure" in capsys.readouterr().out


def test_one_model_against_the_seeds_of_a_recipe(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "training"))
    import compare as script  # training/compare.py

    link_f1 = {"shipped": 0.5, "13": 0.75, "14": 0.5, "15": 0.25}

    def canned_scores(folder, options, precision="float32"):
        name = Path(folder).name
        return {"link_f1": link_f1[name]}, {"link_f1": [[[1, 2, 2]], [[0, 1, 1]]]}

    monkeypatch.setattr(comparison, "score_model", canned_scores)
    a = _canned_model(tmp_path / "shipped")
    seeds = [_canned_model(tmp_path / "stage" / seed) for seed in ("13", "14", "15")]
    out = tmp_path / "report"
    args = [str(a), *map(str, seeds), "--skip-cv", "--measures", "link_f1", "-o", str(out)]
    assert script.main(args) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    row = record["measures"][0]
    assert row["difference"]["per_seed"] == pytest.approx([0.25, 0.0, -0.25])
    assert row["difference"]["t_interval_95"] is not None  # three pairs: a seed interval
    assert row["b"]["sd"] == pytest.approx(0.25) and row["a"]["values"] == [0.5]
    assert record["b"]["folders"] == list(map(str, seeds)) and record["b"]["name"] == "stage"
    table = out.with_suffix(".md").read_text()
    assert "| CDCP dev, given units: link F1 | 0.500 (one model) | 0.500 (0.250 to 0.750" in table
    assert record["chosen"] == str(a)  # no gain on the mean: A stays
    with pytest.raises(SystemExit):  # seeds as configs: a recipe comparison trains its own
        config = tmp_path / "recipe.json"
        config.write_text("{}")
        script.main([str(a), str(config), str(config), "--skip-cv"])


def test_one_model_in_two_precisions(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "training"))
    import compare as script  # training/compare.py

    counts = {"float32": [[[1, 1, 1]], [[1, 1, 1]]], "int8": [[[0, 1, 1]], [[1, 1, 1]]]}
    asked = []

    def canned_scores(folder, options, precision="float32"):
        asked.append(precision)
        return {"link_f1": 1.0 if precision == "float32" else 0.5}, {"link_f1": counts[precision]}

    monkeypatch.setattr(comparison, "score_model", canned_scores)
    model = _canned_model(tmp_path / "model")
    out = tmp_path / "report"
    args = [str(model), str(model), "--skip-cv", "--measures", "link_f1", "-o", str(out)]
    assert script.main([*args, "--precisions", "float32", "int8"]) == 0
    assert asked == ["float32", "int8"]
    record = json.loads(out.with_suffix(".json").read_text())
    assert (record["a"]["name"], record["b"]["name"]) == ("model", "model (int8)")
    assert record["chosen"] is None
    assert record["measures"][0]["difference"]["per_seed"] == pytest.approx([-0.5])
    with pytest.raises(SystemExit):  # recipes train in float32: no precisions for them
        config = tmp_path / "recipe.json"
        config.write_text("{}")
        script.main([str(config), str(config), "--skip-cv", "--precisions", "float32", "int8"])


def test_a_config_against_a_model_folder_is_refused(tmp_path, tiny_graphs):
    sys.path.insert(0, str(ROOT / "training"))
    import compare as script  # training/compare.py

    config, _, _ = _recipes(tmp_path, tiny_graphs)
    model = _canned_model(tmp_path / "model")
    with pytest.raises(SystemExit):
        script.main([str(config), str(model), "--skip-cv"])
    with pytest.raises(ValueError, match="cross-validation"):
        comparison.compare_models(model, model, CompareOptions(cv=True))
