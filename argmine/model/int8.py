"""int8 layers that keep the first token of each sequence apart (see :mod:`argmine.runtime`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


class FirstTokenApart(nn.Module):
    """A dynamically quantized linear layer that computes each sequence's first token apart.

    In the default's encoder that token ([CLS]) is the loudest at every feed-forward input,
    3.3-8.0x the median token's on CDCP dev (``python benchmarks/precision_units.py
    --first-token``). Dynamic quantization takes one scale for the whole input, so that one token's
    magnitude rounds every other token's activations coarsely. Apart, the other tokens get a
    scale of their own; the first token gets its own scale too (``weight`` None) or runs in
    float32 (``weight``: the layer's float weights)."""

    def __init__(self, quantized: nn.Module, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.quantized = quantized
        self.register_buffer("weight", weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3 or x.shape[1] < 2:
            return self.quantized(x)
        first, rest = x[:, :1].contiguous(), x[:, 1:].contiguous()
        if self.weight is None:
            head = self.quantized(first)
        else:
            head = functional.linear(first, self.weight, self.quantized.bias())
        return torch.cat([head, self.quantized(rest)], dim=1)
