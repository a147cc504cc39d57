"""argmine: argument mining from raw text to argument graphs."""

from argmine.graph import (
    COMPONENT_TYPES,
    RELATION_TYPES,
    ArgumentGraph,
    Component,
    GraphValidationError,
    Relation,
)

__version__ = "0.1.0"

__all__ = [
    "COMPONENT_TYPES",
    "RELATION_TYPES",
    "ArgumentGraph",
    "Component",
    "GraphValidationError",
    "Relation",
    "__version__",
]
