"""The terminal tree, the HTML view and the SVG picture; ``argmine render``; a real browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from browser import CHROMIUM, CHROMIUM_FLAGS

from argmine.cli import main
from argmine.graph import ArgumentGraph, Component, Relation
from argmine.render import graph_html, graph_svg, graph_tree


def test_tree_puts_conclusions_at_the_root(tiny_graphs):
    tree = graph_tree(tiny_graphs[0])
    lines = tree.splitlines()
    assert lines[0] == "[conclusion] We should ban cars in the city centre"
    assert lines[1] == "├── support ← [claim] Cars pollute the air"
    assert lines[2].startswith("│   └── support ← [evidence] A 2019 study")
    assert lines[3] == "└── attack ← [claim] Some say shops need customers who drive"
    assert lines[4] == "    └── attack ← [claim] But buses bring more customers than cars"
    assert len(lines) == len(tiny_graphs[0].components)


def test_tree_shows_scores_ascii_and_colour():
    text = "Ban it. It harms."
    graph = ArgumentGraph(
        text,
        [
            Component("a", 0, 6, "Ban it", "conclusion", 0.9),
            Component("b", 8, 16, "It harms", "claim", 0.8),
        ],
        [Relation("b", "a", "support", 0.75)],
    )
    assert graph_tree(graph, ascii_only=True).splitlines() == [
        "[conclusion 0.90] Ban it",
        "`-- support 0.75 <- [claim 0.80] It harms",
    ]
    assert "\033[" in graph_tree(graph, color=True)


def test_tree_draws_every_component_once_even_in_a_cycle():
    text = "A is so. B is so. C is so."
    comps = [
        Component(x, i * 9, i * 9 + 7, text[i * 9 : i * 9 + 7], "claim")
        for i, x in enumerate("abc")
    ]
    rels = [
        Relation("a", "b", "support"),
        Relation("b", "a", "attack"),
        Relation("c", "a", "support"),
    ]
    lines = graph_tree(ArgumentGraph(text, comps, rels)).splitlines()
    for snippet in ("A is so", "B is so", "C is so"):
        assert any(snippet in line for line in lines)
    assert graph_tree(ArgumentGraph("nothing here")) == "(no argument components found)\n"


class MarkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.marks: list[dict] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            self.marks.append(dict(attrs))
        if tag == "script":
            self.scripts += 1


def test_html_marks_each_component_and_escapes_text():
    text = '<script>alert(1)</script> We must act & now. Because "it\'s late".'
    start = text.index("We must")
    end = text.index(".", start)
    because = text.index("Because")
    graph = ArgumentGraph(
        text,
        [
            Component("c0", start, end, text[start:end], "conclusion", 0.9),
            Component("c1", because, len(text) - 1, text[because:-1], "evidence", 0.7),
        ],
        [Relation("c1", "c0", "support", 0.8)],
        metadata={"id": "doc <1>"},
    )
    page = graph_html(graph)
    parser = MarkCollector()
    parser.feed(page)
    assert parser.scripts == 0  # the text's <script> is escaped, not run
    assert "&lt;script&gt;" in page
    assert [(m["data-id"], m["data-type"]) for m in parser.marks] == [
        ("c0", "conclusion"),
        ("c1", "evidence"),
    ]
    assert 'class="relation rel-support"' in page and "supports" in page
    assert "doc &lt;1&gt;" in page


COUNTERFACTUAL_TEXT = (
    "ContactPoint was scrapped. If ContactPoint had been running at the time it would have "
    "made no difference to the fate of these children. It cost too much."
)


def counterfactual_graph(antecedent=None, consequent=None) -> ArgumentGraph:
    """A hand-made graph: a counterfactual conclusion, supported by a plain claim."""
    text = COUNTERFACTUAL_TEXT
    start = text.index("If ContactPoint")
    end = text.index(".", start)
    cost = text.index("It cost")
    attributes = {"counterfactual": True, "counterfactual_score": 0.95}
    if antecedent is not None or consequent is not None:
        attributes |= {"antecedent": antecedent, "consequent": consequent}
    return ArgumentGraph(
        text,
        [
            Component("c0", 0, 25, text[:25], "claim", 0.8, {"counterfactual": False}),
            Component("c1", start, end, text[start:end], "conclusion", 0.9, attributes),
            Component("c2", cost, len(text) - 1, text[cost:-1], "claim", 0.7),
        ],
        [Relation("c2", "c1", "support", 0.6), Relation("c0", "c1", "attack", 0.5)],
    )


def marks_by_id(page: str) -> dict[str, str]:
    """Each ``<mark>``'s inner HTML, by component id."""
    return dict(re.findall(r'<mark [^>]*data-id="([^"]+)"[^>]*>(.*?)</mark>', page))


def test_html_marks_counterfactual_components():
    page = graph_html(counterfactual_graph())
    parser = MarkCollector()
    parser.feed(page)
    marks = {m["data-id"]: m for m in parser.marks}
    assert "counterfactual" in marks["c1"]["class"].split()
    assert marks["c1"]["data-counterfactual"] == "true"
    assert "counterfactual 0.95" in marks["c1"]["title"]
    assert "counterfactual-label" in marks_by_id(page)["c1"]
    for plain in ("c0", "c2"):  # false or absent: no marker
        assert "counterfactual" not in marks[plain]["class"].split()
        assert "counterfactual" not in marks_by_id(page)[plain]
    assert "antecedent" not in marks_by_id(page)["c1"]  # none given: none drawn
    assert '<span class="swatch counterfactual">' in page  # and the legend says what it means


def test_html_wraps_antecedent_and_consequent_inside_the_mark():
    text = COUNTERFACTUAL_TEXT
    antecedent = [text.index("If "), text.index(" it would")]
    consequent = [text.index("it would"), text.index(" to the fate")]
    page = graph_html(counterfactual_graph(antecedent, consequent))
    inner = marks_by_id(page)["c1"]
    assert inner.startswith(
        '<span class="antecedent" title="antecedent">'
        "If ContactPoint had been running at the time</span> "
        '<span class="consequent" title="consequent">it would have made no difference</span>'
        " to the fate of these children<span"
    )


@pytest.mark.parametrize(
    ("antecedent", "consequent"),
    [
        ([0, 10], None),  # outside the component
        ([60, 40], None),  # backwards
        ("27-40", [True, 50]),  # not offsets
        ([27, 40, 50], None),  # not a pair
    ],
)
def test_html_ignores_spans_that_do_not_fit(antecedent, consequent):
    inner = marks_by_id(graph_html(counterfactual_graph(antecedent, consequent)))["c1"]
    assert "antecedent" not in inner and "consequent" not in inner
    assert inner.startswith("If ContactPoint had been running")


def test_html_overlapping_parts_keep_the_first():
    text = COUNTERFACTUAL_TEXT
    start = text.index("If ")
    page = graph_html(counterfactual_graph([start, start + 30], [start + 20, start + 50]))
    inner = marks_by_id(page)["c1"]
    assert 'class="antecedent"' in inner and 'class="consequent"' not in inner
    assert re.sub(r"<[^>]+>", "", inner).startswith(text[start : text.index(".", start)])


def test_html_lists_components_conclusions_first():
    page = graph_html(counterfactual_graph())
    items = re.findall(r'<li class="component-item ([^"]*)" data-id="([^"]+)"', page)
    assert [data_id for _, data_id in items] == ["c1", "c0", "c2"]
    assert "counterfactual" in items[0][0].split()
    first = page[page.index('data-id="c1">') : page.index("</li>", page.index('data-id="c1">'))]
    assert "1 supporter, 1 attacker" in first


def test_view_is_the_page_without_its_frame():
    from argmine.render import graph_view

    graph = counterfactual_graph()
    view = graph_view(graph)
    assert "<html" not in view and "<style>" not in view
    assert view in graph_html(graph)


@pytest.fixture
def graph_file(tmp_path, tiny_graphs):
    path = tmp_path / "graph.json"
    path.write_text(tiny_graphs[0].to_json(), encoding="utf-8")
    return path


def test_render_html_command(capsys, tmp_path, graph_file, tiny_graphs):
    out = tmp_path / "view" / "graph.html"
    assert main(["render", str(graph_file), "-o", str(out), "--no-picture"]) == 0
    parser = MarkCollector()
    parser.feed(out.read_text(encoding="utf-8"))
    assert len(parser.marks) == len(tiny_graphs[0].components)


def test_render_picks_a_record_of_a_label_jsonl(capsys, tmp_path, tiny_graphs):
    path = tmp_path / "labels.jsonl"
    lines = [
        {"id": "bad", "graph": None, "error": "the text is null, not a string"},
        {"id": "second", "graph": tiny_graphs[1].to_dict(), "error": None},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    out = tmp_path / "second.html"
    assert main(["render", str(path), "--id", "second", "-o", str(out), "--no-picture"]) == 0
    assert "Tuition should be free" in out.read_text(encoding="utf-8")
    assert main(["render", str(path), "--id", "bad", "-o", str(out)]) == 2
    assert "has no graph" in capsys.readouterr().err
    assert main(["render", str(path), "--id", "nope", "-o", str(out)]) == 2


def test_render_bad_input(capsys, tmp_path, graph_file):
    assert main(["render", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.html")]) == 2
    assert main(["render", str(graph_file), "-o", str(tmp_path / "x.png")]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"text": "abc", "components": [{"id": "c0", "start": 0, "end": 9}]}')
    assert main(["render", str(broken), "-o", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 3


def test_svg_without_graphviz_says_install_graphviz(capsys, monkeypatch, tmp_path, graph_file):
    monkeypatch.setattr("argmine.render.shutil.which", lambda name: None)
    assert main(["render", str(graph_file), "-o", str(tmp_path / "g.svg")]) == 2
    assert "install graphviz" in capsys.readouterr().err
    assert main(["render", str(graph_file), "-o", str(tmp_path / "g.html")]) == 0  # no picture


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_with_graphviz(tmp_path, graph_file, tiny_graphs):
    svg = graph_svg(tiny_graphs[0])
    assert "<svg" in svg and "We should ban cars" in svg
    out = tmp_path / "g.svg"
    assert main(["render", str(graph_file), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    page = tmp_path / "g.html"
    assert main(["render", str(graph_file), "-o", str(page)]) == 0
    assert "<svg" in page.read_text(encoding="utf-8")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless browser (chromium) installed")
def test_html_in_a_real_browser(tmp_path, graph_file, tiny_graphs):
    """Chromium loads the page and its DOM holds one mark per component, with its label."""
    page = tmp_path / "graph.html"
    assert main(["render", str(graph_file), "-o", str(page)]) == 0
    done = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    parser = MarkCollector()
    parser.feed(done.stdout.decode("utf-8"))
    graph = tiny_graphs[0]
    assert [m["data-id"] for m in parser.marks] == [c.id for c in graph]
    assert [m["data-type"] for m in parser.marks] == [c.type for c in graph]
    dom = done.stdout.decode("utf-8")
    for component in graph:
        assert f">{component.text}<span" in dom


def test_weak_relations_look_like_guesses():
    from argmine.graph import ArgumentGraph, Component, Relation
    from argmine.render import graph_html, graph_tree

    text = "Ban cars. Cars pollute. Buses are fine."
    units = [(0, 8), (10, 22), (24, 38)]
    components = [
        Component(f"c{i}", a, b, text[a:b], "claim", 0.9) for i, (a, b) in enumerate(units)
    ]
    graph = ArgumentGraph(
        text,
        components,
        [Relation("c1", "c0", "support", 0.91), Relation("c2", "c0", "attack", 0.2)],
    )
    tree = graph_tree(graph)
    assert "support 0.91 " in tree and "attack 0.20? " in tree
    page = graph_html(graph)
    assert page.count('class="relation rel-attack weak"') == 1
    assert 'class="relation rel-support"' in page
    dot = graph.to_dot()
    assert "penwidth=2.77" in dot and "penwidth=1.00" in dot
