"""ArgumentGraph <-> AIF (Argument Interchange Format) in its xAIF JSON wrapper.

What is written::

    {"AIF": {"nodes": [...], "edges": [...], "locutions": [...], "participants": [],
             "schemefulfillments": [], "descriptorfulfillments": []},
     "text": <document text>,
     "argmine": {"version": 1, "text": ..., "metadata": {...},
                 "components": {<I nodeID>: {"id", "type", "start", "end", "score", "attributes"}},
                 "relations": {<RA/CA nodeID>: {"score", "attributes"}}}}

Each component is an I-node whose text is the component text, asserted by an L-node (locution,
same text) through a YA node ("Asserting"). Each relation is its own scheme node: a support is
premise I -> RA -> conclusion I, an attack premise I -> CA -> conclusion I; I-nodes never link
directly. AIF has no place for component types, offsets, scores, attributes or document
metadata, so those travel in the ``"argmine"`` extension, keyed by node id. All ids written are
strings (``"1"``, ``"2"``, ...).

Plain AIF (AIFdb files, other tools) is read without the extension: components are the I-nodes
(id = nodeID), located in ``text``; RA nodes give supports, CA nodes attacks, one relation per
premise. See :func:`graph_from_aif` for the defaults.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from typing import Any

from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation

EXTENSION_KEY = "argmine"
EXTENSION_VERSION = 1
AIF_KEYS = (
    "nodes",
    "edges",
    "locutions",
    "participants",
    "schemefulfillments",
    "descriptorfulfillments",
)
SCHEME_NODE = {"support": ("RA", "Default Inference"), "attack": ("CA", "Default Conflict")}
RELATION_OF_NODE = {"RA": "support", "CA": "attack"}


# ---------------------------------------------------------------------------------- writing
class _Writer:
    """Accumulates nodes and edges, numbering both with string ids."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def node(self, text: str, node_type: str) -> str:
        node_id = str(len(self.nodes) + 1)
        self.nodes.append({"nodeID": node_id, "text": text, "type": node_type})
        return node_id

    def edge(self, from_id: str, to_id: str) -> None:
        edge_id = str(len(self.edges) + 1)
        self.edges.append({"edgeID": edge_id, "fromID": from_id, "toID": to_id})


def graph_to_aif(graph: ArgumentGraph) -> dict[str, Any]:
    """The xAIF dict for ``graph``; :func:`graph_from_aif` reads it back into an equal graph."""
    w = _Writer()
    locutions: list[dict[str, Any]] = []
    components: dict[str, dict[str, Any]] = {}
    i_node_of: dict[str, str] = {}
    for c in graph.components:
        i_id = w.node(c.text, "I")
        i_node_of[c.id] = i_id
        components[i_id] = {
            "id": c.id,
            "type": c.type,
            "start": c.start,
            "end": c.end,
            "score": c.score,
            "attributes": copy.deepcopy(c.attributes),
        }
        l_id = w.node(c.text, "L")
        locutions.append({"nodeID": l_id})
        ya_id = w.node("Asserting", "YA")
        w.edge(l_id, ya_id)
        w.edge(ya_id, i_id)
    relations: dict[str, dict[str, Any]] = {}
    for r in graph.relations:
        node_type, scheme_text = SCHEME_NODE[r.type]
        s_id = w.node(scheme_text, node_type)
        w.edge(i_node_of[r.source], s_id)
        w.edge(s_id, i_node_of[r.target])
        relations[s_id] = {"score": r.score, "attributes": copy.deepcopy(r.attributes)}
    aif: dict[str, list[dict[str, Any]]] = {k: [] for k in AIF_KEYS}
    aif.update(nodes=w.nodes, edges=w.edges, locutions=locutions)
    return {
        "AIF": aif,
        "text": graph.text,
        EXTENSION_KEY: {
            "version": EXTENSION_VERSION,
            "text": graph.text,
            "metadata": copy.deepcopy(graph.metadata),
            "components": components,
            "relations": relations,
        },
    }


# ---------------------------------------------------------------------------------- reading
def graph_from_aif(data: dict[str, Any]) -> ArgumentGraph:
    """The ArgumentGraph an AIF dict describes (xAIF wrapper or bare ``{"nodes", "edges"}``).

    With argmine's extension the graph comes back exactly. Without it (plain AIF):

    - each I-node is a component with id ``str(nodeID)``; its text is found in ``data["text"]``,
      at the first occurrence after the previous I-node's end (else anywhere in the text),
      and a text not found raises :class:`GraphValidationError` naming the node; with no
      ``text``, the document is the I-node texts joined by newlines;
    - an I-node that is the conclusion of some RA/CA node and the premise of none is a
      ``"conclusion"``, every other one a ``"claim"``;
    - RA nodes give supports, CA nodes attacks, one relation per premise I-node; scheme nodes
      whose conclusion is not an I-node (undercutters) cannot be represented and are skipped
      with a warning; L, YA, TA, MA and other nodes are ignored.
    """
    if not isinstance(data, dict):
        raise GraphValidationError(f"AIF must be a JSON object, got {type(data).__name__}")
    aif = data.get("AIF", data)
    if not isinstance(aif, dict) or not isinstance(aif.get("nodes"), list):
        raise GraphValidationError("AIF lacks a 'nodes' list (expected {'AIF': {'nodes': ...}})")
    nodes = _nodes(aif)
    premises, conclusions = _scheme_links(nodes, aif.get("edges") or [])
    extension = data.get(EXTENSION_KEY)
    if extension is not None:
        return _read_with_extension(data, nodes, premises, conclusions, extension)
    return _read_plain(data, nodes, premises, conclusions)


def _nodes(aif: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Nodes by string id (AIFdb writes ints), in file order."""
    nodes: dict[str, dict[str, Any]] = {}
    for node in aif["nodes"]:
        if not isinstance(node, dict) or "nodeID" not in node or "type" not in node:
            raise GraphValidationError(f"AIF node {node!r} lacks 'nodeID' or 'type'")
        node_id = str(node["nodeID"])
        if node_id in nodes:
            raise GraphValidationError(f"AIF has two nodes with nodeID {node_id!r}")
        nodes[node_id] = node
    return nodes


def _scheme_links(
    nodes: dict[str, dict[str, Any]], edges: list[dict[str, Any]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each RA/CA node: the nodes pointing into it and the nodes it points at."""
    premises: dict[str, list[str]] = {n: [] for n, d in nodes.items() if d["type"] in ("RA", "CA")}
    conclusions: dict[str, list[str]] = {n: [] for n in premises}
    for edge in edges:
        if not isinstance(edge, dict) or "fromID" not in edge or "toID" not in edge:
            raise GraphValidationError(f"AIF edge {edge!r} lacks 'fromID' or 'toID'")
        src, dst = str(edge["fromID"]), str(edge["toID"])
        for end in (src, dst):
            if end not in nodes:
                raise GraphValidationError(f"AIF edge {edge!r} points at unknown node {end!r}")
        if dst in premises:
            premises[dst].append(src)
        if src in conclusions:
            conclusions[src].append(dst)
    return premises, conclusions


def _i_nodes(nodes: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((n, d) for n, d in nodes.items() if d["type"] == "I")


def _relation_ends(
    nodes: dict[str, dict[str, Any]],
    premises: dict[str, list[str]],
    conclusions: dict[str, list[str]],
) -> Iterator[tuple[str, str, str, str]]:
    """``(scheme node, premise I, conclusion I, relation type)`` in node order."""
    for s_id, targets in conclusions.items():
        i_targets = [t for t in targets if nodes[t]["type"] == "I"]
        if len(i_targets) != 1 or len(targets) != 1:
            warnings.warn(
                f"AIF {nodes[s_id]['type']} node {s_id!r} does not conclude exactly one I-node "
                f"(it points at {targets}); argmine cannot represent it and skips it",
                stacklevel=3,
            )
            continue
        for p in premises[s_id]:
            if nodes[p]["type"] == "I":
                yield s_id, p, i_targets[0], RELATION_OF_NODE[nodes[s_id]["type"]]


def _read_with_extension(
    data: dict[str, Any],
    nodes: dict[str, dict[str, Any]],
    premises: dict[str, list[str]],
    conclusions: dict[str, list[str]],
    ext: Any,
) -> ArgumentGraph:
    if not isinstance(ext, dict) or ext.get("version") != EXTENSION_VERSION:
        version = ext.get("version") if isinstance(ext, dict) else ext
        raise GraphValidationError(
            f"unsupported {EXTENSION_KEY!r} AIF extension version {version!r} "
            f"(argmine reads {EXTENSION_VERSION})"
        )
    text = ext.get("text", data.get("text"))
    if not isinstance(text, str):
        raise GraphValidationError("AIF with the argmine extension lacks the document text")
    info = ext.get("components") or {}
    components = []
    for node_id, node in _i_nodes(nodes):
        if node_id not in info:
            raise GraphValidationError(f"AIF I-node {node_id!r} is missing from the extension")
        fields = copy.deepcopy(info[node_id])
        components.append(Component.from_dict({**fields, "text": node.get("text", "")}))
    comp_id = {n: c.id for (n, _), c in zip(_i_nodes(nodes), components, strict=True)}
    rel_info = ext.get("relations") or {}
    relations = [
        Relation(
            comp_id[p],
            comp_id[t],
            kind,
            rel_info.get(s_id, {}).get("score"),
            copy.deepcopy(rel_info.get(s_id, {}).get("attributes") or {}),
        )
        for s_id, p, t, kind in _relation_ends(nodes, premises, conclusions)
    ]
    metadata = copy.deepcopy(ext.get("metadata") or {})
    return ArgumentGraph(text, components, relations, metadata)


def _read_plain(
    data: dict[str, Any],
    nodes: dict[str, dict[str, Any]],
    premises: dict[str, list[str]],
    conclusions: dict[str, list[str]],
) -> ArgumentGraph:
    ends = list(_relation_ends(nodes, premises, conclusions))
    is_premise = {p for _, p, _, _ in ends}
    is_conclusion = {t for _, _, t, _ in ends}
    i_nodes = list(_i_nodes(nodes))
    text = data.get("text")
    if not isinstance(text, str):
        text = "\n".join(str(node.get("text", "")) for _, node in i_nodes)
    components = []
    cursor = 0
    for node_id, node in i_nodes:
        start, end = _locate(str(node.get("text", "")), text, cursor, node_id)
        cursor = end
        kind = "conclusion" if node_id in is_conclusion and node_id not in is_premise else "claim"
        components.append(Component(node_id, start, end, text[start:end], kind))
    relations = [Relation(p, t, kind) for _, p, t, kind in ends]
    return ArgumentGraph(text, components, relations)


def _locate(unit: str, text: str, cursor: int, node_id: str) -> tuple[int, int]:
    """The span of ``unit`` in ``text``: first occurrence from ``cursor``, else from the start."""
    if not unit:
        raise GraphValidationError(f"AIF I-node {node_id!r} has no text")
    start = text.find(unit, cursor)
    if start < 0:
        start = text.find(unit)
    if start < 0:
        raise GraphValidationError(
            f"AIF I-node {node_id!r} text {unit[:80]!r} does not occur in the document text"
        )
    return start, start + len(unit)
