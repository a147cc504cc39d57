"""Batch labelling of whole corpora: read records, label them, write resumable output.

``argmine label`` is a thin shell over this package::

    from argmine.batch import InputOptions, ModelSpec, Output, label_corpus, open_input

    source = open_input("comments.jsonl", InputOptions(text_field="comment", keep=("date",)))
    report = label_corpus(source, Output(Path("out.jsonl"), "jsonl"), ModelSpec("models/x"))
    print("\\n".join(report.lines()))

- :mod:`argmine.batch.readers`: folders of .txt/.html, JSONL, CSV, Parquet, saved datasets.
- :mod:`argmine.batch.journal`: the append-only record file that makes runs resumable.
- :mod:`argmine.batch.writers`: JSONL, Parquet tables, brat and AIF folders.
- :mod:`argmine.batch.runner`: batching, worker processes, per-record errors, the summary.
"""

from __future__ import annotations

from argmine.batch.journal import Journal, OutputError, RecordStats, Tally
from argmine.batch.readers import (
    INPUT_FORMATS,
    InputError,
    InputOptions,
    Record,
    Source,
    open_input,
)
from argmine.batch.runner import (
    ModelSpec,
    RunReport,
    WorkerError,
    label_batch,
    label_corpus,
    label_texts,
)
from argmine.batch.writers import OUTPUT_FORMATS, Output, output_format_for

__all__ = [
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "InputError",
    "InputOptions",
    "Journal",
    "ModelSpec",
    "Output",
    "OutputError",
    "Record",
    "RecordStats",
    "RunReport",
    "Source",
    "Tally",
    "WorkerError",
    "label_batch",
    "label_corpus",
    "label_texts",
    "open_input",
    "output_format_for",
]
