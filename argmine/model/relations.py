"""Relations: which component supports or attacks which, decoded into a well-formed graph.

Scoring is head selection over span representations: every component picks at most one target
among its candidates or "none" (a softmax over the candidates plus one), and a second head
types each link as support or attack. Candidates are the components within
``MAX_CANDIDATE_DISTANCE`` of the source (every other component in documents of up to 49), so
time and memory grow linearly with the number of components, and the pair scorer runs on
chunks of sources, never on all pairs of a long report at once.

Decoding builds the maximum spanning arborescence over the components plus a virtual root, where
"component i has no target" is the edge root -> i. The result has no self-loops and no cycles,
and every component has at most one outgoing relation, as in the tree-shaped training data. "No
target" is an option like any other: a unit is left unlinked whenever that is likelier (times
the ``none_weight`` prior) than any link. Only the parts of the greedy choice that form cycles
are re-solved (Chu-Liu/Edmonds from networkx), which gives the same optimum as solving the whole
document and stays cheap on long ones.

Two options, off in older models, are for long texts. ``paragraphs``: the pair scorer also
embeds the paragraph distance between source and target and where each sits in its paragraph
(:class:`~argmine.model.spans.ParagraphLayout`). ``has_target``: "no target" is a separate
sigmoid decision, and only the linked share is spread over the candidates, so a unit's chance
of having a target does not shrink as the candidates grow (in the plain form, "no target" is
one more candidate in the softmax, which more candidates outvote).

A decoded link's score is P(link) * P(type | link) under the softmax over its source's
candidates, which spreads over more candidates in longer documents; a model may carry a
:class:`LinkCalibration` (Platt scaling on a few features of the decoded link, fitted on dev
documents by :mod:`argmine.training.calibration`) that turns it into the probability that the
link joins a gold source and target. It rescores the links the decoder chose and never changes
which ones it chose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from argmine.graph import RELATION_TYPES
from argmine.model.spans import PARAGRAPH_POSITIONS, ParagraphLayout

MAX_DISTANCE = 16
"""Link distances (in components) beyond this share one learned embedding."""
MAX_PARAGRAPH_DISTANCE = 4
"""Paragraph distances beyond this share one learned embedding."""
MAX_CANDIDATE_DISTANCE = 48
SOURCES_PER_CHUNK = 64
"""Sources whose candidate pairs are scored together (bounds the memory of long documents)."""
ROOT = "__root__"
NO_LINK = -1e4


@dataclass
class LinkScores:
    """Scores of each source's candidate targets, ``w`` candidates per source."""

    candidates: torch.Tensor
    """``(n, w)`` target index of each candidate slot."""
    valid: torch.Tensor
    """``(n, w)`` whether the slot is a real candidate (not the source itself, not too far)."""
    link: torch.Tensor
    """``(n, w + 1)`` logits; the last column is "no target"; invalid slots hold -1e4."""
    kinds: torch.Tensor
    """``(n, w, len(RELATION_TYPES))`` relation-type logits of each candidate link."""

    def slot(self, source: int, target: int) -> int | None:
        """The slot of ``target`` among ``source``'s candidates (None: not a candidate)."""
        found = (self.candidates[source] == target) & self.valid[source]
        hits = torch.nonzero(found).flatten()
        return int(hits[0]) if len(hits) else None


class RelationScorer(nn.Module):
    """Link and relation-type logits over each source's candidate targets."""

    def __init__(
        self,
        span_dim: int,
        hidden: int = 256,
        dropout: float = 0.1,
        paragraphs: bool = False,
        has_target: bool = False,
    ) -> None:
        super().__init__()
        self.project = nn.Linear(span_dim, hidden)
        self.distance = nn.Embedding(2 * MAX_DISTANCE + 1, hidden)
        self.has_target = has_target
        positions = len(PARAGRAPH_POSITIONS)
        self.paragraph_distance = (
            nn.Embedding(2 * MAX_PARAGRAPH_DISTANCE + 1, hidden) if paragraphs else None
        )
        self.source_position = nn.Embedding(positions, hidden) if paragraphs else None
        self.target_position = nn.Embedding(positions, hidden) if paragraphs else None
        pair_dim = 3 * hidden
        self.link = nn.Sequential(
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(pair_dim, hidden),
            nn.GELU(),
            nn.Linear(hidden, 1),
        )
        self.no_target = nn.Sequential(nn.GELU(), nn.Linear(hidden, 1))
        self.relation_type = nn.Sequential(
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(pair_dim, hidden),
            nn.GELU(),
            nn.Linear(hidden, len(RELATION_TYPES)),
        )

    def forward(self, span_repr: torch.Tensor, layout: ParagraphLayout | None = None) -> LinkScores:
        """Scores of each span's candidates; ``layout`` is required by a scorer that reads
        paragraphs (and ignored by one that does not)."""
        n = span_repr.shape[0]
        h = self.project(span_repr)
        if self.paragraph_distance is not None:
            if layout is None or len(layout.paragraph) != n:
                raise ValueError("this link scorer reads paragraphs: pass each span's layout")
            layout = layout.to(h.device)
        candidates, valid = candidate_targets(n, h.device)
        links, kinds = [], []
        for first in range(0, n, SOURCES_PER_CHUNK):
            rows = slice(first, first + SOURCES_PER_CHUNK)
            link, kind = self._score_pairs(h, rows, candidates[rows], layout)
            links.append(link.masked_fill(~valid[rows], NO_LINK))
            kinds.append(kind)
        width = candidates.shape[1]
        link = torch.cat(links) if links else h.new_zeros((0, width))
        kind = torch.cat(kinds) if kinds else h.new_zeros((0, width, len(RELATION_TYPES)))
        none = self.no_target(h)
        if self.has_target:
            link = _factored_link_logits(link, none, valid)
        else:
            link = torch.cat([link, none], dim=-1)
        return LinkScores(candidates, valid, link, kind)

    def _score_pairs(
        self,
        h: torch.Tensor,
        rows: slice,
        candidates: torch.Tensor,
        layout: ParagraphLayout | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Link and type logits of the candidate pairs of the sources in ``rows``."""
        sources = torch.arange(h.shape[0], device=h.device)[rows].unsqueeze(1)
        offset = (candidates - sources).clamp(-MAX_DISTANCE, MAX_DISTANCE)
        product = h[rows].unsqueeze(1) * h[candidates] + self.distance(offset + MAX_DISTANCE)
        if self.paragraph_distance is not None:
            product = product + self._layout_terms(layout, sources, candidates)
        if self.training:
            source = h[rows].unsqueeze(1).expand(-1, candidates.shape[1], -1)
            pairs = torch.cat([source, h[candidates], product], -1)
            return self.link(pairs).squeeze(-1), self.relation_type(pairs)
        return self._score_pairs_factored(h, rows, candidates, product)

    def _layout_terms(
        self, layout: ParagraphLayout, sources: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        """Embeddings of each pair's paragraph distance and of where source and target sit in
        their paragraphs, added to the pair's features."""
        paragraph = layout.paragraph
        apart = (paragraph[candidates] - paragraph[sources]).clamp(
            -MAX_PARAGRAPH_DISTANCE, MAX_PARAGRAPH_DISTANCE
        )
        return (
            self.paragraph_distance(apart + MAX_PARAGRAPH_DISTANCE)
            + self.source_position(layout.position[sources])
            + self.target_position(layout.position[candidates])
        )

    def _score_pairs_factored(
        self, h: torch.Tensor, rows: slice, candidates: torch.Tensor, product: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The same logits with a third of the arithmetic (prediction only).

        Both scorers start with GELU then a linear layer over ``[source; target; product]``,
        which splits into one product per part: the source and target parts are computed once
        per unit, only the product part once per pair. (Training keeps the plain form: its
        dropout draws a fresh mask for each pair.)
        """
        units = nn.functional.gelu(h)
        pair_part = nn.functional.gelu(product)
        outputs = []
        for mlp in (self.link, self.relation_type):
            first = mlp[2]
            w_source, w_target, w_pair = first.weight.split(h.shape[-1], dim=1)
            hidden = (
                nn.functional.linear(pair_part, w_pair, first.bias)
                + nn.functional.linear(units[rows], w_source).unsqueeze(1)
                + nn.functional.linear(units, w_target)[candidates]
            )
            outputs.append(mlp[4](mlp[3](hidden)))
        return outputs[0].squeeze(-1), outputs[1]


def _factored_link_logits(
    link: torch.Tensor, none: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """``(n, w + 1)`` log-probabilities: P(no target) = sigmoid(``none``), and the rest spread
    over the valid candidates by their softmax. Their softmax is that distribution, so the
    decoder and the link loss read them as they read plain logits."""
    has_candidates = valid.any(-1, keepdim=True)
    spread = link.log_softmax(-1) + nn.functional.logsigmoid(-none)
    spread = spread.masked_fill(~valid, NO_LINK)
    no_target = torch.where(has_candidates, nn.functional.logsigmoid(none), torch.zeros_like(none))
    return torch.cat([spread, no_target], dim=-1)


def candidate_targets(
    n: int, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each source, the components within ``MAX_CANDIDATE_DISTANCE`` of it (never itself).

    Returns ``(n, width)`` target indices and a mask of the valid ones. Every pair is a candidate
    in documents of up to ``MAX_CANDIDATE_DISTANCE + 1`` components; longer documents keep the
    cost linear in their length, as arguments rarely link units that far apart.
    """
    width = min(n, 2 * MAX_CANDIDATE_DISTANCE + 1)
    index = torch.arange(n, device=device)
    first = (index - MAX_CANDIDATE_DISTANCE).clamp(min=0).clamp(max=max(n - width, 0))
    candidates = first.unsqueeze(1) + torch.arange(width, device=device).unsqueeze(0)
    distance = (candidates - index.unsqueeze(1)).abs()
    valid = (candidates != index.unsqueeze(1)) & (distance <= MAX_CANDIDATE_DISTANCE)
    return candidates, valid


def link_targets(scores: LinkScores, links: list[tuple[int, int]]) -> torch.Tensor:
    """Gold distribution over each source's slots: uniform over its targets, else "none".

    A gold target that is not among the source's candidates (farther away than any link the
    model can predict) is left out of its distribution.
    """
    n, width = scores.candidates.shape
    target = torch.zeros(n, width + 1, device=scores.link.device)
    for source, tgt in links:
        slot = scores.slot(source, tgt)
        if slot is not None:
            target[source, slot] = 1.0
    target[target.sum(1) == 0, width] = 1.0
    return target / target.sum(1, keepdim=True)


def decode_relations(
    scores: LinkScores,
    none_weight: float = 1.0,
    temperature: float = 1.0,
    calibration: Mapping[str, Any] | None = None,
) -> list[tuple[int, int, str, float]]:
    """The most probable forest of links: ``(source, target, type, score)`` for each link.

    ``score`` is P(link) * P(type | link). ``none_weight`` scales the probability of "no
    target" before decoding: below 1 the decoder links more (higher recall). ``temperature``
    divides the link logits first (calibration fitted on dev data). ``calibration`` (a
    :class:`LinkCalibration`'s dict, a model's ``link_calibration``) replaces each score by
    its calibrated probability; the links are the same with or without it.
    """
    decoded = _decode(scores, none_weight, temperature)
    if calibration is None or not decoded:
        return decoded
    probabilities = LinkCalibration.from_dict(calibration).probabilities(
        link_features(scores, decoded, temperature)
    )
    return [(s, t, kind, p) for (s, t, kind, _), p in zip(decoded, probabilities, strict=True)]


def _decode(
    scores: LinkScores, none_weight: float, temperature: float
) -> list[tuple[int, int, str, float]]:
    n, width = scores.candidates.shape
    if n < 2:
        return []
    link_probs = (scores.link.float() / temperature).softmax(-1).cpu()
    type_probs = scores.kinds.float().softmax(-1).cpu()
    candidates, valid = scores.candidates.cpu(), scores.valid.cpu()
    weighted = link_probs.clone()
    weighted[:, width] *= none_weight
    best = weighted.argmax(-1).tolist()
    parent_of = {i: int(candidates[i, s]) for i, s in enumerate(best) if s != width}
    slot_of = {i: s for i, s in enumerate(best) if s != width}
    cyclic = _nodes_in_cyclic_components(parent_of, n)
    if cyclic:
        repaired = _repair_cycles(cyclic, weighted, candidates, valid)
        for node in cyclic:
            parent_of.pop(node, None)
            slot_of.pop(node, None)
        for node, slot in repaired.items():
            parent_of[node], slot_of[node] = int(candidates[node, slot]), slot
    return sorted(
        _typed_link(i, parent_of[i], link_probs[i, s], type_probs[i, s]) for i, s in slot_of.items()
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


LINK_FEATURES: dict[str, Callable[[dict[str, float]], float]] = {
    "logit_score": lambda f: _logit(f["score"]),
    "logit_link": lambda f: _logit(f["link"]),
    "link_vs_none": lambda f: math.log(max(f["link"], 1e-12) / max(f["none"], 1e-12)),
    "log_candidates": lambda f: math.log(f["candidates"]),
}
"""What a link calibration may read of a decoded link, from its raw quantities: ``score``
(P(link) * P(type | link)), ``link`` (P(link)), ``none`` (its source's P(no target)), both at
the model's temperature, and ``candidates`` (its source's number of candidate targets)."""


def link_features(
    scores: LinkScores, decoded: list[tuple[int, int, str, float]], temperature: float = 1.0
) -> list[dict[str, float]]:
    """Each decoded link's raw quantities (see :data:`LINK_FEATURES`), in ``decoded``'s order."""
    if not decoded:
        return []
    width = scores.candidates.shape[1]
    link_probs = (scores.link.float() / temperature).softmax(-1).cpu()
    counts = scores.valid.sum(-1).cpu()
    rows = []
    for source, target, _, score in decoded:
        slot = scores.slot(source, target)
        rows.append(
            {
                "score": score,
                "link": float(link_probs[source, slot]),
                "none": float(link_probs[source, width]),
                "candidates": float(counts[source]),
            }
        )
    return rows


@dataclass(frozen=True)
class LinkCalibration:
    """Platt scaling of decoded links: P(correct) = sigmoid(intercept + coef . features).

    Stored in a model's config as ``{"features": [...], "coef": [...], "intercept": b}``;
    features are names in :data:`LINK_FEATURES`.
    """

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in LINK_FEATURES]
        if unknown:
            raise ValueError(f"unknown link calibration feature(s) {unknown}")
        if len(self.coef) != len(self.features):
            raise ValueError(
                f"link calibration: {len(self.coef)} coefficients for {len(self.features)} features"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkCalibration:
        try:
            return cls(
                tuple(data["features"]),
                tuple(float(c) for c in data["coef"]),
                float(data["intercept"]),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(
                f"link calibration must have features, coef, intercept: {err}"
            ) from err

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    def design(self, rows: list[dict[str, float]]) -> list[list[float]]:
        """The features of each link's raw quantities (what the coefficients multiply)."""
        return [[LINK_FEATURES[name](row) for name in self.features] for row in rows]

    def probabilities(self, rows: list[dict[str, float]]) -> list[float]:
        """P(correct) of each link, from its raw quantities (:func:`link_features`)."""
        return [
            _sigmoid(self.intercept + sum(c * x for c, x in zip(self.coef, xs, strict=True)))
            for xs in self.design(rows)
        ]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def _nodes_in_cyclic_components(parent_of: dict[int, int], n: int) -> set[int]:
    """The nodes of every weakly connected part of the greedy choice that holds a cycle."""
    if _is_acyclic(parent_of):
        return set()
    import networkx as nx  # here, not at the top: most documents have no cycle to repair

    greedy = nx.Graph()
    greedy.add_nodes_from(range(n))
    greedy.add_edges_from(parent_of.items())
    directed = nx.DiGraph(list(parent_of.items()))
    in_cycles = {node for cycle in nx.simple_cycles(directed) for node in cycle}
    return {
        node
        for component in nx.connected_components(greedy)
        if component & in_cycles
        for node in component
    }


def _repair_cycles(
    nodes: set[int], weighted: torch.Tensor, candidates: torch.Tensor, valid: torch.Tensor
) -> dict[int, int]:
    """The best slots for ``nodes``, every other component keeping its greedy, acyclic choice.

    A link to a component outside ``nodes`` can never close a cycle, so all of them fold into
    the root: a node's root edge is its best such link or "no target", whichever is likelier.
    Chu-Liu/Edmonds then runs on these few nodes only.
    """
    import networkx as nx

    width = candidates.shape[1]
    digraph = nx.DiGraph()
    root_slot: dict[int, int] = {}
    for i in nodes:
        outside = [s for s in range(width) if valid[i, s] and int(candidates[i, s]) not in nodes]
        root_slot[i] = max([width, *outside], key=lambda s: float(weighted[i, s]))
        digraph.add_edge(ROOT, i, weight=_log(weighted[i, root_slot[i]]))
        for s in range(width):
            j = int(candidates[i, s])
            if valid[i, s] and j in nodes:
                # arborescence edges run parent -> child, so a link i -> j is the edge j -> i
                digraph.add_edge(j, i, weight=_log(weighted[i, s]), slot=s)
    tree = nx.maximum_spanning_arborescence(digraph, attr="weight", preserve_attrs=True)
    chosen = {}
    for parent, child, data in tree.edges(data=True):
        slot = root_slot[child] if parent == ROOT else data["slot"]
        if slot != width:
            chosen[child] = slot
    return chosen


def _typed_link(
    source: int, target: int, link_prob: torch.Tensor, type_probs: torch.Tensor
) -> tuple[int, int, str, float]:
    kind = int(type_probs.argmax())
    return source, target, RELATION_TYPES[kind], float(link_prob * type_probs[kind])


def _is_acyclic(parent_of: dict[int, int]) -> bool:
    """True when following each node's single parent never comes back to where it started."""
    done: set[int] = set()
    for start in parent_of:
        path: set[int] = set()
        node = start
        while node in parent_of and node not in done:
            if node in path:
                return False
            path.add(node)
            node = parent_of[node]
        done |= path
    return True


def _log(p: torch.Tensor) -> float:
    return math.log(max(float(p), 1e-12))
