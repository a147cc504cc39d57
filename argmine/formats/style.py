"""How every picture of a graph looks: one colour per component type and relation type, and
which relations are drawn as guesses. The HTML view, the terminal tree, the DOT export (and
so the SVG) and the spaCy component's displaCy options all read these."""

from __future__ import annotations

from argmine.graph import Relation

TYPE_COLORS: dict[str, str] = {
    "conclusion": "#f9c784",
    "claim": "#a8d5f2",
    "evidence": "#b9e4c1",
}
OTHER_COLOR = "#dddddd"
"""A type outside :data:`TYPE_COLORS` (a graph read from elsewhere)."""
RELATION_COLORS = {"support": "#1b7f3a", "attack": "#c0392b"}
WEAK_RELATION = 0.5
"""Relations scored below this are drawn fainter (HTML, DOT) or dimmed with a "?" (tree)."""


def type_color(kind: str) -> str:
    return TYPE_COLORS.get(kind, OTHER_COLOR)


def is_weak(relation: Relation) -> bool:
    """A relation the model scored below :data:`WEAK_RELATION`: shown, but as a guess."""
    return relation.score is not None and relation.score < WEAK_RELATION
