"""ArgumentGraph -> Graphviz DOT text, for a quick picture (``dot -Tsvg graph.dot``).

Write-only: DOT is for looking at a graph, the JSON form is for keeping it. One box per
component, labelled with its type, its score when it has one, and its text shortened and
wrapped; boxes are filled by type. Supports are solid green arrows, attacks dashed red ones,
drawn from source to target, conclusions on the top rank; a weak link (score under
:data:`argmine.render.WEAK_RELATION`) is drawn faint, as the HTML view shows it.
"""

from __future__ import annotations

import re
import textwrap

from argmine.formats.style import RELATION_COLORS, is_weak, type_color
from argmine.graph import ArgumentGraph, Component, Relation

LINE_STYLES = {"support": "solid", "attack": "dashed"}
WEAK_OPACITY = "59"
"""Alpha (hex) of a weak link's colour: about a third, visible but plainly not a solid link."""
MAX_TEXT = 120
WRAP = 32


def graph_to_dot(graph: ArgumentGraph, *, max_text: int = MAX_TEXT, svg_ids: bool = False) -> str:
    """Graphviz DOT source for ``graph``; texts longer than ``max_text`` are cut with "…".

    ``svg_ids``: give each node the SVG id ``node-<component id>`` and classes (``component
    type-<type>``; edges ``relation <type>``, plus ``weak``), so a page can find a component's
    node in the SVG Graphviz draws (``argmine serve``'s page wires clicks to them).
    """
    lines = ["digraph argument_graph {", "  rankdir=BT;"]
    if "id" in graph.metadata:
        lines.append(f"  label={quote(str(graph.metadata['id']))};")
        lines.append("  labelloc=t;")
    lines.append('  node [shape=box, style="rounded,filled", fontname="Helvetica"];')
    lines.append('  edge [fontname="Helvetica"];')
    lines += [f"  {_node(c, max_text, svg_ids)}" for c in graph]
    lines += [f"  {_edge(r, svg_ids)}" for r in graph.relations]
    conclusions = [quote(c.id) for c in graph if c.type == "conclusion"]
    if conclusions:  # on top (rankdir=BT), even one that nothing supports
        lines.append(f"  {{ rank=max; {'; '.join(conclusions)}; }}")
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


def _node(c: Component, max_text: int, svg_ids: bool = False) -> str:
    attributes = f'label={quote(_label(c, max_text))}, fillcolor="{type_color(c.type)}"'
    if svg_ids:
        attributes += (
            f", id={quote('node-' + c.id)}, class={quote('component type-' + _css(c.type))}"
        )
    return f"{quote(c.id)} [{attributes}];"


def _edge(r: Relation, svg_ids: bool = False) -> str:
    label = r.type if r.score is None else f"{r.type} ({r.score:.2f})"
    weak = is_weak(r)
    colour = RELATION_COLORS[r.type]
    style = f'color="{colour}", fontcolor="{colour}", style={LINE_STYLES[r.type]}'
    if weak:  # the same colours, faint
        style = re.sub(r'"(#[0-9a-fA-F]{6})"', rf'"\g<1>{WEAK_OPACITY}"', style)
    if r.score is not None:  # the likelier the link, the thicker the line
        style += f", penwidth={0.5 + 2.5 * r.score:.2f}"
    if svg_ids:
        style += f", class={quote(f'relation {_css(r.type)}' + (' weak' if weak else ''))}"
    return f"{quote(r.source)} -> {quote(r.target)} [label={quote(label)}, {style}];"


def _css(name: str) -> str:
    """A type name as one CSS class word."""
    return re.sub(r"[^\w-]", "_", name)
