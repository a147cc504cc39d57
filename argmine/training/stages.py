"""Training in stages: a config whose ``init_from`` names another training config.

A second stage starts from the model of the first, for example to add the counterfactual
heads to an argument model (training/configs/ablations/counterfactual-stage.json). One command
must still reproduce the result, so ``argmine train --config second.json`` trains the first
stage when its output is missing or was trained from other settings, and reuses it otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from argmine.training.config import TrainConfig


def is_stage_config(init_from: str | None) -> bool:
    """True when ``init_from`` names a training config (a ``.json`` file) and not a model."""
    return bool(init_from) and str(init_from).endswith(".json")


def stage_config_path(config: TrainConfig) -> Path:
    """The earlier stage's config file: relative to the config that names it, else as given."""
    named = Path(str(config.init_from))
    if not named.is_absolute() and config.config_file:
        beside = Path(config.config_file).parent / named
        if beside.is_file():
            return beside
    if not named.is_file():
        raise FileNotFoundError(f"init_from: no training config at {named}")
    return named


def trained_from(config: TrainConfig) -> bool:
    """True when ``config.output_dir`` holds a model trained by this very recipe."""
    saved = Path(str(config.output_dir)) / "training_config.json"
    if not saved.is_file():
        return False
    try:
        saved_config = TrainConfig.from_dict(json.loads(saved.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError, ValueError):
        return False  # written by another argmine version: train the stage afresh
    return saved_config.model_settings() == config.model_settings()


def prepare_initial_stage(
    config: TrainConfig,
    train_stage: Callable[[TrainConfig], object],
    log: Callable[[str], None] = print,
) -> str | None:
    """The model to start from: ``config.init_from`` itself when it names a model; when it
    names a stage's config, that stage's output folder, trained first unless it already holds
    that stage's model."""
    if not is_stage_config(config.init_from):
        return config.init_from
    stage = TrainConfig.from_file(stage_config_path(config))
    if not stage.output_dir:
        raise ValueError(f"{stage.config_file}: a training stage needs an output_dir")
    if trained_from(stage):
        log(f"stage {stage.config_file}: reusing the model in {stage.output_dir}")
    else:
        log(f"stage {stage.config_file}: training it first, into {stage.output_dir}")
        train_stage(stage)
    return str(stage.output_dir)


STAGES_NAME = "training_stages.json"
"""In a model folder: the training configs of the stages before the last, first to last."""


def earlier_stages(config: TrainConfig, initial: str | None) -> list[dict]:
    """The training records of the stages before this run: those of the stage it starts from
    (its own earlier stages first). Empty when it starts from the base or a given model."""
    if not initial or not is_stage_config(config.init_from):
        return []
    folder = Path(initial)
    before = folder / STAGES_NAME
    records = json.loads(before.read_text(encoding="utf-8")) if before.is_file() else []
    return records + [json.loads((folder / "training_config.json").read_text(encoding="utf-8"))]
