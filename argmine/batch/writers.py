"""Output formats: the journal (JSONL) and what is built from it when a run ends.

- ``jsonl``: OUTPUT is a file, one record per input record (``id``, kept fields, ``graph``,
  ``error``); it is the journal itself, so it grows record by record.
- ``parquet``: OUTPUT is a folder with ``documents.parquet`` (one row per input record, errors
  included), ``components.parquet`` and ``relations.parquet`` (flat, keyed by ``doc_id``).
- ``brat``: OUTPUT is a folder with ``NAME.txt`` and ``NAME.ann`` per labelled document.
- ``aif``: OUTPUT is a folder with ``NAME.json`` (AIF) per labelled document.

The folder formats keep the journal as ``OUTPUT/records.jsonl`` and are (re)built from it, each
file written to a temporary name and renamed, so a killed run never leaves a half-written file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argmine.batch.journal import Journal, OutputError
from argmine.files import atomic_write, replaced_atomically

OUTPUT_FORMATS = ("jsonl", "parquet", "brat", "aif")
JOURNAL_NAME = "records.jsonl"
PARQUET_TABLES = ("documents.parquet", "components.parquet", "relations.parquet")
ROWS_PER_GROUP = 10_000


@dataclass
class Output:
    """Where and in which format a run writes."""

    path: Path
    format: str

    def __post_init__(self) -> None:
        if self.format not in OUTPUT_FORMATS:
            raise OutputError(f"unknown output format {self.format!r}; expected {OUTPUT_FORMATS}")

    @property
    def journal(self) -> Journal:
        return Journal(self.path if self.format == "jsonl" else self.path / JOURNAL_NAME)

    def prepare(self, overwrite: bool = False) -> None:
        """Check the output can be written (or resumed); with ``overwrite``, clear what it holds."""
        if self.format == "jsonl":
            self._prepare_file(overwrite)
        else:
            self._prepare_folder(overwrite)

    def _prepare_file(self, overwrite: bool) -> None:
        if self.path.is_dir():
            raise OutputError(f"{self.path} is a folder; --format jsonl writes a file")
        if overwrite and self.path.exists():
            self.path.unlink()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _prepare_folder(self, overwrite: bool) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{self.path} is a file; --format {self.format} writes a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        ours = (self.path / JOURNAL_NAME).exists()
        if not ours and any(self.path.iterdir()):
            raise OutputError(
                f"{self.path} already holds files that argmine label did not write; "
                "choose a new or empty folder"
            )
        if overwrite and ours:
            for file in self._written_files():
                file.unlink()

    def _written_files(self) -> list[Path]:
        patterns = {
            "parquet": PARQUET_TABLES,
            "brat": ("*.txt", "*.ann", "annotation.conf"),
            "aif": ("*.json",),
        }[self.format]
        files = [f for pattern in patterns for f in self.path.glob(pattern)]
        return [*files, self.path / JOURNAL_NAME]

    def finish(self) -> None:
        """Build the folder formats from the journal (nothing to do for JSONL)."""
        if self.format == "parquet":
            write_parquet_tables(self.journal, self.path)
        elif self.format == "brat":
            write_document_files(self.journal, self.path, "brat")
            if not (self.path / "annotation.conf").exists():
                atomic_write(self.path / "annotation.conf", BRAT_CONF)
        elif self.format == "aif":
            write_document_files(self.journal, self.path, "aif")


def output_format_for(path: Path) -> str | None:
    """The format a path's name implies, if any (``out.jsonl`` -> ``jsonl``)."""
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else None


# ---------------------------------------------------------------------------- brat and AIF
def write_document_files(journal: Journal, folder: Path, format_name: str) -> None:
    """One or more files per labelled document in a format of :data:`argmine.formats.FORMATS`,
    named after its id; error records get none."""
    from argmine.formats import files
    from argmine.graph import ArgumentGraph

    names = FileNames()
    for record in journal.records():
        if record["graph"] is None:
            continue
        graph = ArgumentGraph.from_dict(record["graph"])
        for suffix, content in files(graph, format_name, names.of(str(record["id"]))).items():
            atomic_write(folder / suffix, content)


BRAT_CONF = """\
# Written by argmine label: the types argmine's brat files use.
[entities]
conclusion
claim
evidence

[relations]
support Arg1:<ENTITY>, Arg2:<ENTITY>
attack Arg1:<ENTITY>, Arg2:<ENTITY>
<OVERLAP> Arg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>

[events]

[attributes]
counterfactual Arg:<ENTITY>
"""
"""brat's ``annotation.conf`` for the collection, so brat and INCEpTION know the labels."""


class FileNames:
    """File names from record ids: safe characters only, and never the same name twice."""

    UNSAFE = re.compile(r"[^\w.-]+")

    def __init__(self) -> None:
        self.used: set[str] = set()

    def of(self, record_id: str) -> str:
        base = self.UNSAFE.sub("_", record_id).strip("._") or "document"
        name, n = base, 1
        while name.lower() in self.used:
            n += 1
            name = f"{base}-{n}"
        self.used.add(name.lower())
        return name


# ---------------------------------------------------------------------------- Parquet
def write_parquet_tables(journal: Journal, folder: Path) -> None:
    """``documents``, ``components`` and ``relations`` tables, streamed from the journal.

    Fixed columns have fixed types. Columns that come from the input (kept fields) or the model
    (attributes) get one type over the whole run, found in a first pass: ints and floats make a
    double, a mix of kinds (or lists and objects) is stored as JSON text.
    """
    for name, (rows_of, fixed) in TABLES.items():
        kinds: dict[str, set[str]] = {}
        for record in journal.records():
            for row in rows_of(record):
                for key, value in row.items():
                    if key not in fixed:
                        kinds.setdefault(key, set()).add(_kind(value))
        columns = {**_fixed_types(fixed), **{k: _column_type(v) for k, v in kinds.items()}}
        _write_table(folder / name, columns, _rows(journal, rows_of))


def _rows(journal: Journal, rows_of) -> Iterator[dict[str, Any]]:
    for record in journal.records():
        yield from rows_of(record)


def documents_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    graph = record["graph"] or {}
    metadata = graph.get("metadata") or {}
    row: dict[str, Any] = {
        "id": str(record["id"]),
        "text": graph.get("text"),
        "n_components": len(graph.get("components") or ()),
        "n_relations": len(graph.get("relations") or ()),
        "model": metadata.get("model"),
        "model_version": metadata.get("model_version"),
        "error": record["error"],
    }
    for key, value in record.items():
        if key not in ("id", "graph", "error"):
            row[key if key not in row else f"field_{key}"] = value
    return [row]


def component_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    return _part_rows(record, "components", ("id", "start", "end", "text", "type"))


def relation_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    return _part_rows(record, "relations", ("source", "target", "type"))


def _part_rows(record: dict[str, Any], part: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per component or relation: the document's id, ``columns``, the score and one
    column per attribute."""
    graph = record["graph"] or {}
    return [
        _with_attributes(
            {
                "doc_id": str(record["id"]),
                **{k: item[k] for k in columns},
                "score": item.get("score"),
            },
            item.get("attributes") or {},
        )
        for item in graph.get(part) or ()
    ]


TABLES: dict[str, tuple[Callable[[dict], list[dict]], dict[str, str]]] = {
    "documents.parquet": (
        documents_rows,
        {
            "id": "string",
            "text": "string",
            "n_components": "int64",
            "n_relations": "int64",
            "model": "string",
            "model_version": "string",
            "error": "string",
        },
    ),
    "components.parquet": (
        component_rows,
        {
            "doc_id": "string",
            "id": "string",
            "start": "int64",
            "end": "int64",
            "text": "string",
            "type": "string",
            "score": "float64",
        },
    ),
    "relations.parquet": (
        relation_rows,
        {
            "doc_id": "string",
            "source": "string",
            "target": "string",
            "type": "string",
            "score": "float64",
        },
    ),
}
"""Each table: the function giving its rows for one record, and its fixed columns' types."""


def _with_attributes(row: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    for key, value in attributes.items():
        row[key if key not in row else f"attr_{key}"] = value
    return row


def _fixed_types(fixed: dict[str, str]) -> dict[str, Any]:
    import pyarrow as pa

    return {key: pa.type_for_alias(alias) for key, alias in fixed.items()}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "json"


def _column_type(kinds: set[str]) -> Any:
    """The Arrow type for a column whose values were of ``kinds``; ``"json"``: JSON text."""
    import pyarrow as pa

    kinds = kinds - {"null"}
    if not kinds or kinds == {"str"}:
        return pa.string()
    if kinds == {"int"}:
        return pa.int64()
    if kinds <= {"int", "float"}:
        return pa.float64()
    if kinds == {"bool"}:
        return pa.bool_()
    return "json"


def _cell(value: Any, column_type: Any) -> Any:
    if column_type == "json":
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)
    return value


def _write_table(path: Path, columns: dict[str, Any], rows: Iterator[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(k, pa.string() if t == "json" else t) for k, t in columns.items()])
    with replaced_atomically(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for chunk in _chunks(rows, ROWS_PER_GROUP):
            data = {k: [_cell(row.get(k), t) for row in chunk] for k, t in columns.items()}
            writer.write_table(pa.table(data, schema=schema))


def _chunks(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
