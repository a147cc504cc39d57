"""ArgumentGraph <-> ``networkx.DiGraph``, so graph algorithms can run on argument structure.

Nodes are component ids carrying every component field (``start``, ``end``, ``text``, ``type``,
``score``, ``attributes``); edges run source -> target carrying ``type``, ``score``,
``attributes`` and ``order`` (the relation's position, so the round trip keeps relation order);
the graph itself carries ``text`` and ``metadata``. Values are deep-copied both ways, so
editing the DiGraph never edits the ArgumentGraph.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation

if TYPE_CHECKING:
    import networkx as nx

_COMPONENT_FIELDS = ("start", "end", "text", "type", "score", "attributes")
_RELATION_FIELDS = ("type", "score", "attributes")


def graph_to_networkx(graph: ArgumentGraph) -> nx.DiGraph:
    """A DiGraph holding everything in ``graph``; :func:`graph_from_networkx` inverts it."""
    import networkx as nx

    digraph = nx.DiGraph(text=graph.text, metadata=copy.deepcopy(graph.metadata))
    for c in graph.components:
        data = c.to_dict()
        digraph.add_node(c.id, **{k: copy.deepcopy(data[k]) for k in _COMPONENT_FIELDS})
    for order, r in enumerate(graph.relations):
        data = r.to_dict()
        attrs = {k: copy.deepcopy(data[k]) for k in _RELATION_FIELDS}
        digraph.add_edge(r.source, r.target, order=order, **attrs)
    return digraph


def graph_from_networkx(digraph: nx.DiGraph) -> ArgumentGraph:
    """The ArgumentGraph a DiGraph describes (validated).

    A node without ``text`` gets it cut from the document text; edges without ``order`` keep
    networkx's iteration order after those that have one.
    """
    if "text" not in digraph.graph:
        raise GraphValidationError("the DiGraph lacks the graph attribute 'text'")
    text = digraph.graph["text"]
    components = [_component(node, data, text) for node, data in digraph.nodes(data=True)]
    edges = list(digraph.edges(data=True))
    positions = {(u, v): i for i, (u, v, _) in enumerate(edges)}
    edges.sort(key=lambda e: (_order_key(e[2].get("order")), positions[(e[0], e[1])]))
    relations = [
        Relation.from_dict({"source": u, "target": v, **copy.deepcopy(_pick(data))})
        for u, v, data in edges
    ]
    metadata = copy.deepcopy(digraph.graph.get("metadata") or {})
    return ArgumentGraph(text, components, relations, metadata)


def _component(node: Any, data: dict[str, Any], text: str) -> Component:
    fields = {k: copy.deepcopy(data[k]) for k in _COMPONENT_FIELDS if k in data}
    if (
        "text" not in fields
        and isinstance(data.get("start"), int)
        and isinstance(data.get("end"), int)
    ):
        fields["text"] = text[data["start"] : data["end"]]
    return Component.from_dict({"id": node, **fields})


def _pick(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in _RELATION_FIELDS if k in data}


def _order_key(order: Any) -> tuple[int, int]:
    """Edges with an int ``order`` first, by it; the rest after them."""
    return (0, order) if isinstance(order, int) and not isinstance(order, bool) else (1, 0)
