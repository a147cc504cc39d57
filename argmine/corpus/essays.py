"""Reader for persuasive essays in the Stab & Gurevych brat scheme (``essayNNN.txt`` + ``.ann``).

Entities MajorClaim / Claim / Premise become conclusion / claim / evidence and ``supports`` /
``attacks`` become support / attack (``argmine/labelmaps/essays.json``). The scheme links a
Claim to the essay's thesis not by a relation but by a ``Stance`` attribute (For / Against); it
becomes a relation from the Claim to the *first MajorClaim in text order* (the thesis is stated
in the introduction and restated in the conclusion; the first statement is the one the essay
argues from). An essay without a MajorClaim keeps its Claims unlinked. Parsing the ``.ann`` is
:func:`argmine.formats.brat.parse_ann`'s job; this module only interprets the scheme.

Splits: the corpus's ``train-test-split.csv`` (``"essay001";"TRAIN"``) when it is in the folder,
otherwise every essay is ``train``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from argmine.corpus.labelmap import LabelMap, resolve_label_map
from argmine.corpus.records import CorpusFormatError
from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation

SOURCE = "essays"
STANCE_ATTRIBUTE = "Stance"
SPLIT_FILE = "train-test-split.csv"


def is_essays_dir(path: Path) -> bool:
    """A folder with at least one ``.ann`` beside a ``.txt`` of the same name."""
    return path.is_dir() and any(a.with_suffix(".txt").is_file() for a in path.glob("*.ann"))


def read_essays(folder: str | Path, *, label_map: Any = None) -> list[ArgumentGraph]:
    """Every ``*.ann`` of ``folder`` with its ``.txt``, in file-name order."""
    folder = Path(folder)
    labels = resolve_label_map(label_map, SOURCE)
    splits = _read_splits(folder / SPLIT_FILE)
    graphs = []
    for ann in sorted(folder.glob("*.ann")):
        txt = ann.with_suffix(".txt")
        if not txt.is_file():
            raise CorpusFormatError(f"{txt}: missing (its .ann exists)")
        graphs.append(read_essay(txt, label_map=labels, split=splits.get(ann.stem, "train")))
    return graphs


def read_essay(
    txt_path: str | Path, *, label_map: Any = None, split: str = "train"
) -> ArgumentGraph:
    """One essay: ``essayNNN.txt`` and the ``essayNNN.ann`` beside it."""
    from argmine.formats.brat import BratFormatError, parse_ann

    txt_path = Path(txt_path)
    ann_path = txt_path.with_suffix(".ann")
    labels = resolve_label_map(label_map, SOURCE)
    with txt_path.open(encoding="utf-8", newline="") as handle:
        text = handle.read()
    try:
        ann = parse_ann(ann_path.read_text(encoding="utf-8"), str(ann_path))
    except BratFormatError as err:
        raise CorpusFormatError(str(err)) from err
    components = sorted(
        (_component(e, text, labels, ann_path) for e in ann.entities),
        key=lambda c: (c.start, c.end),  # text order, as records store them
    )
    relations = [_relation(r, labels, ann_path) for r in ann.relations]
    relations += _stance_relations(ann, components, relations, labels, ann_path)
    metadata = {"id": txt_path.stem, "source": SOURCE, "split": split}
    try:
        return ArgumentGraph(text, components, relations, metadata)
    except GraphValidationError as err:
        raise CorpusFormatError(f"{ann_path}: {err}") from err


def _component(entity: Any, text: str, labels: LabelMap, path: Path) -> Component:
    """One entity; a discontinuous one spans from its first to its last fragment."""
    where = f"{path}: entity {entity.id}"
    start = min(s for s, _ in entity.fragments)
    end = max(e for _, e in entity.fragments)
    if not 0 <= start < end <= len(text):
        raise CorpusFormatError(
            f"{where}: span [{start}, {end}) lies outside the text (length {len(text)})"
        )
    if len(entity.fragments) == 1 and text[start:end] != entity.text:
        raise CorpusFormatError(
            f"{where}: text {entity.text!r} differs from the .txt at [{start}, {end}): "
            f"{text[start:end]!r}"
        )
    return Component(
        id=entity.id,
        start=start,
        end=end,
        text=text[start:end],
        type=labels.component_type(entity.label, where),
        attributes={"native_label": entity.label},
    )


def _relation(relation: Any, labels: LabelMap, path: Path) -> Relation:
    where = f"{path}: relation {relation.id}"
    return Relation(
        relation.arg1,
        relation.arg2,
        labels.relation_type(relation.label, where),
        attributes={"native_label": relation.label},
    )


def _stance_relations(
    ann: Any,
    components: list[Component],
    relations: list[Relation],
    labels: LabelMap,
    path: Path,
) -> list[Relation]:
    """Claim -> first MajorClaim for each Stance attribute, unless the pair is already related."""
    majors = sorted(
        (c for c in components if c.attributes["native_label"] == "MajorClaim"),
        key=lambda c: (c.start, c.end),
    )
    if not majors:
        return []
    linked = {(r.source, r.target) for r in relations}
    added = []
    for attribute in ann.attributes:
        if attribute.name != STANCE_ATTRIBUTE:
            continue
        pair = (attribute.target, majors[0].id)
        if pair in linked or attribute.target == majors[0].id:
            continue
        where = f"{path}: attribute {attribute.id}"
        kind = labels.relation_type(str(attribute.value), where)
        added.append(Relation(*pair, kind, attributes={"native_label": str(attribute.value)}))
        linked.add(pair)
    return added


def _read_splits(path: Path) -> dict[str, str]:
    """``{"essay001": "train", ...}`` from the corpus's split file, if there is one."""
    if not path.is_file():
        return {}
    splits = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            if len(row) == 2 and row[1].strip().upper() in ("TRAIN", "TEST"):
                splits[row[0].strip()] = row[1].strip().lower()
    return splits
