"""Distillation (config key ``distill``): the teacher's cache, token alignment, gold_wins, and
a distilled training run."""

from __future__ import annotations

import pytest
import torch

from argmine.graph import ArgumentGraph, Component
from argmine.model.segmentation import TAG_LABELS
from argmine.training import TrainConfig, make_example
from argmine.training.config import distill_settings
from argmine.training.distill import (
    DistillationError,
    attach_soft_targets,
    gold_wins_mask,
    per_character,
    per_token,
    soft_targets,
    teacher_agrees,
    teacher_labels,
)

CF_TEXT = "If the council had listened, the bridge would still be standing today."


def _counterfactual_sentence() -> ArgumentGraph:
    meta = {
        "id": "cf0",
        "annotates": "counterfactual",
        "counterfactual": True,
        "antecedent": [0, CF_TEXT.index(",")],
        "consequent": [CF_TEXT.index("the bridge"), len(CF_TEXT) - 1],
        "spans_annotated": True,
        "subtasks": [1, 2],
    }
    return ArgumentGraph(CF_TEXT, [], [], metadata=meta)


def test_a_student_token_averages_the_characters_of_the_teacher_tokens_it_covers():
    # teacher tokens "abc" and "de" of "abcde fgh", and "fgh"
    teacher = [(0, 3), (3, 5), (6, 9)]
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    chars = per_character(teacher, probs, 9)
    assert torch.isnan(chars[5]).all()  # the space: no teacher token
    # the student reads "abcde" as one token, "f" and "gh" as two, and an empty token
    student, mask = per_token(chars, [(0, 5), (6, 7), (7, 9), (9, 9)])
    assert student[0].tolist() == pytest.approx([3 / 5, 2 / 5])  # 3 characters of "abc", 2 of "de"
    assert student[1].tolist() == [0.5, 0.5] and student[2].tolist() == [0.5, 0.5]
    assert mask.tolist() == [True, True, True, False]


def test_alignment_between_two_real_tokenizers(tmp_path):
    from tiny_encoders import build_tiny_encoder

    from argmine.model.encoders import load_tokenizer, special_tokens
    from argmine.model.windows import encode_text

    text = "Cars pollute the airport badly."

    def offsets(family: str) -> list[tuple[int, int]]:
        tokenizer = load_tokenizer(build_tiny_encoder(family, tmp_path / family))
        return encode_text(text, tokenizer, 128, 32, special_tokens(tokenizer)).offsets

    bert, mpnet, roberta = offsets("bert"), offsets("mpnet"), offsets("roberta")
    # teacher (BERT): each token's distribution says which word it is in (5 words, 5 tags)
    words = [(0, 4), (5, 12), (13, 16), (17, 24), (25, 30)]
    word_of = [
        next(k for k, (a, b) in enumerate(words) if a <= start < b) for start, _ in bert[:-1]
    ]
    probs = torch.nn.functional.one_hot(torch.tensor([*word_of, 4]), 5).float()
    probs[-1] = torch.tensor([0.0, 0.0, 0.0, 0.5, 0.5])  # the full stop: a mixed distribution
    chars = per_character(bert, probs, len(text))

    assert roberta != bert  # byte-level BPE splits words its own way (WordPiece may too)
    for student_offsets in (mpnet, roberta):
        student, mask = per_token(chars, student_offsets)
        for (start, end), row, has in zip(student_offsets, student, mask, strict=True):
            # by hand: the mean over the token's characters of the teacher token covering each
            covering = [
                probs[k] for c in range(start, end) for k, (a, b) in enumerate(bert) if a <= c < b
            ]
            assert bool(has) == bool(covering), text[start:end]
            if not covering:
                continue
            assert row.tolist() == pytest.approx(torch.stack(covering).mean(0).tolist())
            if text[start:end] != ".":  # inside one word: that word's distribution
                word = next(k for k, (a, b) in enumerate(words) if a <= start < b)
                assert row[word] == pytest.approx(1.0), text[start:end]


def test_distill_settings_are_checked():
    settings = distill_settings({"teacher": "t"}, ["fact"])
    assert settings == {
        "teacher": "t",
        "temperature": 2.0,
        "weight": 0.5,
        "cache": None,
        "gold_wins": [],
        "gold_wins_heads": [],
        "heads": None,
        "precision": "float32",
    }
    with pytest.raises(ValueError, match="distill precision is one of"):
        distill_settings({"teacher": "t", "precision": "int8"})
    with pytest.raises(ValueError, match="gold_wins_heads names"):
        distill_settings({"teacher": "t", "gold_wins_heads": ["links"]})
    with pytest.raises(ValueError, match="unknown distill key"):
        distill_settings({"teacher": "t", "temp": 2})
    with pytest.raises(ValueError, match="gold_wins names labels"):
        distill_settings({"teacher": "t", "gold_wins": ["reference"]}, ["fact"])
    with pytest.raises(ValueError, match="unknown heads"):
        distill_settings({"teacher": "t", "heads": ["link"]})
    with pytest.raises(ValueError, match="needs a teacher"):
        TrainConfig.from_dict({"distill": {}})


def test_gold_wins_drops_the_soft_target_where_the_teacher_misses_a_listed_type():
    labels = ["fact", "reference", "value"]
    teacher = torch.tensor(
        [
            [3.0, 0.0, 0.0],  # says fact, gold reference: gold wins, no soft target
            [0.0, 3.0, 0.0],  # says reference, gold reference: kept
            [0.0, 3.0, 0.0],  # says reference, gold fact (not listed): kept
            [3.0, 0.0, 0.0],  # no gold label: kept
            [0.0, 0.0, 3.0],  # says value, gold fact (not listed): kept
        ]
    )
    gold = torch.tensor([1, 1, 0, -100, 0])
    assert gold_wins_mask(teacher, gold, labels, ["reference"]).tolist() == [
        False,
        True,
        True,
        True,
        True,
    ]
    assert gold_wins_mask(teacher, gold, labels, []).all()


def test_gold_wins_heads_drops_tags_and_types_where_the_teacher_is_wrong():
    from argmine.hub.bases import DEFAULT_BASE
    from argmine.model.encoders import base_source, load_tokenizer

    text = "We should act now. Prices rise every year."
    units = [
        Component("c0", 0, 17, text[0:17], "conclusion"),
        Component("c1", 19, 42, text[19:42], "evidence"),
    ]
    graph = ArgumentGraph(text, units, [])
    example = make_example(graph, load_tokenizer(base_source(DEFAULT_BASE)), TrainConfig())
    gold = example.tags
    n = len(gold)
    wrong = n // 2  # one token where the teacher's likeliest tag is not gold's
    teacher = torch.nn.functional.one_hot(gold, len(TAG_LABELS)).float() * 0.9 + 0.01
    teacher[wrong] = torch.nn.functional.one_hot(
        (gold[wrong] + 1) % len(TAG_LABELS), len(TAG_LABELS)
    ).float()
    assert teacher_agrees(teacher, gold).tolist() == [k != wrong for k in range(n)]
    assert teacher_agrees(teacher, torch.full_like(gold, -100)).all()  # no gold: kept

    types = torch.tensor([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]])  # right, then claim for evidence
    record = {"types": types, "links": torch.zeros(2, 2)}
    kept = soft_targets(example, record, [], [], gold_wins_heads=["types"])
    assert kept.type_mask.tolist() == [True, False]
    assert soft_targets(example, record, [], []).type_mask.all()


def test_the_teacher_labels_each_document_once_and_the_cache_is_reused(
    tmp_path, tiny_model_dir, tiny_graphs, monkeypatch
):
    import argmine

    graphs = [*tiny_graphs, _counterfactual_sentence()]
    settings = distill_settings({"teacher": str(tiny_model_dir), "cache": str(tmp_path / "t.pt")})
    calls = []
    load = argmine.load
    monkeypatch.setattr(argmine, "load", lambda *a, **k: calls.append(a) or load(*a, **k))
    first, layout = teacher_labels(settings, graphs, log=lambda line: None)
    assert len(calls) == 1 and (tmp_path / "t.pt").is_file()
    record = next(iter(first.values()))
    assert set(record) >= {"chars", "types", "links"}
    assert record["chars"].shape == (len(tiny_graphs[0].text), len(TAG_LABELS))
    assert set(list(first.values())[-1]) == {"counterfactual", "cf_chars"}

    def no_teacher(*args, **kwargs):
        raise AssertionError("the teacher ran again")

    monkeypatch.setattr(argmine, "load", no_teacher)
    lines = []
    again, _ = teacher_labels(settings, graphs[:1], log=lines.append)  # a subset: a CV fold
    key = next(iter(again))
    assert torch.equal(again[key]["links"], first[key]["links"])
    assert "read from" in lines[0]

    cache = torch.load(tmp_path / "t.pt", weights_only=True)
    assert cache["teacher"]["precision"] == "float32"
    del cache["teacher"]["precision"]  # as written before the precision was recorded
    torch.save(cache, tmp_path / "t.pt")
    teacher_labels(settings, graphs, log=lambda line: None)  # read as float32 labels
    with pytest.raises(DistillationError, match="float32\\), not of .*bfloat16"):
        teacher_labels({**settings, "precision": "bfloat16"}, graphs, log=lambda line: None)

    cache["teacher"] = dict(cache["teacher"], version="9.9.9")
    torch.save(cache, tmp_path / "t.pt")
    with pytest.raises(DistillationError, match="9.9.9"):
        teacher_labels(settings, graphs, log=lambda line: None)


def _distilled_config(teacher, cache, **overrides) -> TrainConfig:
    return TrainConfig(
        name="student",
        encoder_layers=1,
        max_steps=2,
        batch_size=4,
        log_every=1,
        distill={"teacher": str(teacher), "cache": str(cache), "temperature": 2.0, "weight": 0.5},
        **overrides,
    )


def test_a_distilled_loss_adds_weight_times_t_squared_times_each_head_s_kl(
    tmp_path, tiny_model_dir, tiny_graphs
):
    from argmine.hub.bases import DEFAULT_BASE
    from argmine.model.encoders import base_source, load_tokenizer
    from argmine.model.network import ArgumentModel
    from argmine.training.losses import batch_losses

    config = _distilled_config(tiny_model_dir, tmp_path / "t.pt")
    graphs = [*tiny_graphs, _counterfactual_sentence()]
    tokenizer = load_tokenizer(base_source(DEFAULT_BASE))
    examples = [make_example(g, tokenizer, config) for g in graphs]
    examples = attach_soft_targets(
        config, list(zip(examples, graphs, strict=True)), log=lambda line: None
    )
    torch.manual_seed(0)
    model = ArgumentModel.from_base(config.model_config()).eval().requires_grad_(False)
    losses = batch_losses(model, examples, config.loss_weights, distill=config.distill)
    distilled = [k for k in losses if k.startswith("distill_")]
    assert set(distilled) == {
        "distill_tags",
        "distill_types",
        "distill_links",
        "distill_counterfactual",
        "distill_counterfactual_tags",
    }
    assert all(float(losses[k]) > 0 for k in distilled)
    gold = sum(w * losses[k] for k, w in config.loss_weights.items() if k in losses)
    soft = 0.5 * 2.0**2 * sum(losses[k] for k in distilled)
    assert float(losses["total"]) == pytest.approx(float(gold + soft), rel=1e-5)
    links_only = dict(config.distill, heads=["links"])
    limited = batch_losses(model, examples, config.loss_weights, distill=links_only)
    assert [k for k in limited if k.startswith("distill_")] == ["distill_links"]
    assert float(limited["total"]) == pytest.approx(
        float(gold + 0.5 * 2.0**2 * losses["distill_links"]), rel=1e-5
    )
    plain = batch_losses(model, examples, config.loss_weights)
    assert not any(k.startswith("distill_") for k in plain)
    assert float(plain["total"]) == pytest.approx(float(gold), rel=1e-5)


@pytest.mark.slow
def test_a_tiny_distilled_training_logs_its_distillation_terms(
    tmp_path, tiny_model_dir, tiny_graphs
):
    from argmine.training import train

    lines: list[str] = []
    config = _distilled_config(tiny_model_dir, tmp_path / "t.pt", output_dir=str(tmp_path / "m"))
    train(config, [*tiny_graphs, _counterfactual_sentence()], dev_graphs=[], log=lines.append)
    steps = [line for line in lines if line.startswith("step ")]
    assert steps and all("distill_links=" in s and "distill_counterfactual=" in s for s in steps)
    assert any("labelling 3 documents" in line for line in lines)
    saved = (tmp_path / "m" / "training_config.json").read_text()
    assert '"teacher"' in saved


def test_a_run_that_labels_trains_exactly_as_one_that_reads_the_cache(
    tmp_path, tiny_model_dir, tiny_graphs
):
    from safetensors.torch import load_file

    from argmine.training import train

    graphs = [*tiny_graphs, _counterfactual_sentence()]
    for run in ("labels", "reads"):
        config = _distilled_config(
            tiny_model_dir, tmp_path / "t.pt", output_dir=str(tmp_path / run)
        )
        lines: list[str] = []
        train(config, graphs, dev_graphs=[], log=lines.append)
        assert any(("labelling" if run == "labels" else "read from") in line for line in lines)
    first = load_file(str(tmp_path / "labels" / "model.safetensors"))
    again = load_file(str(tmp_path / "reads" / "model.safetensors"))
    assert first.keys() == again.keys()
    assert all(torch.equal(first[name], again[name]) for name in first)


def test_auto_labels_in_bfloat16_only_where_the_teacher_config_names_it_and_the_cpu_has_it(
    monkeypatch,
):
    import argmine.runtime
    from argmine.training.distill import teacher_precision

    monkeypatch.setattr(argmine.runtime, "bfloat16_native", lambda: True)
    monkeypatch.setattr(argmine.runtime, "int8_supported", lambda: True)
    assert teacher_precision("bfloat16") == "bfloat16"
    assert teacher_precision("float32") == "float32"
    assert teacher_precision("int8") == "float32"  # never int8: it moves units
    monkeypatch.setattr(argmine.runtime, "bfloat16_native", lambda: False)
    assert teacher_precision("bfloat16") == "float32"
