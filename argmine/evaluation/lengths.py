"""Link figures by document length: do links per unit and link scores hold up on long texts?

The head-selection decoder softmaxes each unit over up to 96 candidate targets, so a long
document offers every unit more targets to link to and spreads each unit's probability thinner.
These helpers build documents by length from an annotated corpus, short ones as they are and
long ones by joining consecutive documents (:func:`joined_documents`, gold units and links kept),
and give per bucket what a reader of the graphs sees: links per unit, their scores, and (on
given units) link precision, recall and F1. ``benchmarks/links_by_length.py`` reports them;
``training/calibrate_links.py`` and the link calibration's dev documents reuse them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from argmine.corpus.joined import ARTICLE_WORDS, join, joined_documents, word_count
from argmine.evaluation.diagnostics import scored_links
from argmine.evaluation.matching import prf
from argmine.graph import ArgumentGraph

ARTICLE_BUCKET = "ContactPoint article"

WORD_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("under 100 words", 0, 100),
    ("100-300 words", 100, 300),
    ("300-700 words", 300, 700),
)
"""Single documents by their number of words (``[low, high)``)."""
JOINED_WORDS = ARTICLE_WORDS
"""Joined documents run from the first to the second number of words."""
JOINED_BUCKET = "joined, 700-1,200 words"
LOW_SCORE = 0.5
"""Links scored under this count as "low" (their share is reported)."""


def by_words(
    graphs: Sequence[ArgumentGraph], buckets: Sequence[tuple[str, int, int]] = WORD_BUCKETS
) -> dict[str, list[ArgumentGraph]]:
    """The documents of each bucket of words (in corpus order; a bucket may be empty)."""
    return {
        name: [g for g in graphs if low <= word_count(g.text) < high] for name, low, high in buckets
    }


def joined_by_source(
    graphs: Sequence[ArgumentGraph], words: tuple[int, int] = JOINED_WORDS
) -> list[ArgumentGraph]:
    """:func:`joined_documents` of each source's documents (never two corpora in one text)."""
    sources = dict.fromkeys(g.metadata.get("source") for g in graphs)
    return [
        joined
        for source in sources
        for joined in joined_documents(
            [g for g in graphs if g.metadata.get("source") == source], words
        )
    ]


def link_figures(
    predicted: Sequence[ArgumentGraph], gold: Sequence[ArgumentGraph] | None = None
) -> dict[str, Any]:
    """What the graphs show: documents, words and units per document, links per unit, the
    mean link score and the share of links under :data:`LOW_SCORE`; with ``gold`` (predictions
    on its units, in their order) link precision, recall and F1 as link F1 counts them."""
    documents = len(predicted)
    units = sum(len(g.components) for g in predicted)
    scores = [r.score for g in predicted for r in g.relations if r.score is not None]
    figures: dict[str, Any] = {
        "documents": documents,
        "words_per_document": _mean([word_count(g.text) for g in predicted]),
        "units_per_document": units / documents if documents else None,
        "links": len(scores),
        "links_per_unit": len(scores) / units if units else None,
        "mean_link_score": _mean(scores),
        "share_under_0.5": (sum(s < LOW_SCORE for s in scores) / len(scores) if scores else None),
    }
    if gold is not None:
        _, correct, gold_links = scored_links(gold, predicted)
        figures["gold_links_per_unit"] = gold_links / units if units else None
        figures["link"] = prf(sum(correct), len(correct), gold_links)
    return figures


def length_buckets(
    single: Sequence[ArgumentGraph], article: Sequence[ArgumentGraph] = ()
) -> dict[str, list[ArgumentGraph]]:
    """The documents of each bucket: ``single`` ones by words (:data:`WORD_BUCKETS`), texts
    joined from them (:data:`JOINED_WORDS`), and ``article`` (if given) on its own."""
    buckets = {**by_words(single), JOINED_BUCKET: joined_by_source(single)}
    if article:
        buckets[ARTICLE_BUCKET] = list(article)
    return buckets


def length_rows(
    miner, buckets: dict[str, list[ArgumentGraph]], min_scores: Sequence[float]
) -> list[dict[str, Any]]:
    """:func:`link_figures` of each bucket, on its gold units (``units: "given"``, with link
    precision/recall/F1) and end to end (``"predicted"``, with end-to-end relation P/R/F1), at
    each ``min_score``. Each document is parsed once, keeping every link (min_score 0)."""
    from argmine.evaluation.scores import end_to_end_scores, with_links_from

    rows = []
    for name, gold in buckets.items():
        if not gold:
            continue
        texts = [g.text for g in gold]
        given = list(miner.pipe(texts, segments=[[(c.start, c.end) for c in g] for g in gold],
                                min_score=0.0))  # fmt: skip
        predicted = list(miner.pipe(texts, min_score=0.0))
        for min_score in min_scores:
            kept = [with_links_from(g, min_score) for g in given]
            rows.append({"bucket": name, "units": "given", "min_score": min_score,
                         **link_figures(kept, gold)})  # fmt: skip
            kept = [with_links_from(g, min_score) for g in predicted]
            relation = end_to_end_scores(gold, kept)["relation"]
            rows.append({"bucket": name, "units": "predicted", "min_score": min_score,
                         **link_figures(kept), "e2e_relation": relation})  # fmt: skip
    return rows


def markdown_rows(rows: Sequence[dict[str, Any]]) -> str:
    """:func:`length_rows` as a Markdown table."""
    lines = [
        "| bucket | units | min_score | docs | words/doc | units/doc | links/unit | mean score "
        "| share < 0.5 | link P / R / F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        scores = row.get("link") or row.get("e2e_relation")
        prf_cell = f"{scores['precision']:.3f} / {scores['recall']:.3f} / {scores['f1']:.3f}"
        if row["units"] == "predicted":
            prf_cell += " (e2e relation)"
        lines.append(
            f"| {row['bucket']} | {row['units']} | {row['min_score']:g} | {row['documents']} "
            f"| {_cell(row['words_per_document'], 0)} | {_cell(row['units_per_document'], 1)} "
            f"| {_cell(row['links_per_unit'])} | {_cell(row['mean_link_score'])} "
            f"| {_cell(row['share_under_0.5'])} | {prf_cell} |"
        )
    return "\n".join(lines) + "\n"


SEED_TABLE_BUCKETS = (WORD_BUCKETS[0][0], JOINED_BUCKET, ARTICLE_BUCKET)
"""The buckets a comparison of recipes reads: the shortest texts, article-length ones, the
article."""


def seed_table(records: dict[str, Sequence[dict[str, Any]]]) -> str:
    """Saved records of ``benchmarks/links_by_length.py`` (several seeds of each recipe, each
    at its model's own ``min_score``: what a user of that model sees) as one Markdown table:
    per recipe and bucket the seeds' mean, each seed's value in brackets."""
    lines = [
        "| recipe | bucket | links/unit (seeds) | share < 0.5 | mean score | link F1 "
        "| e2e links/unit | e2e share < 0.5 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for recipe, seeds in records.items():
        for bucket in SEED_TABLE_BUCKETS:
            given = [_own_row(record, bucket, "given") for record in seeds]
            predicted = [_own_row(record, bucket, "predicted") for record in seeds]
            cells = [
                _seeds_cell([row["links_per_unit"] for row in given]),
                _seeds_cell([row["share_under_0.5"] for row in given]),
                _seeds_cell([row["mean_link_score"] for row in given]),
                _seeds_cell([row["link"]["f1"] for row in given]),
                _seeds_cell([row["links_per_unit"] for row in predicted]),
                _seeds_cell([row["share_under_0.5"] for row in predicted]),
            ]
            lines.append(f"| {recipe} | {bucket} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _own_row(record: dict[str, Any], bucket: str, units: str) -> dict[str, Any]:
    for row in record["rows"]:
        if (row["bucket"], row["units"], row["min_score"]) == (
            bucket,
            units,
            record["model_min_score"],
        ):
            return row
    raise KeyError(f"no {units}-unit row of {bucket!r} at the model's min_score")


def _seeds_cell(values: Sequence[float | None]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "n/a"
    return f"{_mean(present):.3f} ({' / '.join(f'{v:.2f}' for v in present)})"


def _cell(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


__all__ = [
    "ARTICLE_BUCKET",
    "SEED_TABLE_BUCKETS",
    "JOINED_BUCKET",
    "JOINED_WORDS",
    "LOW_SCORE",
    "WORD_BUCKETS",
    "by_words",
    "join",
    "joined_by_source",
    "joined_documents",
    "length_buckets",
    "length_rows",
    "link_figures",
    "markdown_rows",
    "seed_table",
    "word_count",
]
