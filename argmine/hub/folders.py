"""A model folder's files: their names, the one reader of its JSON files, and the error that
names a missing or unreadable file.

Torch-free, so listing models, the command line and batch labelling can check a folder (and
say what is wrong with it) without loading a network; :mod:`argmine.model` reads its folders
through here too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
INT8_CALIBRATION_NAME = "int8_calibration.safetensors"
"""Optional: per-channel activation maxima that calibrate int8 (``ModelConfig.int8_smoothing``,
``ModelConfig.int8_outlier_ratio``)."""
CARD_NAME = "README.md"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
MODEL_FILES = (CONFIG_NAME, WEIGHTS_NAME, *TOKENIZER_FILES)
"""What a model folder must hold to be loaded."""


class ModelLoadError(OSError):
    """A model folder is missing a file or holds one that cannot be read; names the file."""


def read_model_json(path: Path) -> dict[str, Any]:
    """The JSON object in a model folder's file, or a :class:`ModelLoadError` naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ModelLoadError(f"model file missing: {path}") from err
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ModelLoadError(f"model file corrupt: {path}: {err}") from err
    if not isinstance(data, dict):
        raise ModelLoadError(f"model file corrupt: {path}: expected a JSON object")
    return data


def check_model_files(folder: Path) -> None:
    """Raise :class:`ModelLoadError` naming the first file a loadable model folder lacks."""
    for name in MODEL_FILES:
        if not (folder / name).is_file():
            raise ModelLoadError(f"model file missing: {folder / name}")
