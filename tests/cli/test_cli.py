"""The entry point itself, whatever the subcommand."""

from __future__ import annotations

import subprocess
import sys

import pytest

from argmine import ArgumentGraph, Component


def test_a_reader_that_stops_early_gets_no_traceback():
    process = subprocess.Popen(
        [sys.executable, "-m", "argmine", "corpus", "stats"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # like `argmine corpus stats | head -0`
    err = process.stderr.read().decode()
    assert process.wait() in (0, 141)
    assert "Traceback" not in err and "BrokenPipeError" not in err


MODEL_FREE_COMMANDS = [
    ["--help"],
    ["models"],
    ["corpus", "stats", "cdcp"],
    ["fetch-base", "--help"],
    ["render", "GRAPH", "-o", "OUT"],
]


@pytest.mark.parametrize("command", MODEL_FREE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_commands_that_need_no_model_import_neither_torch_nor_transformers(command, tmp_path):
    graph = ArgumentGraph(
        "We should ban cars. They pollute.",
        [Component("c0", 0, 18, "We should ban cars", "conclusion")],
    )
    (tmp_path / "graph.json").write_text(graph.to_json())
    argv = [{"GRAPH": str(tmp_path / "graph.json"), "OUT": str(tmp_path / "g.html")}.get(a, a)
            for a in command]  # fmt: skip
    probe = (
        "import sys\nfrom argmine.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({'torch', 'transformers'} & set(sys.modules))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "HEAVY []" in result.stderr, result.stderr[-2000:]
