"""Exports of :class:`argmine.graph.ArgumentGraph` to formats other tools read.

- :mod:`argmine.formats.networkx`: a ``networkx.DiGraph`` (lossless, both ways), for graph
  algorithms.
- :mod:`argmine.formats.aif`: AIF / xAIF JSON (lossless with argmine's ``"argmine"`` extension
  key; plain AIF from AIFdb and other tools is read too), for the argument-web tool chain.
- :mod:`argmine.formats.dot`: Graphviz DOT text (write only), for pictures.
- :mod:`argmine.formats.brat`: brat standoff ``.txt``/``.ann`` (lossless, both ways), for
  annotation and for reading annotated corpora.

- :mod:`argmine.formats.style`: the colours every picture of a graph uses.

:data:`FORMATS` is the one table of exports by name that the server, the command line and
batch labelling dispatch on. The graph's own JSON form is described in
``docs/graph-schema.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from argmine.graph import ArgumentGraph


@dataclass(frozen=True)
class GraphFormat:
    """One way to write a graph out: what the server answers, what the command line prints,
    and the files a labelled document gets."""

    name: str
    convert: Callable[[ArgumentGraph], Any]
    """The graph as a JSON value (an object) or as text (DOT, SVG)."""
    suffix: str
    """The file name's ending of one document's file (brat: two files, see :func:`files`)."""


def _brat(graph: ArgumentGraph) -> dict[str, str]:
    txt, ann = graph.to_brat()
    return {"txt": txt, "ann": ann}


def _svg(graph: ArgumentGraph) -> str:
    from argmine.render import graph_svg

    return graph_svg(graph)


FORMATS: dict[str, GraphFormat] = {
    f.name: f
    for f in (
        GraphFormat("json", lambda graph: graph.to_dict(), ".json"),
        GraphFormat("aif", lambda graph: graph.to_aif(), ".json"),
        GraphFormat("brat", _brat, ""),
        GraphFormat("dot", lambda graph: graph.to_dot(), ".dot"),
        GraphFormat("svg", _svg, ".svg"),
    )
}
"""Every export by name: the server's ``format``, ``argmine parse --format`` (which adds the
terminal ``tree``) and ``argmine label``'s folder formats all read this table."""


def convert(graph: ArgumentGraph, name: str) -> Any:
    """The graph in format ``name``: a JSON value, or text."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[name].convert(graph)


def as_text(graph: ArgumentGraph, name: str) -> str:
    """The graph in format ``name`` as text: JSON values indented, ending with a new line."""
    value = convert(graph, name)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def files(graph: ArgumentGraph, name: str, stem: str) -> dict[str, str]:
    """The files of one document in format ``name``, by file name: brat's ``STEM.txt`` and
    ``STEM.ann``, or one ``STEM`` plus the format's suffix."""
    if name == "brat":
        value = convert(graph, name)
        return {f"{stem}.txt": value["txt"], f"{stem}.ann": value["ann"]}
    return {f"{stem}{FORMATS[name].suffix}": as_text(graph, name)}
