"""``argmine label``: every input format, every output format, errors, resume after kill -9."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_one_line_error

from argmine.cli import main
from argmine.graph import ArgumentGraph

TEXTS = [
    "We should ban cars in the city centre. Cars pollute the air. "
    "Some say shops need customers who drive. But buses bring more customers than cars.",
    "Tuition should be free. Education benefits everyone in society.",
    "Graduates paid 30% more tax over their lives according to the ministry.",
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def rows(n: int) -> list[dict]:
    return [
        {"id": f"doc{i:02d}", "body": TEXTS[i % 3], "date": f"2020-01-{i + 1:02d}"}
        for i in range(n)
    ]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def label(capsys, *args, model) -> tuple[int, str]:
    code = main(["label", *map(str, args), "--model", str(model)])
    return code, capsys.readouterr().err


# ---------------------------------------------------------------------------- inputs and JSONL
def test_jsonl_one_record_per_input_with_kept_fields(
    capsys, tmp_path, tiny_model_dir, shared_miner
):
    data = rows(5)
    data.insert(2, {"id": "empty", "body": "", "date": "x"})
    source = write_jsonl(tmp_path / "in.jsonl", data)
    out = tmp_path / "out.jsonl"
    code, err = label(
        capsys, source, "-o", out, "--text-field", "body", "--keep", "date", model=tiny_model_dir
    )
    assert code == 0, err
    got = records(out)
    assert [r["id"] for r in got] == [r["id"] for r in data]
    assert [r["date"] for r in got] == [r["date"] for r in data]
    assert all(r["error"] is None for r in got)
    first = ArgumentGraph.from_dict(got[0]["graph"])
    assert first.text == TEXTS[0] and first.metadata["id"] == "doc00"
    assert got[2]["graph"]["components"] == []  # empty text: an empty graph, not an error
    assert "documents: 6" in err and "components:" in err and "relations:" in err
    assert "time:" in err and "doc/s" not in err  # summary, but no bar: stderr is no terminal


def test_failing_record_yields_an_error_record(capsys, tmp_path, tiny_model_dir, shared_miner):
    data = rows(3)
    data[1]["body"] = 42
    data.append({"id": "no-text", "date": "x"})
    source = write_jsonl(tmp_path / "in.jsonl", data)
    out = tmp_path / "out.jsonl"
    code, err = label(capsys, source, "-o", out, "--text-field", "body", "-q", model=tiny_model_dir)
    assert code == 1
    got = records(out)
    assert [r["id"] for r in got] == ["doc00", "doc01", "doc02", "no-text"]
    assert got[1]["graph"] is None and "int" in got[1]["error"]
    assert got[3]["graph"] is None and "body" in got[3]["error"]
    assert got[0]["error"] is None and got[2]["error"] is None
    assert "2 of 4 documents" in err and "Traceback" not in err


def test_model_failure_on_one_record_spares_the_others(
    capsys, tmp_path, tiny_model_dir, shared_miner, monkeypatch
):
    real_pipe = type(shared_miner).pipe

    def pipe(self, texts, batch_size=16, **options):
        texts = list(texts)
        if any("Tuition" in t for t in texts):
            raise RuntimeError("boom")
        return real_pipe(self, texts, batch_size=batch_size, **options)

    monkeypatch.setattr(type(shared_miner), "pipe", pipe)
    source = write_jsonl(tmp_path / "in.jsonl", rows(3))
    out = tmp_path / "out.jsonl"
    code, _ = label(
        capsys, source, "-o", out, "--text-field", "body", "--batch-size", "3", model=tiny_model_dir
    )
    assert code == 1
    got = records(out)
    assert [r["error"] is None for r in got] == [True, False, True]
    assert got[1]["error"] == "RuntimeError: boom"


def test_folder_of_texts_and_a_bad_encoding(capsys, tmp_path, tiny_model_dir, shared_miner):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    (folder / "sub" / "b.txt").write_text(TEXTS[1], encoding="utf-8")
    (folder / "latin.txt").write_bytes("Caf\xe9 should be cheaper.".encode("latin-1"))
    (folder / "notes.md").write_text("not a document", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = label(capsys, folder, "-o", out, "--keep", "path", model=tiny_model_dir)
    assert code == 1
    got = {r["id"]: r for r in records(out)}
    assert sorted(got) == ["a", "latin", "sub/b"]
    assert got["sub/b"]["path"] == "sub/b.txt"
    assert "latin.txt" in got["latin"]["error"] and "--encoding" in got["latin"]["error"]
    assert "latin.txt" in err.strip().splitlines()[-1] and "Traceback" not in err


def test_csv_input_with_id_field(capsys, tmp_path, tiny_model_dir, shared_miner):
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["comment_id", "comment"])
        writer.writeheader()
        for i, text in enumerate(TEXTS):
            writer.writerow({"comment_id": f"c{i}", "comment": text})
    out = tmp_path / "out.jsonl"
    code, err = label(
        capsys, source, "-o", out, "--text-field", "comment", "--id-field", "comment_id", "-q",
        model=tiny_model_dir,
    )  # fmt: skip
    assert code == 0, err
    assert [r["id"] for r in records(out)] == ["c0", "c1", "c2"]


def test_parquet_input_and_saved_dataset(capsys, tmp_path, tiny_model_dir, shared_miner):
    import datasets
    import pandas as pd

    frame = pd.DataFrame(rows(4))
    frame.to_parquet(tmp_path / "in.parquet")
    datasets.Dataset.from_pandas(frame).save_to_disk(str(tmp_path / "saved"))
    for source, out in ((tmp_path / "in.parquet", "a.jsonl"), (tmp_path / "saved", "b.jsonl")):
        code, err = label(
            capsys, source, "-o", tmp_path / out, "--text-field", "body", "-q", model=tiny_model_dir
        )
        assert code == 0, err
    assert [r["id"] for r in records(tmp_path / "a.jsonl")] == list(frame["id"])
    assert records(tmp_path / "a.jsonl") == records(tmp_path / "b.jsonl")


def test_html_folder(capsys, tmp_path, tiny_model_dir, shared_miner):
    pytest.importorskip("trafilatura")
    folder = tmp_path / "pages"
    folder.mkdir()
    body = "".join(f"<p>{t}</p>" for t in TEXTS)
    page = (
        "<html><head><title>T</title></head><body><nav>Home | About</nav>"
        f"<article>{body}</article></body></html>"
    )
    (folder / "page.html").write_text(page, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = label(capsys, folder, "-o", out, "-q", model=tiny_model_dir)
    assert code == 0, err
    (record,) = records(out)
    assert record["id"] == "page" and "Tuition should be free." in record["graph"]["text"]


# ---------------------------------------------------------------------------- output formats
def test_parquet_tables_load_in_pandas(capsys, tmp_path, tiny_model_dir, shared_miner):
    import pandas as pd

    data = rows(4)
    data[3]["body"] = None
    source = write_jsonl(tmp_path / "in.jsonl", data)
    out = tmp_path / "tables"
    code, _ = label(
        capsys, source, "-o", out, "--format", "parquet", "--text-field", "body", "--keep", "date",
        "-q", model=tiny_model_dir,
    )  # fmt: skip
    assert code == 1  # the null text
    documents = pd.read_parquet(out / "documents.parquet")
    components = pd.read_parquet(out / "components.parquet")
    relations = pd.read_parquet(out / "relations.parquet")
    assert list(documents["id"]) == [r["id"] for r in data]
    assert list(documents["date"]) == [r["date"] for r in data]
    assert documents["error"].notna().tolist() == [False, False, False, True]
    expected = [
        len(r["graph"]["components"]) if r["graph"] else 0 for r in records(out / "records.jsonl")
    ]
    assert (
        components.groupby("doc_id").size().reindex(documents["id"], fill_value=0).tolist()
        == expected
    )
    assert {"doc_id", "id", "start", "end", "text", "type", "score"} <= set(components.columns)
    assert {"doc_id", "source", "target", "type", "score"} <= set(relations.columns)
    assert set(components["type"]) <= {"conclusion", "claim", "evidence"}
    assert int(documents["n_components"].sum()) == len(components)


def test_brat_output_reads_back_into_the_same_graphs(
    capsys, tmp_path, tiny_model_dir, shared_miner
):
    from argmine.formats.brat import read_brat

    source = write_jsonl(tmp_path / "in.jsonl", [*rows(3), {"id": "a/b c", "body": TEXTS[1]}])
    code, _ = label(
        capsys,
        source,
        "-o",
        tmp_path / "j.jsonl",
        "--text-field",
        "body",
        "-q",
        model=tiny_model_dir,
    )
    assert code == 0
    code, _ = label(
        capsys,
        source,
        "-o",
        tmp_path / "brat",
        "-f",
        "brat",
        "--text-field",
        "body",
        "-q",
        model=tiny_model_dir,
    )
    assert code == 0
    assert (tmp_path / "brat" / "annotation.conf").is_file()
    expected = {r["id"]: ArgumentGraph.from_dict(r["graph"]) for r in records(tmp_path / "j.jsonl")}
    back = {g.metadata["id"]: g for g in read_brat(tmp_path / "brat")}
    assert back.keys() == expected.keys()
    for doc_id, graph in expected.items():
        assert back[doc_id].to_dict() == graph.to_dict()


def test_aif_output(capsys, tmp_path, tiny_model_dir, shared_miner):
    source = write_jsonl(tmp_path / "in.jsonl", rows(2))
    code, _ = label(
        capsys,
        source,
        "-o",
        tmp_path / "aif",
        "-f",
        "aif",
        "--text-field",
        "body",
        "-q",
        model=tiny_model_dir,
    )
    assert code == 0
    files = sorted(p.name for p in (tmp_path / "aif").glob("*.json"))
    assert files == ["doc00.json", "doc01.json"]
    graph = ArgumentGraph.from_aif(json.loads((tmp_path / "aif" / "doc00.json").read_text("utf-8")))
    assert graph.text == TEXTS[0]


# ---------------------------------------------------------------------------- bad input
def _empty_folder(p: Path) -> Path:
    (p / "emptydir").mkdir()
    return p / "emptydir"


def _file(name: str, data: bytes):
    def make(p: Path) -> Path:
        (p / name).write_bytes(data)
        return p / name

    return make


@pytest.mark.parametrize(
    ("make", "fragments"),
    [
        (lambda p: p / "missing.jsonl", ["no such file", "missing.jsonl"]),
        (_file("empty.jsonl", b""), ["no records"]),
        (_empty_folder, ["no .txt"]),
        (_file("f.jsonl", b'{"id": 1, "content": "x"}\n'), ["'body'", "'content'", "--text-field"]),
        (_file("l.jsonl", '{"body": "caf\xe9"}\n'.encode("latin-1")), ["l.jsonl", "--encoding"]),
        (_file("x.xml", b"<a/>"), ["--input-format"]),
    ],
    ids=["missing", "empty-file", "empty-folder", "unknown-field", "encoding", "unknown-format"],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, tiny_model_dir, make, fragments):
    source = make(tmp_path)
    code, err = label(
        capsys, source, "-o", tmp_path / "out.jsonl", "--text-field", "body", model=tiny_model_dir
    )
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "out.jsonl").exists()


def test_unknown_output_format_and_missing_model(capsys, tmp_path, tiny_model_dir):
    source = write_jsonl(tmp_path / "in.jsonl", rows(1))
    code, err = label(capsys, source, "-o", tmp_path / "out", model=tiny_model_dir)
    assert_one_line_error(code, err, "--format")
    code, err = label(
        capsys,
        source,
        "-o",
        tmp_path / "o.jsonl",
        "--text-field",
        "body",
        model=tmp_path / "nomodel",
    )
    assert_one_line_error(code, err, "model")


# ---------------------------------------------------------------------------- resume
def test_resume_cuts_a_partial_line_and_skips_done_records(
    capsys, tmp_path, tiny_model_dir, shared_miner
):
    source = write_jsonl(tmp_path / "in.jsonl", rows(6))
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    assert (
        label(capsys, source, "-o", full, "--text-field", "body", "-q", model=tiny_model_dir)[0]
        == 0
    )
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    part.write_text("".join(lines[:2]) + lines[2][:25], encoding="utf-8")  # killed mid-line
    code, err = label(capsys, source, "-o", part, "--text-field", "body", model=tiny_model_dir)
    assert code == 0, err
    assert "2 done by an earlier run" in err
    assert part.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")
    code, err = label(capsys, source, "-o", part, "--text-field", "body", model=tiny_model_dir)
    assert code == 0 and "time: " in err and "for 0 documents" in err  # all done: nothing to do
    assert part.read_text(encoding="utf-8") == full.read_text(encoding="utf-8")


def test_resume_refuses_output_of_another_input(capsys, tmp_path, tiny_model_dir, shared_miner):
    out = tmp_path / "out.jsonl"
    first = write_jsonl(tmp_path / "a.jsonl", rows(3))
    other = write_jsonl(tmp_path / "b.jsonl", [{**r, "id": "x" + r["id"]} for r in rows(3)])
    assert (
        label(capsys, first, "-o", out, "--text-field", "body", "-q", model=tiny_model_dir)[0] == 0
    )
    code, err = label(capsys, other, "-o", out, "--text-field", "body", model=tiny_model_dir)
    assert_one_line_error(code, err, "another input", "--overwrite")
    code, _ = label(
        capsys, other, "-o", out, "--text-field", "body", "--overwrite", "-q", model=tiny_model_dir
    )
    assert code == 0
    assert [r["id"] for r in records(out)] == ["xdoc00", "xdoc01", "xdoc02"]


def test_folder_output_refuses_a_foreign_folder(capsys, tmp_path, tiny_model_dir):
    source = write_jsonl(tmp_path / "in.jsonl", rows(1))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    code, err = label(
        capsys,
        source,
        "-o",
        tmp_path / "mine",
        "-f",
        "brat",
        "--text-field",
        "body",
        model=tiny_model_dir,
    )
    assert_one_line_error(code, err, "did not write")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def _run_label(source: Path, out: Path, model: Path, *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "argmine", "label", str(source), "-o", str(out)]
    args += ["--model", str(model), "--batch-size", "1", "-q", *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_resume_after_kill_9_gives_the_uninterrupted_output(capsys, tmp_path, tiny_model_dir):
    """Both runs load the model from disk, as the subprocesses do, so their numbers agree."""
    data = [{"id": f"r{i:02d}", "text": " ".join(TEXTS[i % 3].split()[i % 4 :])} for i in range(30)]
    source = write_jsonl(tmp_path / "in.jsonl", data)
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    killed = _run_label(source, part, tiny_model_dir)
    deadline = time.monotonic() + 120
    while _lines(part) < 3 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    assert 3 <= _lines(part) < 30, "the run was not interrupted part-way"
    assert (
        main(
            [
                "label",
                str(source),
                "-o",
                str(full),
                "--model",
                str(tiny_model_dir),
                "--batch-size",
                "1",
                "-q",
            ]
        )
        == 0
    )
    resumed = _run_label(source, part, tiny_model_dir)
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()
    assert records(part) == records(full)


def test_workers_give_the_same_output_in_order(capsys, tmp_path, tiny_model_dir):
    source = write_jsonl(tmp_path / "in.jsonl", rows(8))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    common = ["--text-field", "body", "--batch-size", "2", "-q"]
    assert label(capsys, source, "-o", one, *common, model=tiny_model_dir)[0] == 0
    code, err = label(capsys, source, "-o", two, *common, "--workers", "2", model=tiny_model_dir)
    assert code == 0, err
    assert records(one) == records(two)
