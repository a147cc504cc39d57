"""Attributes of components beyond their type: counterfactuals, learned from data.

A counterfactual argues about what would have happened had the past been different ("if
ContactPoint had been running at the time it would have made no difference"). Two small heads
read the encoder states the other heads read (no second encoder pass):

- a detector scores each component from its pooled token states: ``counterfactual`` (bool) and
  ``counterfactual_score``;
- a token tagger marks the two halves of the conditional, the ``antecedent`` (the condition
  contrary to fact) and the ``consequent`` (what would have followed), as BIO tags; inside a
  component judged counterfactual, the best-scoring run of each is its ``[start, end]`` in
  characters of the document, or None.

Two neighbouring predicted units that are the two halves of one conditional (one holding only
the antecedent, the other only the consequent) are joined into one unit before the argument
heads run (:func:`halves_to_join`; decoding setting ``join_counterfactual_halves``).

They are trained on SemEval-2020 Task 5 (news sentences labelled counterfactual or not, and
antecedent/consequent spans; ``corpus/semeval2020-task5``) together with the argument heads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch import nn

from argmine.model.segmentation import snap_to_words
from argmine.model.spans import pool_spans
from argmine.model.windows import DocumentEncoding

COUNTERFACTUAL_TAGS: tuple[str, ...] = (
    "O",
    "B-antecedent",
    "I-antecedent",
    "B-consequent",
    "I-consequent",
)
PARTS: tuple[str, ...] = ("antecedent", "consequent")
IGNORE = -100
"""Tag target of tokens whose counterfactual annotation is unknown."""


class CounterfactualHead(nn.Module):
    """Detection logits per span and antecedent/consequent tag logits per token."""

    def __init__(self, dim: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.tagger = nn.Linear(dim, len(COUNTERFACTUAL_TAGS))
        self.detector = nn.Sequential(
            nn.Linear(3 * dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, 1)
        )

    def tag_logits(self, token_states: torch.Tensor) -> torch.Tensor:
        return self.tagger(token_states)

    def detection_logits(self, token_states: torch.Tensor, ranges: Sequence[range]) -> torch.Tensor:
        """One logit per token range (a component's tokens): is it a counterfactual?"""
        return self.detector(pool_spans(token_states, ranges)).squeeze(-1)


def counterfactual_tag_targets(
    encoding: DocumentEncoding,
    known: Sequence[tuple[int, int]],
    parts: Sequence[tuple[str, tuple[int, int]]],
) -> list[int]:
    """Tag index per token: ``O`` inside the ``known`` spans (whose annotation is complete),
    B/I of each ``(part, (start, end))``, and :data:`IGNORE` everywhere else."""
    targets = [IGNORE] * encoding.n_tokens
    for start, end in known:
        for t in encoding.tokens_in(start, end):
            targets[t] = 0
    for part, (start, end) in parts:
        for k, t in enumerate(encoding.tokens_in(start, end)):
            targets[t] = COUNTERFACTUAL_TAGS.index(f"{'B' if k == 0 else 'I'}-{part}")
    return targets


def decode_parts(
    tag_probs: torch.Tensor, encoding: DocumentEncoding, span: tuple[int, int]
) -> dict[str, list[int] | None]:
    """The antecedent and the consequent inside ``span``: for each, the run of words tagged
    with it whose summed probability is highest, as ``[start, end]`` (None when no word is)."""
    tokens = encoding.tokens_in(*span)
    return {part: _best_run(tag_probs, encoding, tokens, part, span) for part in PARTS}


def _best_run(
    tag_probs: torch.Tensor,
    encoding: DocumentEncoding,
    tokens: range,
    part: str,
    span: tuple[int, int],
) -> list[int] | None:
    begin = COUNTERFACTUAL_TAGS.index(f"B-{part}")
    inside = COUNTERFACTUAL_TAGS.index(f"I-{part}")
    runs: list[tuple[float, int, int]] = []
    current: list[int] = []
    score = 0.0
    word_tag = 0
    for t in tokens:
        if encoding.word_starts[t]:  # decide on each word's first token, as segmentation does
            word_tag = int(tag_probs[t].argmax())
            if word_tag == begin or word_tag != inside:
                if current:
                    runs.append((score, current[0], current[-1]))
                current, score = [], 0.0
            if word_tag in (begin, inside):
                score += float(tag_probs[t, begin] + tag_probs[t, inside])
        if word_tag in (begin, inside):
            current.append(t)
    if current:
        runs.append((score, current[0], current[-1]))
    if not runs:
        return None
    _, first, last = max(runs)
    start, end = snap_to_words(encoding.text, encoding.offsets[first][0], encoding.offsets[last][1])
    start, end = max(start, span[0]), min(end, span[1])
    return [start, end] if start < end else None


def counterfactual_attributes(
    score: float, parts: dict[str, list[int] | None] | None, threshold: float
) -> dict[str, object]:
    """The attributes a component gets: the decision, its score, and the two halves."""
    is_counterfactual = score >= threshold
    found = parts if is_counterfactual and parts else {}
    return {
        "counterfactual": is_counterfactual,
        "counterfactual_score": round(score, 4),
        **{part: found.get(part) for part in PARTS},
    }


HALVES_GAP = re.compile(r"[^\S\n]*(?:[,;:\u2013\u2014-][^\S\n]*)?(?:then[^\S\n]+)?")
"""What may stand between a counterfactual's two halves inside one sentence: blanks, at most one
comma-like mark, and "then"; never a sentence end or a line break."""
SENTENCE_END = re.compile(r"[.!?][\"')\u201d\u2019]*\s*$")
"""A first half that ends its sentence is no half."""


def halves_to_join(
    text: str, spans: Sequence[tuple[int, int]], parts: Sequence[dict[str, object]]
) -> list[tuple[int, int]]:
    """Pairs ``(i, i + 1)`` of neighbouring units that are the two halves of one counterfactual
    conditional: both detected as counterfactual, one holding only an antecedent and the other
    only a consequent, nothing but a comma or blanks between them. "If A had been, B would
    have" is one proposition: cut in two, its antecedent stands alone as a claim the writer
    denies. ``parts``: each unit's :func:`counterfactual_attributes`."""
    pairs: list[tuple[int, int]] = []
    i = 0
    while i + 1 < len(spans):
        first, second = parts[i], parts[i + 1]
        halves = {_only_half(first), _only_half(second)}
        gap = text[spans[i][1] : spans[i + 1][0]]
        if (
            not SENTENCE_END.search(text[spans[i][0] : spans[i][1]])
            and first.get("counterfactual") is True
            and second.get("counterfactual") is True
            and halves == {"antecedent", "consequent"}
            and HALVES_GAP.fullmatch(gap)
        ):
            pairs.append((i, i + 1))
            i += 2
        else:
            i += 1
    return pairs


def _only_half(attributes: dict[str, object]) -> str | None:
    has = [part for part in PARTS if attributes.get(part)]
    return has[0] if len(has) == 1 else None
