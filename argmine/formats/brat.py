"""ArgumentGraph <-> brat standoff (a ``.txt`` document and its ``.ann`` annotations).

Writing (:func:`graph_to_brat`):

- each component is a text-bound entity ``T<n>`` labelled with its type (``conclusion``,
  ``claim``, ``evidence``). A component id that already looks like ``T<digits>`` is used as the
  entity id; the others get the next free ``T<n>``. A component spanning line breaks is written
  as one fragment per line (``T1 claim 0 12;13 30``), as brat itself does;
- each relation is ``R<n> support Arg1:<source> Arg2:<target>`` (or ``attack``);
- attributes brat can hold natively become attribute lines: ``True`` as a binary attribute
  (``A1 counterfactual T3``), a string without whitespace as a valued one
  (``A2 native_label T3 fact``);
- everything else (a component id that is not the entity id, scores, other attribute values,
  a span brat's fragments do not give back, the graph metadata) goes into one ``AnnotatorNotes``
  line per entity or relation whose text is ``argmine `` followed by a JSON object, e.g.
  ``#1 AnnotatorNotes T1 argmine {"id": "c0", "score": 0.93}``. The graph metadata rides on the
  first entity's note (a graph without components cannot carry metadata in brat).

Reading (:func:`graph_from_brat`) inverts this exactly, and reads brat corpora: labels go through
a label map, the text of every entity is checked against the document, and a discontinuous
entity becomes one component covering its outer extent (first fragment start to last fragment
end). Events (``E``), equivalences (``*``) and normalizations (``N``) are skipped; notes other
than argmine's are kept in :class:`BratAnnotations` only.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.graph import COMPONENT_TYPES, ArgumentGraph, Component, GraphValidationError, Relation

NOTE_TAG = "argmine"
NOTE_TYPE = "AnnotatorNotes"
DEFAULT_LABEL_MAP: dict[str, str] = {
    "conclusion": "conclusion",
    "claim": "claim",
    "evidence": "evidence",
    "support": "support",
    "supports": "support",
    "attack": "attack",
    "attacks": "attack",
}
"""Labels understood without a ``label_map`` (looked up case-insensitively)."""

_T_ID = re.compile(r"T\d+")
_TOKEN = re.compile(r"\S+")
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
"""What ``str.splitlines`` (and so brat, reading a file line by line) breaks lines at."""
_Fail = Callable[[str], "BratFormatError"]


class BratFormatError(ValueError):
    """A ``.ann`` file is malformed or disagrees with its ``.txt``; says file and line."""


# ---------------------------------------------------------------------------------- parsing
@dataclass
class BratEntity:
    id: str
    label: str
    fragments: list[tuple[int, int]]
    text: str
    line: int = 0

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


@dataclass
class BratRelation:
    id: str
    label: str
    arg1: str
    arg2: str
    line: int = 0


@dataclass
class BratAttribute:
    id: str
    name: str
    target: str
    value: str | None
    line: int = 0


@dataclass
class BratNote:
    id: str
    type: str
    target: str
    text: str
    line: int = 0


@dataclass
class BratAnnotations:
    """The parsed lines of one ``.ann`` file, in file order (``line`` is 1-based)."""

    entities: list[BratEntity] = field(default_factory=list)
    relations: list[BratRelation] = field(default_factory=list)
    attributes: list[BratAttribute] = field(default_factory=list)
    notes: list[BratNote] = field(default_factory=list)
    skipped_ids: set[str] = field(default_factory=set)
    """Ids of events, normalizations and other annotations argmine does not read."""


def parse_ann(ann_text: str, source: str = "<ann>") -> BratAnnotations:
    """The annotations of a ``.ann`` text; a malformed line raises :class:`BratFormatError`.

    Lines are split like brat reads files (``str.splitlines``); blank lines are skipped.
    """
    result = BratAnnotations()
    seen: set[str] = set()
    for number, line in enumerate(ann_text.splitlines(), start=1):
        if not line.strip():
            continue
        ann_id = line.split("\t", 1)[0].strip()
        if ann_id in seen and not ann_id.startswith("*"):
            raise BratFormatError(f"{source}, line {number}: duplicate annotation id {ann_id!r}")
        seen.add(ann_id)
        _parse_line(line, ann_id, number, source, result)
    return result


def _parse_line(line: str, ann_id: str, number: int, source: str, out: BratAnnotations) -> None:
    def fail(why: str) -> BratFormatError:
        return BratFormatError(f"{source}, line {number}: {why}: {line!r}")

    kind = ann_id[:1]
    if kind == "T":
        out.entities.append(_parse_entity(line, number, fail))
    elif kind == "R":
        out.relations.append(_parse_relation(line, number, fail))
    elif kind in ("A", "M"):
        out.attributes.append(_parse_attribute(line, number, fail))
    elif kind == "#":
        out.notes.append(_parse_note(line, number, fail))
    elif kind in ("E", "N", "*"):
        out.skipped_ids.add(ann_id)
    else:
        raise fail(f"unknown annotation id {ann_id!r}")


def _parse_entity(line: str, number: int, fail: _Fail) -> BratEntity:
    parts = line.split("\t", 2)
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise fail("expected 'T<n>\\t<label> <start> <end>\\t<text>'")
    head = parts[1].split(" ", 1)
    if len(head) != 2 or not head[0]:
        raise fail("entity lacks a label or offsets")
    fragments = []
    for fragment in head[1].split(";"):
        bounds = fragment.split()
        if len(bounds) != 2 or not all(b.isdigit() for b in bounds):
            raise fail(f"bad offsets {fragment!r}")
        start, end = int(bounds[0]), int(bounds[1])
        if start > end or (fragments and start < fragments[-1][1]):
            raise fail(f"offsets {fragment!r} are reversed or out of order")
        fragments.append((start, end))
    return BratEntity(parts[0], head[0], fragments, parts[2], number)


def _parse_relation(line: str, number: int, fail: _Fail) -> BratRelation:
    parts = line.split("\t")
    if len(parts) < 2 or (len(parts) == 3 and parts[2].strip()) or len(parts) > 3:
        raise fail("expected 'R<n>\\t<label> Arg1:<id> Arg2:<id>'")
    tokens = parts[1].split()
    args = [t.split(":", 1) for t in tokens[1:]]
    if len(tokens) != 3 or any(len(a) != 2 or not all(a) for a in args):
        raise fail("a relation needs a label and two '<role>:<id>' arguments")
    roles = dict(args)
    arg1 = roles.get("Arg1", args[0][1])
    arg2 = roles.get("Arg2", args[1][1])
    return BratRelation(parts[0], tokens[0], arg1, arg2, number)


def _parse_attribute(line: str, number: int, fail: _Fail) -> BratAttribute:
    parts = line.split("\t")
    if len(parts) != 2:
        raise fail("expected 'A<n>\\t<name> <target> [<value>]'")
    tokens = parts[1].split()
    if len(tokens) not in (2, 3):
        raise fail("an attribute needs a name, a target and at most one value")
    value = tokens[2] if len(tokens) == 3 else None
    return BratAttribute(parts[0], tokens[0], tokens[1], value, number)


def _parse_note(line: str, number: int, fail: _Fail) -> BratNote:
    parts = line.split("\t", 2)
    head = parts[1].split() if len(parts) > 1 else []
    if len(head) != 2:
        raise fail("expected '#<n>\\t<type> <target>\\t<text>'")
    return BratNote(parts[0], head[0], head[1], parts[2] if len(parts) == 3 else "", number)


# ---------------------------------------------------------------------------------- writing
class _AnnWriter:
    """Collects ``.ann`` lines, numbering attribute and note ids."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.attributes = 0
        self.notes = 0

    def extras(self, ann_id: str, attributes: dict[str, Any], note: dict[str, Any]) -> None:
        """Attribute lines for what brat holds natively, an argmine note for the rest."""
        native, rest = _split_attributes(attributes)
        for name, value in native.items():
            self.attributes += 1
            value_part = "" if value is True else f" {value}"
            self.lines.append(f"A{self.attributes}\t{name} {ann_id}{value_part}")
        if rest:
            note = {**note, "attributes": rest}
        if note:
            self.notes += 1
            payload = json.dumps(note, ensure_ascii=True, sort_keys=True)
            self.lines.append(f"#{self.notes}\t{NOTE_TYPE} {ann_id}\t{NOTE_TAG} {payload}")

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def graph_to_brat(graph: ArgumentGraph) -> tuple[str, str]:
    """``(txt, ann)`` for ``graph``; :func:`graph_from_brat` reads them back into an equal graph."""
    if graph.metadata and not graph.components:
        warnings.warn("brat cannot carry the metadata of a graph without components", stacklevel=2)
    entity_ids = _entity_ids(graph.components)
    out = _AnnWriter()
    for index, c in enumerate(graph.components):
        t_id = entity_ids[c.id]
        fragments = _fragments(graph.text, c.start, c.end)
        spans = ";".join(f"{s} {e}" for s, e in fragments)
        shown = _one_line(" ".join(graph.text[s:e] for s, e in fragments))
        out.lines.append(f"{t_id}\t{c.type} {spans}\t{shown}")
        note: dict[str, Any] = {}
        if c.id != t_id:
            note["id"] = c.id
        if c.score is not None:
            note["score"] = c.score
        if (fragments[0][0], fragments[-1][1]) != (c.start, c.end):
            note["span"] = [c.start, c.end]
        if index == 0 and graph.metadata:
            note["metadata"] = copy.deepcopy(graph.metadata)
        out.extras(t_id, c.attributes, note)
    for n, r in enumerate(graph.relations, start=1):
        r_id = f"R{n}"
        source, target = entity_ids[r.source], entity_ids[r.target]
        out.lines.append(f"{r_id}\t{r.type} Arg1:{source} Arg2:{target}\t")
        out.extras(r_id, r.attributes, {} if r.score is None else {"score": r.score})
    return graph.text, out.text()


def _entity_ids(components: list[Component]) -> dict[str, str]:
    """Component id -> entity id: ``T<n>`` ids are kept, the others numbered after them."""
    taken = {c.id for c in components if _T_ID.fullmatch(c.id)}
    ids: dict[str, str] = {}
    n = 0
    for c in components:
        if c.id in taken:
            ids[c.id] = c.id
            continue
        n += 1
        while f"T{n}" in taken:
            n += 1
        ids[c.id] = f"T{n}"
    return ids


def _fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The non-empty pieces of ``text[start:end]`` between line breaks (brat's own split)."""
    pieces = []
    for m in re.finditer(f"[^{_LINE_BREAKS}]+", text[start:end]):
        pieces.append((start + m.start(), start + m.end()))
    return pieces or [(start, end)]


def _one_line(text: str) -> str:
    """An entity's text as its ``.ann`` line can hold it: a span of nothing but line breaks
    (its one fragment) is written, and compared, without them."""
    return re.sub(f"[{_LINE_BREAKS}]", "", text)


def _split_attributes(attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Attributes brat holds natively (``True``, one-token strings) and the rest."""
    native: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for name, value in attributes.items():
        name_ok = isinstance(name, str) and _TOKEN.fullmatch(name) is not None
        value_ok = value is True or (isinstance(value, str) and _TOKEN.fullmatch(value))
        (native if name_ok and value_ok else rest)[name] = copy.deepcopy(value)
    return native, rest


# ---------------------------------------------------------------------------------- reading
def graph_from_brat(
    txt: str,
    ann: str,
    *,
    source: str = "<ann>",
    label_map: dict[str, str] | None = None,
) -> ArgumentGraph:
    """The ArgumentGraph for a brat document; errors name ``source`` and the line.

    Entity labels are mapped to component types and relation labels to ``support``/``attack``
    through ``label_map``, then :data:`DEFAULT_LABEL_MAP`; when the mapped name differs from the
    label, the label is kept in ``attributes["native_label"]``. Every entity's text must equal
    its span of ``txt`` (fragments joined by a space), and spans must lie inside ``txt``.
    """
    parsed = parse_ann(ann, source)
    _check_targets(parsed, source)
    notes = _argmine_notes(parsed, source)
    attrs = _attributes_by_target(parsed, source)
    components, id_of = _components(txt, parsed, notes, attrs, source, label_map)
    relations = _relations(parsed, notes, attrs, id_of, source, label_map)
    first = parsed.entities[0].id if parsed.entities else None
    metadata = copy.deepcopy(notes.get(first, {}).get("metadata") or {})
    try:
        return ArgumentGraph(txt, components, relations, metadata)
    except GraphValidationError as err:
        raise BratFormatError(f"{source}: {err}") from err


def _check_targets(parsed: BratAnnotations, source: str) -> None:
    """Attributes and notes must point at an annotation of the file."""
    known = {e.id for e in parsed.entities} | {r.id for r in parsed.relations}
    known |= parsed.skipped_ids
    for item in [*parsed.attributes, *parsed.notes]:
        if item.target not in known:
            raise BratFormatError(
                f"{source}, line {item.line}: {item.id} points at unknown annotation "
                f"{item.target!r}"
            )


def _argmine_notes(parsed: BratAnnotations, source: str) -> dict[str, dict[str, Any]]:
    """The JSON of argmine's notes, by target id."""
    found: dict[str, dict[str, Any]] = {}
    prefix = NOTE_TAG + " "
    for note in parsed.notes:
        if note.type != NOTE_TYPE or not note.text.startswith(prefix):
            continue
        try:
            data = json.loads(note.text[len(prefix) :])
        except json.JSONDecodeError as err:
            raise BratFormatError(f"{source}, line {note.line}: bad argmine note: {err}") from err
        if not isinstance(data, dict) or note.target in found:
            raise BratFormatError(
                f"{source}, line {note.line}: an argmine note must be a JSON object, "
                f"one per annotation"
            )
        found[note.target] = data
    return found


def _attributes_by_target(parsed: BratAnnotations, source: str) -> dict[str, dict[str, Any]]:
    by_target: dict[str, dict[str, Any]] = {}
    for a in parsed.attributes:
        values = by_target.setdefault(a.target, {})
        if a.name in values:
            raise BratFormatError(
                f"{source}, line {a.line}: attribute {a.name!r} given twice for {a.target!r}"
            )
        values[a.name] = True if a.value is None else a.value
    return by_target


def _map_label(label: str, label_map: dict[str, str] | None) -> str | None:
    if label_map and label in label_map:
        return label_map[label]
    return DEFAULT_LABEL_MAP.get(label, DEFAULT_LABEL_MAP.get(label.lower()))


def _merged_attributes(
    label: str, kind: str, ann_id: str, notes: dict, attrs: dict
) -> dict[str, Any]:
    """Attributes from the label (native_label), the attribute lines and the argmine note."""
    merged: dict[str, Any] = {} if kind == label else {"native_label": label}
    merged.update(attrs.get(ann_id, {}))
    merged.update(copy.deepcopy(notes.get(ann_id, {}).get("attributes") or {}))
    return merged


def _components(
    txt: str,
    parsed: BratAnnotations,
    notes: dict[str, dict[str, Any]],
    attrs: dict[str, dict[str, Any]],
    source: str,
    label_map: dict[str, str] | None,
) -> tuple[list[Component], dict[str, str]]:
    components: list[Component] = []
    id_of: dict[str, str] = {}
    for e in parsed.entities:
        where = f"{source}, line {e.line}"
        kind = _map_label(e.label, label_map)
        if kind not in COMPONENT_TYPES:
            raise BratFormatError(
                f"{where}: unknown entity label {e.label!r}; pass a label_map to a component type"
            )
        _check_text(txt, e, where)
        note = notes.get(e.id, {})
        start, end = note.get("span", (e.start, e.end))
        if not 0 <= start < end <= len(txt):
            raise BratFormatError(f"{where}: span [{start}, {end}) lies outside the text")
        component_id = str(note.get("id", e.id))
        id_of[e.id] = component_id
        attributes = _merged_attributes(e.label, kind, e.id, notes, attrs)
        components.append(
            Component(component_id, start, end, txt[start:end], kind, note.get("score"), attributes)
        )
    return components, id_of


def _check_text(txt: str, e: BratEntity, where: str) -> None:
    """Reject a span outside the document (never clip it) and a text that disagrees with it."""
    if e.end > len(txt) or e.start == e.end:
        raise BratFormatError(
            f"{where}: span [{e.start}, {e.end}) of {e.id} lies outside the text "
            f"(length {len(txt)}) or is empty"
        )
    expected = " ".join(txt[s:t] for s, t in e.fragments)
    if e.text != _one_line(expected):
        raise BratFormatError(
            f"{where}: {e.id} text {e.text!r} differs from the document's {expected!r}"
        )


def _relations(
    parsed: BratAnnotations,
    notes: dict[str, dict[str, Any]],
    attrs: dict[str, dict[str, Any]],
    id_of: dict[str, str],
    source: str,
    label_map: dict[str, str] | None,
) -> list[Relation]:
    relations: list[Relation] = []
    seen: set[tuple[str, str]] = set()
    for r in parsed.relations:
        where = f"{source}, line {r.line}"
        kind = _map_label(r.label, label_map)
        if kind not in ("support", "attack"):
            raise BratFormatError(
                f"{where}: unknown relation label {r.label!r}; pass a label_map to support/attack"
            )
        for arg in (r.arg1, r.arg2):
            if arg not in id_of:
                raise BratFormatError(f"{where}: relation {r.id} points at unknown entity {arg!r}")
        pair = (id_of[r.arg1], id_of[r.arg2])
        if pair[0] == pair[1] or pair in seen:
            raise BratFormatError(f"{where}: relation {r.id} is a self-loop or a duplicate")
        seen.add(pair)
        attributes = _merged_attributes(r.label, kind, r.id, notes, attrs)
        score = notes.get(r.id, {}).get("score")
        relations.append(Relation(pair[0], pair[1], kind, score, attributes))
    return relations


# ---------------------------------------------------------------------------------- files
def write_brat(graph: ArgumentGraph, folder: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``<folder>/<name>.txt`` and ``.ann`` (UTF-8, line ends kept); return both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    txt, ann = graph_to_brat(graph)
    txt_path, ann_path = folder / f"{name}.txt", folder / f"{name}.ann"
    txt_path.write_text(txt, encoding="utf-8", newline="")
    ann_path.write_text(ann, encoding="utf-8", newline="")
    return txt_path, ann_path


def read_brat_document(
    ann_path: str | Path, *, label_map: dict[str, str] | None = None
) -> ArgumentGraph:
    """The graph of one ``.ann`` file and the ``.txt`` beside it; errors name the ``.ann`` file.

    ``metadata["id"]`` defaults to the file stem when the file does not set it.
    """
    ann_path = Path(ann_path)
    if ann_path.suffix != ".ann":
        ann_path = ann_path.with_name(ann_path.name + ".ann")
    txt_path = ann_path.with_suffix(".txt")
    txt = _read(txt_path)
    graph = graph_from_brat(txt, _read(ann_path), source=str(ann_path), label_map=label_map)
    graph.metadata.setdefault("id", ann_path.stem)
    return graph


def read_brat(
    folder_or_ann_path: str | Path, *, label_map: dict[str, str] | None = None
) -> list[ArgumentGraph]:
    """The graphs of a brat folder (every ``*.ann`` below it, by path) or of one ``.ann`` file."""
    path = Path(folder_or_ann_path)
    if path.is_dir():
        return [read_brat_document(p, label_map=label_map) for p in sorted(path.rglob("*.ann"))]
    return [read_brat_document(path, label_map=label_map)]


def _read(path: Path) -> str:
    """File text with brat's offsets intact: no newline translation."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()
