"""Dev measures with per-document counts: what a paired comparison of two models resamples.

:func:`argument_measures` and :func:`counterfactual_measures` score a model like
:mod:`argmine.evaluation.scores` does, as flat ``{measure: value}`` dicts, and keep for each
measure the ``[tp, predicted, gold]`` counts of every document (per class), so that
``training/compare.py`` and the seed soups can bootstrap the difference between two models
over the same documents.
"""

from __future__ import annotations

from collections.abc import Sequence

from argmine.graph import ArgumentGraph


def argument_measures(miner, gold: Sequence[ArgumentGraph]) -> tuple[dict, dict]:
    """Given-units and end-to-end measures on argument documents, and per-document counts."""
    from argmine.evaluation.scores import (
        _document_counts,
        end_to_end_counts,
        given_units_scores,
        scores_from_end_to_end_counts,
    )

    texts = [g.text for g in gold]
    segments = [[(c.start, c.end) for c in g] for g in gold]
    given = list(miner.pipe(texts, segments=segments))
    predicted = list(miner.pipe(texts))
    labels = miner.config.proposition_labels
    units = given_units_scores(gold, given, labels)
    per_doc_e2e = [end_to_end_counts(g, p) for g, p in zip(gold, predicted, strict=True)]
    e2e = scores_from_end_to_end_counts(per_doc_e2e)  # matched once, scored and resampled
    scores = {
        "component_macro_f1": units["component_macro_f1"],
        "link_f1": units["link"]["f1"],
        "e2e_component_exact_f1": e2e["component_exact"]["macro_f1"],
        "e2e_relation_f1": e2e["relation"]["f1"],
    }
    per_doc = [_document_counts(g, p) for g, p in zip(gold, given, strict=True)]
    counts = {
        "component_macro_f1": [doc[:-1] for doc in per_doc],
        "link_f1": [doc[-1:] for doc in per_doc],
        "e2e_component_exact_f1": [doc["component_exact"] for doc in per_doc_e2e],
        "e2e_relation_f1": [doc["relation"] for doc in per_doc_e2e],
    }
    if "proposition_type" in units:
        scores["proposition_type_macro_f1"] = units["proposition_type"]["macro_f1"]
        counts["proposition_type_macro_f1"] = [
            _label_counts(g, p, labels) for g, p in zip(gold, given, strict=True)
        ]
    return scores, counts


def _label_counts(gold: ArgumentGraph, pred: ArgumentGraph, labels: Sequence[str]) -> list:
    """``[tp, predicted, gold]`` per proposition label over the units with a gold label among
    ``labels`` (the units :func:`argmine.evaluation.proposition_type_scores` counts)."""
    pairs = [
        (g.attributes.get("native_label"), p.attributes.get("proposition_type"))
        for g, p in zip(gold, pred, strict=True)
        if g.attributes.get("native_label") in labels
    ]
    return [
        [
            sum(g == p == k for g, p in pairs),
            sum(p == k for _, p in pairs),
            sum(g == k for g, _ in pairs),
        ]
        for k in labels
    ]


def counterfactual_measures(miner, gold: Sequence[ArgumentGraph]) -> tuple[dict, dict]:
    """Detection and antecedent/consequent exact F1 on sentences given as one unit each."""
    from argmine.evaluation import counterfactual_scores

    texts = [g.text for g in gold]
    predicted = list(miner.pipe(texts, segments=[[(0, len(t))] for t in texts]))
    cf = counterfactual_scores(gold, predicted)
    scores = {
        "detection_f1": cf["detection"]["f1"],
        "antecedent_exact_f1": cf["antecedent_exact"]["f1"],
        "consequent_exact_f1": cf["consequent_exact"]["f1"],
    }
    detection = []
    for g, p in zip(gold, predicted, strict=True):
        if 1 not in g.metadata.get("subtasks", [1]):
            continue
        guess = bool(p.components and p.components[0].attributes.get("counterfactual"))
        actual = bool(g.metadata.get("counterfactual"))
        detection.append([[int(guess and actual), int(guess), int(actual)]])
    return scores, {"detection_f1": detection}
