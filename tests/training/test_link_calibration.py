"""Link calibration: Platt scaling of decoded links, stored in the model, applied by decoding."""

from __future__ import annotations

import json
import math

import pytest
import torch

from argmine.hub.folders import ModelLoadError
from argmine.model.config import ModelConfig
from argmine.model.relations import LinkCalibration, LinkScores, decode_relations, link_features
from argmine.training.calibration import (
    DecodedLinks,
    calibration_documents,
    calibration_error,
    cross_fitted_scores,
    decoded_links,
    fit_link_calibration,
)

CALIBRATION = {"features": ["logit_score", "log_candidates"], "coef": [0.9, 0.3], "intercept": -1.7}
GENTLE = {"features": ["logit_score", "log_candidates"], "coef": [0.1, 0.3], "intercept": -1.7}
"""Moves even the tiny model's scores of 1.0 (logit 13.8 at the clamp) to about 0.5."""


def _random_scores(n: int = 12, seed: int = 0) -> LinkScores:
    from argmine.model.relations import candidate_targets

    generator = torch.Generator().manual_seed(seed)
    candidates, valid = candidate_targets(n)
    link = 3 * torch.randn(n, candidates.shape[1] + 1, generator=generator)
    link[:, :-1] = link[:, :-1].masked_fill(~valid, -1e4)
    kinds = torch.randn(n, candidates.shape[1], 2, generator=generator)
    return LinkScores(candidates, valid, link, kinds)


@pytest.mark.parametrize("seed", range(5))
def test_calibration_changes_scores_never_links(seed):
    scores = _random_scores(seed=seed)
    raw = decode_relations(scores, none_weight=0.25, temperature=1.3)
    calibrated = decode_relations(scores, 0.25, 1.3, CALIBRATION)
    assert raw and [r[:3] for r in raw] == [c[:3] for c in calibrated]
    assert [r[3] for r in raw] != [c[3] for c in calibrated]
    assert all(0.0 <= c[3] <= 1.0 for c in calibrated)


def test_calibrated_scores_stay_in_the_unit_interval_for_extreme_coefficients():
    scores = _random_scores(seed=1)
    for coef in (-1e6, 1e6):
        extreme = {"features": ["logit_score"], "coef": [coef], "intercept": 1e6}
        assert all(0.0 <= c[3] <= 1.0 for c in decode_relations(scores, 0.25, 1.0, extreme))


def test_the_calibration_is_platt_scaling_of_the_named_features():
    scores = _random_scores(seed=2)
    decoded = decode_relations(scores, 0.25)
    rows = link_features(scores, decoded)
    calibrated = decode_relations(scores, 0.25, calibration=CALIBRATION)
    for row, (*_, p) in zip(rows, calibrated, strict=True):
        z = (
            -1.7
            + 0.9 * math.log(row["score"] / (1 - row["score"]))
            + 0.3 * math.log(row["candidates"])
        )
        assert p == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-6)
        assert row["candidates"] == 11  # every other unit of 12


def test_a_config_round_trips_the_calibration_and_older_configs_load_unchanged():
    config = ModelConfig(name="m", link_calibration=CALIBRATION)
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again.link_calibration == LinkCalibration.from_dict(CALIBRATION).to_dict()
    assert again.decoding().link_calibration == again.link_calibration
    old = ModelConfig.from_dict({"name": "old", "none_weight": 0.25})
    assert old.link_calibration is None and old.decoding().link_calibration is None
    assert "link_calibration" not in {"name": "old"}  # nothing else is needed to load it


@pytest.mark.parametrize(
    "broken",
    [
        {"features": ["no_such_feature"], "coef": [1.0], "intercept": 0.0},
        {"features": ["logit_score"], "coef": [1.0, 2.0], "intercept": 0.0},
        {"features": ["logit_score"], "coef": [1.0]},
    ],
)
def test_a_broken_calibration_is_refused_on_load(broken, tiny_model_dir, tmp_path):
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "link_calibration": broken}))
    with pytest.raises(ModelLoadError, match="link calibration"):
        import argmine

        argmine.load(str(folder))


def test_a_saved_model_keeps_its_calibration_and_its_links(tiny_miner, tiny_graphs, tmp_path):
    import argmine

    text = tiny_graphs[0].text
    segments = [(c.start, c.end) for c in tiny_graphs[0]]
    raw = tiny_miner.parse(text, segments=segments, min_score=0.0)
    folder = tmp_path / "calibrated"
    tiny_miner.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    assert config["link_calibration"] is None  # the tiny model was never calibrated
    (folder / "config.json").write_text(json.dumps({**config, "link_calibration": GENTLE}))
    loaded = argmine.load(str(folder))
    assert loaded.config.link_calibration == GENTLE
    calibrated = loaded.parse(text, segments=segments, min_score=0.0)
    assert raw.relations, "the tiny model should link something"
    pairs = [(r.source, r.target, r.type) for r in raw.relations]
    assert pairs == [(r.source, r.target, r.type) for r in calibrated.relations]
    assert all(0.0 <= r.score <= 1.0 for r in calibrated.relations)
    assert [r.score for r in raw.relations] != [r.score for r in calibrated.relations]
    loaded.save_pretrained(tmp_path / "again")
    saved = json.loads((tmp_path / "again" / "config.json").read_text())
    assert saved["link_calibration"] == GENTLE


def _synthetic_links(scale: float = 3.0, links: int = 600) -> DecodedLinks:
    """Links whose raw scores are ``scale`` times too sure (in logits) of being right."""
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(links, generator=generator)
    right = (torch.rand(links, generator=generator) < z.sigmoid()).tolist()
    features = [
        {"score": float((scale * v).sigmoid()), "link": 0.5, "none": 0.5, "candidates": 4.0}
        for v in z
    ]
    return DecodedLinks(features, right, [k // 6 for k in range(links)], links // 6)


def test_platt_scaling_undoes_overconfidence_cross_fitted():
    links = _synthetic_links()
    fitted = fit_link_calibration(links, ["logit_score"], c=1e4)
    assert fitted["coef"][0] == pytest.approx(1 / 3, abs=0.1)
    groups = [d % 5 for d in range(links.documents)]
    crossed = cross_fitted_scores(links, groups, ["logit_score"])
    raw = [f["score"] for f in links.features]
    before = calibration_error(raw, links.correct, links.document, links.documents, samples=50)
    after = calibration_error(crossed, links.correct, links.document, links.documents, samples=50)
    assert after["ece"] < before["ece"] / 2 and after["log_loss"] < before["log_loss"]
    low, high = after["ece_95"]
    assert 0 <= low <= high <= 1


def test_nothing_to_fit_when_every_link_is_right():
    links = DecodedLinks([{"score": 0.9, "link": 0.9, "none": 0.1, "candidates": 2.0}], [True],
                         [0], 1)  # fmt: skip
    assert fit_link_calibration(links) is None


def test_calibration_documents_group_a_joined_text_with_its_parts(tiny_graphs):
    from argmine.evaluation.lengths import joined_documents

    parts = [tiny_graphs[k % 2] for k in range(40)]
    parts = [type(g)(g.text, g.components, g.relations, {**g.metadata, "id": f"d{k}"})
             for k, g in enumerate(parts)]  # fmt: skip
    documents, groups, joined = calibration_documents(parts)
    long = joined_documents(parts)
    assert documents[len(parts) :] == long and sum(joined) == len(long) >= 1
    for k, text in enumerate(long):
        members = [i for i, g in enumerate(parts) if g.metadata["id"] in text.metadata["joined"]]
        assert {groups[i] for i in members} == {groups[len(parts) + k]} == {k}


def test_decoded_links_are_the_links_parse_finds(tiny_miner, tiny_graphs):
    found = decoded_links(tiny_miner, tiny_graphs)
    parsed = [
        tiny_miner.parse(g.text, segments=[(c.start, c.end) for c in g], min_score=0.0)
        for g in tiny_graphs
    ]
    assert [round(f["score"], 4) for f in found.features] == [
        r.score for g in parsed for r in sorted(g.relations, key=_order(g))
    ]
    assert len(found.correct) == len(found.document) == len(found.features)


def _order(graph):
    position = {c.id: i for i, c in enumerate(graph)}
    return lambda r: (position[r.source], position[r.target])


def test_the_card_says_when_link_scores_are_calibrated():
    from argmine.hub.cards import _reliability_note

    reliability = {"expected_calibration_error": 0.09}
    links = {"reliability": reliability, "min_score": 0.0, "link_calibration": CALIBRATION}
    assert "calibrated" in _reliability_note({"diagnostics": {"links": links}})
    raw = {**links, "link_calibration": None}
    assert "P(link) x P(type | link)" in _reliability_note({"diagnostics": {"links": raw}})


@pytest.mark.slow
def test_training_fits_the_link_calibration_after_the_temperature(calibrated_run):
    miner, lines, folder = calibrated_run
    temperature = [n for n, line in enumerate(lines) if line.startswith("link temperature")]
    fitted = [n for n, line in enumerate(lines) if line.startswith("link calibration")]
    assert temperature and fitted and temperature[0] < fitted[0]
    saved = json.loads((folder / "config.json").read_text())
    assert saved["link_calibration"] == miner.config.link_calibration
    if saved["link_calibration"] is not None:  # both outcomes among the dev links
        assert any(line.startswith("min_link_score -> dev link F1 on calibrated") for line in lines)
