"""Corpus statistics: documents, units per type and relations per type, per source and split."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from argmine.graph import COMPONENT_TYPES, RELATION_TYPES, ArgumentGraph

ALL = "all"
COLUMNS: tuple[str, ...] = (
    "documents",
    "units",
    *COMPONENT_TYPES,
    "relations",
    *RELATION_TYPES,
)


def corpus_stats(graphs: Iterable[ArgumentGraph]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{source: {split: counts}}``, each source with an ``all`` split and an ``all`` source.

    ``counts`` is ``{"documents": n, "units": {type: n, "total": n},
    "relations": {type: n, "total": n}}``; splits appear in first-seen order.
    """
    stats: dict[str, dict[str, dict[str, Any]]] = {}
    for graph in graphs:
        source = str(graph.metadata.get("source") or "-")
        split = str(graph.metadata.get("split") or "-")
        for s, p in ((source, split), (source, ALL), (ALL, split), (ALL, ALL)):
            _add(stats.setdefault(s, {}).setdefault(p, _empty()), graph)
    return _all_last(stats)


def format_stats(stats: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A plain aligned table: one row per source and split, ``all`` rows summing them."""
    header = ("source", "split", *COLUMNS)
    rows = [header] + [
        (source, split, *map(str, _row(counts)))
        for source, splits in stats.items()
        if not (source == ALL and len(stats) == 2)  # one source: its rows already say it all
        for split, counts in splits.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(_format_row(row, widths) for row in rows)


def _format_row(row: tuple[str, ...], widths: list[int]) -> str:
    """Names left-aligned, numbers right-aligned."""
    cells = [
        cell.ljust(width) if i < 2 else cell.rjust(width)
        for i, (cell, width) in enumerate(zip(row, widths, strict=True))
    ]
    return "  ".join(cells).rstrip()


def _row(counts: dict[str, Any]) -> list[int]:
    units, relations = counts["units"], counts["relations"]
    return [
        counts["documents"],
        units["total"],
        *(units[t] for t in COMPONENT_TYPES),
        relations["total"],
        *(relations[t] for t in RELATION_TYPES),
    ]


def _empty() -> dict[str, Any]:
    return {
        "documents": 0,
        "units": dict.fromkeys((*COMPONENT_TYPES, "total"), 0),
        "relations": dict.fromkeys((*RELATION_TYPES, "total"), 0),
    }


def _add(counts: dict[str, Any], graph: ArgumentGraph) -> None:
    counts["documents"] += 1
    for component in graph.components:
        counts["units"][component.type] += 1
        counts["units"]["total"] += 1
    for relation in graph.relations:
        counts["relations"][relation.type] += 1
        counts["relations"]["total"] += 1


def _all_last(stats: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each source's splits in order with ``all`` last, and the ``all`` source last."""
    ordered = {}
    for source in [s for s in stats if s != ALL] + ([ALL] if ALL in stats else []):
        splits = stats[source]
        ordered[source] = {p: splits[p] for p in splits if p != ALL} | {ALL: splits[ALL]}
    return ordered
