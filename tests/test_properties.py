"""Generated tests (hypothesis): parse on any str, export round trips on any graph, and batch
labelling killed anywhere then resumed. 200 examples each here (profile ``ci`` in
tests/fuzzing.py); ``python tests/fuzz.py --examples N`` runs the same properties N times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzzing import any_texts, graphs
from hypothesis import given
from hypothesis import strategies as st

from argmine.batch import InputOptions, ModelSpec, Output, label_corpus, open_input
from argmine.batch.journal import JournalAppender
from argmine.cleanup import mask_spans
from argmine.graph import ArgumentGraph
from argmine.inputs import SURROGATE, InputTextError


# ---------------------------------------------------------------------------- parse
def check_parse(miner, text: str, clean: bool = True) -> None:
    """``parse`` gives a valid graph that names what it hid, or argmine's own error."""
    try:
        graph = miner.parse(text, clean=clean)
    except InputTextError as err:
        assert SURROGATE.search(text), f"refused a text without surrogates: {err}"
        return
    assert not SURROGATE.search(text), "a text with a surrogate was parsed"
    assert graph.text == text
    ids = {c.id for c in graph.components}
    for c in graph.components:
        assert 0 <= c.start < c.end <= len(text) and text[c.start : c.end] == c.text
    for r in graph.relations:
        assert r.source in ids and r.target in ids and r.source != r.target
    masked = graph.metadata["masked"]
    if not clean:
        assert masked == []
    visible = mask_spans(text, [_span(m) for m in masked])
    for c in graph.components:  # a unit begins and ends on text the model saw
        assert not visible[c.start].isspace() and not visible[c.end - 1].isspace(), c
    assert miner.parse(text, clean=clean).to_dict() == graph.to_dict()  # deterministic


def _span(data: dict):
    from argmine.cleanup import MaskedSpan

    return MaskedSpan(**data)


@given(text=any_texts(), clean=st.booleans())
def test_parse_any_text_gives_a_valid_graph_or_argmines_error(tiny_miner, text, clean):
    check_parse(tiny_miner, text, clean)


# ---------------------------------------------------------------------------- formats
def check_round_trips(graph: ArgumentGraph) -> None:
    """JSON, AIF/xAIF, brat and networkx read back into the same graph."""
    expected = graph.to_dict()
    assert ArgumentGraph.from_json(graph.to_json()).to_dict() == expected
    assert ArgumentGraph.from_aif(json.loads(json.dumps(graph.to_aif()))).to_dict() == expected
    assert ArgumentGraph.from_networkx(graph.to_networkx()).to_dict() == expected
    txt, ann = graph.to_brat()
    from_brat = ArgumentGraph.from_brat(txt, ann).to_dict()
    if not graph.components:  # documented: brat has nowhere to keep a bare graph's metadata
        from_brat["metadata"], expected = {}, {**expected, "metadata": {}}
    assert from_brat == expected


@pytest.mark.filterwarnings("ignore:.*metadata.*:UserWarning")
@given(graph=graphs())
def test_every_format_round_trips(graph):
    check_round_trips(graph)


# ---------------------------------------------------------------------------- batch
class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler of argmine's catches it."""


class CachedMiner:
    """The tiny model, remembering each text's graph: the batch property runs thousands of
    labelling runs, and what it checks is the journal, not the model."""

    def __init__(self, miner) -> None:
        self.miner = miner
        self.cache: dict[tuple[str, bool], dict] = {}

    def pipe(self, texts, batch_size=16, clean=True, **_):
        return [self.parse(t, clean=clean) for t in texts]

    def parse(self, text, clean=True, **_):
        key = (text, clean)
        if key not in self.cache:
            self.cache[key] = self.miner.parse(text, clean=clean).to_dict()
        return ArgumentGraph.from_dict(self.cache[key])


BATCH_TEXTS = [
    "We should ban cars. They pollute the air.",
    "Tuition should be free. Education benefits everyone.",
    "Leave a Reply\n\nFill in your details below or click an icon to log in:",
    "",
    "a\ud800b",
]


def run_with_kills(folder: Path, records: list[dict], kills: list[int], fmt: str, miner) -> list:
    """Label ``records``, killed after each byte count in ``kills`` (counted from the start of
    that run's writes: 0 kills before anything is written), then resumed to the end."""
    source_path = folder / "in.jsonl"
    source_path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    output = folder / ("out.jsonl" if fmt == "jsonl" else "out")
    spec = ModelSpec("tiny")
    spec.check = lambda: None
    spec.identity = lambda: ("tiny", "0.0.1")
    spec.load = lambda: miner
    original = JournalAppender.write_batch
    for budget in [*kills, None]:
        written = 0

        def write_batch(self, lines, budget=budget):
            nonlocal written
            data = b"".join(line.encode("utf-8") + b"\n" for line in lines)
            if budget is not None and written + len(data) >= budget:
                cut = data[: budget - written]
                if self.handle is None:
                    self.handle = self.path.open("ab")
                self.handle.write(cut)
                self.handle.flush()
                raise Killed
            written += len(data)
            original(self, lines)

        JournalAppender.write_batch = write_batch
        try:
            source = open_input(str(source_path), InputOptions())
            label_corpus(source, Output(output, fmt), spec, batch_size=2)
        except Killed:
            continue
        finally:
            JournalAppender.write_batch = original
    journal = output if fmt == "jsonl" else output / "records.jsonl"
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


def check_kills_then_resume(tmp: Path, miner, indices: list[int], kills: list[int], fmt: str):
    records = [{"id": f"r{i}", "text": BATCH_TEXTS[k]} for i, k in enumerate(indices)]
    (tmp / "clean").mkdir()
    (tmp / "killed").mkdir()
    expected = run_with_kills(tmp / "clean", records, [], fmt, miner)
    got = run_with_kills(tmp / "killed", records, kills, fmt, miner)
    assert [r["id"] for r in got] == [r["id"] for r in records]  # each exactly once, in order
    assert got == expected
    for record, out in zip(records, got, strict=True):
        assert (out["error"] is None) == (not SURROGATE.search(record["text"]))


@given(
    indices=st.lists(st.integers(0, len(BATCH_TEXTS) - 1), min_size=1, max_size=7),
    kills=st.lists(st.integers(0, 3000), max_size=4),
    fmt=st.sampled_from(["jsonl", "aif"]),
)
def test_batch_killed_anywhere_then_resumed_gives_every_record_once(
    tmp_path_factory, tiny_miner, indices, kills, fmt
):
    tmp = tmp_path_factory.mktemp("kills")
    check_kills_then_resume(tmp, CachedMiner(tiny_miner), indices, kills, fmt)
