"""Diagnostics of a model's scores (``scores["diagnostics"]``, what ``argmine evaluate --plots``
draws): confusion matrices per typed head, and link scores against the gold links.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from argmine.evaluation.matching import indexed_links, indexed_relations, prf
from argmine.graph import COMPONENT_TYPES, ArgumentGraph

RELIABILITY_BINS = 10


MIN_SCORE_GRID = tuple(round(0.05 * k, 2) for k in range(20))
"""The ``min_score`` values precision and recall are given for (the model's own is added)."""


def confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Counts of (gold, predicted) label pairs: ``matrix[i][j]`` units of gold ``labels[i]``
    predicted ``labels[j]``. Labels seen in neither list are left out."""
    seen = set(gold) | set(pred)
    kept = [label for label in labels if label in seen]
    kept += sorted(seen - set(kept))  # a label outside ``labels`` still shows up
    index = {label: i for i, label in enumerate(kept)}
    matrix = [[0] * len(kept) for _ in kept]
    for g, p in zip(gold, pred, strict=True):
        matrix[index[g]][index[p]] += 1
    return {"labels": kept, "matrix": matrix}


def component_type_confusion(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph]
) -> dict[str, Any]:
    """Component types on given units: gold against predicted."""
    pairs = [
        (g.type, p.type)
        for gd, pd in zip(gold, pred, strict=True)
        for g, p in zip(gd, pd, strict=True)
    ]
    return confusion([g for g, _ in pairs], [p for _, p in pairs], COMPONENT_TYPES)


def proposition_type_confusion(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph], labels: Sequence[str]
) -> dict[str, Any] | None:
    """Proposition types over the units :func:`proposition_type_scores` scores; None without."""
    pairs = [
        (g.attributes["native_label"], str(p.attributes.get("proposition_type")))
        for gd, pd in zip(gold, pred, strict=True)
        for g, p in zip(gd, pd, strict=True)
        if g.attributes.get("native_label") in labels
    ]
    if not pairs:
        return None
    return confusion([g for g, _ in pairs], [p for _, p in pairs], labels)


def counterfactual_confusion(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph]
) -> dict[str, Any]:
    """Counterfactual detection on the subtask-1 sentences (those :func:`counterfactual_scores`
    scores): gold against predicted."""
    names = {True: "counterfactual", False: "other"}
    pairs = [
        (
            names[bool(g.metadata.get("counterfactual"))],
            names[bool(p.components and p.components[0].attributes.get("counterfactual"))],
        )
        for g, p in zip(gold, pred, strict=True)
        if 1 in g.metadata.get("subtasks", [1])
    ]
    return confusion([g for g, _ in pairs], [p for _, p in pairs], ["other", "counterfactual"])


def scored_links(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph]
) -> tuple[list[float], list[bool], int]:
    """Each predicted link's score and whether it is a gold link (source and target, as link F1
    counts it), and the number of gold links. Predictions on the gold units, in their order."""
    scores, correct = [], []
    for d, (g, p) in enumerate(zip(gold, pred, strict=True)):
        gold_links = set(indexed_links(g, d))
        for key, relation in indexed_relations(p, d).items():
            if relation.score is not None:
                scores.append(float(relation.score))
                correct.append(key in gold_links)
    return scores, correct, sum(len(g.relations) for g in gold)


def reliability_table(
    scores: Sequence[float], correct: Sequence[bool], bins: int = RELIABILITY_BINS
) -> dict[str, Any]:
    """Links grouped by score into ``bins`` equal bins of [0, 1] (a score of 1 in the last):
    per bin its count, mean score and share of correct links (None when empty), and the
    expected calibration error (the count-weighted mean gap between the two)."""
    rows = []
    for k in range(bins):
        lower, upper = k / bins, (k + 1) / bins
        inside = [
            (s, c)
            for s, c in zip(scores, correct, strict=True)
            if lower <= s < upper or (k == bins - 1 and s == upper)
        ]
        n = len(inside)
        rows.append(
            {
                "lower": round(lower, 4),
                "upper": round(upper, 4),
                "count": n,
                "mean_score": sum(s for s, _ in inside) / n if n else None,
                "accuracy": sum(c for _, c in inside) / n if n else None,
            }
        )
    total = sum(r["count"] for r in rows)
    error = sum(r["count"] * abs(r["accuracy"] - r["mean_score"]) for r in rows if r["count"])
    return {
        "bins": rows,
        "links": total,
        "expected_calibration_error": error / total if total else None,
    }


def precision_recall_by_min_score(
    scores: Sequence[float],
    correct: Sequence[bool],
    gold_links: int,
    min_scores: Sequence[float] = MIN_SCORE_GRID,
) -> list[dict[str, float]]:
    """Link precision, recall and F1 keeping the links scored at least each ``min_score``."""
    rows = []
    for threshold in sorted(set(min_scores)):
        kept = [c for s, c in zip(scores, correct, strict=True) if s >= threshold]
        rows.append({"min_score": threshold, **prf(sum(kept), len(kept), gold_links)})
    return rows


def link_diagnostics(
    gold: Sequence[ArgumentGraph], every_link: Sequence[ArgumentGraph], min_score: float
) -> dict[str, Any]:
    """Reliability of link scores, and precision/recall for each ``min_score`` (the model's,
    ``min_score``, among them), from predictions that kept every decoded link."""
    scores, correct, gold_links = scored_links(gold, every_link)
    return {
        "min_score": min_score,
        "gold_links": gold_links,
        "reliability": reliability_table(scores, correct),
        "precision_recall": precision_recall_by_min_score(
            scores, correct, gold_links, (*MIN_SCORE_GRID, min_score)
        ),
    }
