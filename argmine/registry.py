"""The documented path of the model registry (``argmine.registry.installed_models()``), kept
for code written against it; the registry lives in :mod:`argmine.hub.registry`."""

from argmine.hub.registry import (
    DEFAULT_MODEL,
    ModelInfo,
    installed_models,
    installed_names,
    model_info,
    models_dir,
    resolve_model,
)

__all__ = [
    "DEFAULT_MODEL",
    "ModelInfo",
    "installed_models",
    "installed_names",
    "model_info",
    "models_dir",
    "resolve_model",
]
