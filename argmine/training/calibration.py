"""Link calibration: one temperature for the link scorer, fitted on dev by minimising NLL.

A relation's score is what a reader (and ``min_score``) acts on: a link scored 0.7 should be
right about 70% of the time. Fine-tuned scorers are overconfident, and more so after training
to a peaked soft target; temperature scaling (Guo et al. 2017: On Calibration of Modern Neural
Networks) divides the link logits (every candidate target and "none") by one scalar T, which
keeps the ranking of each unit's candidates and changes only how sure the scores are. T is
fitted on the dev documents' gold units before ``none_weight`` and ``min_score`` are chosen
(they act on the calibrated scores), stored as ``link_temperature`` in the model's config
(1.0, older models: unchanged) and applied by the decoder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from argmine.evaluation.diagnostics import reliability_table
from argmine.graph import ArgumentGraph
from argmine.model.relations import NO_LINK, link_targets

LinkPair = tuple[torch.Tensor, torch.Tensor]
"""A document's link logits ``(n, w + 1)`` and its gold distribution over the same slots."""
TEMPERATURE_BOUNDS = (0.05, 20.0)


@torch.inference_mode()
def dev_link_logits(miner, encoded, dev: Sequence[ArgumentGraph]) -> list[LinkPair]:
    """Link logits on the gold units of each dev document (already encoded, in order) and the
    gold distribution over each unit's slots, as training's link loss sees it."""
    pairs = []
    graphs = iter(dev)
    for docs, states, given in encoded:
        for doc, state, spans in zip(docs, states, given, strict=True):
            graph = next(graphs)
            if not spans or len(spans) < 2:
                continue
            reps = miner.model.span_representations(state, doc, spans)
            scores = miner.model.relations(reps)
            index = {c.id: i for i, c in enumerate(graph)}
            links = [(index[r.source], index[r.target]) for r in graph.relations]
            pairs.append((scores.link.float().cpu(), link_targets(scores, links).float().cpu()))
    return pairs


def link_nll(pairs: Sequence[LinkPair], temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the gold slots over every unit, at ``temperature``."""
    if not pairs:
        return float("nan")
    total = sum(float(-(t * (z / temperature).log_softmax(-1)).sum()) for z, t in pairs)
    return total / sum(len(z) for z, _ in pairs)  # documents differ in candidate slots


def fit_link_temperature(
    pairs: Sequence[LinkPair], bounds: tuple[float, float] = TEMPERATURE_BOUNDS
) -> float:
    """The temperature that minimises :func:`link_nll` (searched on log T within ``bounds``);
    1.0 when there is nothing to fit on."""
    if not pairs:
        return 1.0
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(
        lambda log_t: link_nll(pairs, math.exp(log_t)),
        bounds=(math.log(bounds[0]), math.log(bounds[1])),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return round(math.exp(found.x), 4)


def link_calibration_error(
    pairs: Sequence[LinkPair], temperature: float = 1.0, bins: int = 10
) -> float | None:
    """Expected calibration error of "link vs no link": every real candidate target's
    probability against whether it is a gold target, binned by
    :func:`argmine.evaluation.reliability_table` (10 equal bins)."""
    scores: list[float] = []
    correct: list[bool] = []
    for logits, target in pairs:
        probs = (logits / temperature).softmax(-1)[:, :-1]
        real = logits[:, :-1] > NO_LINK / 2
        scores += probs[real].tolist()
        correct += (target[:, :-1][real] > 0).tolist()
    return reliability_table(scores, correct, bins)["expected_calibration_error"]


__all__ = [
    "dev_link_logits",
    "fit_link_temperature",
    "link_calibration_error",
    "link_nll",
]
