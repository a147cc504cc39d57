"""The journal: an append-only JSON Lines file of finished records, and what a run has counted.

Every output format is built on one: for ``--format jsonl`` the journal *is* the output; the
other formats keep it as ``records.jsonl`` in the output folder and are built from it when the
run ends. A record is appended as one complete line and flushed at once, and the file is
fsynced after each batch, so a killed run leaves at most one partial line at the end, which
:meth:`Journal.recover` cuts off. What precedes it is the prefix of the input already done.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

RECORD_KEYS = ("id", "graph", "error")


class OutputError(ValueError):
    """The output cannot be written or resumed; the message says what to change."""


@dataclass(frozen=True)
class RecordStats:
    """What the summary and the resume check need from one finished record."""

    id: str
    error: str | None
    component_types: tuple[str, ...] = ()
    relation_types: tuple[str, ...] = ()
    model: tuple[str, str] | None = None
    masked_words: int = 0
    """Words the clean-up hid from the model (``graph.metadata["masked"]``)."""

    @classmethod
    def of(cls, record: dict[str, Any]) -> RecordStats:
        graph = record.get("graph") or {}
        metadata = graph.get("metadata") or {}
        model = (metadata["model"], metadata.get("model_version")) if "model" in metadata else None
        return cls(
            id=str(record["id"]),
            error=record.get("error"),
            component_types=tuple(c["type"] for c in graph.get("components") or ()),
            relation_types=tuple(r["type"] for r in graph.get("relations") or ()),
            model=model,
            masked_words=_masked_words(graph.get("text") or "", metadata.get("masked") or ()),
        )


def _masked_words(text: str, masked) -> int:
    return sum(len(text[m["start"] : m["end"]].split()) for m in masked if isinstance(m, dict))


@dataclass
class Tally:
    """Counts for the end-of-run summary, over the whole output (resumed records included)."""

    documents: int = 0
    resumed: int = 0
    errors: int = 0
    components: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    first_error: tuple[str, str] | None = None
    masked_documents: int = 0
    masked_words: int = 0

    def add(self, stats: RecordStats) -> None:
        self.documents += 1
        if stats.masked_words:
            self.masked_documents += 1
            self.masked_words += stats.masked_words
        self.components.update(stats.component_types)
        self.relations.update(stats.relation_types)
        if stats.error is not None:
            self.errors += 1
            if self.first_error is None:
                self.first_error = (stats.id, stats.error)


class Journal:
    """The append-only record file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def recover(self) -> list[RecordStats]:
        """The records already done, in order; a trailing partial line is truncated away."""
        if not self.path.exists():
            return []
        done: list[RecordStats] = []
        with self.path.open("rb+") as handle:
            end_of_complete = 0
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break  # written by a run killed mid-line: cut off below
                done.append(self._stats(line, number))
                end_of_complete += len(line)
            handle.truncate(end_of_complete)
        return done

    def _stats(self, line: bytes, number: int) -> RecordStats:
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise OutputError(
                f"{self.path} line {number} is not a complete record ({err}); this file was not "
                "written by argmine label, or was edited: use a new output or --overwrite"
            ) from err
        if not isinstance(record, dict) or any(key not in record for key in RECORD_KEYS):
            raise OutputError(
                f"{self.path} line {number} is not an argmine label record (it needs the keys "
                f"{list(RECORD_KEYS)}): use a new output or --overwrite"
            )
        return RecordStats.of(record)

    @contextmanager
    def appender(self) -> Iterator[JournalAppender]:
        """An appender that opens the file at its first write (a run failing before it, say
        on loading the model, leaves no empty output behind)."""
        appender = JournalAppender(self.path)
        try:
            yield appender
        finally:
            appender.close()

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record, parsed, in order."""
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


class JournalAppender:
    """Writes whole lines: each record in one write, flushed at once; fsync once per batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: BinaryIO | None = None

    def write_batch(self, lines: list[str]) -> None:
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("ab")
        for line in lines:
            self.handle.write(line.encode("utf-8") + b"\n")
            self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        if self.handle is not None:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            self.handle = None
