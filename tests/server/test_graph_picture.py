"""The graph as a picture: the DOT that Graphviz draws, the SVG with a node per component, and
``argmine serve`` with and without Graphviz (the page's picture; ``format: svg``)."""

from __future__ import annotations

import os
import shutil
import sys
import xml.etree.ElementTree as ET

import pytest

from argmine.formats.dot import graph_to_dot
from argmine.graph import ArgumentGraph, Component, Relation

HAS_DOT = shutil.which("dot") is not None
SVG = "{http://www.w3.org/2000/svg}"


def small_graph() -> ArgumentGraph:
    """A conclusion nothing supports, one with a strong supporter and a weak attacker."""
    text = "Ban cars. Cars pollute. Buses are fine. Tax sugar."
    units = [(0, 8, "conclusion"), (10, 22, "claim"), (24, 38, "claim"), (40, 50, "conclusion")]
    components = [
        Component(f"c{i}", a, b, text[a:b], kind, 0.9) for i, (a, b, kind) in enumerate(units)
    ]
    relations = [Relation("c1", "c0", "support", 0.91), Relation("c2", "c0", "attack", 0.2)]
    return ArgumentGraph(text, components, relations)


def test_dot_puts_conclusions_on_top_and_draws_weak_links_faint():
    dot = graph_to_dot(small_graph())
    assert "rankdir=BT" in dot and '{ rank=max; "c0"; "c3"; }' in dot
    strong = next(line for line in dot.splitlines() if '"c1" -> "c0"' in line)
    weak = next(line for line in dot.splitlines() if '"c2" -> "c0"' in line)
    assert 'color="#1b7f3a"' in strong
    assert 'color="#c0392b59"' in weak and "style=dashed" in weak  # an attack, faint
    assert "id=" not in dot and "class=" not in dot  # the plain export has no SVG ids


def test_dot_for_svg_names_each_node_by_its_component():
    dot = graph_to_dot(small_graph(), svg_ids=True)
    assert '"c0" [label=' in dot and 'id="node-c0", class="component type-conclusion"' in dot
    assert 'class="relation attack weak"' in dot and 'class="relation support"' in dot


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' is not installed")
def test_svg_has_one_node_per_component_with_its_id():
    from argmine.render import graph_svg

    graph = small_graph()
    root = ET.fromstring(graph_svg(graph))
    groups = list(root.iter(f"{SVG}g"))
    nodes = {g.get("id"): g.get("class").split() for g in groups if "node" in g.get("class")}
    assert nodes == {
        f"node-{c.id}": ["node", "component", f"type-{c.type}"] for c in graph.components
    }
    edges = [g.get("class").split() for g in groups if "edge" in g.get("class")]
    assert sorted(edges) == [
        ["edge", "relation", "attack", "weak"],
        ["edge", "relation", "support"],
    ]

    def top(component_id: str) -> float:  # of the node's first line of text; y grows down
        group = next(g for g in groups if g.get("id") == f"node-{component_id}")
        return float(next(group.iter(f"{SVG}text")).get("y"))

    assert top("c0") < top("c1") and top("c3") < top("c1")  # conclusions on top


# ---------------------------------------------------------------------------- the server
@pytest.fixture(scope="module")
def server_without_graphviz(tiny_model_dir, tmp_path_factory):
    """``argmine serve`` with a PATH on which there is no ``dot``."""
    pytest.importorskip("fastapi", reason="argmine serve needs the serve extra")
    from serving import ServerProcess, serve_command

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", os.path.dirname(sys.executable))
        log = tmp_path_factory.mktemp("serve") / "server.log"
        running = ServerProcess(serve_command("--model", str(tiny_model_dir)), log)
    yield running
    running.stop()


TEXT = "We should ban cars. Cars pollute the air. Buses are cleaner than cars."


def test_without_graphviz_the_page_says_what_to_install(server_without_graphviz):
    reply = server_without_graphviz.post("/view", {"text": TEXT})
    assert reply.status == 200
    body = reply.json()
    assert body["graph"]["components"]  # the text and tables come all the same
    assert "install graphviz" in body["picture_note"]
    assert '<p class="none picture-note">No picture of the graph' in body["html"]
    assert "<svg" not in body["html"]


def test_without_graphviz_svg_is_a_501_naming_graphviz(server_without_graphviz):
    reply = server_without_graphviz.post("/parse", {"text": TEXT, "format": "svg"})
    assert reply.status == 501
    assert "install graphviz" in reply.json()["detail"]
    assert server_without_graphviz.get("/health").status == 200  # and it goes on


def test_the_page_draws_at_most_so_many_components(monkeypatch):
    pytest.importorskip("fastapi", reason="argmine serve needs the serve extra")
    from argmine.server import app as server

    monkeypatch.setattr(server, "PICTURE_MAX_COMPONENTS", 3)
    svg, note = server._picture(small_graph())
    assert svg is None and "4 components" in note and "up to 3" in note
