"""Rebuild ``corpus/`` from the original distributions: ``argmine corpus build --from ../shared``.

The microtexts, CDCP and SemEval-2020 Task 5 JSONL files are derived, so they are regenerated
from what the authors published (``<shared>/corpora/microtexts``, ``<shared>/corpora/cdcp``,
``<shared>/corpora/semeval2020-task5``); the
ContactPoint annotation is made by hand and is copied as it is, together with the hand-written
documentation (README, guideline, attributions), from the reference corpus folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from argmine.corpus.cdcp import read_cdcp
from argmine.corpus.microtexts import read_microtexts
from argmine.corpus.records import CorpusFormatError, write_jsonl
from argmine.corpus.semeval import read_semeval_counterfactuals

HAND_MADE: tuple[str, ...] = (
    "README.md",
    "GUIDELINES.md",
    "microtexts/ATTRIBUTION.md",
    "cdcp/ATTRIBUTION.md",
    "contactpoint/ATTRIBUTION.md",
    "semeval2020-task5/ATTRIBUTION.md",
    "contactpoint/contactpoint.jsonl",
    "contactpoint/annotate.py",
)
"""Files of ``corpus/`` that no original distribution can regenerate; copied as they are."""


def build_corpus(
    shared_dir: str | Path, out_dir: str | Path, *, reference_dir: str | Path | None = None
) -> dict[str, Path]:
    """Write ``out_dir/{microtexts,cdcp,contactpoint}/<name>.jsonl``; returns the files written.

    ``reference_dir`` (default: :func:`argmine.corpus.corpus_dir`) supplies the hand-made files;
    nothing is copied onto itself when ``out_dir`` is that folder.
    """
    shared, out = Path(shared_dir), Path(out_dir)
    corpora = shared / "corpora"
    if not corpora.is_dir():
        raise FileNotFoundError(f"{corpora} does not exist: expected the original distributions")
    written = {
        "microtexts": _build_microtexts(corpora / "microtexts", out / "microtexts"),
        "cdcp": _build_cdcp(corpora / "cdcp", out / "cdcp"),
        "semeval2020-task5": _build_semeval(
            corpora / "semeval2020-task5", out / "semeval2020-task5"
        ),
    }
    _copy_hand_made(_reference(reference_dir), out)
    written["contactpoint"] = out / "contactpoint" / "contactpoint.jsonl"
    return written


def _build_microtexts(distribution: Path, out: Path) -> Path:
    """The English texts (``en/`` in the distribution) and the corpus licence beside them."""
    xml_dir = distribution / "en" if (distribution / "en").is_dir() else distribution
    target = out / "microtexts.jsonl"
    write_jsonl(read_microtexts(xml_dir), target)
    licence = distribution / "LICENSE"
    if licence.is_file():
        shutil.copyfile(licence, out / "LICENSE")
    return target


def _build_cdcp(distribution: Path, out: Path) -> Path:
    return _convert(distribution, read_cdcp, out / "cdcp.jsonl", "the CDCP distribution")


def _build_semeval(distribution: Path, out: Path) -> Path:
    return _convert(
        distribution,
        read_semeval_counterfactuals,
        out / "semeval2020-task5.jsonl",
        "SemEval-2020 Task 5",
    )


def _convert(distribution: Path, reader, target: Path, expected: str) -> Path:
    """Read a source distribution folder into our JSONL records at ``target``."""
    if not distribution.is_dir():
        raise FileNotFoundError(f"{distribution} does not exist: expected {expected}")
    write_jsonl(reader(distribution), target)
    return target


def _reference(reference_dir: str | Path | None) -> Path:
    if reference_dir is not None:
        return Path(reference_dir)
    from argmine.corpus import corpus_dir

    return corpus_dir()


def _copy_hand_made(reference: Path, out: Path) -> None:
    if reference.resolve() == out.resolve():
        return
    missing = reference / "contactpoint" / "contactpoint.jsonl"
    if not missing.is_file():
        raise CorpusFormatError(f"{missing}: the hand-annotated ContactPoint corpus is missing")
    for name in HAND_MADE:
        source = reference / name
        if source.is_file():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out / name)
