"""Input readers: every corpus format becomes a sequence of :class:`Record` in a fixed order.

A fixed order is what makes a run resumable: the output is always a prefix of the input, so a
restarted run skips as many records as the output already holds (and checks their ids).

Problems with the input as a whole (a missing path, an unknown text field, no records at all, a
file in the wrong encoding) raise :class:`InputError` before any work starts. Problems with one
record (a text that is not a string, a file that cannot be decoded, a malformed JSON line) travel
with the record as its ``error`` and become an error record in the output; the run goes on.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.inputs import (
    UndecodableTextError,
    UnknownEncodingError,
    decode_message,
    decode_text,
)

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
HF_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")
INPUT_FORMATS = ("folder", "jsonl", "csv", "parquet", "hf")
RESERVED_FIELDS = ("id", "graph", "error")
"""Names the output record uses itself, so they cannot be kept from the input."""
ROW_BATCH = 1024


class InputError(ValueError):
    """The input as a whole cannot be labelled; the message says what to change."""


@dataclass
class Record:
    """One document to label: its id, its text (whatever the input held) and the kept fields."""

    id: str
    text: Any
    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class InputOptions:
    """How to read an input: which field holds the text, which the id, which to keep."""

    text_field: str = "text"
    id_field: str | None = None
    keep: tuple[str, ...] = ()
    encoding: str = "utf-8"
    split: str | None = None
    input_format: str | None = None


class Source:
    """A readable input: its length (for the progress bar) and its records, in order."""

    path: Path

    def __len__(self) -> int:
        raise NotImplementedError

    def records(self, skip: int = 0) -> Iterator[Record]:
        """All records in order; the first ``skip`` may come without their text (not needed)."""
        raise NotImplementedError


def open_input(path: str | Path, options: InputOptions | None = None) -> Source:
    """The source for ``path``, checked: it exists, holds records, and has the fields asked for."""
    options = options or InputOptions()
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    kind = options.input_format or detect_format(path)
    sources = {
        "folder": FolderSource,
        "jsonl": JsonlSource,
        "csv": CsvSource,
        "parquet": ParquetSource,
        "hf": HFDatasetSource,
    }
    if kind not in sources:
        raise InputError(f"unknown input format {kind!r}; expected one of {INPUT_FORMATS}")
    bad_keep = [name for name in options.keep if name in RESERVED_FIELDS]
    if bad_keep:
        raise InputError(
            f"cannot keep field(s) {bad_keep}: the output record uses these names itself"
        )
    source = sources[kind](path, options)
    if len(source) == 0:
        raise InputError(f"{path} holds no records to label")
    return source


def detect_format(path: Path) -> str:
    """The input format from the path: a folder of texts or a saved dataset, or a file suffix."""
    if path.is_dir():
        if any((path / marker).is_file() for marker in HF_MARKERS):
            return "hf"
        return "folder"
    suffix = path.suffix.lower()
    for kind, suffixes in (
        ("jsonl", JSONL_SUFFIXES),
        ("csv", CSV_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
    ):
        if suffix in suffixes:
            return kind
    raise InputError(
        f"cannot tell the format of {path} from its name; expected a folder of .txt files, "
        "a saved Hugging Face dataset, or a .jsonl, .csv, .tsv or .parquet file "
        "(or say which with --input-format)"
    )


def decode(data: bytes, encoding: str, name: str) -> str:
    """``data`` as text; an unknown encoding stops the run, an undecodable file or line is
    that record's error (:class:`DecodeProblem`)."""
    try:
        return decode_text(data, encoding, name)
    except UnknownEncodingError as err:
        raise InputError(str(err)) from err


DecodeProblem = UndecodableTextError
"""One file or line cannot be decoded; its message is the record's error."""


# ---------------------------------------------------------------------------- folders of texts
class FolderSource(Source):
    """A folder (searched recursively) of ``.txt`` files, and ``.html`` with the html extra.

    Each file is one record; its id is its path relative to the folder, without the suffix.
    """

    def __init__(self, path: Path, options: InputOptions) -> None:
        self.path = path
        self.options = options
        self.files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in TEXT_SUFFIXES + HTML_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not self.files:
            raise InputError(f"{path} holds no .txt or .html files")
        if any(p.suffix.lower() in HTML_SUFFIXES for p in self.files):
            require_html_extractor(path)
        self.ids = _file_ids(path, self.files)
        unknown = [name for name in options.keep if name != "path"]
        if unknown:
            raise InputError(
                f"cannot keep {unknown}: records from a folder have only the field 'path'"
            )

    def __len__(self) -> int:
        return len(self.files)

    def records(self, skip: int = 0) -> Iterator[Record]:
        for index, (file, record_id) in enumerate(zip(self.files, self.ids, strict=True)):
            relative = file.relative_to(self.path).as_posix()
            kept = {"path": relative} if "path" in self.options.keep else {}
            if index < skip:
                yield Record(record_id, None, kept)
                continue
            yield self._read(file, record_id, relative, kept)

    def _read(self, file: Path, record_id: str, relative: str, kept: dict) -> Record:
        try:
            text = decode(file.read_bytes(), self.options.encoding, relative)
        except DecodeProblem as err:
            return Record(record_id, None, kept, str(err))
        except OSError as err:
            return Record(record_id, None, kept, f"cannot read {relative}: {err.strerror}")
        if file.suffix.lower() in HTML_SUFFIXES:
            from argmine.cleanup import html_to_text

            text = html_to_text(text)
        return Record(record_id, text, kept)


def _file_ids(root: Path, files: list[Path]) -> list[str]:
    """Relative paths without suffix; with the suffix where two files would share an id."""
    stems = [f.relative_to(root).with_suffix("").as_posix() for f in files]
    clashes = {s for s in stems if stems.count(s) > 1}
    return [
        f.relative_to(root).as_posix() if stem in clashes else stem
        for f, stem in zip(files, stems, strict=True)
    ]


def require_html_extractor(path: Path) -> None:
    try:
        import trafilatura  # noqa: F401
    except ImportError as err:
        raise InputError(
            f"{path} holds .html files; reading HTML needs the extractor: "
            "pip install 'argmine[html]'"
        ) from err


# ---------------------------------------------------------------------------- tables
class TableSource(Source):
    """Rows with named fields (JSONL, CSV, Parquet, datasets): text, id and kept fields by name."""

    options: InputOptions
    id_field: str | None

    def _check_fields(self, available: list[str]) -> None:
        """Fail early, listing the fields there are, when a field asked for is not one of them."""
        shown = ", ".join(repr(name) for name in available) or "none"
        if self.options.text_field not in available:
            raise InputError(
                f"{self.path} has no text field {self.options.text_field!r}; "
                f"its fields are {shown} (choose one with --text-field)"
            )
        if self.options.id_field is not None and self.options.id_field not in available:
            raise InputError(
                f"{self.path} has no id field {self.options.id_field!r}; its fields are {shown}"
            )
        missing = [name for name in self.options.keep if name not in available]
        if missing:
            raise InputError(
                f"{self.path} has no field(s) {missing} to keep; its fields are {shown}"
            )
        self.id_field = self.options.id_field or ("id" if "id" in available else None)

    def _record(self, index: int, row: dict[str, Any]) -> Record:
        """The record of one row; a row lacking its text or id becomes an error record."""
        record_id = str(index)
        if self.id_field is not None:
            if row.get(self.id_field) is None:
                kept = {name: row.get(name) for name in self.options.keep}
                return Record(record_id, None, kept, f"record {index} has no {self.id_field!r}")
            record_id = str(row[self.id_field])
        kept = {name: _plain(row.get(name)) for name in self.options.keep}
        if self.options.text_field not in row:
            fields = ", ".join(repr(k) for k in row)
            error = (
                f"record {index} has no field {self.options.text_field!r} (its fields: {fields})"
            )
            return Record(record_id, None, kept, error)
        return Record(record_id, row[self.options.text_field], kept)


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a value read from Arrow (numpy scalars and arrays included)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class JsonlSource(TableSource):
    """JSON Lines: one JSON object per line; blank lines are skipped."""

    def __init__(self, path: Path, options: InputOptions) -> None:
        self.path = path
        self.options = options
        self.count, first = self._scan()
        self.id_field = None
        if self.count and first is None:
            raise InputError(f"no line of {path} is a JSON object; is it JSON Lines?")
        if first is not None:
            self._check_fields(list(first))

    def _scan(self) -> tuple[int, dict | None]:
        """Count the records and decode every line, so an encoding problem stops the run early."""
        count, first = 0, None
        with self.path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                try:
                    line = decode(raw, self.options.encoding, f"{self.path} line {number}")
                except DecodeProblem as err:
                    raise InputError(str(err)) from err
                if not line.strip():
                    continue
                count += 1
                if first is None:
                    first = _json_object(line)
        return count, first

    def __len__(self) -> int:
        return self.count

    def records(self, skip: int = 0) -> Iterator[Record]:
        index = 0
        with self.path.open(encoding=self.options.encoding, newline="\n") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                row = _json_object(line)
                if row is None:
                    error = f"line {number} of {self.path.name} is not a JSON object"
                    yield Record(str(index), None, {}, error)
                else:
                    yield self._record(index, row)
                index += 1


def _json_object(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


class CsvSource(TableSource):
    """CSV with a header row (``.tsv``: tab-separated). Every value is a string."""

    def __init__(self, path: Path, options: InputOptions) -> None:
        self.path = path
        self.options = options
        self.delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        header, self.count = self._scan()
        self.id_field = None
        if self.count:
            self._check_fields(header)

    def _reader(self, handle) -> csv.DictReader:
        return csv.DictReader(handle, delimiter=self.delimiter)

    def _scan(self) -> tuple[list[str], int]:
        try:
            with self.path.open(encoding=self.options.encoding, newline="") as handle:
                reader = self._reader(handle)
                count = sum(1 for _ in reader)
                return list(reader.fieldnames or []), count
        except LookupError as err:
            raise InputError(str(UnknownEncodingError(self.options.encoding))) from err
        except UnicodeDecodeError as err:
            raise InputError(decode_message(str(self.path), self.options.encoding, err)) from err
        except csv.Error as err:
            raise InputError(f"cannot read {self.path} as CSV: {err}") from err

    def __len__(self) -> int:
        return self.count

    def records(self, skip: int = 0) -> Iterator[Record]:
        with self.path.open(encoding=self.options.encoding, newline="") as handle:
            for index, row in enumerate(self._reader(handle)):
                yield self._record(index, row)


class ParquetSource(TableSource):
    """A Parquet file, read a row group at a time (only the columns needed)."""

    def __init__(self, path: Path, options: InputOptions) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.options = options
        try:
            self.file = pq.ParquetFile(path)
        except Exception as err:  # pyarrow raises ArrowInvalid, OSError... for a bad file
            raise InputError(f"cannot read {path} as Parquet: {err}") from err
        self._check_fields(self.file.schema_arrow.names)

    def __len__(self) -> int:
        return self.file.metadata.num_rows

    def records(self, skip: int = 0) -> Iterator[Record]:
        columns = _needed_columns(self.options, self.id_field)
        index = 0
        for batch in self.file.iter_batches(batch_size=ROW_BATCH, columns=columns):
            for row in batch.to_pylist():
                yield self._record(index, row)
                index += 1


def _needed_columns(options: InputOptions, id_field: str | None) -> list[str]:
    names = [options.text_field, *([id_field] if id_field else []), *options.keep]
    return list(dict.fromkeys(names))


class HFDatasetSource(TableSource):
    """A Hugging Face dataset saved with ``save_to_disk`` (a DatasetDict needs ``--split``)."""

    def __init__(self, path: Path, options: InputOptions) -> None:
        self.path = path
        self.options = options
        self.dataset = _load_split(path, options.split)
        self._check_fields(list(self.dataset.column_names))

    def __len__(self) -> int:
        return len(self.dataset)

    def records(self, skip: int = 0) -> Iterator[Record]:
        columns = _needed_columns(self.options, self.id_field)
        table = self.dataset.select_columns(columns)
        index = 0
        for batch in table.iter(batch_size=ROW_BATCH):
            for values in zip(*(batch[c] for c in columns), strict=True):
                yield self._record(index, dict(zip(columns, values, strict=True)))
                index += 1


def _load_split(path: Path, split: str | None):
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as err:  # datasets raises FileNotFoundError, ValueError... for a bad folder
        raise InputError(f"cannot load a dataset from {path}: {err}") from err
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in loaded:
            raise InputError(
                f"{path} holds the splits {splits}; choose one with --split"
                if split is None
                else f"{path} has no split {split!r}; its splits are {splits}"
            )
        return loaded[split]
    if split is not None:
        raise InputError(f"{path} is a single dataset without splits; drop --split")
    return loaded
