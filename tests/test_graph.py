"""The ArgumentGraph core: its invariants, its helpers and its JSON form."""

from __future__ import annotations

import json

import pytest

from argmine.graph import (
    SCHEMA_VERSION,
    ArgumentGraph,
    Component,
    GraphValidationError,
    Relation,
    make_component,
)

TEXT = "Cities need trees. Trees cool streets. A 2020 survey measured 3 degrees. Trees cost money."


def comp(cid: str, unit: str, kind: str, **kwargs) -> Component:
    start = TEXT.index(unit)
    return Component(cid, start, start + len(unit), unit, kind, **kwargs)


def components() -> list[Component]:
    return [
        comp("c3", "Trees cost money", "claim"),
        comp("c0", "Cities need trees", "conclusion"),
        comp("c2", "A 2020 survey measured 3 degrees", "evidence", score=0.5),
        comp("c1", "Trees cool streets", "claim", attributes={"counterfactual": True}),
    ]


def relations() -> list[Relation]:
    return [
        Relation("c1", "c0", "support"),
        Relation("c2", "c1", "support", score=0.75),
        Relation("c3", "c0", "attack"),
    ]


@pytest.fixture
def graph() -> ArgumentGraph:
    return ArgumentGraph(TEXT, components(), relations(), {"id": "trees"})


def test_span_outside_text_is_rejected_not_clipped() -> None:
    bad = Component("c9", len(TEXT) - 5, len(TEXT) + 3, TEXT[-5:], "claim")
    with pytest.raises(GraphValidationError, match="outside the text"):
        ArgumentGraph(TEXT, [bad])
    assert bad.end == len(TEXT) + 3  # not clipped on the way


@pytest.mark.parametrize("start,end", [(-1, 4), (5, 5), (7, 3)])
def test_negative_empty_and_reversed_spans_are_rejected(start: int, end: int) -> None:
    with pytest.raises(GraphValidationError, match="c9"):
        ArgumentGraph(TEXT, [Component("c9", start, end, "", "claim")])


def test_text_must_match_the_span() -> None:
    with pytest.raises(GraphValidationError, match="differs from text"):
        ArgumentGraph(TEXT, [Component("c0", 0, 6, "Towns ", "claim")])


def test_make_component_cuts_its_text_from_the_document() -> None:
    c = make_component(TEXT, 0, 17, "conclusion", "c0", score=0.9)
    assert c.text == "Cities need trees"
    assert c.score == 0.9


def test_duplicate_component_ids_are_rejected() -> None:
    cs = components()
    cs[1].id = "c3"
    with pytest.raises(GraphValidationError, match="duplicate component id 'c3'"):
        ArgumentGraph(TEXT, cs)


def test_relation_to_unknown_component_is_rejected() -> None:
    with pytest.raises(GraphValidationError, match="unknown component 'c7'"):
        ArgumentGraph(TEXT, components(), [Relation("c1", "c7", "support")])


def test_self_loop_is_rejected() -> None:
    with pytest.raises(GraphValidationError, match="self-loop"):
        ArgumentGraph(TEXT, components(), [Relation("c1", "c1", "support")])


def test_unknown_component_type_is_rejected() -> None:
    with pytest.raises(GraphValidationError, match="unknown type 'premise'"):
        ArgumentGraph(TEXT, [comp("c0", "Cities need trees", "premise")])


def test_unknown_relation_type_is_rejected() -> None:
    with pytest.raises(GraphValidationError, match="unknown type 'rebut'"):
        ArgumentGraph(TEXT, components(), [Relation("c1", "c0", "rebut")])


def test_two_relations_between_the_same_pair_are_rejected() -> None:
    rels = [Relation("c1", "c0", "support"), Relation("c1", "c0", "attack")]
    with pytest.raises(GraphValidationError, match="two relations from 'c1' to 'c0'"):
        ArgumentGraph(TEXT, components(), rels)


def test_opposite_relations_are_allowed() -> None:
    rels = [Relation("c1", "c0", "support"), Relation("c0", "c1", "attack")]
    assert len(ArgumentGraph(TEXT, components(), rels).relations) == 2


def test_iteration_is_in_text_order(graph: ArgumentGraph) -> None:
    assert [c.id for c in graph] == ["c0", "c1", "c2", "c3"]
    assert len(graph) == 4


def test_type_helpers(graph: ArgumentGraph) -> None:
    assert [c.id for c in graph.conclusions] == ["c0"]
    assert [c.id for c in graph.claims] == ["c1", "c3"]
    assert [c.id for c in graph.evidence] == ["c2"]


def test_supporters_attackers_and_roots(graph: ArgumentGraph) -> None:
    assert [c.id for c in graph.supporters("c0")] == ["c1"]
    assert [c.id for c in graph.attackers("c0")] == ["c3"]
    assert [c.id for c in graph.supporters("c1")] == ["c2"]
    assert graph.attackers("c2") == []
    assert [c.id for c in graph.roots()] == ["c0"]
    assert [r.target for r in graph.relations_from("c2")] == ["c1"]
    with pytest.raises(KeyError):
        graph.supporters("nope")


def test_json_round_trip(graph: ArgumentGraph) -> None:
    data = graph.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION
    assert [c["id"] for c in data["components"]] == ["c0", "c1", "c2", "c3"]
    again = ArgumentGraph.from_json(graph.to_json())
    assert again.to_dict() == data
    assert again.component("c1").attributes == {"counterfactual": True}
    assert again.relations[1].score == 0.75


def test_json_keeps_unicode_unescaped() -> None:
    text = "Bäume\u00a0helfen."
    g = ArgumentGraph(text, [make_component(text, 0, 12, "claim", "c0")])
    assert "Bäume\u00a0helfen" in g.to_json()
    assert ArgumentGraph.from_json(g.to_json()).to_dict() == g.to_dict()


def test_bad_schema_version_is_rejected(graph: ArgumentGraph) -> None:
    data = graph.to_dict()
    data["schema_version"] = 2
    with pytest.raises(GraphValidationError, match="schema_version 2"):
        ArgumentGraph.from_dict(data)


def test_missing_fields_and_bad_json_are_reported() -> None:
    with pytest.raises(GraphValidationError, match="lacks field 'text'"):
        ArgumentGraph.from_dict({"components": []})
    with pytest.raises(GraphValidationError, match=r"lacks field\(s\) \['end', 'text', 'type'\]"):
        ArgumentGraph.from_dict({"text": TEXT, "components": [{"id": "c0", "start": 0}]})
    with pytest.raises(GraphValidationError, match="invalid graph JSON"):
        ArgumentGraph.from_json("{not json")
    with pytest.raises(GraphValidationError, match="must be a JSON object"):
        ArgumentGraph.from_dict(json.loads("[]"))
