"""Reader for the Cornell eRulemaking Corpus, CDCP (Park & Cardie 2018; Niculae et al. 2017).

Layout: a folder with ``train/`` and/or ``test/`` of ``NNNNN.txt`` + ``NNNNN.ann.json``, or one
such split folder. Decisions (each keeps the published counts: 581 train documents, 3,906
propositions, 1,099 support relations):

- Spans: ``prop_offsets`` tile the comment, so most propositions begin or end with whitespace;
  each span is shrunk to its first and last non-space character (offsets still index the
  original text, nothing is rewritten). No proposition is all whitespace in the train split; one
  that were would be an error rather than silently dropped.
- Relations: a reason or evidence ``[[a, b], t]`` means each of propositions a..b supports t.
  The same pair stated twice (3 times in train: overlapping ranges such as ``[[1,1],0]`` and
  ``[[1,2],0]``) is one relation; its ``native_label`` is the label of the first statement.
  Self-loops would be dropped (there are none).
- Types come from ``argmine/labelmaps/cdcp.json``: fact/testimony/reference -> evidence,
  value/policy -> claim, and a proposition that receives support and supports nothing ->
  conclusion (690 in train).
- Splits: CDCP's ``test/`` is ``test``; of its train documents a fixed 10% (``DEV_SEED`` over
  sorted ids) is ``dev``, the rest ``train``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from argmine.corpus.labelmap import LabelMap, promote_tops, resolve_label_map
from argmine.corpus.records import CorpusFormatError
from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation

SOURCE = "cdcp"
DEV_FRACTION = 0.1
DEV_SEED = 13
RELATION_KEYS = (("reasons", "reason"), ("evidences", "evidence"))


def is_cdcp_dir(path: Path) -> bool:
    """A folder of ``*.ann.json`` or with ``train/`` / ``test/`` subfolders of them."""
    if not path.is_dir():
        return False
    return (
        any(path.glob("*.ann.json"))
        or any(path.glob("train/*.ann.json"))
        or any(path.glob("test/*.ann.json"))
    )


def read_cdcp(
    folder: str | Path,
    *,
    label_map: Any = None,
    dev_fraction: float = DEV_FRACTION,
    seed: int = DEV_SEED,
) -> list[ArgumentGraph]:
    """All documents of a CDCP folder, train then dev then test, each in id order.

    A lone split folder named ``test`` is read as test; any other lone folder as train (with
    its dev part carved out).
    """
    folder = Path(folder)
    labels = resolve_label_map(label_map, SOURCE)
    split_dirs = {name: folder / name for name in ("train", "test") if (folder / name).is_dir()}
    if not split_dirs:
        split_dirs = {"test" if folder.name == "test" else "train": folder}
    graphs: list[ArgumentGraph] = []
    if "train" in split_dirs:
        train = _read_split(split_dirs["train"], "train", labels)
        dev_ids = choose_dev_ids([g.metadata["id"] for g in train], dev_fraction, seed)
        for graph in train:
            if graph.metadata["id"] in dev_ids:
                graph.metadata["split"] = "dev"
        order = {"train": 0, "dev": 1}
        graphs.extend(sorted(train, key=lambda g: order[g.metadata["split"]]))
    if "test" in split_dirs:
        graphs.extend(_read_split(split_dirs["test"], "test", labels))
    return graphs


def choose_dev_ids(
    ids: list[str], fraction: float = DEV_FRACTION, seed: int = DEV_SEED
) -> set[str]:
    """A fixed ``fraction`` of ``ids``: the same documents whatever order they were read in."""
    ordered = sorted(ids)
    count = round(len(ordered) * fraction)
    return set(random.Random(seed).sample(ordered, count))


def read_cdcp_document(
    txt_path: str | Path, *, label_map: Any = None, split: str = "train"
) -> ArgumentGraph:
    """One comment: ``NNNNN.txt`` and the ``NNNNN.ann.json`` beside it."""
    txt_path = Path(txt_path)
    labels = resolve_label_map(label_map, SOURCE)
    ann_path = txt_path.with_name(txt_path.stem + ".ann.json")
    with txt_path.open(encoding="utf-8", newline="") as handle:
        text = handle.read()
    ann = _read_annotation(ann_path)
    components = _components(text, ann, labels, ann_path)
    relations = _relations(ann, len(components), labels, ann_path)
    metadata = {"id": txt_path.stem, "source": SOURCE, "split": split}
    try:
        graph = ArgumentGraph(text, components, relations, metadata)
        return promote_tops(graph) if labels.top_is_conclusion else graph
    except GraphValidationError as err:
        raise CorpusFormatError(f"{ann_path}: {err}") from err


def _read_split(folder: Path, split: str, labels: LabelMap) -> list[ArgumentGraph]:
    annotations = sorted(folder.glob("*.ann.json"))
    txts = [a.with_name(a.name[: -len(".ann.json")] + ".txt") for a in annotations]
    missing = [t for t in txts if not t.is_file()]
    if missing:
        raise CorpusFormatError(f"{missing[0]}: missing (its .ann.json exists)")
    return [read_cdcp_document(t, label_map=labels, split=split) for t in txts]


def _read_annotation(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CorpusFormatError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from err
    except OSError as err:
        raise CorpusFormatError(f"{path}: cannot read: {err.strerror or err}") from err
    if not isinstance(data, dict):
        raise CorpusFormatError(f"{path}: expected a JSON object")
    for key in ("prop_labels", "prop_offsets"):
        if not isinstance(data.get(key), list):
            raise CorpusFormatError(f"{path}: field {key!r} is missing or not a list")
    if len(data["prop_labels"]) != len(data["prop_offsets"]):
        raise CorpusFormatError(
            f"{path}: field 'prop_labels' has {len(data['prop_labels'])} entries but "
            f"'prop_offsets' has {len(data['prop_offsets'])}"
        )
    return data


def _components(text: str, ann: dict[str, Any], labels: LabelMap, path: Path) -> list[Component]:
    urls = ann.get("url") or {}
    components = []
    for index, (native, offsets) in enumerate(
        zip(ann["prop_labels"], ann["prop_offsets"], strict=True)
    ):
        where = f"{path}: field 'prop_offsets[{index}]'"
        start, end = _stripped_span(text, offsets, where)
        attributes: dict[str, Any] = {"native_label": native}
        if str(index) in urls:
            attributes["url"] = urls[str(index)]
        components.append(
            Component(
                id=f"p{index}",
                start=start,
                end=end,
                text=text[start:end],
                type=labels.component_type(native, f"{path}: field 'prop_labels[{index}]'"),
                attributes=attributes,
            )
        )
    return components


def _stripped_span(text: str, offsets: Any, where: str) -> tuple[int, int]:
    """``offsets`` without the whitespace at either end; out-of-range spans are errors."""
    if not (
        isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
    ):
        raise CorpusFormatError(f"{where}: expected [start, end], got {offsets!r}")
    start, end = offsets
    if not 0 <= start < end <= len(text):
        raise CorpusFormatError(
            f"{where}: span [{start}, {end}) lies outside the text (length {len(text)})"
        )
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise CorpusFormatError(f"{where}: span {offsets} holds only whitespace")
    return start, end


def _relations(ann: dict[str, Any], count: int, labels: LabelMap, path: Path) -> list[Relation]:
    relations: dict[tuple[str, str], Relation] = {}
    for key, native in RELATION_KEYS:
        for index, link in enumerate(ann.get(key) or []):
            where = f"{path}: field '{key}[{index}]'"
            first, last, target = _link(link, count, where)
            for source in range(first, last + 1):
                pair = (f"p{source}", f"p{target}")
                if source == target or pair in relations:
                    continue
                kind = labels.relation_type(native, where)
                relations[pair] = Relation(*pair, kind, attributes={"native_label": native})
    return list(relations.values())


def _link(link: Any, count: int, where: str) -> tuple[int, int, int]:
    """``[[first, last], target]`` checked against the number of propositions."""
    try:
        (first, last), target = link
        values = [int(first), int(last), int(target)]
    except (TypeError, ValueError) as err:
        raise CorpusFormatError(f"{where}: expected [[first, last], target], got {link!r}") from err
    if not (0 <= values[0] <= values[1] < count and 0 <= values[2] < count):
        raise CorpusFormatError(f"{where}: {link!r} names a proposition outside 0..{count - 1}")
    return values[0], values[1], values[2]
