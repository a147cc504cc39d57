"""Relations: which component supports or attacks which, decoded into a well-formed graph.

Scoring is head selection over span representations: every component picks at most one target
among the other components or "none" (a softmax over ``n + 1`` options), and a second head types
each link as support or attack. The pair scorer is a small MLP over span vectors that were
computed once, so encoder work stays linear in the number of components; only this MLP runs on
the ``n * n`` pairs.

Decoding builds the maximum spanning arborescence (Chu-Liu/Edmonds, from networkx) over the
components plus a virtual root, where "component i has no target" is the edge root -> i. The
result has no self-loops and no cycles, and every component has at most one outgoing relation,
as in the tree-shaped training data (microtexts, most of CDCP).
"""

from __future__ import annotations

import math

import networkx as nx
import torch
from torch import nn

from argmine.graph import RELATION_TYPES

MAX_DISTANCE = 16
"""Link distances (in components) beyond this share one learned embedding."""
MAX_CANDIDATE_DISTANCE = 48
ROOT = "__root__"


class RelationScorer(nn.Module):
    """Link logits ``(n, n + 1)`` (last column: no target) and type logits ``(n, n, 2)``."""

    def __init__(self, span_dim: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.project = nn.Linear(span_dim, hidden)
        self.distance = nn.Embedding(2 * MAX_DISTANCE + 1, hidden)
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

    def forward(self, span_repr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = span_repr.shape[0]
        h = self.project(span_repr)
        candidates, valid = candidate_targets(n, h.device)
        source = h.unsqueeze(1).expand(-1, candidates.shape[1], -1)
        target = h[candidates]
        offset = (candidates - torch.arange(n, device=h.device).unsqueeze(1)).clamp(
            -MAX_DISTANCE, MAX_DISTANCE
        )
        pairs = torch.cat(
            [source, target, source * target + self.distance(offset + MAX_DISTANCE)], -1
        )
        link = torch.full((n, n + 1), -1e4, device=h.device)
        kinds = torch.zeros((n, n, len(RELATION_TYPES)), device=h.device)
        rows = torch.arange(n, device=h.device).unsqueeze(1).expand_as(candidates)
        link = link.index_put((rows[valid], candidates[valid]), self.link(pairs).squeeze(-1)[valid])
        kinds = kinds.index_put((rows[valid], candidates[valid]), self.relation_type(pairs)[valid])
        link[:, n] = self.no_target(h).squeeze(-1)
        return link, kinds


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


def link_targets(n: int, links: list[tuple[int, int]]) -> torch.Tensor:
    """Gold distribution over targets for each source: uniform over its targets, else "none"."""
    target = torch.zeros(n, n + 1)
    for source, tgt in links:
        target[source, tgt] = 1.0
    target[target.sum(1) == 0, n] = 1.0
    return target / target.sum(1, keepdim=True)


def decode_relations(
    link_probs: torch.Tensor, type_probs: torch.Tensor, none_weight: float = 1.0
) -> list[tuple[int, int, str, float]]:
    """The most probable forest of links: ``(source, target, type, score)`` for each link.

    ``score`` is P(link) * P(type | link). ``none_weight`` scales the probability of "no
    target" before decoding: below 1 the decoder links more (higher recall).
    """
    n = link_probs.shape[0]
    if n < 2:
        return []
    weighted = link_probs.clone()
    weighted[:, n] *= none_weight
    greedy = [int(weighted[i].argmax()) for i in range(n)]
    parent_of = {i: greedy[i] for i in range(n) if greedy[i] != n}
    if _is_acyclic(parent_of):  # the unconstrained best is already a forest: nothing to repair
        return sorted(_typed_link(i, j, link_probs, type_probs) for i, j in parent_of.items())
    digraph = nx.DiGraph()
    for i in range(n):
        # arborescence edges run parent -> child, so a link source -> target is target -> source
        digraph.add_edge(ROOT, i, weight=_log(weighted[i, n]))
        for j in torch.nonzero(link_probs[i, :n] > 0).flatten().tolist():
            if i != j:
                digraph.add_edge(j, i, weight=_log(link_probs[i, j]))
    tree = nx.maximum_spanning_arborescence(digraph, attr="weight", preserve_attrs=True)
    return sorted(
        _typed_link(child, parent, link_probs, type_probs)
        for parent, child in tree.edges()
        if parent != ROOT
    )


def _typed_link(
    source: int, target: int, link_probs: torch.Tensor, type_probs: torch.Tensor
) -> tuple[int, int, str, float]:
    kind = int(type_probs[source, target].argmax())
    score = float(link_probs[source, target] * type_probs[source, target, kind])
    return source, target, RELATION_TYPES[kind], score


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
