"""Exports: every format round-trips small hand-written graphs; readers reject bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from argmine.formats.aif import AIF_KEYS, EXTENSION_KEY, graph_from_aif, graph_to_aif
from argmine.formats.brat import (
    BratFormatError,
    graph_from_brat,
    graph_to_brat,
    parse_ann,
    read_brat,
    write_brat,
)
from argmine.formats.dot import graph_to_dot
from argmine.formats.networkx import graph_from_networkx, graph_to_networkx
from argmine.graph import ArgumentGraph, Component, GraphValidationError, Relation


def span(text: str, cid: str, unit: str, kind: str, **kwargs) -> Component:
    start = text.index(unit)
    return Component(cid, start, start + len(unit), unit, kind, **kwargs)


def cars_graph() -> ArgumentGraph:
    """Model-like output: scores, attributes, an attack, metadata."""
    text = (
        "We should ban cars in the city centre. Cars pollute the air. "
        "A 2019 study found that 40% of asthma cases come from traffic. "
        "Some say shops need customers who drive."
    )
    units = [
        ("c0", "We should ban cars in the city centre", "conclusion", 0.91, {}),
        ("c1", "Cars pollute the air", "claim", 0.8, {"native_label": "Claim"}),
        (
            "c2",
            "A 2019 study found that 40% of asthma cases come from traffic",
            "evidence",
            0.66,
            {"native_label": "fact", "counterfactual": True},
        ),
        ("c3", "Some say shops need customers who drive", "claim", None, {"stance": "con"}),
    ]
    cs = [span(text, cid, u, k, score=s, attributes=a) for cid, u, k, s, a in units]
    rs = [
        Relation("c1", "c0", "support", 0.7),
        Relation("c2", "c1", "support", 0.55, {"scheme": "example"}),
        Relation("c3", "c0", "attack", 0.4, {"counterfactual": True}),
    ]
    meta = {"id": "cars", "model": "tiny", "model_version": "0.0.1", "tags": ["a", 1]}
    return ArgumentGraph(text, cs, rs, meta)


def unicode_graph() -> ArgumentGraph:
    """Gold-like: no scores; non-breaking spaces, quotes, a backslash, a unit across lines."""
    text = (
        'Städte brauchen\u00a0mehr Bäume. „Sie kühlen\ndie Straßen“ – sagt "Dr.\\Ömer".\r\n'
        "Aber Bäume kosten 30\u00a0000\u00a0€."
    )
    cs = [
        span(text, "T4", "Städte brauchen\u00a0mehr Bäume", "conclusion"),
        span(
            text,
            "T1",
            '„Sie kühlen\ndie Straßen“ – sagt "Dr.\\Ömer"',
            "claim",
            attributes={"comment": "two words", "count": 3, "flag": False, "none": None},
        ),
        span(text, "x", "Aber Bäume kosten 30\u00a0000\u00a0€", "claim"),
    ]
    rs = [Relation("T1", "T4", "support"), Relation("x", "T4", "attack")]
    return ArgumentGraph(text, cs, rs, {"id": "bäume", "source": "hand"})


def bare_graph() -> ArgumentGraph:
    """Components only: no relations, no metadata."""
    text = "Tuition should be free. Education helps everyone."
    cs = [
        span(text, "a", "Education helps everyone", "claim"),
        span(text, "b", "Tuition should be free", "conclusion"),
    ]
    return ArgumentGraph(text, cs)


GRAPHS = [cars_graph, unicode_graph, bare_graph]


@pytest.fixture(params=GRAPHS, ids=lambda f: f.__name__)
def graph(request) -> ArgumentGraph:
    return request.param()


# ---------------------------------------------------------------------------------- networkx
def test_networkx_round_trip(graph: ArgumentGraph) -> None:
    digraph = graph_to_networkx(graph)
    assert set(digraph.nodes) == {c.id for c in graph.components}
    assert digraph.number_of_edges() == len(graph.relations)
    assert ArgumentGraph.from_networkx(digraph).to_dict() == graph.to_dict()


def test_networkx_carries_fields_and_copies_them() -> None:
    graph = cars_graph()
    digraph = graph.to_networkx()
    assert digraph.graph["text"] == graph.text
    assert digraph.graph["metadata"]["model"] == "tiny"
    assert digraph.nodes["c2"]["type"] == "evidence"
    assert digraph.nodes["c2"]["attributes"]["counterfactual"] is True
    assert digraph.edges["c3", "c0"]["type"] == "attack"
    assert digraph.edges["c3", "c0"]["score"] == 0.4
    digraph.nodes["c2"]["attributes"]["counterfactual"] = False
    assert graph.component("c2").attributes["counterfactual"] is True


def test_networkx_from_a_hand_built_digraph() -> None:
    import networkx as nx

    text = "Tax sugar. It harms teeth."
    digraph = nx.DiGraph(text=text)
    digraph.add_node("t", start=0, end=9, type="conclusion")
    digraph.add_node("h", start=11, end=25, type="claim")
    digraph.add_edge("h", "t", type="support")
    graph = graph_from_networkx(digraph)
    assert graph.component("h").text == "It harms teeth"
    assert [(r.source, r.target, r.type) for r in graph.relations] == [("h", "t", "support")]
    with pytest.raises(GraphValidationError, match="'text'"):
        graph_from_networkx(nx.DiGraph())


# ---------------------------------------------------------------------------------- AIF
def test_aif_round_trip_through_json(graph: ArgumentGraph) -> None:
    data = json.loads(json.dumps(graph_to_aif(graph)))
    assert graph_from_aif(data).to_dict() == graph.to_dict()
    assert ArgumentGraph.from_aif(graph.to_aif()).to_dict() == graph.to_dict()


def test_aif_wrapper_has_every_key(graph: ArgumentGraph) -> None:
    data = graph_to_aif(graph)
    assert set(data["AIF"]) == set(AIF_KEYS)
    assert all(isinstance(data["AIF"][k], list) for k in AIF_KEYS)
    assert data["text"] == graph.text
    assert data[EXTENSION_KEY]["version"] == 1


def test_aif_relations_go_through_scheme_nodes() -> None:
    graph = cars_graph()
    aif = graph_to_aif(graph)["AIF"]
    node_type = {n["nodeID"]: n["type"] for n in aif["nodes"]}
    assert all(isinstance(i, str) for i in node_type)
    edges = [(e["fromID"], e["toID"]) for e in aif["edges"]]
    assert not [e for e in edges if node_type[e[0]] == "I" and node_type[e[1]] == "I"]
    i_text = {n["nodeID"]: n["text"] for n in aif["nodes"] if n["type"] == "I"}
    chains = []
    for s_id, kind in node_type.items():
        if kind not in ("RA", "CA"):
            continue
        ins = [a for a, b in edges if b == s_id]
        outs = [b for a, b in edges if a == s_id]
        assert len(ins) == 1 and len(outs) == 1
        assert node_type[ins[0]] == "I" and node_type[outs[0]] == "I"
        chains.append((i_text[ins[0]], kind, i_text[outs[0]]))
    expected = [
        (graph.component(r.source).text, "RA" if r.type == "support" else "CA",
         graph.component(r.target).text)
        for r in graph.relations
    ]  # fmt: skip
    assert chains == expected


def test_aif_writes_locutions_asserting_each_i_node() -> None:
    graph = cars_graph()
    aif = graph_to_aif(graph)["AIF"]
    nodes = {n["nodeID"]: n for n in aif["nodes"]}
    l_ids = [n["nodeID"] for n in aif["nodes"] if n["type"] == "L"]
    assert [loc["nodeID"] for loc in aif["locutions"]] == l_ids
    assert len(l_ids) == len(graph.components)
    for l_id in l_ids:
        (ya,) = [b for a, b in ((e["fromID"], e["toID"]) for e in aif["edges"]) if a == l_id]
        assert nodes[ya]["type"] == "YA" and nodes[ya]["text"] == "Asserting"
        (i_node,) = [e["toID"] for e in aif["edges"] if e["fromID"] == ya]
        assert nodes[i_node]["type"] == "I"
        assert nodes[i_node]["text"] == nodes[l_id]["text"]


def test_aif_extension_keys_by_node_id() -> None:
    data = graph_to_aif(cars_graph())
    i_nodes = [n for n in data["AIF"]["nodes"] if n["type"] == "I"]
    ext = data[EXTENSION_KEY]
    assert set(ext["components"]) == {n["nodeID"] for n in i_nodes}
    first = ext["components"][i_nodes[2]["nodeID"]]
    assert first["id"] == "c2" and first["type"] == "evidence"
    assert first["attributes"] == {"native_label": "fact", "counterfactual": True}
    ca = next(n for n in data["AIF"]["nodes"] if n["type"] == "CA")
    assert ext["relations"][ca["nodeID"]] == {"score": 0.4, "attributes": {"counterfactual": True}}
    assert ext["metadata"]["model"] == "tiny"


def test_aif_rejects_unknown_extension_version() -> None:
    data = graph_to_aif(cars_graph())
    data[EXTENSION_KEY]["version"] = 99
    with pytest.raises(GraphValidationError, match="version 99"):
        graph_from_aif(data)


PLAIN_TEXT = "Ban cars. They pollute. Buses are cheap. Cars are convenient. They pollute."


def plain_aif() -> dict:
    """AIFdb-style: int ids, no wrapper, an RA with two premises, a CA, L and YA nodes."""
    nodes = [
        {"nodeID": 10, "text": "Ban cars", "type": "I"},
        {"nodeID": 11, "text": "They pollute", "type": "I"},
        {"nodeID": 12, "text": "Buses are cheap", "type": "I"},
        {"nodeID": 13, "text": "Cars are convenient", "type": "I"},
        {"nodeID": 14, "text": "They pollute", "type": "I"},
        {"nodeID": 20, "text": "Default Inference", "type": "RA"},
        {"nodeID": 21, "text": "Default Conflict", "type": "CA"},
        {"nodeID": 30, "text": "Bob: Ban cars", "type": "L"},
        {"nodeID": 31, "text": "Asserting", "type": "YA"},
    ]
    links = [(11, 20), (12, 20), (20, 10), (13, 21), (21, 10), (30, 31), (31, 10)]
    edges = [{"edgeID": i, "fromID": a, "toID": b} for i, (a, b) in enumerate(links)]
    locutions = [{"nodeID": 30, "personID": 1}]
    return {"nodes": nodes, "edges": edges, "locutions": locutions}


def test_plain_aif_without_extension() -> None:
    graph = graph_from_aif({"AIF": plain_aif(), "text": PLAIN_TEXT})
    assert [(c.id, c.type) for c in graph] == [
        ("10", "conclusion"),
        ("11", "claim"),
        ("12", "claim"),
        ("13", "claim"),
        ("14", "claim"),
    ]
    # the second "They pollute" is found after the first one
    assert graph.component("14").start == PLAIN_TEXT.rindex("They pollute")
    assert [(r.source, r.target, r.type) for r in graph.relations] == [
        ("11", "10", "support"),
        ("12", "10", "support"),
        ("13", "10", "attack"),
    ]
    assert graph.metadata == {}


def test_plain_aif_without_text_joins_the_i_nodes() -> None:
    graph = graph_from_aif(plain_aif())
    assert graph.text.split("\n") == [
        "Ban cars",
        "They pollute",
        "Buses are cheap",
        "Cars are convenient",
        "They pollute",
    ]
    assert graph.component("13").text == "Cars are convenient"


def test_plain_aif_text_not_found_names_the_node() -> None:
    with pytest.raises(GraphValidationError, match="I-node '12'.*does not occur"):
        graph_from_aif({"AIF": plain_aif(), "text": "Ban cars. They pollute."})


def test_plain_aif_skips_undercutters_with_a_warning() -> None:
    data = plain_aif()
    data["nodes"].append({"nodeID": 22, "text": "Default Conflict", "type": "CA"})
    data["edges"] += [
        {"edgeID": 90, "fromID": 14, "toID": 22},
        {"edgeID": 91, "fromID": 22, "toID": 20},
    ]
    with pytest.warns(UserWarning, match="'22'"):
        graph = graph_from_aif({"AIF": data, "text": PLAIN_TEXT})
    assert len(graph.relations) == 3


# ---------------------------------------------------------------------------------- DOT
NODE_LINE = re.compile(r'^  ("(?:[^"\\]|\\.)*") \[label=("(?:[^"\\]|\\.)*"), fillcolor="#\w+"\];$')
EDGE_LINE = re.compile(
    r'^  ("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*") \[label="(\w+)[^"]*", .*\];$'
)


def unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted[1:-1])


def test_dot_has_every_component_and_edge_once(graph: ArgumentGraph) -> None:
    lines = graph_to_dot(graph).splitlines()
    assert lines[0] == "digraph argument_graph {" and lines[-1] == "}"
    nodes = [NODE_LINE.match(line) for line in lines]
    node_ids = Counter(unquote(m.group(1)) for m in nodes if m)
    assert node_ids == Counter(c.id for c in graph.components)
    edges = Counter(
        (unquote(m.group(1)), unquote(m.group(2)), m.group(3))
        for m in map(EDGE_LINE.match, lines)
        if m
    )
    assert edges == Counter((r.source, r.target, r.type) for r in graph.relations)
    for m in nodes:
        if m:
            label = unquote(m.group(2))
            assert label.split("\n")[0].split()[0] == graph.component(unquote(m.group(1))).type


def test_dot_escapes_quotes_backslashes_and_newlines() -> None:
    dot = graph_to_dot(unicode_graph())
    line = next(line for line in dot.splitlines() if line.startswith('  "T1" ['))
    assert '\\"Dr.\\\\Ömer\\"' in line
    assert "\n" not in line and "\r" not in line
    label = unquote(NODE_LINE.match(line).group(2))
    assert label.startswith("claim\n„Sie kühlen die Straßen“")
    assert "style=dashed" in next(line for line in dot.splitlines() if '"x" -> "T4"' in line)


def test_dot_shows_scores_and_shortens_long_text() -> None:
    dot = graph_to_dot(cars_graph(), max_text=20)
    assert "conclusion (0.91)\\nWe should ban cars…" in dot
    assert 'label="support (0.70)", color="#1b7f3a"' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_dot_renders_with_graphviz(graph: ArgumentGraph) -> None:
    done = subprocess.run(
        ["dot", "-Tsvg"], input=graph_to_dot(graph), capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout


def test_dot_parses_with_pydot_when_available(graph: ArgumentGraph) -> None:
    pydot = pytest.importorskip("pydot")
    (parsed,) = pydot.graph_from_dot_data(graph_to_dot(graph))
    ids = {n.get_name().strip('"') for n in parsed.get_nodes()} - {"node", "edge", "graph"}
    assert ids == {c.id for c in graph.components}
    assert len(parsed.get_edges()) == len(graph.relations)


# ---------------------------------------------------------------------------------- brat
def test_brat_round_trip(graph: ArgumentGraph) -> None:
    txt, ann = graph_to_brat(graph)
    assert txt == graph.text
    assert graph_from_brat(txt, ann).to_dict() == graph.to_dict()
    assert ArgumentGraph.from_brat(*graph.to_brat()).to_dict() == graph.to_dict()


def test_brat_file_round_trip(graph: ArgumentGraph, tmp_path: Path) -> None:
    txt_path, ann_path = write_brat(graph, tmp_path / "out", "doc1")
    assert txt_path.read_bytes().decode("utf-8") == graph.text  # "\r\n" kept as is
    (again,) = read_brat(tmp_path / "out")
    expected = graph.to_dict()
    expected["metadata"].setdefault("id", "doc1")
    assert again.to_dict() == expected
    assert read_brat(ann_path)[0].to_dict() == expected


def test_brat_lines_are_plain_brat() -> None:
    _, ann = graph_to_brat(cars_graph())
    lines = ann.splitlines()
    assert "T1\tconclusion 0 37\tWe should ban cars in the city centre" in lines
    assert (
        "T3\tevidence 61 122\tA 2019 study found that 40% of asthma cases come from traffic"
        in lines
    )
    assert "A2\tnative_label T3 fact" in lines
    assert "A3\tcounterfactual T3" in lines
    assert "A6\tcounterfactual R3" in lines
    assert "R3\tattack Arg1:T4 Arg2:T1\t" in lines
    notes = [line for line in lines if line.startswith("#")]
    assert notes[0].startswith("#1\tAnnotatorNotes T1\targmine {")
    assert json.loads(notes[0].split("argmine ", 1)[1])["id"] == "c0"


def test_brat_keeps_t_ids_and_splits_units_at_line_breaks() -> None:
    graph = unicode_graph()
    parsed = parse_ann(graph_to_brat(graph)[1])
    assert [e.id for e in parsed.entities] == ["T4", "T1", "T2"]
    t1 = parsed.entities[1]
    assert len(t1.fragments) == 2
    assert (t1.start, t1.end) == (graph.component("T1").start, graph.component("T1").end)


def test_parse_ann_reads_every_kind_of_line() -> None:
    ann = (
        "T1\tClaim 0 5;10 20\tHello world stuff\n"
        "T2\tPremise 21 25\tabcd\n"
        "R1\tsupports Arg1:T2 Arg2:T1\t\n"
        "A1\tStance T1 For\n"
        "M2\tNegated T2\n"
        "#1\tAnnotatorNotes T1\tchecked twice\n"
        "E1\tEvent:T2 Theme:T1\n"
        "*\tEquiv T1 T2\n"
        "N1\tReference T1 Wikipedia:123\tfoo\n"
        "\n"
    )
    parsed = parse_ann(ann)
    (t1, t2) = parsed.entities
    assert (t1.label, t1.fragments, t1.start, t1.end) == ("Claim", [(0, 5), (10, 20)], 0, 20)
    assert (t2.id, t2.text, t2.line) == ("T2", "abcd", 2)
    (r1,) = parsed.relations
    assert (r1.label, r1.arg1, r1.arg2) == ("supports", "T2", "T1")
    assert [(a.name, a.target, a.value) for a in parsed.attributes] == [
        ("Stance", "T1", "For"),
        ("Negated", "T2", None),
    ]
    assert [(n.type, n.target, n.text) for n in parsed.notes] == [
        ("AnnotatorNotes", "T1", "checked twice")
    ]
    assert parsed.skipped_ids == {"E1", "*", "N1"}


@pytest.mark.parametrize(
    "bad_line",
    [
        "T3\tClaim 5 x\tHello",
        "T3\tClaim 5 3\tHello",
        "T3 Claim 0 5 Hello",
        "R2\tsupports Arg1:T1",
        "A2\tStance",
        "Q1\twhat is this",
        "T1\tClaim 0 5\tHello",
    ],
)
def test_malformed_ann_line_names_file_and_line(bad_line: str) -> None:
    ann = "T1\tClaim 0 5\tHello\n\nT2\tClaim 6 11\tworld\n" + bad_line + "\n"
    with pytest.raises(BratFormatError, match=r"^essay001\.ann, line 4: "):
        parse_ann(ann, source="essay001.ann")


def test_brat_span_mismatch_is_rejected() -> None:
    ann = "T1\tclaim 0 5\tHello\nT2\tclaim 6 11\tWorld\n"
    with pytest.raises(BratFormatError, match=r"essay001\.ann, line 2: T2 text 'World'"):
        graph_from_brat("Hello world", ann, source="essay001.ann")


def test_brat_span_outside_text_is_rejected_not_clipped() -> None:
    ann = "T1\tclaim 6 14\tworld!!\n"
    with pytest.raises(BratFormatError, match=r"x\.ann, line 1: span \[6, 14\).*outside"):
        graph_from_brat("Hello world", ann, source="x.ann")


def test_brat_discontinuous_entity_covers_its_outer_extent() -> None:
    txt = "Hello big wide world."
    graph = graph_from_brat(txt, "T1\tclaim 0 5;15 20\tHello world\n")
    (c,) = graph.components
    assert (c.start, c.end, c.text) == (0, 20, "Hello big wide world")


def test_brat_label_map_and_native_labels() -> None:
    txt = "Ban cars. Cars pollute. Shops need drivers."
    ann = (
        "T1\tMajorClaim 0 8\tBan cars\n"
        "T2\tPremise 10 22\tCars pollute\n"
        "T3\tClaim 24 42\tShops need drivers\n"
        "R1\tsupports Arg1:T2 Arg2:T1\t\n"
        "R2\tattacks Arg1:T3 Arg2:T1\t\n"
        "A1\tStance T3 Against\n"
    )
    with pytest.raises(BratFormatError, match="line 1: unknown entity label 'MajorClaim'"):
        graph_from_brat(txt, ann)
    label_map = {"MajorClaim": "conclusion", "Premise": "evidence"}
    graph = graph_from_brat(txt, ann, label_map=label_map)
    assert [(c.id, c.type, c.attributes) for c in graph] == [
        ("T1", "conclusion", {"native_label": "MajorClaim"}),
        ("T2", "evidence", {"native_label": "Premise"}),
        ("T3", "claim", {"native_label": "Claim", "Stance": "Against"}),
    ]
    assert [(r.source, r.target, r.type, r.attributes) for r in graph.relations] == [
        ("T2", "T1", "support", {"native_label": "supports"}),
        ("T3", "T1", "attack", {"native_label": "attacks"}),
    ]
    # and what was read writes back and reads back the same
    assert graph_from_brat(*graph_to_brat(graph)).to_dict() == graph.to_dict()


def test_brat_relation_errors_name_the_line() -> None:
    txt = "Hello world"
    ann = "T1\tclaim 0 5\tHello\nT2\tclaim 6 11\tworld\nR1\tsupport Arg1:T2 Arg2:T9\t\n"
    with pytest.raises(BratFormatError, match="line 3: relation R1 points at unknown entity 'T9'"):
        graph_from_brat(txt, ann)
    ann = "T1\tclaim 0 5\tHello\nT2\tclaim 6 11\tworld\nR1\tcauses Arg1:T2 Arg2:T1\t\n"
    with pytest.raises(BratFormatError, match="line 3: unknown relation label 'causes'"):
        graph_from_brat(txt, ann)


def test_read_brat_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "essay001.txt").write_text("Hello world", encoding="utf-8")
    (tmp_path / "essay001.ann").write_text("T1\tclaim 0 5\tHello\nT2\tclaim 6 x\tworld\n")
    with pytest.raises(BratFormatError, match=r"essay001\.ann, line 2: bad offsets"):
        read_brat(tmp_path)
