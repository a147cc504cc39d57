"""int8 calibration: activation maxima over training texts (:mod:`argmine.model.int8`).

Both ``training/calibrate_int8.py`` (which stores them in a model folder) and
``benchmarks/precision_units.py --smooth`` (which measures them) calibrate here, on CDCP train
comments, so the dev set that judges int8 stays out of its calibration.
"""

from __future__ import annotations

import re

import torch

from argmine.corpus import load_graphs
from argmine.model.int8 import InputMaxima, outlier_channels
from argmine.pipeline import ArgumentMiner

CALIBRATION_COMMENTS = 128
"""CDCP train comments a calibration reads by default."""


def cdcp_train_maxima(
    miner: ArgumentMiner, comments: int = CALIBRATION_COMMENTS
) -> dict[str, torch.Tensor]:
    """Each encoder linear layer's largest absolute input per channel while ``miner`` parses the
    first ``comments`` CDCP train comments (run it in float32: those are the maxima to smooth)."""
    texts = [g.text for g in load_graphs("cdcp", split="train")[:comments]]
    with InputMaxima(miner.model.encoder) as maxima:
        for _ in miner.pipe(texts, batch_size=8):
            pass
    return maxima.by_layer


def outlier_summary(maxima: dict[str, torch.Tensor], ratio: float) -> str:
    """How many input channels ``ratio`` puts in float32 (:class:`OutliersApart`), in how many
    layers, and how loud the loudest channel of each kind of layer is against its median."""
    chosen = [len(outlier_channels(v, ratio)) for v in maxima.values()]
    loudest: dict[str, float] = {}
    for name, v in maxima.items():
        kind = re.sub(r"\.\d+\.", ".N.", name)  # encoder.layer.N.output.dense
        loudest[kind] = max(loudest.get(kind, 0.0), float(v.max() / v.float().median()))
    channels = sum(v.numel() for v in maxima.values())
    return (
        f"{sum(chosen)} of {channels} input channels above {ratio:g}x their layer's median, in "
        f"{sum(n > 0 for n in chosen)} of {len(maxima)} layers (at most {max(chosen)} in one); "
        "loudest against the median: "
        + ", ".join(f"{kind} {times:.0f}x" for kind, times in loudest.items())
    )
