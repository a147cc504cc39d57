"""Span representations: one vector per unit, shared by every span head.

A span is represented by the encoder states of its tokens (mean, first and last token) plus a few
features of where it sits in the document: conclusions cluster at the start and the end of a
text, which the token states of one window cannot see once a document spans several windows.
A small discourse encoder then lets each span's vector see the document's other spans. The
component types, the proposition types and the relation scorer all read these vectors, so
typing and linking share one encoder pass.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from argmine.model.windows import DocumentEncoding, assign_tokens_to_windows, plan_windows

N_POSITION_FEATURES = 5


def pool_spans(token_states: torch.Tensor, token_ranges: Sequence[range]) -> torch.Tensor:
    """``[mean; first; last]`` of the token states in each range -> ``(n_spans, 3 * hidden)``."""
    if not token_ranges:
        return token_states.new_zeros((0, 3 * token_states.shape[-1]))
    pooled = []
    for r in token_ranges:
        states = token_states[r.start : r.stop]
        pooled.append(torch.cat([states.mean(0), states[0], states[-1]]))
    return torch.stack(pooled)


def position_features(spans: Sequence[tuple[int, int]], text_length: int) -> torch.Tensor:
    """Relative start and end, relative rank, and first/last flags for each span."""
    n = len(spans)
    rows = [
        [
            start / max(text_length, 1),
            end / max(text_length, 1),
            i / max(n - 1, 1),
            float(i == 0),
            float(i == n - 1),
        ]
        for i, (start, end) in enumerate(spans)
    ]
    return torch.tensor(rows, dtype=torch.float32).reshape(n, N_POSITION_FEATURES)


BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
LINE_BREAK = re.compile(r"\n")
PARAGRAPH_POSITIONS = ("only", "first", "middle", "last")
"""Where a unit sits among the units of its paragraph (the link scorer embeds it)."""


@dataclass
class ParagraphLayout:
    """Which paragraph each span is in, and where in it: what the link scorer reads of a
    text's layout (arguments in articles mostly stay within a paragraph, whose first or last
    unit is often its claim)."""

    paragraph: torch.Tensor
    """``(n,)`` paragraph index of each span (by its start)."""
    position: torch.Tensor
    """``(n,)`` index into :data:`PARAGRAPH_POSITIONS` of each span."""

    def to(self, device: torch.device) -> ParagraphLayout:
        return ParagraphLayout(self.paragraph.to(device), self.position.to(device))


def paragraph_layout(text: str, spans: Sequence[tuple[int, int]]) -> ParagraphLayout:
    """The paragraphs of ``text`` are separated by blank lines, or by line breaks in a text
    without blank lines (one paragraph a line); a text with neither is one paragraph."""
    breaks = BLANK_LINE if BLANK_LINE.search(text) else LINE_BREAK
    ends = [m.end() for m in breaks.finditer(text)]
    paragraph = [bisect.bisect_right(ends, start) for start, _ in spans]
    position = []
    for i, p in enumerate(paragraph):
        first = i == 0 or paragraph[i - 1] != p
        last = i == len(paragraph) - 1 or paragraph[i + 1] != p
        position.append(0 if first and last else 1 if first else 3 if last else 2)
    return ParagraphLayout(
        torch.tensor(paragraph, dtype=torch.long), torch.tensor(position, dtype=torch.long)
    )


SPANS_PER_WINDOW = 128
SPAN_WINDOW_OVERLAP = 32


class DiscourseEncoder(nn.Module):
    """A small transformer over the document's spans, so each span's vector sees the others.

    Whether a unit is a conclusion, and what it links to, depends on the rest of the argument
    (a conclusion is what the other units argue for), which a span's own tokens cannot show.
    It runs on ``n`` span vectors, not on tokens: its cost is negligible next to the encoder.
    A document of more than ``SPANS_PER_WINDOW`` units (a long report) is read in overlapping
    windows of units, as the encoder reads tokens, so attention stays linear in its length;
    each unit takes its vector from the window where it sits farthest from an edge.
    """

    def __init__(self, span_dim: int, hidden: int = 256, layers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.project = nn.Linear(span_dim, hidden)
        layer = nn.TransformerEncoderLayer(
            hidden, nhead=4, dim_feedforward=2 * hidden, dropout=dropout, batch_first=True
        )
        self.layers = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)

    def forward(self, span_repr: torch.Tensor) -> torch.Tensor:
        projected = self.project(span_repr)
        n = projected.shape[0]
        if n <= SPANS_PER_WINDOW:
            return self.layers(projected.unsqueeze(0)).squeeze(0) if n else projected
        windows = plan_windows(n, SPANS_PER_WINDOW, SPAN_WINDOW_OVERLAP)
        best, position = assign_tokens_to_windows(n, windows, first_position=0)
        outputs = [self.layers(projected[a:b].unsqueeze(0)).squeeze(0) for a, b in windows]
        return torch.stack([outputs[w][p] for w, p in zip(best, position, strict=True)])


def token_ranges(doc: DocumentEncoding, spans: Sequence[tuple[int, int]]) -> list[range]:
    """The tokens of each character span (never empty while the document has tokens)."""
    return [_nonempty(doc.tokens_in(a, b), doc, a) for a, b in spans]


def _nonempty(tokens: range, doc: DocumentEncoding, start: int) -> range:
    """A span without tokens of its own (a symbol the tokenizer drops) reads its neighbour."""
    if len(tokens) or not doc.n_tokens:
        return tokens
    nearest = min(max(tokens.start, 0), doc.n_tokens - 1)
    return range(nearest, nearest + 1)
