"""The argument graph: the one representation every stage produces and every export reads.

A graph holds the document text, its argumentative components (character spans into that text)
and the support/attack relations between them. Offsets follow spaCy: ``text[start:end]`` is the
component's text, ``end`` exclusive. Gold annotations carry ``score=None``; model output carries
the model's confidence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, TypeVar

COMPONENT_TYPES: tuple[str, ...] = ("conclusion", "claim", "evidence")
RELATION_TYPES: tuple[str, ...] = ("support", "attack")
SCHEMA_VERSION = 1
"""Version of the JSON schema that :meth:`ArgumentGraph.to_dict` writes (docs/graph-schema.md)."""


class GraphValidationError(ValueError):
    """A graph breaks one of its invariants (offsets, ids, types, relation ends)."""


_R = TypeVar("_R", bound="_Record")


class _Record:
    """JSON conversion shared by :class:`Component` and :class:`Relation`."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[_R], data: dict[str, Any]) -> _R:
        return cls(**_pick(data, cls, cls.__name__.lower()))


@dataclass
class Component(_Record):
    """An argumentative unit: a character span of the document with a type."""

    id: str
    start: int
    end: int
    text: str
    type: str
    score: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Relation(_Record):
    """A directed support or attack from the ``source`` component to the ``target`` component."""

    source: str
    target: str
    type: str
    score: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def _pick(data: dict[str, Any], cls: type, what: str) -> dict[str, Any]:
    """Keep the dataclass fields of ``data``, saying which required field is missing."""
    if not isinstance(data, dict):
        raise GraphValidationError(f"a {what} must be a JSON object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    required = [
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    ]
    missing = [n for n in required if n not in data]
    if missing:
        raise GraphValidationError(f"{what} {data.get('id', data)!r} lacks field(s) {missing}")
    picked = {k: v for k, v in data.items() if k in names}
    if picked.get("attributes") is None:
        picked["attributes"] = {}
    return picked


@dataclass
class ArgumentGraph:
    """A document's argument structure; validated on creation.

    ``metadata`` holds what describes the document as a whole: its ``id``, ``source`` and
    ``split`` for corpus documents, ``model`` and ``model_version`` for model output.
    """

    text: str
    components: list[Component] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Raise :class:`GraphValidationError` naming the first broken invariant."""
        if not isinstance(self.text, str):
            raise GraphValidationError(f"text must be a str, got {type(self.text).__name__}")
        ids: set[str] = set()
        for c in self.components:
            _validate_component(c, self.text)
            if c.id in ids:
                raise GraphValidationError(f"duplicate component id {c.id!r}")
            ids.add(c.id)
        _validate_masked(self.metadata, self.text)
        seen: set[tuple[str, str]] = set()
        for r in self.relations:
            _validate_relation(r, ids)
            if (r.source, r.target) in seen:
                raise GraphValidationError(f"two relations from {r.source!r} to {r.target!r}")
            seen.add((r.source, r.target))

    # ------------------------------------------------------------------ access
    def __iter__(self) -> Iterator[Component]:
        """Components in text order."""
        return iter(sorted(self.components, key=lambda c: (c.start, c.end)))

    def __len__(self) -> int:
        return len(self.components)

    def component(self, component_id: str) -> Component:
        for c in self.components:
            if c.id == component_id:
                return c
        raise KeyError(f"no component with id {component_id!r}")

    def of_type(self, component_type: str) -> list[Component]:
        return [c for c in self if c.type == component_type]

    @property
    def conclusions(self) -> list[Component]:
        return self.of_type("conclusion")

    @property
    def claims(self) -> list[Component]:
        return self.of_type("claim")

    @property
    def evidence(self) -> list[Component]:
        return self.of_type("evidence")

    def supporters(self, component_id: str) -> list[Component]:
        """Components with a support relation into ``component_id``."""
        return self._sources_into(component_id, "support")

    def attackers(self, component_id: str) -> list[Component]:
        """Components with an attack relation into ``component_id``."""
        return self._sources_into(component_id, "attack")

    def _sources_into(self, component_id: str, relation_type: str) -> list[Component]:
        self.component(component_id)  # raises KeyError for an unknown id
        return [
            self.component(r.source)
            for r in self.relations
            if r.target == component_id and r.type == relation_type
        ]

    def roots(self) -> list[Component]:
        """Components that are the source of no relation: the top of each argument."""
        sources = {r.source for r in self.relations}
        return [c for c in self if c.id not in sources]

    def relations_from(self, component_id: str) -> list[Relation]:
        return [r for r in self.relations if r.source == component_id]

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON form (schema in docs/graph-schema.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "text": self.text,
            "components": [c.to_dict() for c in self],
            "relations": [r.to_dict() for r in self.relations],
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArgumentGraph:
        if not isinstance(data, dict):
            raise GraphValidationError(f"a graph must be a JSON object, got {type(data).__name__}")
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise GraphValidationError(
                f"unsupported graph schema_version {version!r} (argmine reads {SCHEMA_VERSION})"
            )
        if "text" not in data:
            raise GraphValidationError("graph lacks field 'text'")
        return cls(
            text=data["text"],
            components=[Component.from_dict(c) for c in data.get("components") or []],
            relations=[Relation.from_dict(r) for r in data.get("relations") or []],
            metadata=dict(data.get("metadata") or {}),
        )

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> ArgumentGraph:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise GraphValidationError(f"invalid graph JSON: {err}") from err
        return cls.from_dict(data)

    # ------------------------------------------------------------------ other formats
    def to_networkx(self):  # -> networkx.DiGraph
        from argmine.formats.networkx import graph_to_networkx

        return graph_to_networkx(self)

    @classmethod
    def from_networkx(cls, digraph) -> ArgumentGraph:
        from argmine.formats.networkx import graph_from_networkx

        return graph_from_networkx(digraph)

    def to_aif(self) -> dict[str, Any]:
        from argmine.formats.aif import graph_to_aif

        return graph_to_aif(self)

    @classmethod
    def from_aif(cls, data: dict[str, Any]) -> ArgumentGraph:
        from argmine.formats.aif import graph_from_aif

        return graph_from_aif(data)

    def to_dot(self) -> str:
        from argmine.formats.dot import graph_to_dot

        return graph_to_dot(self)

    def to_brat(self) -> tuple[str, str]:
        """The brat standoff pair ``(txt, ann)``."""
        from argmine.formats.brat import graph_to_brat

        return graph_to_brat(self)

    @classmethod
    def from_brat(cls, txt: str, ann: str, *, source: str = "<ann>") -> ArgumentGraph:
        from argmine.formats.brat import graph_from_brat

        return graph_from_brat(txt, ann, source=source)


def _validate_component(c: Component, text: str) -> None:
    if not isinstance(c.id, str) or not c.id:
        raise GraphValidationError(f"component id must be a non-empty str, got {c.id!r}")
    if c.type not in COMPONENT_TYPES:
        raise GraphValidationError(
            f"component {c.id!r} has unknown type {c.type!r}; expected one of {COMPONENT_TYPES}"
        )
    if not (isinstance(c.start, int) and isinstance(c.end, int)):
        raise GraphValidationError(f"component {c.id!r} offsets must be ints")
    if not 0 <= c.start < c.end <= len(text):
        raise GraphValidationError(
            f"component {c.id!r} span [{c.start}, {c.end}) lies outside the text "
            f"(length {len(text)}) or is empty"
        )
    if text[c.start : c.end] != c.text:
        raise GraphValidationError(
            f"component {c.id!r} text {c.text!r} differs from text[{c.start}:{c.end}] "
            f"= {text[c.start : c.end]!r}"
        )


def _validate_masked(metadata: dict[str, Any], text: str) -> None:
    """``metadata["masked"]`` (what the clean-up hid) must name ranges of this text."""
    masked = metadata.get("masked") if isinstance(metadata, dict) else None
    if masked is None:
        return
    if not isinstance(masked, list):
        raise GraphValidationError(f"metadata 'masked' must be a list, got {masked!r}")
    for span in masked:
        start, end = (span.get("start"), span.get("end")) if isinstance(span, dict) else (0, 0)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise GraphValidationError(
                f"metadata 'masked' range {span!r} is not a {{start, end, reason}} range inside "
                f"the text (length {len(text)})"
            )


def _validate_relation(r: Relation, ids: set[str]) -> None:
    if r.type not in RELATION_TYPES:
        raise GraphValidationError(
            f"relation {r.source!r}->{r.target!r} has unknown type {r.type!r}; "
            f"expected one of {RELATION_TYPES}"
        )
    for end in (r.source, r.target):
        if end not in ids:
            raise GraphValidationError(
                f"relation {r.source!r}->{r.target!r} points at unknown component {end!r}"
            )
    if r.source == r.target:
        raise GraphValidationError(f"relation {r.source!r}->{r.target!r} is a self-loop")


def make_component(text: str, start: int, end: int, type: str, id: str, **kwargs: Any) -> Component:
    """A component whose ``text`` is cut from the document, so it cannot disagree with it."""
    return Component(id=id, start=start, end=end, text=text[start:end], type=type, **kwargs)
