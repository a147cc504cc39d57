"""The package's layout is its architecture (docs/architecture.md): each room has one job and
imports point one way. These checks keep it so."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "argmine"
MAX_ROOT_MODULES = 12
MAX_LINES = 600
GRAPH_CONVENIENCES = ("to_", "from_")
"""The graph's own ``to_*``/``from_*`` methods import their format lazily: the one allowed
way back from :mod:`argmine.graph` to :mod:`argmine.formats`."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The argmine modules ``name`` imports, at the top or inside functions."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    if name == "argmine.graph":
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith(GRAPH_CONVENIENCES):
                skipped |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {_owner(n) for n in names if n.startswith("argmine")}
    return found - {name, None}


def _owner(dotted: str) -> str | None:
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def import_cycles() -> list[list[str]]:
    """Every cycle's modules (strongly connected parts of more than one module)."""
    graph = {name: imports_of(name) for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                cycles.append(sorted(part))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycles():
    assert import_cycles() == []


def test_the_cycle_check_sees_a_cycle(monkeypatch):
    """Without the graph's conveniences exempted, their lazy imports close a cycle."""
    monkeypatch.setattr(sys.modules[__name__], "GRAPH_CONVENIENCES", ("no such method",))
    assert any("argmine.graph" in cycle for cycle in import_cycles())


def test_few_modules_at_the_package_root():
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root


def test_no_module_is_long():
    long = {
        name: n for name, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_server_has_a_folder_of_its_own():
    assert (PACKAGE / "server" / "__init__.py").is_file()
    assert not (PACKAGE / "server.py").exists()


def test_the_hub_never_imports_the_model():
    """Model management (names, folders, bases, cards) works without the network's code."""
    for name in MODULES:
        if name.startswith("argmine.hub"):
            assert not {m for m in imports_of(name) if m.startswith("argmine.model")}, name


def test_the_hub_imports_no_torch():
    code = (
        "import sys, argmine.hub.registry, argmine.hub.bases, argmine.hub.folders, "
        "argmine.hub.cards; print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
