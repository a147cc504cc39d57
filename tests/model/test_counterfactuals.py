"""Learned attributes: counterfactuals (detection, antecedent, consequent), proposition types,
their training signal, their scores, and the confidence threshold on relations."""

from __future__ import annotations

import pytest
import torch
from conftest import make_graph

from argmine.evaluation import counterfactual_scores, proposition_type_scores
from argmine.graph import ArgumentGraph, Component
from argmine.model.segmentation import (
    lead_ins_widened,
    refine_to_sentences,
    sentence_rule_breaks,
)
from argmine.training import TrainConfig, train

COUNTERFACTUALS = [
    ("If the bill had passed, rates would have fallen.", "If the bill had passed"),
    ("Had the council acted, the bridge would have stood.", "Had the council acted"),
    ("If we had known, we would have sold the house.", "If we had known"),
]
PLAIN = ["Rates fell in May.", "The council meets on Monday.", "We sold the house last year."]


def _sentence(text: str, antecedent: str | None, index: int) -> ArgumentGraph:
    metadata = {
        "id": f"s{index}",
        "annotates": "counterfactual",
        "counterfactual": antecedent is not None,
        "spans_annotated": True,
        "subtasks": [1, 2],
        "antecedent": None,
        "consequent": None,
    }
    if antecedent:
        comma = text.index(",")
        metadata["antecedent"] = [0, len(antecedent)]
        metadata["consequent"] = [comma + 2, len(text) - 1]
    return ArgumentGraph(text, [], [], metadata)


@pytest.fixture(scope="module")
def sentences() -> list[ArgumentGraph]:
    positives = [_sentence(t, a, i) for i, (t, a) in enumerate(COUNTERFACTUALS)]
    negatives = [_sentence(t, None, 10 + i) for i, t in enumerate(PLAIN)]
    return positives + negatives


@pytest.fixture(scope="module")
def counterfactual_miner(sentences, tiny_graphs):
    """One encoder layer trained briefly on argument texts and counterfactual sentences."""
    config = TrainConfig(
        name="tiny-cf",
        encoder_layers=1,
        max_steps=60,
        batch_size=4,
        encoder_lr=3e-4,
        head_lr=3e-3,
        proposition_labels=["claim", "evidence"],
        loss_weights={"tags": 1, "types": 1, "links": 1, "proposition": 1, "counterfactual": 1}
        | {"counterfactual_tags": 2},
    )
    labelled = [_with_native_labels(g) for g in tiny_graphs]
    return train(config, labelled + sentences * 4, dev_graphs=[], log=lambda _: None)


def _with_native_labels(graph: ArgumentGraph) -> ArgumentGraph:
    for c in graph.components:
        c.attributes["native_label"] = "evidence" if c.type == "evidence" else "claim"
    return graph


@pytest.mark.slow
def test_the_counterfactual_heads_learn_from_sentences(counterfactual_miner, sentences):
    graphs = list(
        counterfactual_miner.pipe(
            [s.text for s in sentences], segments=[[(0, len(s.text))] for s in sentences]
        )
    )
    scores = [g.components[0].attributes["counterfactual_score"] for g in graphs]
    assert min(scores[:3]) > max(scores[3:]), scores
    unit = graphs[0].components[0].attributes
    assert unit["counterfactual"] is True
    start, end = unit["antecedent"]
    assert graphs[0].text[start:end].startswith("If the bill")
    assert all(g.components[0].attributes["antecedent"] is None for g in graphs[3:])


@pytest.mark.slow
def test_every_component_gets_a_proposition_type_and_counterfactual_attributes(
    counterfactual_miner, tiny_graphs
):
    graph = counterfactual_miner.parse(tiny_graphs[0].text)
    assert graph.components
    for c in graph.components:
        assert c.attributes["proposition_type"] in ("claim", "evidence")
        assert 0.0 <= c.attributes["proposition_type_score"] <= 1.0
        assert set(c.attributes) >= {"counterfactual", "counterfactual_score"}
        assert set(c.attributes) >= {"antecedent", "consequent"}


def test_min_score_leaves_out_weaker_relations(tiny_miner, tiny_graphs):
    text = tiny_graphs[0].text
    everything = tiny_miner.parse(text, min_score=0.0)
    assert everything.relations, "the tiny model links its own training text"
    cut = sorted(r.score for r in everything.relations)[len(everything.relations) // 2]
    kept = tiny_miner.parse(text, min_score=cut)
    assert {(r.source, r.target) for r in kept.relations} == {
        (r.source, r.target) for r in everything.relations if r.score >= cut
    }
    with pytest.raises(ValueError, match="min_score"):
        tiny_miner.parse(text, min_score=1.5)
    with pytest.raises(TypeError, match="min_score"):
        tiny_miner.parse(text, min_score="high")


def test_counterfactual_scores_count_detection_and_exact_parts():
    gold = [_sentence(t, a, i) for i, (t, a) in enumerate(COUNTERFACTUALS[:2])]
    gold.append(_sentence(PLAIN[0], None, 9))

    def predicted(text, counterfactual, antecedent=None, consequent=None):
        attributes = {"counterfactual": counterfactual}
        attributes |= {"antecedent": antecedent, "consequent": consequent}
        return ArgumentGraph(text, [Component("c0", 0, len(text), text, "claim", 1.0, attributes)])

    first, second = gold[0].metadata, gold[1].metadata
    pred = [
        predicted(gold[0].text, True, first["antecedent"], first["consequent"]),
        predicted(gold[1].text, True, [0, 3], second["consequent"]),  # antecedent too short
        predicted(gold[2].text, True),  # a false alarm
    ]
    scores = counterfactual_scores(gold, pred)
    assert scores["detection"]["precision"] == pytest.approx(2 / 3)
    assert scores["detection"]["recall"] == 1.0
    assert scores["antecedent_exact"]["f1"] == pytest.approx(0.5)
    assert scores["consequent_exact"]["f1"] == 1.0


def test_proposition_type_scores_use_the_models_labels_only():
    gold = make_graph("Fees rose. Fees should fall.", [("Fees rose", "evidence")], [])
    gold.components[0].attributes["native_label"] = "fact"
    pred = make_graph("Fees rose. Fees should fall.", [("Fees rose", "evidence")], [])
    pred.components[0].attributes["proposition_type"] = "fact"
    assert proposition_type_scores([gold], [pred], ["fact", "policy"])["macro_f1"] == 1.0
    assert proposition_type_scores([gold], [pred], ["value"]) is None


REFINE_TEXT = "However, fees rose sharply. They should fall. So cap them now, I say."


def _at(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


def test_units_are_cut_at_sentence_ends_and_keep_their_lead_in_words():
    merged = (*_at(REFINE_TEXT, "fees rose sharply. They should fall."), 0.9)
    later = (*_at(REFINE_TEXT, "cap them now, I say."), 0.8)
    refined = refine_to_sentences(REFINE_TEXT, [merged, later], min_words=2)
    texts = [REFINE_TEXT[a:b] for a, b, _ in refined]
    assert texts == ["However, fees rose sharply.", "They should fall.", "So cap them now, I say."]
    assert [score for *_, score in refined] == [0.9, 0.9, 0.8]


def test_a_lead_in_covered_by_another_unit_is_left_alone():
    first = (*_at(REFINE_TEXT, "They should"), 0.5)
    second = (*_at(REFINE_TEXT, "fall"), 0.5)
    refined = refine_to_sentences(REFINE_TEXT, [first, second])
    assert [REFINE_TEXT[a:b] for a, b, _ in refined] == ["They should", "fall"]


def test_lead_ins_widened_moves_only_starts_a_few_words_into_an_uncovered_sentence():
    spans = [_at(REFINE_TEXT, "fees rose sharply."), _at(REFINE_TEXT, "should fall.")]
    spans.append(_at(REFINE_TEXT, "cap them now"))
    spans.append(_at(REFINE_TEXT, "I say."))  # four words in: not a lead-in
    widened = lead_ins_widened(REFINE_TEXT, spans)
    texts = [REFINE_TEXT[a:b] for a, b in widened]
    assert texts[:2] == ["However, fees rose sharply.", "They should fall."]
    assert texts[2:] == ["So cap them now", "I say."]
    covered = [_at(REFINE_TEXT, "They"), _at(REFINE_TEXT, "should fall.")]
    assert lead_ins_widened(REFINE_TEXT, covered) == covered


def test_sentence_rule_breaks_count_crossing_units_and_left_out_lead_ins():
    spans = [_at(REFINE_TEXT, "fees rose sharply. They should fall.")]
    spans += [_at(REFINE_TEXT, "cap them now"), _at(REFINE_TEXT, "I say.")]
    assert sentence_rule_breaks(REFINE_TEXT, spans) == {
        "cross a sentence start": 1,
        "leave out a lead-in": 2,  # "However," and "So"
    }


@pytest.mark.slow
def test_a_second_stage_trains_new_heads_on_a_frozen_encoder(tmp_path, tiny_graphs, sentences):
    tiny = {"encoder_layers": 1, "max_steps": 4, "batch_size": 2}
    first = TrainConfig(
        name="stage-one",
        output_dir=str(tmp_path / "one"),
        loss_weights={"tags": 1, "types": 1, "links": 1},
        **tiny,
    )
    before = train(first, tiny_graphs, dev_graphs=[], log=lambda _: None)
    assert before.model.counterfactual is None
    second = TrainConfig(
        name="stage-two",
        init_from=str(tmp_path / "one"),
        freeze_encoder=True,
        loss_weights={"counterfactual": 1, "counterfactual_tags": 1},
        **tiny,
    )
    lines = []
    after = train(second, sentences, dev_graphs=[], log=lines.append)
    assert any("started from" in line and "counterfactual" in line for line in lines)
    assert after.model.counterfactual is not None
    old, new = before.model.state_dict(), after.model.state_dict()
    for name, tensor in old.items():
        if name.startswith(("encoder.", "tagger.", "classifier.", "relations.")):
            assert torch.equal(tensor, new[name]), name


HALVES_TEXT = "In short, if it had run then it would have changed nothing. It ran. If not, fine."


def _halves(*kinds: str | None) -> list[dict[str, object]]:
    """Counterfactual attributes holding only the named half (None: not a counterfactual)."""
    out = []
    for kind in kinds:
        found = {"antecedent": None, "consequent": None}
        if kind:
            found[kind] = [0, 1]
        out.append({"counterfactual": kind is not None, **found})
    return out


def test_the_two_halves_of_one_conditional_are_joined_and_nothing_else():
    from argmine.model.counterfactuals import halves_to_join

    text = HALVES_TEXT
    first = (text.index("if it"), text.index(" then"))
    second = (text.index("it would"), text.index("nothing") + len("nothing"))
    after = (text.index("It ran"), text.index("It ran") + 7)
    spans = [first, second, after]
    assert halves_to_join(text, spans, _halves("antecedent", "consequent", None)) == [(0, 1)]
    assert halves_to_join(text, spans, _halves("consequent", "antecedent", None)) == [(0, 1)]
    # two antecedents, or a unit that is not a counterfactual, are not one conditional
    assert halves_to_join(text, spans, _halves("antecedent", "antecedent", None)) == []
    assert halves_to_join(text, spans, _halves("antecedent", None, None)) == []
    # a first unit that ends its sentence is no half, and neither is one across other words
    assert halves_to_join(text, [second, after], _halves("consequent", "antecedent")) == []
    wider = (text.index("ran."), len(text))
    assert halves_to_join(text, [first, wider], _halves("antecedent", "consequent")) == []


def test_the_pipeline_joins_halves_before_the_heads_run_and_can_be_told_not_to(
    counterfactual_miner, monkeypatch
):
    import argmine.pipeline

    text = HALVES_TEXT
    first = (text.index("if it"), text.index(" then"))
    second = (text.index("it would"), text.index("nothing") + len("nothing"))
    monkeypatch.setattr(
        argmine.pipeline, "decode_spans", lambda *a: [(*first, 0.9), (*second, 0.7)]
    )
    parts = iter([_halves("antecedent", "consequent")])
    real = type(counterfactual_miner)._counterfactuals

    def halves_first(self, doc, states, spans, threshold):
        return next(parts, None) or real(self, doc, states, spans, threshold)

    monkeypatch.setattr(type(counterfactual_miner), "_counterfactuals", halves_first)
    graph = counterfactual_miner.parse(text)
    assert [(c.start, c.end) for c in graph] == [(first[0], second[1])]

    parts = iter([_halves("antecedent", "consequent")])
    off = counterfactual_miner.decoding(join_counterfactual_halves=False)
    encoded = counterfactual_miner.encode_batch([text])
    graph = counterfactual_miner.decode_batch(encoded, off)[0]
    assert [(c.start, c.end) for c in graph] == [first, second]
