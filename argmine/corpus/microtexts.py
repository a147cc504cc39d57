"""Reader for arg-microtexts XML (Peldszus & Stede 2015): a folder of ``micro_*.xml`` graphs.

Each ADU becomes a component spanning its EDUs (reached by ``seg`` edges, possibly through a
joint). The central claim, the one ADU that is the source of no argumentative edge, is a
conclusion; other ADUs are claims (see ``argmine/labelmaps/microtexts.json``). Edges between
ADUs become relations; the two that point at edges rather than ADUs are resolved because an
:class:`~argmine.graph.ArgumentGraph` relates units only:

- ``und`` (undercut of relation E) attacks the *source* of E: the premise whose inference it
  denies;
- ``add`` (additional premise of relation E) takes E's target and type, recursively, so an
  ``add`` on an ``und`` attacks what that undercut attacks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argmine.corpus.labelmap import LabelMap, resolve_label_map
from argmine.corpus.records import CorpusFormatError
from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation

SOURCE = "microtexts"
ARGUMENT_EDGES = ("sup", "exa", "add", "reb", "und")


@dataclass(frozen=True)
class Edge:
    id: str
    src: str
    trg: str
    type: str


def is_microtexts_dir(path: Path) -> bool:
    return path.is_dir() and any(path.glob("micro_*.xml"))


def read_microtexts(
    folder: str | Path, *, label_map: Any = None, split: str = "train"
) -> list[ArgumentGraph]:
    """Every ``micro_*.xml`` of ``folder`` in file-name order, as graphs in ``split``."""
    folder = Path(folder)
    files = sorted(folder.glob("micro_*.xml"))
    if not files:
        raise CorpusFormatError(f"{folder}: no micro_*.xml files")
    labels = resolve_label_map(label_map, SOURCE)
    return [read_microtext(f, label_map=labels, split=split) for f in files]


def read_microtext(
    path: str | Path, *, label_map: Any = None, split: str = "train"
) -> ArgumentGraph:
    """One microtext; the text comes from the ``.txt`` beside it when its EDUs are found there."""
    path = Path(path)
    labels = resolve_label_map(label_map, SOURCE)
    root = _parse_xml(path)
    edus = {e.get("id"): e.text or "" for e in root.iter("edu")}
    edu_order = list(edus)
    text, edu_spans = _document_text(path, [edus[i] for i in edu_order])
    spans = dict(zip(edu_order, edu_spans, strict=True))
    edges = [_edge(e, path) for e in root.iter("edge")]
    adus = {a.get("id"): a.get("type") for a in root.iter("adu")}
    central = _central_claim(adus, edges, path)
    components = [
        _component(adu, role, central, text, _adu_span(adu, edges, spans, path), labels, path)
        for adu, role in adus.items()
    ]
    relations = _relations(edges, adus, labels, path)
    metadata = {
        "id": root.get("id") or path.stem,
        "source": SOURCE,
        "split": split,
        "topic_id": root.get("topic_id"),
        "stance": root.get("stance"),
    }
    try:
        return ArgumentGraph(text, components, relations, metadata)
    except GraphValidationError as err:
        raise CorpusFormatError(f"{path}: {err}") from err


def _parse_xml(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        line, column = err.position
        raise CorpusFormatError(f"{path}:{line}: malformed XML (column {column}): {err}") from err
    except OSError as err:
        raise CorpusFormatError(f"{path}: cannot read: {err.strerror or err}") from err


def _document_text(path: Path, edus: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The original ``.txt`` if it holds every EDU in order, else the EDUs joined by spaces."""
    txt = path.with_suffix(".txt")
    if txt.is_file():
        with txt.open(encoding="utf-8", newline="") as handle:
            original = handle.read()
        spans = _find_in_order(original, edus)
        if spans is not None:
            return original, spans
    joined = " ".join(edus)
    return joined, _find_in_order(joined, edus) or []


def _find_in_order(text: str, pieces: list[str]) -> list[tuple[int, int]] | None:
    spans, position = [], 0
    for piece in pieces:
        start = text.find(piece, position)
        if start < 0:
            return None
        spans.append((start, start + len(piece)))
        position = start + len(piece)
    return spans


def _edge(element: ET.Element, path: Path) -> Edge:
    values = [element.get(k) for k in ("id", "src", "trg", "type")]
    if None in values:
        raise CorpusFormatError(f"{path}: edge {values[0]!r} lacks id, src, trg or type")
    return Edge(*values)


def _central_claim(adus: dict[str, str], edges: list[Edge], path: Path) -> str:
    sources = {e.src for e in edges if e.type in ARGUMENT_EDGES}
    tops = [a for a in adus if a not in sources]
    if len(tops) != 1:
        raise CorpusFormatError(f"{path}: expected one central claim, found {tops or 'none'}")
    return tops[0]


def _adu_span(
    adu: str, edges: list[Edge], spans: dict[str, tuple[int, int]], path: Path
) -> tuple[int, int]:
    """From the first to the last EDU segmented into ``adu`` (directly or through joints)."""
    seg_into: dict[str, list[str]] = {}
    for e in edges:
        if e.type == "seg":
            seg_into.setdefault(e.trg, []).append(e.src)
    found: list[tuple[int, int]] = []
    pending, seen = list(seg_into.get(adu, [])), set()
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in spans:
            found.append(spans[node])
        pending.extend(seg_into.get(node, []))
    if not found:
        raise CorpusFormatError(f"{path}: ADU {adu!r} has no EDU (no seg edge into it)")
    return min(s for s, _ in found), max(e for _, e in found)


def _component(
    adu: str,
    role: str,
    central: str,
    text: str,
    span: tuple[int, int],
    labels: LabelMap,
    path: Path,
) -> Component:
    native = "central_claim" if adu == central else role
    start, end = span
    return Component(
        id=adu,
        start=start,
        end=end,
        text=text[start:end],
        type=labels.component_type(native, str(path)),
        attributes={"native_label": native, "role": role},
    )


def _relations(
    edges: list[Edge], adus: dict[str, str], labels: LabelMap, path: Path
) -> list[Relation]:
    by_id = {e.id: e for e in edges}
    relations = []
    for edge in edges:
        if edge.type not in ARGUMENT_EDGES:
            continue
        target, kind = _resolve(edge, by_id, adus, labels, path, seen=())
        relations.append(Relation(edge.src, target, kind, attributes={"native_label": edge.type}))
    return relations


def _resolve(
    edge: Edge,
    by_id: dict[str, Edge],
    adus: dict[str, str],
    labels: LabelMap,
    path: Path,
    seen: tuple[str, ...],
) -> tuple[str, str]:
    """The ADU ``edge`` ends up pointing at, and the type of the relation it makes."""
    if edge.id in seen:
        raise CorpusFormatError(f"{path}: edges {' -> '.join(seen)} form a cycle")
    if edge.type == "und":
        undercut = _edge_target(edge, by_id, path)
        return undercut.src, labels.relation_type("und", str(path))
    if edge.type == "add":
        joined = _edge_target(edge, by_id, path)
        return _resolve(joined, by_id, adus, labels, path, (*seen, edge.id))
    if edge.trg not in adus:
        raise CorpusFormatError(f"{path}: {edge.type} edge {edge.id!r} must point at an ADU")
    return edge.trg, labels.relation_type(edge.type, str(path))


def _edge_target(edge: Edge, by_id: dict[str, Edge], path: Path) -> Edge:
    if edge.trg not in by_id:
        raise CorpusFormatError(
            f"{path}: {edge.type} edge {edge.id!r} must point at an edge, not {edge.trg!r}"
        )
    return by_id[edge.trg]
