"""Label maps: which unified type each source's native label becomes.

A label map is a JSON file (``argmine/labelmaps/<name>.json`` ships one per source; a user may
pass their own path) so that mapping decisions live in configuration, not code::

    {"components": {"fact": "evidence", ...}, "relations": {"reason": "support", ...},
     "top_is_conclusion": true}

Readers keep each unit's native label in ``attributes["native_label"]`` and call
:func:`apply_label_map`, so a corpus already in JSONL can be relabelled with another map too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from argmine.corpus.records import CorpusFormatError
from argmine.graph import COMPONENT_TYPES, RELATION_TYPES, ArgumentGraph, Component, Relation

BUILTIN_LABEL_MAPS: tuple[str, ...] = ("microtexts", "cdcp", "essays")


@dataclass(frozen=True)
class LabelMap:
    """Native label -> unified type, for components and relations.

    ``top_is_conclusion``: a component that receives support and is the source of no relation
    becomes a conclusion whatever its native label (CDCP has no conclusion label of its own).
    """

    components: dict[str, str] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)
    top_is_conclusion: bool = False
    name: str = ""

    def component_type(self, native: str, where: str) -> str:
        """The type of a native component label; an unmapped label is an error, not a guess."""
        return _lookup(self.components, native, "component", where, self.name)

    def relation_type(self, native: str, where: str) -> str:
        return _lookup(self.relations, native, "relation", where, self.name)


def load_label_map(name_or_path: str | Path | dict[str, Any] | LabelMap) -> LabelMap:
    """A built-in map by name (``cdcp``), a JSON file by path, or an already parsed dict."""
    if isinstance(name_or_path, LabelMap):
        return name_or_path
    if isinstance(name_or_path, dict):
        return _parse(name_or_path, "<dict>")
    if str(name_or_path) in BUILTIN_LABEL_MAPS:
        where = resources.files("argmine") / "labelmaps" / f"{name_or_path}.json"
        return _parse(json.loads(where.read_text(encoding="utf-8")), str(name_or_path))
    path = Path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"label map {str(name_or_path)!r} is neither a built-in map "
            f"({', '.join(BUILTIN_LABEL_MAPS)}) nor a JSON file"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}:{err.lineno}: invalid JSON in label map: {err.msg}") from err
    return _parse(data, str(path))


def resolve_label_map(label_map: Any, default: str) -> LabelMap:
    """The map a reader uses: the caller's if given, else the built-in one for its source."""
    return load_label_map(default if label_map is None else label_map)


def apply_label_map(graph: ArgumentGraph, label_map: LabelMap) -> ArgumentGraph:
    """A copy of ``graph`` retyped from native labels; units whose label is unmapped keep theirs."""
    components = [_retype(c, label_map.components.get(_native(c))) for c in graph.components]
    relations = [_retype(r, label_map.relations.get(_native(r))) for r in graph.relations]
    if label_map.top_is_conclusion:
        components = _promote_tops(components, relations)
    return ArgumentGraph(graph.text, components, relations, dict(graph.metadata))


def _promote_tops(components: list[Component], relations: list[Relation]) -> list[Component]:
    sources = {r.source for r in relations}
    supported = {r.target for r in relations if r.type == "support"}
    return [
        _retype(c, "conclusion") if c.id in supported and c.id not in sources else c
        for c in components
    ]


def _retype(unit: Any, new_type: str | None) -> Any:
    if new_type is None or new_type == unit.type:
        return unit
    data = unit.to_dict()
    data["type"] = new_type
    return type(unit).from_dict(data)


def promote_tops(graph: ArgumentGraph) -> ArgumentGraph:
    """``graph`` with each supported component that is the source of nothing as a conclusion."""
    components = _promote_tops(graph.components, graph.relations)
    return ArgumentGraph(graph.text, components, list(graph.relations), dict(graph.metadata))


def _lookup(mapping: dict[str, str], native: str, what: str, where: str, name: str) -> str:
    if native not in mapping:
        raise CorpusFormatError(
            f"{where}: {what} label {native!r} is not in label map {name!r} "
            f"(it maps {sorted(mapping)})"
        )
    return mapping[native]


def _native(unit: Component | Relation) -> Any:
    return (unit.attributes or {}).get("native_label")


def _parse(data: Any, where: str) -> LabelMap:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: a label map must be a JSON object")
    components = _mapping(data, "components", COMPONENT_TYPES, where)
    relations = _mapping(data, "relations", RELATION_TYPES, where)
    return LabelMap(
        components=components,
        relations=relations,
        top_is_conclusion=bool(data.get("top_is_conclusion", False)),
        name=str(data.get("name", where)),
    )


def _mapping(data: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> dict:
    mapping = data.get(key) or {}
    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: field {key!r} must map native labels to types")
    for native, unified in mapping.items():
        if unified not in allowed:
            raise ValueError(
                f"{where}: field {key!r} maps {native!r} to {unified!r}; expected one of {allowed}"
            )
    return dict(mapping)
