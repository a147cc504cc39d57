"""Annotated corpora as :class:`~argmine.graph.ArgumentGraph` documents and as ``datasets``.

The named corpora (``microtexts``, ``cdcp``, ``contactpoint``, ``all`` three of them, and the
counterfactual sentences ``semeval2020-task5``) are JSONL
files under the repository's ``corpus/`` folder (:func:`corpus_dir`); a path may instead point at
a JSONL file or at an original distribution (a microtexts XML folder, a CDCP folder, a brat
folder of persuasive essays), read with the matching reader::

    from argmine.corpus import load, load_graphs
    train = load_graphs("cdcp", split="train")      # list[ArgumentGraph]
    dataset = load("all")                            # datasets.DatasetDict keyed by split
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argmine.corpus.labelmap import apply_label_map, load_label_map
from argmine.corpus.records import (
    CorpusFormatError,
    graph_to_record,
    read_jsonl,
    record_to_graph,
    write_jsonl,
)
from argmine.graph import ArgumentGraph

if TYPE_CHECKING:
    import datasets

ARGUMENT_SOURCES: tuple[str, ...] = ("microtexts", "cdcp", "contactpoint")
"""The argument-annotated corpora shipped in ``corpus/``; ``all`` concatenates them."""
SOURCES: tuple[str, ...] = (*ARGUMENT_SOURCES, "semeval2020-task5")
"""Every corpus shipped in ``corpus/``, one JSONL file each; ``semeval2020-task5`` annotates
counterfactual sentences, not arguments."""
CORPUS_NAMES: tuple[str, ...] = (*SOURCES, "all")
"""Names :func:`load` and :func:`load_graphs` accept; ``all`` is the argument corpora."""
CORPUS_DIR_ENV = "ARGMINE_CORPUS_DIR"


class CorpusNotFoundError(FileNotFoundError):
    """A corpus name or path that resolves to nothing readable."""


def corpus_dir() -> Path:
    """Where the named corpora live: ``$ARGMINE_CORPUS_DIR``, else the checkout's ``corpus/``.

    All resolution of where named corpora live happens here, so packaging them differently only
    changes this function.
    """
    override = os.environ.get(CORPUS_DIR_ENV)
    folder = Path(override) if override else Path(__file__).resolve().parents[2] / "corpus"
    if not override and not folder.is_dir():  # installed with pip: the copy inside the package
        folder = Path(__file__).resolve().parents[1] / "_corpus"
    if not folder.is_dir():
        how = f"${CORPUS_DIR_ENV}={override}" if override else f"{folder} (the checkout's corpus/)"
        raise CorpusNotFoundError(
            f"no corpus folder at {how}; set {CORPUS_DIR_ENV} to a folder holding "
            f"{', '.join(f'{s}/{s}.jsonl' for s in SOURCES)}"
        )
    return folder


def corpus_file(name: str) -> Path:
    """The JSONL file of a named source."""
    path = corpus_dir() / name / f"{name}.jsonl"
    if not path.is_file():
        raise CorpusNotFoundError(f"corpus {name!r}: {path} does not exist")
    return path


def load_graphs(
    name_or_path: str | Path, split: str | None = None, *, label_map: Any = None
) -> list[ArgumentGraph]:
    """The documents of a corpus, optionally of one split, as graphs (what training reads).

    ``label_map`` (a built-in map name, a JSON path or a dict) retypes units from their
    ``native_label``: for a raw distribution the reader uses it, for JSONL it relabels.
    """
    graphs = _read_any(name_or_path, label_map)
    if split is None:
        return graphs
    chosen = [g for g in graphs if g.metadata.get("split") == split]
    if not chosen:
        raise ValueError(
            f"corpus {str(name_or_path)!r} has no split {split!r}; it has {_splits(graphs)}"
        )
    return chosen


def load(
    name_or_path: str | Path, split: str | None = None, *, label_map: Any = None
) -> datasets.DatasetDict | datasets.Dataset:
    """The corpus records as a ``DatasetDict`` keyed by split, or one ``Dataset`` for ``split``."""
    import datasets

    graphs = load_graphs(name_or_path, split, label_map=label_map)
    records = [graph_to_record(g) for g in graphs]
    features = record_features(records)
    if split is not None:
        return datasets.Dataset.from_list(records, features=features)
    by_split: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_split.setdefault(record["split"] or "train", []).append(record)
    return datasets.DatasetDict(
        {
            name: datasets.Dataset.from_list(rows, features=features)
            for name, rows in by_split.items()
        }
    )


def read_corpus_path(path: str | Path, *, label_map: Any = None) -> list[ArgumentGraph]:
    """Read whatever ``path`` holds, recognised by its layout."""
    path = Path(path)
    if path.is_file():
        return _relabel(read_jsonl(path), label_map)
    if not path.is_dir():
        raise CorpusNotFoundError(
            f"{path} does not exist; expected a corpus name ({', '.join(CORPUS_NAMES)}) or a path"
        )
    from argmine.corpus.cdcp import is_cdcp_dir, read_cdcp
    from argmine.corpus.essays import is_essays_dir, read_essays
    from argmine.corpus.microtexts import is_microtexts_dir, read_microtexts
    from argmine.corpus.semeval import is_semeval_dir, read_semeval_counterfactuals

    if is_microtexts_dir(path):
        return read_microtexts(path, label_map=label_map)
    if is_cdcp_dir(path):
        return read_cdcp(path, label_map=label_map)
    if is_essays_dir(path):
        return read_essays(path, label_map=label_map)
    if is_semeval_dir(path):
        return read_semeval_counterfactuals(path)
    jsonl = sorted(path.glob("*.jsonl"))
    if jsonl:
        return _relabel([g for f in jsonl for g in read_jsonl(f)], label_map)
    raise CorpusFormatError(
        f"{path}: not a recognised corpus folder: expected micro_*.xml (microtexts), *.ann.json "
        "or train/ test/ of them (CDCP), *.txt with *.ann (brat essays), or *.jsonl"
    )


def record_features(records: Sequence[dict[str, Any]]) -> datasets.Features:
    """Explicit features: fixed record fields, ``attributes``/``metadata`` as the union of keys.

    Explicit because inference types an all-``None`` ``score`` column as null and cannot merge
    splits whose attribute keys differ; a key absent from a record reads back as ``None``.
    """
    import datasets

    components = [c for r in records for c in r["components"]]
    relations = [x for r in records for x in r["relations"]]
    string, number = datasets.Value("string"), datasets.Value("float64")
    integer = datasets.Value("int64")
    return datasets.Features(
        {
            "id": string,
            "source": string,
            "split": string,
            "text": string,
            "components": [
                {
                    "id": string,
                    "start": integer,
                    "end": integer,
                    "text": string,
                    "type": string,
                    "score": number,
                    "attributes": _union_struct([c["attributes"] for c in components]),
                }
            ],
            "relations": [
                {
                    "source": string,
                    "target": string,
                    "type": string,
                    "score": number,
                    "attributes": _union_struct([x["attributes"] for x in relations]),
                }
            ],
            "metadata": _union_struct([r["metadata"] for r in records]),
        }
    )


def _union_struct(dicts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A struct feature with every key of ``dicts``, each typed from its non-null values."""
    import pyarrow as pa
    from datasets import Features

    values: dict[str, list[Any]] = {}
    for d in dicts:
        for key, value in (d or {}).items():
            values.setdefault(key, [])
            if value is not None:
                values[key].append(value)
    struct = {}
    for key, seen in values.items():
        try:
            arrow_type = pa.array(seen).type if seen else pa.string()
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise CorpusFormatError(f"attribute or metadata {key!r} mixes value types") from err
        struct[key] = Features.from_arrow_schema(pa.schema([pa.field(key, arrow_type)]))[key]
    return struct


def _read_any(name_or_path: str | Path, label_map: Any) -> list[ArgumentGraph]:
    name = str(name_or_path)
    if name == "all":
        return [g for source in ARGUMENT_SOURCES for g in _read_any(source, label_map)]
    if name in SOURCES:
        return _relabel(read_jsonl(corpus_file(name)), label_map)
    return read_corpus_path(name_or_path, label_map=label_map)


def _relabel(graphs: list[ArgumentGraph], label_map: Any) -> list[ArgumentGraph]:
    if label_map is None:
        return graphs
    mapping = load_label_map(label_map)
    return [apply_label_map(g, mapping) for g in graphs]


def _splits(graphs: list[ArgumentGraph]) -> list[str]:
    return sorted({str(g.metadata.get("split")) for g in graphs})


__all__ = [
    "ARGUMENT_SOURCES",
    "CORPUS_DIR_ENV",
    "CORPUS_NAMES",
    "SOURCES",
    "CorpusFormatError",
    "CorpusNotFoundError",
    "corpus_dir",
    "corpus_file",
    "graph_to_record",
    "load",
    "load_graphs",
    "load_label_map",
    "read_corpus_path",
    "read_jsonl",
    "record_features",
    "record_to_graph",
    "write_jsonl",
]
