"""Hand annotation of the ContactPoint article ("Ends in August"), written out as JSONL.

Run from the repository root: ``python corpus/contactpoint/annotate.py [ARTICLE]`` (default
``../shared/seed/ends-in-august.txt``). It rewrites ``contactpoint.jsonl`` beside it.

The text is stored exactly as scraped (non-breaking spaces, the page chrome after "Leave a
Reply" included); no unit lies in the title or the chrome. Each unit is given by its first and
last words, so offsets are computed, never typed, and the span cannot drift from the text.
The choices follow ``corpus/GUIDELINES.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from argmine.corpus.records import write_jsonl
from argmine.graph import ArgumentGraph, Component, Relation

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "seed" / "ends-in-august.txt"
CHROME_START = "Leave a Reply"

# id, first words, last words, type: in text order, none overlapping.
UNITS = [
    ("c1", "Although many charities", "to protect at risk children", "claim"),
    ("c2", "it suffered from three main criticisms", "security and child protection", "claim"),
    ("c3", "Over", "held on the database", "evidence"),
    ("c4", "Security concerns about the database", "have been significant", "claim"),
    ("c5", "commentators have said", "risk of abuse of the system", "claim"),
    ("c6", "Evidence presented in 2006", "incidents of inappropriate access", "evidence"),
    ("c7", "The obvious threat was", "target children", "claim"),
    ("c8", "The previous Governments case", "children from the scheme", "evidence"),
    ("c9", "providing evidence", "the integrity of \u00a0its security", "claim"),
    ("c10", "Although \u00a0it could be argued", "behind ContactPoint was sound", "claim"),
    ("c11", "the practice was a mess", "the practice was a mess", "claim"),
    ("c12", "frankly the coalition government", "but to scrap it", "conclusion"),
    ("c13", "in a vast majority of recent", "properly to protect them", "evidence"),
    ("c14", "if ContactPoint had been running", "these unfortunate children", "conclusion"),
]
COUNTERFACTUAL = {"c14"}
# unit: (first words, last words) of its antecedent and of its consequent (SemEval-2020 Task 5's
# terms: the condition contrary to fact, and what would have followed from it)
COUNTERFACTUAL_PARTS = {
    "c14": (
        ("if ContactPoint had been running", "at the time"),
        ("it would have made no difference", "these unfortunate children"),
    )
}

# source, target, type
RELATIONS = [
    ("c1", "c12", "attack"),  # concession: charities valued it for child protection
    ("c2", "c11", "support"),  # three criticisms -> the practice was a mess
    ("c3", "c4", "support"),  # 400,000 with access -> security concerns
    ("c4", "c2", "support"),  # security concerns -> the criticisms
    ("c5", "c4", "support"),  # risk of abuse -> security concerns
    ("c6", "c5", "support"),  # 70,000 inappropriate accesses in one month -> risk of abuse
    ("c7", "c5", "support"),  # sex offenders could target children -> risk of abuse
    ("c8", "c9", "support"),  # celebrities' children excluded -> hypocrisy, no confidence
    ("c9", "c4", "support"),  # its own backers doubted its security -> security concerns
    ("c10", "c12", "attack"),  # concession: the principle was sound
    ("c11", "c12", "support"),  # the practice was a mess -> little alternative but to scrap it
    ("c13", "c14", "support"),  # social workers knew and failed to act -> no difference
]


def read_article(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:  # keep the text byte for byte
        return handle.read()


def locate(text: str, first: str, last: str, after: int) -> tuple[int, int]:
    """The span from ``first`` to the end of the next ``last``, searching from ``after``."""
    start = text.index(first, after)
    end = text.index(last, start) + len(last)
    return start, end


def counterfactual_parts(text: str, unit_id: str, unit_start: int) -> dict[str, list[int]]:
    """``antecedent`` and ``consequent`` as ``[start, end]`` offsets, for a counterfactual unit."""
    if unit_id not in COUNTERFACTUAL_PARTS:
        return {}
    antecedent, consequent = COUNTERFACTUAL_PARTS[unit_id]
    a = locate(text, *antecedent, unit_start)
    c = locate(text, *consequent, a[1])
    return {"antecedent": list(a), "consequent": list(c)}


def annotate(text: str) -> ArgumentGraph:
    body_end = text.index(CHROME_START)
    body_start = text.index("\n")  # past the title line
    components, position = [], body_start
    for unit_id, first, last, kind in UNITS:
        start, end = locate(text, first, last, position)
        if end > body_end:
            raise ValueError(f"{unit_id} reaches into the page chrome")
        attributes = {"native_label": kind, "counterfactual": unit_id in COUNTERFACTUAL}
        attributes.update(counterfactual_parts(text, unit_id, start))
        components.append(Component(unit_id, start, end, text[start:end], kind, None, attributes))
        position = end
    relations = [
        Relation(s, t, kind, attributes={"native_label": kind}) for s, t, kind in RELATIONS
    ]
    metadata = {
        "id": "ends-in-august",
        "source": "contactpoint",
        "split": "train",
        "title": "Ends in August",
    }
    return ArgumentGraph(text, components, relations, metadata)


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    graph = annotate(read_article(source))
    write_jsonl([graph], HERE / "contactpoint.jsonl")
    for c in graph:
        print(f"{c.id:4} {c.type:10} {c.text!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
