"""The pipeline API on a tiny model: parse, pipe, given segments, storage, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import assert_whole_word_units

import argmine
from argmine.hub.folders import ModelLoadError
from argmine.model.config import ModelConfig
from argmine.pipeline import ArgumentMiner


def test_parse_returns_a_valid_graph_with_scores(tiny_miner, tiny_graphs):
    graph = tiny_miner.parse(tiny_graphs[0].text)
    assert graph.components, "the tiny model found no component in its own training text"
    assert_whole_word_units(graph)
    for c in graph.components:
        assert 0.0 <= c.score <= 1.0
        assert "counterfactual" in c.attributes
    assert all(0.0 <= r.score <= 1.0 for r in graph.relations)
    assert graph.metadata["model"] == "tiny"


def test_given_segments_are_kept_exactly_and_in_order(tiny_miner, tiny_graphs):
    text = tiny_graphs[0].text
    segments = [(60, 130), (0, 37), (38, 58)]  # deliberately not in text order
    graph = tiny_miner.parse(text, segments=segments)
    assert [(c.start, c.end) for c in graph.components] == segments
    assert [c.text for c in graph.components] == [text[a:b] for a, b in segments]


def test_given_segments_outside_the_text_are_rejected(tiny_miner):
    with pytest.raises(ValueError, match="outside the text"):
        tiny_miner.parse("Short text.", segments=[(0, 500)])


def test_pipe_returns_one_graph_per_input_in_order(tiny_miner, tiny_graphs):
    texts = [g.text for g in tiny_graphs] + ["", "Cars pollute the air."] + [tiny_graphs[1].text]
    graphs = list(tiny_miner.pipe(texts, batch_size=2))
    assert [g.text for g in graphs] == texts
    assert graphs[0].to_dict() == tiny_miner.parse(texts[0]).to_dict()


def test_long_document_is_covered_end_to_end(tiny_miner, tiny_graphs):
    paragraph = tiny_graphs[0].text
    text = " ".join([paragraph] * (3000 // len(paragraph.split()) + 1))
    assert len(text.split()) >= 3000
    doc = tiny_miner.encode(text)
    assert len(doc.windows) > 1
    assert set(range(doc.n_tokens)) == {t for a, b in doc.windows for t in range(a, b)}
    graph = tiny_miner.parse(text)
    last_copy = text.rindex(paragraph)
    assert any(c.start >= last_copy for c in graph.components), "the last window was not read"
    assert_whole_word_units(graph)


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_gives_an_empty_graph(tiny_miner, text):
    graph = tiny_miner.parse(text)
    assert graph.components == [] and graph.relations == [] and graph.text == text


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_non_string_input_raises_type_error(tiny_miner, bad):
    with pytest.raises(TypeError, match="argmine parses str"):
        tiny_miner.parse(bad)


def test_save_and_load_give_identical_graphs(tiny_miner, tiny_model_dir, tiny_graphs):
    """In float32, the precision the model was trained in, a reload predicts exactly alike."""
    loaded = argmine.load(tiny_model_dir, precision="float32")
    texts = [g.text for g in tiny_graphs]
    before = [g.to_dict() for g in tiny_miner.pipe(texts)]
    after = [g.to_dict() for g in loaded.pipe(texts)]
    assert before == after
    resaved = tiny_model_dir.parent / "resaved"
    loaded.save_pretrained(resaved)
    reloaded = ArgumentMiner.from_pretrained(resaved, precision="float32")
    assert [g.to_dict() for g in reloaded.pipe(texts)] == before


def test_an_int8_miner_saves_its_trained_float_weights(tiny_miner, tiny_model_dir, tiny_graphs):
    from argmine.runtime import int8_supported

    if not int8_supported():
        pytest.skip("int8 needs an x86 CPU")
    quantized = argmine.load(tiny_model_dir, precision="int8")
    assert quantized.precision == "int8"
    graph = quantized.parse(tiny_graphs[0].text)
    assert_whole_word_units(graph)
    resaved = tiny_model_dir.parent / "resaved-from-int8"
    quantized.save_pretrained(resaved)
    texts = [g.text for g in tiny_graphs]
    reloaded = ArgumentMiner.from_pretrained(resaved, precision="float32")
    assert [g.to_dict() for g in reloaded.pipe(texts)] == [
        g.to_dict() for g in tiny_miner.pipe(texts)
    ]


def test_precision_choices_are_checked_before_loading(tiny_model_dir):
    from argmine.runtime import PrecisionError

    with pytest.raises(PrecisionError, match="unknown precision"):
        argmine.load(tiny_model_dir, precision="int4")
    auto = argmine.load(tiny_model_dir)
    assert auto.precision in ("int8", "float32")


def test_auto_precision_follows_the_models_cpu_choice():
    import torch

    from argmine.runtime import PrecisionError, bfloat16_native, int8_supported, resolve_precision

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("auto", cpu) == "float32"
    int8_by_choice = resolve_precision("auto", cpu, cpu_precision="int8")
    assert int8_by_choice == ("int8" if int8_supported() else "float32")
    assert resolve_precision("auto", gpu, cpu_precision="int8") == "float32"
    if int8_supported():  # asking for int8 by name still gets it
        assert resolve_precision("int8", cpu, cpu_precision="float32") == "int8"
    bfloat16_by_choice = resolve_precision("auto", cpu, cpu_precision="bfloat16")
    assert bfloat16_by_choice == ("bfloat16" if bfloat16_native() else "float32")
    assert resolve_precision("auto", gpu, cpu_precision="bfloat16") == "float32"
    with pytest.raises(PrecisionError, match="cpu_precision is one of"):
        resolve_precision("auto", cpu, cpu_precision="int4")


def test_int8_is_the_default_only_for_a_model_that_opts_in(tiny_model_dir, tmp_path):
    from argmine.runtime import int8_supported

    folder = tmp_path / "int8-model"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    assert argmine.load(tiny_model_dir).precision == "float32"
    (folder / "config.json").write_text(json.dumps(dict(config, cpu_precision="int8")))
    assert argmine.load(folder).precision == ("int8" if int8_supported() else "float32")
    older = {k: v for k, v in config.items() if k != "cpu_precision"}
    assert ModelConfig.from_dict(older).cpu_precision == "float32"  # older configs too


def test_int8_keeps_the_layers_its_config_names_in_float32(tiny_model_dir, tmp_path):
    from torch import nn

    from argmine.runtime import int8_supported

    if not int8_supported():
        pytest.skip("int8 needs an x86 CPU")
    folder = tmp_path / "int8-float-layers"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(
        json.dumps(dict(config, int8_float_layers=["*.output.dense"]))
    )
    encoder = argmine.load(folder, precision="int8").model.encoder
    kinds = {name: type(m) is nn.Linear for name, m in encoder.named_modules() if "dense" in name}
    kept = {name for name, is_float in kinds.items() if is_float}
    assert kept == {name for name in kinds if name.endswith("output.dense")}
    assert not all(kinds.values())  # the intermediate layer is int8
    assert ModelConfig.from_dict(config).int8_float_layers == ()  # older configs: none


def test_saved_model_is_safetensors_only(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert "model.safetensors" in names
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in names)


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "tokenizer.json"])
def test_missing_model_file_is_named(tiny_model_dir, tmp_path, name):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / name).unlink()
    with pytest.raises(ModelLoadError, match=name):
        argmine.load(broken)


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_corrupt_model_file_is_named(tiny_model_dir, tmp_path, name):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / name).write_bytes(b"\x00not what it should be")
    with pytest.raises(ModelLoadError, match=name):
        argmine.load(broken)


def test_missing_model_folder_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match="no model folder"):
        argmine.load(tmp_path / "nowhere")


@pytest.mark.parametrize("precision", ["float32", "int8", "bfloat16"])
def test_a_texts_graph_does_not_depend_on_its_batch(tiny_model_dir, tiny_graphs, precision):
    from argmine.runtime import int8_supported

    if precision == "int8" and not int8_supported():
        pytest.skip("int8 needs an x86 CPU")
    miner = argmine.load(tiny_model_dir, precision=precision)
    texts = [g.text for g in tiny_graphs] + ["Cars pollute. " * 40, "Ban cars now."]
    alone = [miner.parse(t).to_dict() for t in texts]
    assert [g.to_dict() for g in miner.pipe(texts, batch_size=3)] == alone
    assert [g.to_dict() for g in miner.pipe(texts[::-1], batch_size=2)] == alone[::-1]


def test_the_whole_word_check_can_fail():
    """A unit cut inside a word, or overlapping another, is refused by the check above (the
    graph itself accepts both)."""
    from conftest import make_graph

    inside_a_word = make_graph("Bicycles are good.", [("cycles are good", "claim")], [])
    overlapping = make_graph("Ban cars now.", [("Ban cars", "claim"), ("cars now", "claim")], [])
    for graph in (inside_a_word, overlapping):
        with pytest.raises(AssertionError):
            assert_whole_word_units(graph)
