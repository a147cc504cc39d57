"""Shared fixtures: small hand-made graphs and a tiny model trained on them in seconds."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from argmine.graph import ArgumentGraph, Component, Relation  # noqa: E402

TINY_TEXTS = [
    (
        "We should ban cars in the city centre. Cars pollute the air. "
        "A 2019 study found that 40% of asthma cases there come from traffic. "
        "Some say shops need customers who drive. But buses bring more customers than cars.",
        [
            ("We should ban cars in the city centre", "conclusion"),
            ("Cars pollute the air", "claim"),
            ("A 2019 study found that 40% of asthma cases there come from traffic", "evidence"),
            ("Some say shops need customers who drive", "claim"),
            ("But buses bring more customers than cars", "claim"),
        ],
        [(1, 0, "support"), (2, 1, "support"), (3, 0, "attack"), (4, 3, "attack")],
    ),
    (
        "Tuition should be free. Education benefits everyone in society. "
        "Graduates paid 30% more tax over their lives according to the ministry.",
        [
            ("Tuition should be free", "conclusion"),
            ("Education benefits everyone in society", "claim"),
            ("Graduates paid 30% more tax over their lives according to the ministry", "evidence"),
        ],
        [(1, 0, "support"), (2, 1, "support")],
    ),
]


def make_graph(text: str, units, links, doc_id: str = "doc") -> ArgumentGraph:
    """A gold graph from unit strings (found in ``text``) and ``(source, target, type)`` indices."""
    components = []
    for i, (unit, kind) in enumerate(units):
        start = text.index(unit)
        components.append(Component(f"c{i}", start, start + len(unit), unit, kind))
    relations = [Relation(f"c{s}", f"c{t}", kind) for s, t, kind in links]
    return ArgumentGraph(text, components, relations, metadata={"id": doc_id, "source": "tiny"})


def assert_whole_word_units(graph: ArgumentGraph) -> None:
    """What segmentation promises beyond the graph's own checks (which already hold every
    component's text to ``text[start:end]``): units begin and end on a word, never inside
    one or on white space, and do not overlap."""
    text, previous_end = graph.text, 0
    for c in graph:  # text order
        assert not text[c.start].isspace() and not text[c.end - 1].isspace(), c
        assert c.start == 0 or not (text[c.start - 1].isalnum() and text[c.start].isalnum()), c
        assert c.end == len(text) or not (text[c.end - 1].isalnum() and text[c.end].isalnum()), c
        assert c.start >= previous_end, f"{c} overlaps the unit before it"
        previous_end = c.end


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    """A user error: exit status 2 and one ``argmine: error:`` line naming ``fragments``."""
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("argmine: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def tiny_graphs() -> list[ArgumentGraph]:
    return [make_graph(t, u, r, f"tiny{i}") for i, (t, u, r) in enumerate(TINY_TEXTS)]


@pytest.fixture(scope="session")
def tiny_miner(tiny_graphs):
    """A one-layer model trained for a few steps: fast, and good enough to return real graphs."""
    return train_tiny_miner(tiny_graphs)


def train_tiny_miner(graphs):
    """The tiny model's recipe (the fixture above, and ``tests/fuzz.py`` outside pytest)."""
    from argmine.training import TrainConfig, train

    config = TrainConfig(
        name="tiny",
        version="0.0.1",
        encoder_layers=1,
        max_steps=40,
        batch_size=2,
        encoder_lr=1e-4,
        head_lr=3e-3,
        log_every=1000,
    )
    return train(config, graphs * 3, log=lambda line: None)


@pytest.fixture(scope="session")
def calibrated_run(tmp_path_factory, tiny_graphs):
    """A tiny model trained with dev tuning, its log lines and its folder: one run for the tests
    of the end-of-training link temperature and link calibration."""
    from argmine.training import TrainConfig, train

    folder = tmp_path_factory.mktemp("calibrated") / "m"
    lines: list[str] = []
    config = TrainConfig(
        name="calibrated",
        encoder_layers=1,
        max_steps=4,
        batch_size=2,
        log_every=100,
        none_weights=[0.25, 1.0],
        min_link_scores=[0.0, 0.3],
        output_dir=str(folder),
    )
    miner = train(config, tiny_graphs, dev_graphs=tiny_graphs * 2, log=lines.append)
    return miner, lines, folder


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_miner, tmp_path_factory):
    """The tiny model saved to disk, for tests of loading and the command line."""
    path = tmp_path_factory.mktemp("models") / "tiny"
    tiny_miner.save_pretrained(path)
    return path


@pytest.fixture
def shared_miner(monkeypatch, tiny_miner, tiny_model_dir):
    """Loading ``tiny_model_dir`` returns the session's miner: command-line tests stay fast."""
    from argmine.pipeline import ArgumentMiner

    original = ArgumentMiner.from_pretrained.__func__

    def from_pretrained(cls, path=None, device="cpu", **options):
        if path is not None and str(path) == str(tiny_model_dir):
            return tiny_miner
        return original(cls, path, device, **options)

    monkeypatch.setattr(ArgumentMiner, "from_pretrained", classmethod(from_pretrained))
    return tiny_miner


def pytest_sessionfinish(session, exitstatus):
    """With ARGMINE_NO_SKIP set (.ci/run sets it), a skipped test fails the run: CI installs
    everything every test needs, so a skip there means a missing install step (a skip for a
    GPU, which no install gives, and one for a large base encoder that CI never downloads,
    are the exceptions)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = [
        report
        for report in (reporter.stats.get("skipped", []) if reporter else [])
        if not any(word in _skip_reason(report) for word in ALLOWED_IN_CI)
    ]
    if not os.environ.get("ARGMINE_NO_SKIP") or not skipped:
        return
    title = f"ARGMINE_NO_SKIP: {len(skipped)} skipped, which fails this run"
    reporter.write_sep("=", title, red=True)
    for report in skipped:
        reporter.write_line(f"{report.nodeid}: {_skip_reason(report)}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


HARDWARE_NOT_IN_CI = ("CUDA", "GPU", "MPS")
"""Skips for hardware no install step can provide (CI machines have no GPU) are allowed."""
BASE_NOT_FETCHED = "argmine fetch-base"
"""Skips naming the command that fetches a base encoder CI never downloads (~400 MB)."""
ALLOWED_IN_CI = (*HARDWARE_NOT_IN_CI, BASE_NOT_FETCHED)


def _skip_reason(report) -> str:
    return str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
