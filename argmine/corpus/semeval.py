"""Reader for SemEval-2020 Task 5 (counterfactual recognition; Yang et al. 2020), training files.

Layout: a folder with ``subtask1_train.csv`` (``sentenceID,gold_label,sentence``: 13,000
sentences, 1 = counterfactual) and/or ``subtask2_train.csv`` (3,551 counterfactual sentences with
the character span of the antecedent and of the consequent; ends inclusive, ``-1`` when the
sentence has no consequent).

Each distinct sentence becomes one document with no argument units: what it annotates is in its
metadata, in the project's one record format::

    {"annotates": "counterfactual", "counterfactual": true,
     "antecedent": [start, end], "consequent": [start, end] or null,
     "spans_annotated": true, "subtasks": [2], "sentence_ids": ["200001"]}

``antecedent`` and ``consequent`` are ``[start, end)`` character offsets (end exclusive, as
everywhere in argmine), given only when ``spans_annotated`` (subtask 2; ``consequent`` null: the
sentence has none). A sentence in both files (363 distinct ones) is one document; a sentence with
subtask-2 spans is counterfactual (one of them is labelled 0 in subtask 1). ``subtasks`` says
which files the sentence is in: detection is scored on subtask-1 sentences, whose share of
counterfactuals (11%) is the task's own, spans on subtask-2 sentences.
A seeded 10% of the sentences is the ``dev`` split, the rest ``train``; the held-out test files
are not part of this distribution.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from argmine.corpus.records import CorpusFormatError
from argmine.graph import ArgumentGraph

SOURCE = "semeval2020-task5"
DETECTION_FILE = "subtask1_train.csv"
SPANS_FILE = "subtask2_train.csv"
DEV_FRACTION = 0.1
DEV_SEED = 13


def is_semeval_dir(path: Path) -> bool:
    return path.is_dir() and ((path / DETECTION_FILE).is_file() or (path / SPANS_FILE).is_file())


def read_semeval_counterfactuals(
    folder: str | Path, *, dev_fraction: float = DEV_FRACTION, seed: int = DEV_SEED
) -> list[ArgumentGraph]:
    """One graph per distinct sentence, train then dev, each in order of first sentence id."""
    folder = Path(folder)
    if not is_semeval_dir(folder):
        raise CorpusFormatError(f"{folder}: no {DETECTION_FILE} or {SPANS_FILE}")
    by_text: dict[str, dict] = {}
    for row in _rows(folder / DETECTION_FILE):
        _merge(by_text, row["sentence"], row["sentenceID"], counterfactual=_label(row))
    for row in _rows(folder / SPANS_FILE):
        text = row["sentence"]
        spans = {
            "antecedent": _span(row, "antecedent", text),
            "consequent": _span(row, "consequent", text),
        }
        if spans["antecedent"] is None:
            raise CorpusFormatError(f"{SPANS_FILE}: sentence {row['sentenceID']} has no antecedent")
        _merge(by_text, text, row["sentenceID"], spans=spans)
    dev = _dev_texts(sorted(by_text), dev_fraction, seed)
    graphs = [
        _graph(text, entry, "dev" if text in dev else "train") for text, entry in by_text.items()
    ]
    return sorted(graphs, key=lambda g: (g.metadata["split"] != "train", g.metadata["id"]))


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _label(row: dict[str, str]) -> bool:
    if row.get("gold_label") not in ("0", "1"):
        raise CorpusFormatError(
            f"{DETECTION_FILE}: sentence {row.get('sentenceID')}: gold_label must be 0 or 1"
        )
    return row["gold_label"] == "1"


def _span(row: dict[str, str], role: str, text: str) -> list[int] | None:
    """``[start, end)`` from the file's inclusive ends, checked against the quoted text."""
    start, last = int(row[f"{role}_startid"]), int(row[f"{role}_endid"])
    if start < 0:
        return None
    if text[start : last + 1] != row[role]:
        raise CorpusFormatError(
            f"{SPANS_FILE}: sentence {row['sentenceID']}: the {role} offsets do not match its text"
        )
    return [start, last + 1]


def _merge(by_text: dict[str, dict], text: str, sentence_id: str, **fields) -> None:
    entry = by_text.setdefault(text, {"ids": []})
    entry["ids"].append(sentence_id)
    entry.update(fields)


def _dev_texts(texts: list[str], fraction: float, seed: int) -> set[str]:
    chosen = random.Random(seed).sample(texts, round(fraction * len(texts)))
    return set(chosen)


def _graph(text: str, entry: dict, split: str) -> ArgumentGraph:
    spans = entry.get("spans")
    metadata = {
        "id": f"sent{entry['ids'][0]}",
        "source": SOURCE,
        "split": split,
        "annotates": "counterfactual",
        "counterfactual": spans is not None or entry.get("counterfactual", False),
        "spans_annotated": spans is not None,
        "subtasks": sorted({1 if i.startswith("1") else 2 for i in entry["ids"]}),
        "antecedent": spans["antecedent"] if spans else None,
        "consequent": spans["consequent"] if spans else None,
        "sentence_ids": entry["ids"],
    }
    return ArgumentGraph(text, [], [], metadata)
