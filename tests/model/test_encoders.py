"""Any encoder: tiny random-weight encoders of six families trained, saved, loaded and parsed.

No downloads: each base is built in a temporary folder (tests/tiny_encoders.py).
"""

from __future__ import annotations

import json

import pytest
import torch
from conftest import assert_one_line_error, assert_whole_word_units
from safetensors.torch import load_file
from tiny_encoders import FAMILIES, build_tiny_encoder

import argmine
from argmine.cli import main
from argmine.corpus.records import write_jsonl
from argmine.hub.folders import ModelLoadError
from argmine.model.encoders import load_encoder, load_tokenizer, position_limit, special_tokens
from argmine.model.windows import encode_text

TRAIN_SETTINGS = {
    "name": "tiny-any",
    "version": "0.0.1",
    "max_steps": 4,
    "batch_size": 2,
    "log_every": 2,
    "hidden": 32,
    "head_lr": 3e-3,
}
LONG_TEXT = " ".join(["Cars pollute the air, so we should ban cars in the city centre."] * 30)


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("bases")
    return {family: build_tiny_encoder(family, root / family) for family in FAMILIES}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, tiny_graphs):
    path = tmp_path_factory.mktemp("corpus") / "tiny.jsonl"
    write_jsonl(tiny_graphs, path)
    return path


def _train(tmp_path, corpus, capsys, **settings) -> tuple[int, str, str]:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**TRAIN_SETTINGS, **settings}))
    model = tmp_path / "model"
    code = main(
        ["train", "--config", str(config), "--train", str(corpus), "-o", str(model)]
        + ["--device", "cpu"]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_trains_saves_loads_and_parses(family, bases, corpus, tmp_path, capsys):
    code, out, _ = _train(tmp_path, corpus, capsys, encoder=str(bases[family]))
    assert code == 0, out
    assert "step 4/4" in out and "ETA" in out and "tokens/s" in out
    folder = tmp_path / "model"
    config = json.loads((folder / "config.json").read_text())
    assert config["base_model"] == str(bases[family]) and len(config["base_sha256"]) == 64
    assert config["max_length"] == position_limit(load_encoder(str(bases[family])))  # < 512

    miner = argmine.load(folder)
    graph = miner.parse(LONG_TEXT)
    assert_whole_word_units(graph)
    given = miner.parse(LONG_TEXT, segments=[(0, 63), (64, 127)])
    assert [(c.start, c.end) for c in given] == [(0, 63), (64, 127)]
    assert str(bases[family]) in (folder / "README.md").read_text()  # the card names its base

    document = tmp_path / "long.txt"
    document.write_text(LONG_TEXT)
    assert main(["parse", str(document), "--model", str(folder), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert all(LONG_TEXT[c["start"] : c["end"]] == c["text"] for c in printed["components"])


@pytest.mark.parametrize("family", FAMILIES)
def test_windows_are_wrapped_in_the_encoders_own_special_tokens(family, bases):
    tokenizer = load_tokenizer(str(bases[family]))
    encoder = load_encoder(str(bases[family]))
    special = special_tokens(tokenizer)
    limit = position_limit(encoder, tokenizer)
    doc = encode_text(LONG_TEXT, tokenizer, limit, 32, special)
    assert len(doc.windows) > 1, "the long text needs several windows"
    wrapped = tokenizer("argument")["input_ids"]
    assert wrapped[: len(special.prefix)] == list(special.prefix)
    assert wrapped[len(wrapped) - len(special.suffix) :] == list(special.suffix)
    for a, b in doc.windows:
        assert b - a + special.count <= limit
    # every token is read from a position inside its window, after the prefix
    assert all(len(special.prefix) <= p < limit - len(special.suffix) for p in doc.token_position)


def test_roberta_style_encoders_reserve_their_first_positions(bases):
    roberta = load_encoder(str(bases["roberta"]))
    assert position_limit(roberta) == 130 - 2  # positions start after padding_idx (1)
    assert position_limit(load_encoder(str(bases["bert"]))) == 128


def test_bert_windows_carry_token_type_ids(bases):
    assert special_tokens(load_tokenizer(str(bases["bert"]))).token_type_ids
    assert not special_tokens(load_tokenizer(str(bases["roberta"]))).token_type_ids


@pytest.mark.slow
def test_lora_model_stores_only_adapters_and_heads(bases, corpus, tmp_path, capsys):
    lora = {"r": 4, "alpha": 8, "dropout": 0.0}
    code, out, _ = _train(tmp_path, corpus, capsys, encoder=str(bases["bert"]), lora=lora)
    assert code == 0, out
    folder = tmp_path / "model"
    names = set(load_file(str(folder / "model.safetensors")))
    encoder_names = {n for n in names if n.startswith("encoder.")}
    assert encoder_names and all("lora_" in n for n in encoder_names)
    assert json.loads((folder / "config.json").read_text())["lora"]["r"] == 4

    miner = argmine.load(folder)
    assert not any("lora_" in n for n, _ in miner.model.encoder.named_parameters())  # merged
    first = miner.parse(LONG_TEXT)
    again = tmp_path / "saved-again"
    miner.save_pretrained(again)
    assert set(load_file(str(again / "model.safetensors"))) == names
    assert argmine.load(again).parse(LONG_TEXT).to_dict() == first.to_dict()


@pytest.mark.slow
def test_a_changed_base_is_an_error_naming_the_file_and_the_base(bases, corpus, tmp_path, capsys):
    base = tmp_path / "base"
    build_tiny_encoder("bert", base)
    code, out, _ = _train(tmp_path, corpus, capsys, encoder=str(base))
    assert code == 0, out
    other = load_encoder(str(base))
    with torch.no_grad():
        other.get_input_embeddings().weight.add_(0.01)
    other.save_pretrained(base)
    with pytest.raises(ModelLoadError, match=r"config\.json.*trained on base"):
        argmine.load(tmp_path / "model")
    document = tmp_path / "doc.txt"
    document.write_text(LONG_TEXT)
    code = main(["parse", str(document), "--model", str(tmp_path / "model")])
    assert_one_line_error(code, capsys.readouterr().err, "config.json", str(base))


def test_a_missing_encoder_is_a_one_line_error(tmp_path, corpus, capsys):
    missing = str(tmp_path / "no-such-encoder")
    code, _, err = _train(tmp_path, corpus, capsys, encoder=missing)
    assert_one_line_error(code, err, "no-such-encoder")
