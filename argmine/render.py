"""Looking at a graph: a tree for the terminal, an HTML view of the text, an SVG picture.

- :func:`graph_tree`: conclusions at the root, supporters and attackers beneath, with types and
  scores; what ``argmine parse`` prints.
- :func:`graph_html`: a self-contained page, in the spirit of spaCy's displaCy: the text with
  each component highlighted by type (one ``<mark>`` each; counterfactuals marked, with their
  antecedent and consequent when known), the components listed with conclusions first, the
  relations, and the Graphviz picture when Graphviz is installed. :func:`graph_view` is the
  same view without the page around it, for pages that show several (``argmine serve``).
- :func:`graph_svg`: the picture alone, drawn by Graphviz's ``dot`` from :meth:`to_dot`.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterator

from argmine.errors import one_line
from argmine.formats.style import RELATION_COLORS, TYPE_COLORS, is_weak, type_color
from argmine.graph import ArgumentGraph, Component, Relation

ANSI = {
    "conclusion": "\033[1;33m",
    "claim": "\033[36m",
    "evidence": "\033[32m",
    "support": "\033[32m",
    "attack": "\033[31m",
    "dim": "\033[2m",
    "reset": "\033[0m",
}


# ---------------------------------------------------------------------------- terminal tree
def graph_tree(graph: ArgumentGraph, color: bool = False, ascii_only: bool = False) -> str:
    """The graph as an indented tree: each root, then what supports or attacks it, and so on.

    Roots are the components that point at nothing (conclusions first). A component that
    backs two others is drawn in full once and named again the second time; components caught
    in a cycle, reachable from no root, are drawn at the end so none is left out.
    """
    if not graph.components:
        return "(no argument components found)\n"
    drawer = _TreeDrawer(graph, color, ascii_only)
    roots = sorted(graph.roots(), key=lambda c: (c.type != "conclusion", c.start, c.end))
    for root in roots:
        drawer.draw(root)
    for component in graph:
        if component.id not in drawer.drawn:
            drawer.draw(component)
    return "\n".join(drawer.lines) + "\n"


class _TreeDrawer:
    def __init__(self, graph: ArgumentGraph, color: bool, ascii_only: bool) -> None:
        self.graph = graph
        self.color = color
        self.branch, self.last, self.pipe, self.arrow = (
            ("|-- ", "`-- ", "|   ", "<-") if ascii_only else ("├── ", "└── ", "│   ", "←")
        )
        self.lines: list[str] = []
        self.drawn: set[str] = set()
        position = {c.id: i for i, c in enumerate(graph)}
        self.incoming: dict[str, list[Relation]] = {}
        for r in sorted(graph.relations, key=lambda r: position[r.source]):
            self.incoming.setdefault(r.target, []).append(r)

    def draw(self, root: Component) -> None:
        self.lines.append(self.node(root))
        self.drawn.add(root.id)
        self._children(root.id, "", {root.id})

    def _children(self, target: str, prefix: str, path: set[str]) -> None:
        relations = self.incoming.get(target, [])
        for i, relation in enumerate(relations):
            last = i == len(relations) - 1
            source = self.graph.component(relation.source)
            seen = source.id in self.drawn
            label = f"{self.edge(relation)} {self.arrow} {self.node(source)}"
            if seen:
                label += self.paint("dim", " (shown above)")
            self.lines.append(prefix + (self.last if last else self.branch) + label)
            if not seen and source.id not in path:
                self.drawn.add(source.id)
                self._children(
                    source.id, prefix + ("    " if last else self.pipe), path | {source.id}
                )

    def node(self, c: Component) -> str:
        tag = c.type + (f" {c.score:.2f}" if c.score is not None else "")
        return f"{self.paint(c.type, f'[{tag}]')} {one_line(c.text)}"

    def edge(self, r: Relation) -> str:
        label = r.type + (f" {r.score:.2f}" if r.score is not None else "")
        if is_weak(r):
            return self.paint("dim", f"{label}?")  # a guess, not drawn like a solid link
        return self.paint(r.type, label)

    def paint(self, key: str, text: str) -> str:
        if not self.color or key not in ANSI:
            return text
        return f"{ANSI[key]}{text}{ANSI['reset']}"


# ---------------------------------------------------------------------------- SVG
class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` program is not installed."""


def graph_svg(graph: ArgumentGraph, timeout: float = 60.0) -> str:
    """The graph drawn by Graphviz (``dot -Tsvg``) from :meth:`ArgumentGraph.to_dot`'s DOT,
    with each component's node the SVG group ``id="node-<component id>"`` (for pages that
    link the picture to the text)."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            "drawing the graph needs Graphviz's dot program: install graphviz "
            "(apt-get install graphviz, brew install graphviz or conda install graphviz)"
        )
    from argmine.formats.dot import graph_to_dot

    done = subprocess.run(
        [dot, "-Tsvg"],
        input=graph_to_dot(graph, svg_ids=True).encode("utf-8"),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"dot failed: {message[0] if message else done.returncode}")
    return done.stdout.decode("utf-8")


def _inline_svg(svg: str) -> str:
    """SVG without its XML prolog and doctype, to sit inside an HTML page."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


# ---------------------------------------------------------------------------- HTML
COUNTERFACTUAL_PARTS = ("antecedent", "consequent")
"""Component attributes holding ``[start, end]`` offsets into ``graph.text`` of the two halves
of a counterfactual conditional (the "if" part and the "would have" part), or None."""


def graph_html(graph: ArgumentGraph, title: str | None = None, svg: str | None = None) -> str:
    """A self-contained HTML page: the highlighted text, the relations, and ``svg`` if given."""
    title = title or str(graph.metadata.get("id") or "argument graph")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{VIEW_CSS}</style>",
        "</head>",
        "<body>",
        '<div class="argmine">',
        f"<h1>{html.escape(title)}</h1>",
        graph_view(graph, svg),
        "</div>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def graph_view(
    graph: ArgumentGraph, svg: str | None = None, picture_note: str | None = None
) -> str:
    """The view without page or title (styled by :data:`VIEW_CSS`): legend, highlighted text,
    components (conclusions first), relations, the picture if given (else ``picture_note``,
    saying why there is none), the model's name."""
    parts = [
        _legend(graph),
        f'<div class="text">{_marked_text(graph)}</div>',
        _components_list(graph),
        _relations_table(graph),
    ]
    if svg:
        parts.append(f'<h2>Graph</h2><figure class="picture">{_inline_svg(svg)}</figure>')
    elif picture_note:
        parts.append(f'<h2>Graph</h2><p class="none picture-note">{html.escape(picture_note)}</p>')
    parts.append(_footer(graph))
    return "\n".join(p for p in parts if p)


def _legend(graph: ArgumentGraph) -> str:
    types = sorted({c.type for c in graph.components}, key=_type_order)
    items = "".join(
        f'<span class="swatch" style="background:{type_color(t)}">{html.escape(t)}</span>'
        for t in types
    )
    if any(is_counterfactual(c) for c in graph.components):
        items += '<span class="swatch counterfactual">counterfactual</span>'
    for part in COUNTERFACTUAL_PARTS:
        if any(_part_span(c, part) for c in graph.components):
            items += f'<span class="swatch"><span class="{part}">{part}</span></span>'
    count = f"{len(graph.components)} components, {len(graph.relations)} relations"
    return f'<p class="legend">{items} <span class="count">{count}</span></p>'


def _type_order(kind: str) -> tuple[int, str]:
    order = list(TYPE_COLORS)
    return (order.index(kind) if kind in order else len(order), kind)


def is_counterfactual(c: Component) -> bool:
    """Whether the component was found to be a counterfactual (attribute ``counterfactual``)."""
    return c.attributes.get("counterfactual") is True


def _marked_text(graph: ArgumentGraph) -> str:
    """The escaped text with one ``<mark>`` per component; an overlapping one is left unmarked."""
    out, cursor = [], 0
    for c in _non_overlapping(graph):
        out.append(html.escape(graph.text[cursor : c.start]))
        out.append(_mark(c))
        cursor = c.end
    out.append(html.escape(graph.text[cursor:]))
    return "".join(out)


def _non_overlapping(graph: ArgumentGraph) -> Iterator[Component]:
    end = 0
    for c in graph:
        if c.start >= end:
            end = c.end
            yield c


def _mark(c: Component) -> str:
    score = f" {c.score:.2f}" if c.score is not None else ""
    classes, title, labels = f"component type-{c.type}", f"{c.id}: {c.type}{score}", [c.type]
    attributes = ""
    if is_counterfactual(c):
        classes += " counterfactual"
        attributes = ' data-counterfactual="true"'
        cf_score = c.attributes.get("counterfactual_score")
        title += " · counterfactual" + (f" {cf_score:.2f}" if _is_number(cf_score) else "")
        labels.append("counterfactual")
    label_spans = "".join(
        f'<span class="label{" counterfactual-label" if i else ""}">{html.escape(label)}</span>'
        for i, label in enumerate(labels)
    )
    return (
        f'<mark class="{html.escape(classes)}" id="arg-{html.escape(c.id)}" '
        f'data-id="{html.escape(c.id)}" data-type="{html.escape(c.type)}"{attributes} '
        f'title="{html.escape(title)}" style="background:{type_color(c.type)}">'
        f"{_mark_content(c)}{label_spans}</mark>"
    )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mark_content(c: Component) -> str:
    """The component's escaped text, its antecedent and consequent (when known) wrapped."""
    out, cursor = [], c.start
    for start, end, part in _counterfactual_parts(c):
        out.append(html.escape(c.text[cursor - c.start : start - c.start]))
        inner = html.escape(c.text[start - c.start : end - c.start])
        out.append(f'<span class="{part}" title="{part}">{inner}</span>')
        cursor = end
    out.append(html.escape(c.text[cursor - c.start :]))
    return "".join(out)


def _counterfactual_parts(c: Component) -> list[tuple[int, int, str]]:
    """The antecedent and consequent spans that lie inside the component, in text order; of
    two that overlap, the first is kept (a model's slip should not break the page)."""
    spans = sorted(
        (span[0], span[1], part)
        for part in COUNTERFACTUAL_PARTS
        if (span := _part_span(c, part)) is not None
    )
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _part_span(c: Component, part: str) -> tuple[int, int] | None:
    """``attributes[part]`` as ``(start, end)`` if it is a non-empty span inside ``c``."""
    value = c.attributes.get(part)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    start, end = value
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        return None
    return (start, end) if c.start <= start < end <= c.end else None


def _components_list(graph: ArgumentGraph) -> str:
    """Every component once, conclusions first (then claims, evidence), each in text order."""
    if not graph.components:
        return '<h2>Components</h2><p class="none">No argument components found.</p>'
    items = []
    for c in sorted(graph.components, key=lambda c: (_type_order(c.type), c.start, c.end)):
        cf = " counterfactual" if is_counterfactual(c) else ""
        marker = '<span class="counterfactual-label">counterfactual</span>' if cf else ""
        items.append(
            f'<li class="component-item type-{html.escape(c.type)}{cf}" '
            f'data-id="{html.escape(c.id)}">{_component_cell(c)} {marker}'
            f'<span class="links">{_link_counts(graph, c)}</span></li>'
        )
    return f'<h2>Components</h2><ol class="components">{"".join(items)}</ol>'


def _link_counts(graph: ArgumentGraph, c: Component) -> str:
    counts = [
        (len(graph.supporters(c.id)), "supporter"),
        (len(graph.attackers(c.id)), "attacker"),
    ]
    said = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n]
    return html.escape(", ".join(said))


def _relations_table(graph: ArgumentGraph) -> str:
    if not graph.relations:
        return '<h2>Relations</h2><p class="none">No relations.</p>'
    rows = []
    for r in graph.relations:
        source, target = graph.component(r.source), graph.component(r.target)
        score = f"{r.score:.2f}" if r.score is not None else ""
        color = RELATION_COLORS.get(r.type, "#444")
        weak = " weak" if is_weak(r) else ""
        rows.append(
            f'<tr class="relation rel-{html.escape(r.type)}{weak}">'
            f"<td>{_component_cell(source)}</td>"
            f'<td class="type" style="color:{color}">{html.escape(r.type)}s &rarr;</td>'
            f'<td>{_component_cell(target)}</td><td class="score">{score}</td></tr>'
        )
    head = "<tr><th>source</th><th>relation</th><th>target</th><th>score</th></tr>"
    return f'<h2>Relations</h2><table class="relations">{head}{"".join(rows)}</table>'


def _component_cell(c: Component) -> str:
    return (
        f'<a href="#arg-{html.escape(c.id)}" class="ref" style="background:{type_color(c.type)}">'
        f"{html.escape(c.id)} {html.escape(c.type)}</a> {html.escape(one_line(c.text))}"
    )


def _footer(graph: ArgumentGraph) -> str:
    model = graph.metadata.get("model")
    if not model:
        return ""
    version = graph.metadata.get("model_version") or ""
    return f'<p class="footer">model: {html.escape(f"{model} {version}".strip())}</p>'


VIEW_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; }
.text { line-height: 2.6; white-space: pre-wrap; font-size: 1.05em; }
mark.component { padding: 0.3em 0.45em; margin: 0 0.15em; border-radius: 0.35em;
  box-decoration-break: clone; -webkit-box-decoration-break: clone; color: inherit; }
mark.component .label { font-size: 0.65em; font-weight: bold; text-transform: uppercase;
  margin-left: 0.5em; vertical-align: middle; letter-spacing: 0.03em; }
.legend .swatch { padding: 0.2em 0.5em; margin-right: 0.4em; border-radius: 0.3em;
  font-size: 0.85em; }
.legend .count { color: #666; font-size: 0.85em; }
table.relations { border-collapse: collapse; width: 100%; font-size: 0.95em; }
table.relations th, table.relations td { text-align: left; padding: 0.35em 0.5em;
  border-bottom: 1px solid #eee; vertical-align: top; }
table.relations td.type { font-weight: bold; white-space: nowrap; }
table.relations tr.weak { opacity: 0.55; }
table.relations tr.weak td.type { font-weight: normal; font-style: italic; }
a.ref { padding: 0.05em 0.35em; border-radius: 0.3em; color: inherit; text-decoration: none;
  font-size: 0.85em; white-space: nowrap; }
figure.picture svg { max-width: 100%; height: auto; }
mark.component.counterfactual, .swatch.counterfactual { outline: 2px dashed #7b3fa0;
  outline-offset: 1px; }
.counterfactual-label { color: #7b3fa0; }
.legend .swatch.counterfactual { color: #7b3fa0; }
.antecedent { text-decoration: underline dotted #7b3fa0 2px; text-underline-offset: 0.25em; }
.consequent { text-decoration: underline solid #7b3fa0 2px; text-underline-offset: 0.25em; }
ol.components { padding-left: 1.5em; } ol.components li { margin: 0.3em 0; }
ol.components .counterfactual-label { font-size: 0.75em; font-weight: bold;
  text-transform: uppercase; margin: 0 0.4em; }
ol.components .links { color: #666; font-size: 0.85em; margin-left: 0.4em; }
.footer { color: #888; font-size: 0.8em; margin-top: 2em; }
"""
