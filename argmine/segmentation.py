"""Segmentation: text -> encoder windows -> BIO tags -> component spans with character offsets.

A document is tokenized once, without special tokens, so every token keeps its character offsets
into the text the user passed. Documents longer than the encoder's window are cut into
overlapping windows; each token takes its representation from the window in which it sits
farthest from an edge, so the whole document is covered and every token sees context on both
sides. Predicted spans snap outwards to word boundaries.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import torch

from argmine.encoders import SpecialTokens
from argmine.graph import COMPONENT_TYPES

OUTSIDE = "O"
TAG_LABELS: tuple[str, ...] = (OUTSIDE,) + tuple(
    f"{prefix}-{t}" for t in COMPONENT_TYPES for prefix in ("B", "I")
)
"""BIO tags over the component types: O, B-conclusion, I-conclusion, B-claim, ..."""

Span = tuple[int, int]
WORD = re.compile(r"\w+")
SENTENCE_START = re.compile(r"(?:^|[.!?][\"'\u201d\u2019)\]]*\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
"""Where a sentence starts: the text's start, or after ``.!?`` (and closing quotes) and space,
before a capital or a digit (an opening quote or bracket may come first)."""
MAX_LEAD_IN_WORDS = 3


@dataclass
class DocumentEncoding:
    """One document's tokens, the windows that cover them, and where each token is read from."""

    text: str
    token_ids: list[int]
    offsets: list[Span]
    word_starts: list[bool]
    windows: list[Span]
    """Per window, the range ``[a, b)`` of document tokens it holds (between CLS and SEP)."""
    token_window: list[int]
    token_position: list[int]
    """Per token, the window that represents it and its position in that window (counting
    the special tokens before it)."""
    special: SpecialTokens
    """The encoder's special tokens around each window, and its padding id."""
    masked: list = field(default_factory=list)
    """The :class:`argmine.cleanup.MaskedSpan` ranges blanked out before tokenizing."""

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)

    def tokens_in(self, start: int, end: int) -> range:
        """Indices of the tokens that overlap the character span ``[start, end)``."""
        first = bisect.bisect_right(self._token_ends, start)
        stop = bisect.bisect_left(self._token_starts, end)
        return range(first, max(first, stop))

    @cached_property
    def _token_starts(self) -> list[int]:
        return [a for a, _ in self.offsets]

    @cached_property
    def _token_ends(self) -> list[int]:
        return [b for _, b in self.offsets]


def encode_document(
    text: str,
    tokenizer,
    max_length: int = 512,
    stride: int = 128,
    special: SpecialTokens | None = None,
) -> DocumentEncoding:
    """Tokenize ``text`` and cover it with windows of at most ``max_length`` tokens, special
    tokens included (``special`` is read off the tokenizer when not given)."""
    if special is None:
        from argmine.encoders import special_tokens

        special = special_tokens(tokenizer)
    enc = tokenizer(
        text,
        add_special_tokens=False,
        return_offsets_mapping=True,
        truncation=False,
        verbose=False,
    )
    word_ids = enc.word_ids()
    word_starts = [i == 0 or word_ids[i] != word_ids[i - 1] for i in range(len(word_ids))]
    windows = plan_windows(len(enc["input_ids"]), max_length - special.count, stride)
    token_window, token_position = assign_tokens_to_windows(
        len(enc["input_ids"]), windows, len(special.prefix)
    )
    return DocumentEncoding(
        text=text,
        token_ids=list(enc["input_ids"]),
        offsets=[tuple(o) for o in enc["offset_mapping"]],
        word_starts=word_starts,
        windows=windows,
        token_window=token_window,
        token_position=token_position,
        special=special,
    )


def plan_windows(n_tokens: int, size: int, stride: int) -> list[Span]:
    """Windows of ``size`` tokens, each overlapping the previous one by ``stride`` tokens."""
    if stride >= size:
        raise ValueError(f"stride ({stride}) must be smaller than the window ({size} tokens)")
    if n_tokens <= size:
        return [(0, n_tokens)]
    windows, start = [], 0
    while True:
        end = min(start + size, n_tokens)
        windows.append((start, end))
        if end == n_tokens:
            return windows
        start = end - stride


def assign_tokens_to_windows(
    n_tokens: int, windows: Sequence[Span], first_position: int = 1
) -> tuple[list[int], list[int]]:
    """For each token, the window where it is farthest from an edge, and its position there
    (the first document token of a window sits at ``first_position``, after the special
    tokens)."""
    best_window = [0] * n_tokens
    best_margin = [-1] * n_tokens
    for w, (a, b) in enumerate(windows):
        for t in range(a, b):
            margin = min(t - a, b - 1 - t)
            if margin > best_margin[t]:
                best_window[t], best_margin[t] = w, margin
    positions = [t - windows[w][0] + first_position for t, w in enumerate(best_window)]
    return best_window, positions


def window_input_ids(encoding: DocumentEncoding) -> list[list[int]]:
    """The encoder inputs for each window: ``prefix tokens suffix``, e.g. ``[CLS] ... [SEP]``."""
    prefix, suffix = list(encoding.special.prefix), list(encoding.special.suffix)
    return [prefix + encoding.token_ids[a:b] + suffix for a, b in encoding.windows]


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
    begin_threshold: float | None = None,
) -> list[tuple[int, int, float]]:
    """Turn per-token tag probabilities into character spans ``(start, end, score)``.

    Types are summed out: segmentation only decides where units begin, continue and end (the
    span classifier types them). Decisions are taken on the first token of each word, so a span
    never starts or ends inside a word; a span starts at ``B`` or at ``I`` after ``O``. Spans
    of fewer than ``min_words`` words are dropped: they are fragments the tagger was unsure
    about (under 1% of the gold units in our corpora are shorter than three words).

    ``begin_threshold``: a word whose probability of beginning a unit reaches it begins one,
    even where continuing is likelier. Adjacent units with no gap between them (CDCP's
    propositions tile the text) are told apart only by that one ``B`` tag among many ``I``
    tags, which the tagger under-predicts; without a threshold, two units often come out merged.
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
            if begin_threshold is not None and float(probs[1]) >= begin_threshold:
                state = 1
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

    Two rules hold for all but 0.7% of the gold units of CDCP and microtexts (and for every unit
    of the ContactPoint article): a unit does not cross a sentence boundary, and a unit that
    begins within the first three words of a sentence begins at the sentence start (leading
    connectives such as "However," belong to it). A predicted span that crosses a boundary is
    cut there (pieces under ``min_words`` words join nothing and are dropped, unless nothing
    else is left); a span that leaves out at most three words at its sentence's start, which no
    other span covers, is widened back to it.
    """
    starts = sentence_starts(text)
    pieces = [piece for span in spans for piece in _cut_at(text, span, starts, min_words)]
    widened, covered_to = [], 0
    for start, end, score in pieces:
        first = _sentence_of(starts, start)
        lead_in = len(WORD.findall(text, first, start))
        if 0 < lead_in <= MAX_LEAD_IN_WORDS and first >= covered_to:
            start = first
        widened.append((start, end, score))
        covered_to = end
    return widened


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
