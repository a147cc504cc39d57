"""Link calibration: a temperature fitted on dev by NLL, stored in the model, used by decoding."""

from __future__ import annotations

import json

import pytest
import torch

from argmine.model.config import ModelConfig
from argmine.model.relations import LinkScores, decode_relations
from argmine.training.calibration import (
    fit_link_temperature,
    link_calibration_error,
    link_nll,
)


def _overconfident_links(scale: float = 4.0, units: int = 2000) -> list:
    """Units whose gold target is drawn from softmax(z) over 3 candidates and "none", scored
    with logits ``scale * z``: a scorer ``scale`` times too sure of itself."""
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(units, 4, generator=generator)
    gold = torch.multinomial(z.softmax(-1), 1, generator=generator).squeeze(1)
    target = torch.nn.functional.one_hot(gold, 4).float()
    return [(scale * z[k : k + 20], target[k : k + 20]) for k in range(0, units, 20)]


def test_the_fitted_temperature_undoes_overconfidence_and_lowers_nll_and_ece():
    pairs = _overconfident_links()
    temperature = fit_link_temperature(pairs)
    assert 3.0 < temperature < 5.0  # about the factor the scores were sharpened by
    assert link_nll(pairs, temperature) < link_nll(pairs) - 0.3
    before, after = link_calibration_error(pairs), link_calibration_error(pairs, temperature)
    assert after < before / 2 and after < 0.05


def test_a_calibrated_scorer_keeps_temperature_one():
    pairs = _overconfident_links(scale=1.0)
    assert fit_link_temperature(pairs) == pytest.approx(1.0, abs=0.15)
    assert fit_link_temperature([]) == 1.0


def test_decoding_divides_the_link_logits_by_the_temperature():
    # two units, each with the other as its one candidate and "none"
    scores = LinkScores(
        candidates=torch.tensor([[1], [0]]),
        valid=torch.tensor([[True], [True]]),
        link=torch.tensor([[4.0, 0.0], [-4.0, 0.0]]),
        kinds=torch.tensor([[[5.0, -5.0]], [[5.0, -5.0]]]),
    )
    (sharp,) = decode_relations(scores)
    (soft,) = decode_relations(scores, temperature=4.0)
    assert sharp[:3] == soft[:3] == (0, 1, "support")
    assert soft[3] < sharp[3]
    assert soft[3] == pytest.approx(torch.tensor([1.0, 0.0]).softmax(0)[0].item(), abs=1e-3)


def test_older_models_decode_as_before():
    assert ModelConfig.from_dict({"name": "old"}).link_temperature == 1.0


@pytest.mark.slow
def test_training_fits_the_link_temperature_on_dev_before_choosing_min_score(calibrated_run):
    miner, lines, folder = calibrated_run
    fitted = [n for n, line in enumerate(lines) if line.startswith("link temperature ")]
    chosen = [n for n, line in enumerate(lines) if line.startswith("none_weight, min_link_score")]
    assert fitted and chosen and fitted[0] < chosen[0]
    assert "ECE (10 bins)" in lines[fitted[0]]
    saved = json.loads((folder / "config.json").read_text())
    assert saved["link_temperature"] == miner.config.link_temperature != 1.0
