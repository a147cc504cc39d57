"""The link scorer's long-text options: paragraph layout and a separate "has a target" decision."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from argmine.corpus.joined import SEPARATOR, shuffled_joined_documents
from argmine.model.config import ModelConfig
from argmine.model.relations import NO_LINK, RelationScorer, decode_relations, link_targets
from argmine.model.spans import PARAGRAPH_POSITIONS, paragraph_layout
from argmine.training.config import CorpusSelection, TrainConfig, changed_settings


def _spans_of(text: str, *units: str) -> list[tuple[int, int]]:
    return [(text.index(u), text.index(u) + len(u)) for u in units]


def test_paragraphs_are_blank_line_blocks_and_positions_name_first_middle_last():
    text = "We agree. It is cheap.\n\nIt is fast. Nothing breaks. So do it.\n\nAlone here."
    layout = paragraph_layout(
        text,
        _spans_of(
            text,
            "We agree.",
            "It is cheap.",
            "It is fast.",
            "Nothing breaks.",
            "So do it.",
            "Alone here.",
        ),  # fmt: skip
    )
    assert layout.paragraph.tolist() == [0, 0, 1, 1, 1, 2]
    names = [PARAGRAPH_POSITIONS[p] for p in layout.position.tolist()]
    assert names == ["first", "last", "first", "middle", "last", "only"]


def test_a_text_without_blank_lines_breaks_paragraphs_at_line_breaks_and_else_has_one():
    lines = "One point.\nAnother point."
    assert paragraph_layout(
        lines, _spans_of(lines, "One point.", "Another point.")
    ).paragraph.tolist() == [0, 1]
    flat = "One point. Another point."
    assert paragraph_layout(
        flat, _spans_of(flat, "One point.", "Another point.")
    ).paragraph.tolist() == [0, 0]
    with_blank = "A b.\nC d.\n\nE f."
    assert paragraph_layout(
        with_blank, _spans_of(with_blank, "A b.", "C d.", "E f.")
    ).paragraph.tolist() == [0, 0, 1]


def _scorer(**options) -> RelationScorer:
    torch.manual_seed(0)
    return RelationScorer(8, hidden=8, dropout=0.0, **options).eval()


def test_with_a_separate_decision_no_target_keeps_its_probability_as_candidates_grow():
    scorer = _scorer(has_target=True)
    torch.manual_seed(1)
    spans = torch.randn(40, 8)
    few, many = scorer(spans[:3]), scorer(spans)
    p_few, p_many = few.link.softmax(-1), many.link.softmax(-1)
    assert torch.allclose(p_few[0, -1], p_many[0, -1], atol=1e-6)
    assert torch.allclose(p_many.sum(-1), torch.ones(40), atol=1e-5)
    plain = _scorer()
    plain_few, plain_many = plain(spans[:3]).link.softmax(-1), plain(spans).link.softmax(-1)
    assert not torch.allclose(plain_few[0, -1], plain_many[0, -1], atol=1e-3)


def test_a_lone_unit_has_no_target_with_certainty_and_decodes_no_link():
    with torch.no_grad():
        scores = _scorer(has_target=True)(torch.randn(1, 8))
    assert scores.link.softmax(-1)[0, -1].item() == pytest.approx(1.0)
    assert float(scores.link[0, 0]) <= NO_LINK
    assert decode_relations(scores) == []


def test_the_link_loss_of_a_separate_decision_is_its_binary_and_candidate_terms():
    scorer = _scorer(has_target=True)
    spans = torch.randn(4, 8)
    scores = scorer(spans)
    targets = link_targets(scores, [(0, 2)])
    loss = -(targets * scores.link.log_softmax(-1)).sum(-1)
    p = scores.link.softmax(-1)
    assert loss[0].item() == pytest.approx(-torch.log(p[0, scores.slot(0, 2)]).item(), rel=1e-5)
    assert loss[1].item() == pytest.approx(-torch.log(p[1, -1]).item(), rel=1e-5)
    # the binary part is the "no target" head's own logistic loss
    none = scorer.no_target(scorer.project(spans)).squeeze(-1)
    assert loss[1].item() == pytest.approx(nn.functional.softplus(-none[1]).item(), rel=1e-5)
    linked_share = 1 - torch.sigmoid(none[0])
    assert p[0, :-1].sum().item() == pytest.approx(linked_share.item(), rel=1e-5)


def test_the_paragraph_layout_changes_link_scores_and_is_required():
    scorer = _scorer(paragraphs=True)
    spans = torch.randn(3, 8)
    text = "Aa aa. Bb bb.\n\nCc cc."
    same_text = "Aa aa. Bb bb. Cc cc."
    apart = scorer(spans, paragraph_layout(text, _spans_of(text, "Aa aa.", "Bb bb.", "Cc cc.")))
    together = scorer(
        spans, paragraph_layout(same_text, _spans_of(same_text, "Aa aa.", "Bb bb.", "Cc cc."))
    )
    assert not torch.allclose(apart.link, together.link)
    with pytest.raises(ValueError, match="paragraphs"):
        scorer(spans)


def test_older_model_configs_load_without_the_long_text_options():
    config = ModelConfig.from_dict({"name": "old", "version": "0.2.0"})
    assert (config.paragraph_layout, config.link_has_target) == (False, False)


def test_a_tiny_model_with_both_options_trains_saves_and_reloads(tiny_graphs, tmp_path):
    from argmine.pipeline import ArgumentMiner
    from argmine.training import train

    config = TrainConfig(
        name="long-texts", encoder_layers=1, max_steps=3, batch_size=2, log_every=100,
        paragraph_layout=True, link_has_target=True, output_dir=str(tmp_path / "m"),
    )  # fmt: skip
    joined = SEPARATOR.join(g.text for g in tiny_graphs[:3])
    miner = train(config, tiny_graphs, log=lambda line: None)
    loaded = ArgumentMiner.from_pretrained(tmp_path / "m")
    assert loaded.model.config.paragraph_layout and loaded.model.config.link_has_target
    assert loaded.model.relations.paragraph_distance is not None
    assert miner.parse(joined).to_dict() == loaded.parse(joined).to_dict()


def test_joined_training_documents_are_drawn_once_and_keep_every_gold_link(tiny_graphs):
    words = sum(len(g.text.split()) for g in tiny_graphs)
    joined = shuffled_joined_documents(tiny_graphs, (words // 2, words))
    again = shuffled_joined_documents(tiny_graphs, (words // 2, words))
    assert [g.to_dict() for g in joined] == [g.to_dict() for g in again]
    for graph in joined:
        graph.validate()
        parts = graph.metadata["joined"]
        assert graph.text.count(SEPARATOR) == len(parts) - 1
        assert len(graph.relations) == sum(
            len(g.relations) for g in tiny_graphs if str(g.metadata.get("id")) in parts
        )


@pytest.mark.parametrize("bad", [[0, 10], [20, 10], [5]])
def test_join_words_must_be_a_range_of_words(bad):
    with pytest.raises(ValueError, match="join_words"):
        CorpusSelection("cdcp", join_words=bad)


def test_settings_saved_before_the_new_keys_still_match_the_same_recipe():
    config = TrainConfig.from_dict({"train": [{"name": "cdcp", "split": "train"}]})
    saved = config.model_settings()
    for key in ("paragraph_layout", "link_has_target"):
        del saved[key]
    for selection in saved["train"]:
        del selection["join_words"]
    assert changed_settings(saved, config.model_settings()) == []
    config.train[0].join_words = [700, 1200]
    config.paragraph_layout = True
    assert changed_settings(saved, config.model_settings()) == ["paragraph_layout", "train"]


def test_a_training_source_with_join_words_reads_joined_texts(tiny_graphs, tmp_path):
    from argmine.corpus import write_jsonl
    from argmine.training.loop import load_selection

    path = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_graphs, path)
    words = sum(len(g.text.split()) for g in tiny_graphs)
    plain = load_selection(CorpusSelection(str(path)))
    longest = max(len(g.text.split()) for g in tiny_graphs)
    joined = load_selection(CorpusSelection(str(path), join_words=[longest + 1, words]))
    assert len(plain) == len(tiny_graphs)
    assert joined and all(SEPARATOR in g.text for g in joined)
