"""Seed soups (training/soup.py): the mean of seeds' weights, refused across recipes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from argmine.model.network import is_adapter
from argmine.training import TrainConfig, train
from argmine.training.soup import (
    SoupError,
    averaged_weights,
    make_soup,
    shipped_by_rule,
    soup_against_seeds,
    soup_configs,
    soup_table,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory, tiny_graphs) -> list[Path]:
    """The same tiny recipe from one start (init_seed 1) trained with seeds 1 and 2, with
    another head learning rate, and with seed 3 from its own start."""
    root = tmp_path_factory.mktemp("seeds")
    folders = []
    runs = (("1", 1, 1e-3, 1), ("2", 2, 1e-3, 1), ("other", 1, 3e-3, 1), ("own", 3, 1e-3, None))
    for name, seed, head_lr, init_seed in runs:
        config = TrainConfig(
            name="tiny-soup",
            encoder_layers=1,
            max_steps=3,
            batch_size=2,
            head_lr=head_lr,
            seed=seed,
            init_seed=init_seed,
            log_every=100,
            output_dir=str(root / name),
        )
        train(config, tiny_graphs, dev_graphs=tiny_graphs, log=lambda line: None)
        folders.append(root / name)
    return folders


@pytest.mark.slow
def test_a_soup_is_the_mean_of_the_seeds_weights_with_decoding_tuned_again(
    seed_runs, tmp_path, tiny_graphs, capsys
):
    sys.path.insert(0, str(ROOT / "training"))
    import soup as script  # training/soup.py

    import argmine

    corpus = tmp_path / "dev.jsonl"
    from argmine.corpus.records import write_jsonl

    write_jsonl(tiny_graphs, corpus)
    output = tmp_path / "soup"
    assert (
        script.main([str(seed_runs[0]), str(seed_runs[1]), "-o", str(output), "--dev", str(corpus)])
        == 0
    )
    out = capsys.readouterr().out
    assert "averaged the weights of seeds 1, 2" in out and "link temperature" in out
    first, second = (load_file(str(f / "model.safetensors")) for f in seed_runs[:2])
    souped = load_file(str(output / "model.safetensors"))
    assert set(souped) == set(first)
    for name, tensor in souped.items():
        mean = (first[name].float() + second[name].float()) / 2
        assert torch.allclose(tensor.float(), mean, atol=1e-3), name
    assert (output / "model.safetensors").stat().st_size == (
        seed_runs[0] / "model.safetensors"
    ).stat().st_size
    assert json.loads((output / "soup.json").read_text())["seeds"] == [1, 2]
    card = (output / "README.md").read_text()
    assert "seed soup" in card and "seeds 1, 2" in card
    graph = argmine.load(str(output)).parse("Cars pollute the air. We should ban cars.")
    assert graph.metadata["model"] == "tiny-soup"


def test_init_seed_fixes_the_heads_start_and_nothing_else(tiny_graphs):
    from argmine.training.loop import initial_model

    def start(seed: int, init_seed: int | None) -> dict[str, torch.Tensor]:
        config = TrainConfig(encoder_layers=1, seed=seed, init_seed=init_seed)
        torch.manual_seed(seed)  # as train() does before building the model
        model = initial_model(config)
        return {k: v.clone() for k, v in model.state_dict().items()}, torch.rand(1)

    (same_a, after_a), (same_b, after_b) = start(1, 7), start(2, 7)
    assert all(torch.equal(same_a[k], same_b[k]) for k in same_a)  # one start
    assert not torch.equal(after_a, after_b)  # batch order and dropout still follow the seed
    own_1, _ = start(1, None)
    own_2, _ = start(2, None)
    assert any(not torch.equal(own_1[k], own_2[k]) for k in own_1)
    assert all(torch.equal(own_1[k], start(1, 1)[0][k]) for k in own_1)  # init_seed = seed


@pytest.mark.slow
def test_models_of_other_recipes_or_one_model_are_refused(seed_runs, tmp_path):
    with pytest.raises(SoupError, match="head_lr"):
        soup_configs([seed_runs[0], seed_runs[2]])
    with pytest.raises(SoupError, match="different random weights"):
        soup_configs([seed_runs[0], seed_runs[3]])
    with pytest.raises(SoupError, match="at least two"):
        soup_configs([seed_runs[0]])
    with pytest.raises(SoupError, match="repeat a seed"):
        soup_configs([seed_runs[0], seed_runs[0]])
    with pytest.raises(SoupError, match="no training_config.json"):
        make_soup([seed_runs[0], tmp_path], tmp_path / "out", [], log=lambda line: None)


def test_the_rule_ships_the_soup_unless_it_is_below_every_seed():
    seeds = ["s13", "s14", "s15"]
    assert shipped_by_rule("soup", 0.511, seeds, [0.511, 0.530, 0.531]) == "soup"
    assert shipped_by_rule("soup", 0.50, seeds, [0.531, 0.511, 0.530]) == "s15"  # median 0.530
    assert shipped_by_rule("soup", 0.1, ["a", "b"], [0.3, 0.2]) == "b"  # even: the lower middle


def test_scoring_a_soup_without_the_rules_measures_is_refused(tmp_path):
    from argmine.training.compare import CompareOptions

    options = CompareOptions(cv=False, measures=("detection_f1",))
    with pytest.raises(ValueError, match="link_f1, component_macro_f1"):
        soup_against_seeds(tmp_path / "soup", [tmp_path / "a"], options)


@pytest.mark.slow
def test_a_soup_is_scored_against_its_seeds_on_the_same_documents(seed_runs, tmp_path, tiny_graphs):
    from argmine.corpus.records import write_jsonl
    from argmine.training.compare import CompareOptions

    corpus = tmp_path / "dev.jsonl"
    write_jsonl(tiny_graphs, corpus)
    soup = tmp_path / "soup"
    make_soup(seed_runs[:2], soup, tiny_graphs, log=lambda line: None)
    options = CompareOptions(
        cv=False,
        measures=("link_f1", "component_macro_f1"),
        corpora={"cdcp": (str(corpus), None)},
        log=lambda line: None,
    )
    record = soup_against_seeds(soup, seed_runs[:2], options)
    assert [row["measure"] for row in record["measures"]] == ["link_f1", "component_macro_f1"]
    link, component = record["measures"]
    assert len(link["seeds"]["values"]) == 2 and link["bootstrap_95"] is not None
    assert record["primary"]["soup"] == pytest.approx((link["soup"] + component["soup"]) / 2)
    assert record["chosen"] in {str(soup), *map(str, seed_runs[:2])}
    table = soup_table(record)
    assert "| CDCP dev, given units: link F1 |" in table and "The rule ships" in table


@pytest.mark.slow
def test_frozen_stages_of_a_lora_model_are_souped_and_trained_adapters_refused(
    tmp_path, tiny_graphs
):
    from tiny_encoders import build_tiny_encoder

    import argmine

    base = build_tiny_encoder("bert", tmp_path / "base")
    lora = {"r": 4, "alpha": 8}
    common = dict(encoder=str(base), lora=lora, batch_size=2, head_lr=3e-3, log_every=100)

    def run(name: str, seed: int, **settings) -> Path:
        config = TrainConfig(seed=seed, output_dir=str(tmp_path / name), **common, **settings)
        train(config, tiny_graphs, log=lambda line: None).save_pretrained(tmp_path / name)
        return tmp_path / name

    start = run("start", 1, max_steps=3)
    stage = dict(max_steps=3, init_from=str(start), freeze_encoder=True)
    stages = [run("stage-2", 2, **stage), run("stage-3", 3, **stage)]
    assert len(soup_configs(stages)) == 2  # one start (the model), frozen adapters
    souped = averaged_weights(stages)
    first, second = (load_file(str(f / "model.safetensors")) for f in stages)
    adapters = [name for name in first if is_adapter(name)]
    assert adapters and all(torch.equal(souped[n], first[n].float()) for n in adapters)
    moved = [n for n in first if n.startswith("relations.")]
    heads = [n for n in moved if not torch.equal(first[n], second[n])]
    assert heads  # the heads did train apart, and are averaged
    assert all(torch.allclose(souped[n], (first[n].float() + second[n].float()) / 2) for n in heads)
    soup = make_soup(stages, tmp_path / "soup", tiny_graphs, log=lambda line: None)
    saved = load_file(str(tmp_path / "soup" / "model.safetensors"))
    assert set(saved) == set(first)  # the adapters are stored again, unmerged
    assert all(torch.equal(saved[n], first[n]) for n in adapters)
    text = "Cars pollute the air. We should ban cars."
    assert soup.parse(text).to_json() == argmine.load(str(tmp_path / "soup")).parse(text).to_json()
    trained = [run("lora-1", 1, max_steps=3), run("lora-2", 2, max_steps=3, init_seed=1)]
    with pytest.raises(SoupError, match="LoRA adapters they trained"):
        soup_configs(trained)
