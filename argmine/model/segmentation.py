"""Segmentation: per-token BIO tags -> component spans with character offsets.

The tagger reads the token states of :mod:`argmine.model.windows`; decisions are taken per word,
spans snap outwards to word boundaries and, where the model learned to, are cut at sentence
starts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import torch

from argmine.graph import COMPONENT_TYPES
from argmine.model.windows import DocumentEncoding, Span

OUTSIDE = "O"
TAG_LABELS: tuple[str, ...] = (OUTSIDE,) + tuple(
    f"{prefix}-{t}" for t in COMPONENT_TYPES for prefix in ("B", "I")
)
"""BIO tags over the component types: O, B-conclusion, I-conclusion, B-claim, ..."""

WORD = re.compile(r"\w+")
SENTENCE_START = re.compile(r"(?:^|[.!?][\"'\u201d\u2019)\]]*\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
"""Where a sentence starts: the text's start, or after ``.!?`` (and closing quotes) and space,
before a capital or a digit (an opening quote or bracket may come first)."""
MAX_LEAD_IN_WORDS = 3


def bio_labels(encoding: DocumentEncoding, spans: Sequence[tuple[int, int, str]]) -> list[int]:
    """Gold tag index per token for components given as ``(start, end, type)``."""
    labels = [TAG_LABELS.index(OUTSIDE)] * encoding.n_tokens
    for start, end, ctype in spans:
        for k, t in enumerate(encoding.tokens_in(start, end)):
            labels[t] = TAG_LABELS.index(f"{'B' if k == 0 else 'I'}-{ctype}")
    return labels


def decode_spans(
    tag_probs: torch.Tensor,
    encoding: DocumentEncoding,
    min_words: int = 1,
) -> list[tuple[int, int, float]]:
    """Turn per-token tag probabilities into character spans ``(start, end, score)``.

    Types are summed out: segmentation only decides where units begin, continue and end (the
    span classifier types them). Decisions are taken on the first token of each word, so a span
    never starts or ends inside a word; a span starts at ``B`` or at ``I`` after ``O``. Spans
    of fewer than ``min_words`` words are dropped: they are fragments the tagger was unsure
    about (under 1% of the gold units in our corpora are shorter than three words).
    """
    b_cols = [i for i, t in enumerate(TAG_LABELS) if t.startswith("B-")]
    i_cols = [i for i, t in enumerate(TAG_LABELS) if t.startswith("I-")]
    bio = torch.stack(
        [tag_probs[:, 0], tag_probs[:, b_cols].sum(-1), tag_probs[:, i_cols].sum(-1)], dim=-1
    )
    spans: list[tuple[int, int, float]] = []
    current: list[int] = []
    confidences: list[float] = []

    def close() -> None:
        if current:
            a, b = encoding.offsets[current[0]][0], encoding.offsets[current[-1]][1]
            start, end = snap_to_words(encoding.text, a, b)
            if start < end and len(WORD.findall(encoding.text, start, end)) >= min_words:
                spans.append((start, end, sum(confidences) / len(confidences)))
        current.clear()
        confidences.clear()

    state = 0
    for t in range(encoding.n_tokens):
        if encoding.word_starts[t]:
            probs = bio[t]
            state = int(probs.argmax())
            if state == 1 or (state == 2 and not current) or state == 0:
                close()
            if state != 0:
                confidences.append(float(probs[state]))
        if state != 0:
            current.append(t)
    close()
    return spans


def snap_to_words(text: str, start: int, end: int) -> Span:
    """Widen ``[start, end)`` to whole words and trim surrounding whitespace."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences start (see :data:`SENTENCE_START`)."""
    return [m.end() for m in SENTENCE_START.finditer(text)]


def refine_to_sentences(
    text: str, spans: Sequence[tuple[int, int, float]], min_words: int = 1
) -> list[tuple[int, int, float]]:
    """Units stay inside sentences, and a sentence's first words are never left out.

    Two rules hold for all but 29 of the 4,482 gold units of CDCP and microtexts (which cross a
    boundary; none leaves out a lead-in) and for 13 of the 14 units of the ContactPoint
    article (its conclusion starts after "In short,"; ``python training/boundary_errors.py
    --gold-rules cdcp microtexts contactpoint``): a unit does not cross a sentence boundary,
    and a unit that begins within the first three words of a sentence begins at the sentence
    start (leading connectives such as "However," belong to it). A predicted span that crosses
    a boundary is cut there (pieces under ``min_words`` words join nothing and are dropped,
    unless nothing else is left); a span that leaves out at most three words at its sentence's
    start, which no other span covers, is widened back to it (:func:`lead_ins_widened`).
    """
    starts = sentence_starts(text)
    pieces = [piece for span in spans for piece in _cut_at(text, span, starts, min_words)]
    widened = lead_ins_widened(text, [(start, end) for start, end, _ in pieces], starts)
    scores = [score for _, _, score in pieces]
    return [(start, end, score) for (start, end), score in zip(widened, scores, strict=True)]


def lead_ins_widened(
    text: str, spans: Sequence[tuple[int, int]], starts: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """The spans (in text order), each that leaves out at most three words at its sentence's
    start, which no earlier span covers, widened back to that start: the second rule of
    :func:`refine_to_sentences`, alone. Training shows the span heads gold units this way too
    (config key ``lead_in_units``), since that is how decoding with sentence bounds hands
    them a unit such as "In short, if ContactPoint had been running ..." whose gold span
    starts at "if"."""
    starts = sentence_starts(text) if starts is None else starts
    widened, covered_to = [], 0
    for start, end in spans:
        first = _sentence_of(starts, start)
        lead_in = len(WORD.findall(text, first, start))
        if 0 < lead_in <= MAX_LEAD_IN_WORDS and first >= covered_to:
            start = first
        widened.append((start, end))
        covered_to = end
    return widened


def sentence_rule_breaks(text: str, spans: Sequence[tuple[int, int]]) -> dict[str, int]:
    """How many of the (gold) ``spans`` break each rule of :func:`refine_to_sentences`: they
    cross a sentence start, or leave out one to three lead-in words that decoding with
    ``sentence_bounds`` would add (:func:`lead_ins_widened`)."""
    starts = sentence_starts(text)
    widened = lead_ins_widened(text, spans, starts)
    return {
        "cross a sentence start": sum(any(a < s < b for s in starts) for a, b in spans),
        "leave out a lead-in": sum(w != tuple(s) for w, s in zip(widened, spans, strict=True)),
    }


def _cut_at(
    text: str, span: tuple[int, int, float], starts: Sequence[int], min_words: int
) -> list[tuple[int, int, float]]:
    a, b, score = span
    cuts = [c for c in starts if a < c < b]
    if not cuts:
        return [span]
    pieces = []
    for lo, hi in zip([a, *cuts], [*cuts, b], strict=True):
        start, end = snap_to_words(text, lo, hi)
        if start < end and len(WORD.findall(text, start, end)) >= min_words:
            pieces.append((start, end, score))
    return pieces or [span]


def _sentence_of(starts: Sequence[int], position: int) -> int:
    """The start of the sentence ``position`` lies in."""
    index = bisect.bisect_right(starts, position) - 1
    return starts[index] if index >= 0 else 0
