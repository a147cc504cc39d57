"""``argmine parse``: one document to a tree, JSON, AIF, DOT or brat; clear one-line errors."""

from __future__ import annotations

import io
import json

import pytest
from conftest import assert_one_line_error

from argmine.cli import main
from argmine.graph import ArgumentGraph

TEXT = (
    "We should ban cars in the city centre. Cars pollute the air. "
    "Some say shops need customers who drive. But buses bring more customers than cars."
)


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "cars.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def parse(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["parse", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_tree_shows_types_scores_and_structure(capsys, doc, tiny_model_dir):
    """A real load from disk, once: the default output is the indented tree."""
    code, out, err = parse(capsys, str(doc), "--model", str(tiny_model_dir))
    assert code == 0, err
    lines = out.splitlines()
    assert lines, "no tree printed"
    assert lines[0].startswith("[")  # a root: "[type score] text"
    assert any(kind in out for kind in ("conclusion", "claim", "evidence"))
    assert "\033[" not in out  # no colour when stdout is not a terminal


@pytest.mark.parametrize("fmt", ["json", "aif", "dot"])
def test_machine_formats(capsys, doc, tiny_model_dir, shared_miner, fmt):
    code, out, err = parse(capsys, str(doc), "--format", fmt, "--model", str(tiny_model_dir))
    assert code == 0, err
    if fmt == "json":
        graph = ArgumentGraph.from_json(out)
        assert graph.text == TEXT
        assert graph.metadata["id"] == "cars"
    elif fmt == "aif":
        assert ArgumentGraph.from_aif(json.loads(out)).text == TEXT
    else:
        assert out.lstrip().startswith("digraph")


def test_brat_pair_reads_back(capsys, doc, tmp_path, tiny_model_dir, shared_miner):
    code, _, err = parse(
        capsys, str(doc), "-f", "brat", "-o", str(tmp_path / "out" / "cars"), "--model",
        str(tiny_model_dir),
    )  # fmt: skip
    assert code == 0, err
    txt = (tmp_path / "out" / "cars.txt").read_text(encoding="utf-8")
    ann = (tmp_path / "out" / "cars.ann").read_text(encoding="utf-8")
    expected = shared_miner.parse(TEXT)
    back = ArgumentGraph.from_brat(txt, ann)
    assert [(c.start, c.end, c.type) for c in back] == [(c.start, c.end, c.type) for c in expected]


def test_reads_standard_input(capsys, monkeypatch, tiny_model_dir, shared_miner):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(TEXT.encode("utf-8"))))
    code, out, err = parse(capsys, "-", "--format", "json", "--model", str(tiny_model_dir))
    assert code == 0, err
    assert ArgumentGraph.from_json(out).text == TEXT


def test_empty_document_is_an_empty_graph(capsys, tmp_path, tiny_model_dir, shared_miner):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    code, out, _ = parse(capsys, str(empty), "--model", str(tiny_model_dir))
    assert code == 0
    assert "no argument components" in out


def test_missing_file(capsys, tmp_path, tiny_model_dir):
    code, _, err = parse(capsys, str(tmp_path / "nope.txt"), "--model", str(tiny_model_dir))
    assert_one_line_error(code, err, "nope.txt")


def test_unreadable_encoding_names_file_and_option(capsys, tmp_path, tiny_model_dir):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 prices should fall.".encode("latin-1"))
    code, _, err = parse(capsys, str(latin), "--model", str(tiny_model_dir))
    assert_one_line_error(code, err, "latin.txt", "--encoding")


def test_encoding_option(capsys, tmp_path, tiny_model_dir, shared_miner):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 prices should fall.".encode("latin-1"))
    code, out, _ = parse(
        capsys, str(latin), "-f", "json", "--encoding", "latin-1", "--model", str(tiny_model_dir)
    )
    assert code == 0
    assert ArgumentGraph.from_json(out).text == "Café prices should fall."


def test_missing_model(capsys, doc, tmp_path):
    code, _, err = parse(capsys, str(doc), "--model", str(tmp_path / "no-model"))
    assert_one_line_error(code, err, "cannot load the model")


@pytest.mark.parametrize("command", ["parse", "label", "render"])
def test_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "example" in capsys.readouterr().out


def test_unavailable_device_is_one_line(capsys, doc, tiny_model_dir):
    import torch

    code, _, err = parse(capsys, str(doc), "--device", "nonsense", "--model", str(tiny_model_dir))
    assert_one_line_error(code, err, "--device")
    if not torch.cuda.is_available():
        code = main(
            ["label", str(doc.parent), "-o", str(doc.parent / "o.jsonl"), "--device", "cuda"]
        )
        assert_one_line_error(code, capsys.readouterr().err, "no cuda device")


def test_min_score_leaves_out_weak_relations(capsys, doc, tiny_model_dir):
    """A real load (not the shared miner): --min-score changes the loaded model's threshold."""
    code, out, err = parse(capsys, str(doc), "-f", "json", "--model", str(tiny_model_dir))
    assert code == 0, err
    every = ArgumentGraph.from_json(out).relations
    assert every, "the tiny model links this text"
    cut = max(r.score for r in every)
    code, out, err = parse(
        capsys, str(doc), "-f", "json", "--model", str(tiny_model_dir), "--min-score", str(cut)
    )
    assert code == 0, err
    kept = ArgumentGraph.from_json(out).relations
    assert kept and all(r.score >= cut for r in kept) and len(kept) < len(every) + 1
    with pytest.raises(SystemExit) as exit_info:
        main(["parse", str(doc), "--min-score", "1.5"])
    assert exit_info.value.code == 2
    assert "--min-score" in capsys.readouterr().err
