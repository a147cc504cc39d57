"""The model's view of a text: tokens with character offsets, and the encoder windows over them.

A document is tokenized once, without special tokens, so every token keeps its character offsets
into the text the user passed. Documents longer than the encoder's window are cut into
overlapping windows; each token takes its representation from the window in which it sits
farthest from an edge, so the whole document is covered and every token sees context on both
sides. Page chrome is masked before tokenizing (:mod:`argmine.cleanup`), never cut, so offsets
stay the user's.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from argmine.cleanup import mask_spans, masked_spans
from argmine.model.encoders import SpecialTokens

Span = tuple[int, int]


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
        from argmine.model.encoders import special_tokens

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


def encode_text(
    text: str,
    tokenizer,
    max_length: int,
    stride: int,
    special: SpecialTokens | None = None,
    clean: bool = True,
) -> DocumentEncoding:
    """The model's view of ``text``: chrome masked (unless ``clean`` is false), tokenized,
    windowed; the text stays the user's, and ``doc.masked`` says what was hidden.

    Training and prediction both go through here, so the model is trained on exactly the
    input it will see.
    """
    masked = masked_spans(text) if clean else []
    doc = encode_document(mask_spans(text, masked), tokenizer, max_length, stride, special)
    doc.text = text
    doc.masked = masked
    return doc
