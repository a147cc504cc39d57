"""Matching predicted units and links to gold ones: the counting every score is built on."""

from __future__ import annotations

from collections.abc import Callable

from argmine.graph import ArgumentGraph, Relation

Pair = tuple[int, int]


TRAILING_PUNCTUATION = ".,;:!?"


def indexed_links(graph: ArgumentGraph, doc: int) -> dict[tuple[int, int, int], str]:
    """Links as ``(document, source position, target position) -> type`` in text order."""
    position = {c.id: i for i, c in enumerate(graph)}
    return {(doc, position[r.source], position[r.target]): r.type for r in graph.relations}


def indexed_relations(graph: ArgumentGraph, doc: int) -> dict[tuple[int, int, int], Relation]:
    position = {c.id: i for i, c in enumerate(graph)}
    return {(doc, position[r.source], position[r.target]): r for r in graph.relations}


def overlap_match(gold: tuple[int, int], pred: tuple[int, int]) -> bool:
    """The Feedback Prize rule: the overlap covers at least half of each span."""
    overlap = min(gold[1], pred[1]) - max(gold[0], pred[0])
    return (
        overlap > 0
        and overlap >= 0.5 * (gold[1] - gold[0])
        and overlap >= 0.5 * (pred[1] - pred[0])
    )


def exact_match(text: str, gold: tuple[int, int], pred: tuple[int, int]) -> bool:
    """Same boundaries, ignoring a trailing punctuation mark (corpora differ on the full stop)."""
    return trimmed(text, *gold) == trimmed(text, *pred)


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and (text[end - 1].isspace() or text[end - 1] in TRAILING_PUNCTUATION):
        end -= 1
    return start, end


def match_components(
    gold: ArgumentGraph,
    pred: ArgumentGraph,
    rule: Callable[[tuple[int, int], tuple[int, int]], bool],
) -> dict[str, str]:
    """Match predicted to gold components of the same type, one to one, greedily in text order."""
    matched: dict[str, str] = {}
    taken: set[str] = set()
    for p in pred:
        for g in gold:
            if g.id not in taken and g.type == p.type and rule((g.start, g.end), (p.start, p.end)):
                matched[p.id] = g.id
                taken.add(g.id)
                break
    return matched


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": n_gold}
