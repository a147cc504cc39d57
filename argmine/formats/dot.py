"""ArgumentGraph -> Graphviz DOT text, for a quick picture (``dot -Tsvg graph.dot``).

Write-only: DOT is for looking at a graph, the JSON form is for keeping it. One box per
component, labelled with its type, its score when it has one, and its text shortened and
wrapped; boxes are filled by type. Supports are solid green arrows, attacks dashed red ones,
drawn from source to target (conclusions at the top).
"""

from __future__ import annotations

import re
import textwrap

from argmine.graph import ArgumentGraph, Component, Relation

FILL_COLOURS = {"conclusion": "#f9d9a6", "claim": "#c9daf8", "evidence": "#d9ead3"}
EDGE_STYLES = {
    "support": 'color="#2e7d32", fontcolor="#2e7d32", style=solid',
    "attack": 'color="#c62828", fontcolor="#c62828", style=dashed',
}
MAX_TEXT = 120
WRAP = 32


def graph_to_dot(graph: ArgumentGraph, *, max_text: int = MAX_TEXT) -> str:
    """Graphviz DOT source for ``graph``; texts longer than ``max_text`` are cut with "…"."""
    lines = ["digraph argument_graph {", "  rankdir=BT;"]
    if "id" in graph.metadata:
        lines.append(f"  label={quote(str(graph.metadata['id']))};")
        lines.append("  labelloc=t;")
    lines.append('  node [shape=box, style="rounded,filled", fontname="Helvetica"];')
    lines.append('  edge [fontname="Helvetica"];')
    lines += [f"  {_node(c, max_text)}" for c in graph]
    lines += [f"  {_edge(r)}" for r in graph.relations]
    lines.append("}")
    return "\n".join(lines) + "\n"


def quote(value: str) -> str:
    """A DOT double-quoted string showing ``value`` literally, newlines as line breaks.

    Backslashes are doubled (DOT reads ``\\n``, ``\\N``, ``\\G``... as escapes), quotes escaped,
    and newlines written as DOT's centred line break ``\\n``.
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{escaped}"'


def _label(c: Component, max_text: int) -> str:
    head = c.type if c.score is None else f"{c.type} ({c.score:.2f})"
    return head + "\n" + "\n".join(textwrap.wrap(shorten(c.text, max_text), WRAP))


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line (runs of whitespace collapsed), cut to ``limit`` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _node(c: Component, max_text: int) -> str:
    fill = FILL_COLOURS.get(c.type, "white")
    return f'{quote(c.id)} [label={quote(_label(c, max_text))}, fillcolor="{fill}"];'


def _edge(r: Relation) -> str:
    label = r.type if r.score is None else f"{r.type} ({r.score:.2f})"
    style = EDGE_STYLES[r.type]
    if r.score is not None:  # the likelier the link, the thicker the line
        style += f", penwidth={0.5 + 2.5 * r.score:.2f}"
    return f"{quote(r.source)} -> {quote(r.target)} [label={quote(label)}, {style}];"
