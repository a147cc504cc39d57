"""argmine: argument mining from raw text to argument graphs."""

from argmine.graph import (
    COMPONENT_TYPES,
    RELATION_TYPES,
    ArgumentGraph,
    Component,
    GraphValidationError,
    Relation,
)

__version__ = "0.3.0"


def load(path=None, device: str = "cpu", precision: str = "auto"):
    """An argument miner: a shipped model by name (``argmine models`` lists them), a model
    folder, or with no argument the default model shipped with argmine.

    Like ``spacy.load``: ``miner = argmine.load(); graph = miner.parse(text)``. ``device``:
    ``cpu`` (default), ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (a GPU where there is one).
    ``precision``: ``auto`` (float32 unless the model's config says int8 keeps its units),
    ``int8``, ``bfloat16`` or ``float32``, the reference the model was evaluated in.
    """
    from argmine.pipeline import ArgumentMiner

    return ArgumentMiner.from_pretrained(path, device=device, precision=precision)


def __getattr__(name: str):
    if name == "ArgumentMiner":  # imported lazily: ``import argmine`` stays free of torch
        from argmine.pipeline import ArgumentMiner

        return ArgumentMiner
    raise AttributeError(f"module 'argmine' has no attribute {name!r}")


__all__ = [
    "COMPONENT_TYPES",
    "RELATION_TYPES",
    "ArgumentGraph",
    "ArgumentMiner",
    "Component",
    "GraphValidationError",
    "Relation",
    "__version__",
    "load",
]
