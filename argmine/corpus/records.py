"""The corpus record: one JSON object per document, one document per line of a JSONL file.

A record is an :class:`~argmine.graph.ArgumentGraph` with the document's ``id``, ``source`` and
``split`` lifted out of its metadata to the top level, so a corpus reads as a table (and loads as
a ``datasets.Dataset``) without unpacking::

    {"id", "source", "split", "text", "components", "relations", "metadata"}

``metadata`` keeps everything else the source says about the document (topic, stance, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation

RECORD_KEYS: tuple[str, ...] = ("id", "source", "split")
"""Metadata keys a record holds at its top level rather than under ``metadata``."""


class CorpusFormatError(ValueError):
    """A corpus file is malformed; the message names the file and the line or field."""


def graph_to_record(graph: ArgumentGraph) -> dict[str, Any]:
    """The JSONL record of a corpus document (components in text order)."""
    meta = graph.metadata
    return {
        "id": meta.get("id"),
        "source": meta.get("source"),
        "split": meta.get("split"),
        "text": graph.text,
        "components": [c.to_dict() for c in graph],
        "relations": [r.to_dict() for r in graph.relations],
        "metadata": {k: v for k, v in meta.items() if k not in RECORD_KEYS},
    }


def record_to_graph(record: Any, *, where: str = "") -> ArgumentGraph:
    """The graph of a record; any defect raises :class:`CorpusFormatError` prefixed by ``where``."""
    prefix = f"{where}: " if where else ""
    if not isinstance(record, dict):
        raise CorpusFormatError(f"{prefix}a record must be a JSON object, got {_kind(record)}")
    _check_field(record, "text", str, prefix)
    for key in RECORD_KEYS:
        if record.get(key) is not None:
            _check_field(record, key, str, prefix)
    for key in ("components", "relations"):
        if record.get(key) is not None:
            _check_field(record, key, list, prefix)
    if record.get("metadata") is not None:
        _check_field(record, "metadata", dict, prefix)
    components = [
        _build(Component, c, f"components[{i}]", prefix)
        for i, c in enumerate(record.get("components") or [])
    ]
    relations = [
        _build(Relation, r, f"relations[{i}]", prefix)
        for i, r in enumerate(record.get("relations") or [])
    ]
    metadata = {k: record[k] for k in RECORD_KEYS if record.get(k) is not None}
    metadata.update(record.get("metadata") or {})
    try:
        return ArgumentGraph(record["text"], components, relations, metadata)
    except GraphValidationError as err:
        raise CorpusFormatError(f"{prefix}{_field_of(str(err))}: {err}") from err


def read_jsonl(path: str | Path) -> list[ArgumentGraph]:
    """The documents of a JSONL corpus file; blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise CorpusFormatError(f"{path}: cannot read: {err.strerror or err}") from err
    graphs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusFormatError(
                f"{where}: invalid JSON: {err.msg} (column {err.colno})"
            ) from err
        graphs.append(record_to_graph(record, where=where))
    return graphs


def write_jsonl(graphs: Iterable[ArgumentGraph], path: str | Path) -> None:
    """Write one record per line, UTF-8 without escaping, so the file diffs and greps well."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for graph in graphs:
            out.write(json.dumps(graph_to_record(graph), ensure_ascii=False) + "\n")


def _check_field(record: dict[str, Any], key: str, kind: type, prefix: str) -> None:
    if key not in record:
        raise CorpusFormatError(f"{prefix}field {key!r} is missing")
    if not isinstance(record[key], kind):
        raise CorpusFormatError(
            f"{prefix}field {key!r} must be {kind.__name__}, got {_kind(record[key])}"
        )


def _build(cls: type, data: Any, field_name: str, prefix: str) -> Any:
    try:
        return cls.from_dict(data)
    except (GraphValidationError, TypeError) as err:
        raise CorpusFormatError(f"{prefix}field {field_name!r}: {err}") from err


def _field_of(message: str) -> str:
    """Which record field a graph validation message is about."""
    field_name = "relations" if message.startswith(("relation ", "two relations")) else "components"
    return f"field {field_name!r}"


def _kind(value: Any) -> str:
    return type(value).__name__
