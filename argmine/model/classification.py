"""Component classification: a type (conclusion / claim / evidence) for each span, from the
span vectors of :mod:`argmine.model.spans`, re-weighted at decoding by priors chosen on dev data.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from argmine.graph import COMPONENT_TYPES


class SpanClassifier(nn.Module):
    """Types each span from its pooled representation: logits over :data:`COMPONENT_TYPES`."""

    def __init__(self, span_dim: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(span_dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, len(COMPONENT_TYPES)),
        )

    def forward(self, span_repr: torch.Tensor) -> torch.Tensor:
        return self.mlp(span_repr)


def weighted_probs(probs: torch.Tensor, weights: Sequence[float]) -> torch.Tensor:
    """Probabilities re-weighted by class priors and renormalised (a calibrated decision rule)."""
    weighted = probs * torch.tensor(weights, dtype=probs.dtype)
    return weighted / weighted.sum(-1, keepdim=True)
