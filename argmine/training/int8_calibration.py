"""int8 smoothing's calibration: activation maxima over training texts (:mod:`argmine.model.int8`).

Both ``training/calibrate_int8.py`` (which stores them in a model folder) and
``benchmarks/precision_units.py --smooth`` (which measures them) calibrate here, on CDCP train
comments, so the dev set that judges int8 stays out of its calibration.
"""

from __future__ import annotations

import torch

from argmine.corpus import load_graphs
from argmine.model.int8 import InputMaxima
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
