"""The web page of ``argmine serve`` in headless Chromium, with the shipped model.

Playwright drives the system's Chromium (Debian's ``chromium`` package; nothing is downloaded).
A screenshot of the page is saved under pytest's tmp path and its path printed (``pytest -s``).
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("fastapi", reason="argmine serve needs the serve extra")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")

from browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from serving import ServerProcess, serve_command  # noqa: E402

"""Without the network flags Chromium calls home at start, and this machine's network is closed."""

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real command with the shipped model (no --model)."""
    running = ServerProcess(serve_command(), tmp_path_factory.mktemp("serve") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that records every address it asks for."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    opened.requested = []
    opened.on("request", lambda request: opened.requested.append(request.url))
    opened.errors = []
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()


def assert_stayed_local(page, server) -> None:
    """Every request went to the server (or stayed in the page: data:, blob:)."""
    elsewhere = [
        url
        for url in page.requested
        if not url.startswith((server.base + "/", "data:", "blob:", "about:"))
    ]
    assert elsewhere == []
    assert page.errors == []


def test_contactpoint_counterfactual_conclusion_is_highlighted(page, server, tmp_path):
    from argmine.corpus import load_graphs

    text = load_graphs("contactpoint")[0].text
    page.goto(server.base + "/")
    page.fill("#text", text)
    page.click("#parse")
    page.wait_for_selector("#view mark", timeout=120_000)

    marks = page.locator("#view mark", has_text="would have made no difference")
    assert marks.count() == 1
    mark = marks.first
    assert mark.get_attribute("data-type") == "conclusion"
    assert "counterfactual" in mark.get_attribute("class").split()
    assert mark.locator(".counterfactual-label").inner_text().lower() == "counterfactual"
    # conclusions are listed first, and the counterfactual one is marked there too
    first = page.locator("#view ol.components li").first
    assert "type-conclusion" in first.get_attribute("class")
    assert page.locator("#view ol.components li.counterfactual").count() >= 1
    assert page.locator("#view table.relations tr.relation").count() >= 1
    assert "components" in page.inner_text("#status")

    with page.expect_download() as download_info:
        page.click("#download-aif")
    aif = download_info.value.path().read_text(encoding="utf-8")
    assert '"AIF"' in aif and "would have made no difference" in aif

    screenshot = tmp_path / "serve-page-contactpoint.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot of the page: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    assert_stayed_local(page, server)


def test_an_html_file_is_read_on_the_server(page, server, tmp_path):
    pytest.importorskip("trafilatura", reason="reading HTML needs the html extra")
    paragraph = (
        "Cities should ban cars from their centres. Cars pollute the air that children "
        "breathe. A study found that traffic causes 40% of asthma cases in the city."
    )
    upload = tmp_path / "op-ed.html"
    upload.write_text(
        "<html><head><title>Op-ed</title></head><body><nav>Home | About us</nav>"
        f"<article><h1>Ban cars</h1><p>{paragraph}</p><p>{paragraph}</p></article></body></html>",
        encoding="utf-8",
    )
    page.goto(server.base + "/")
    page.set_input_files("#file", str(upload))
    page.wait_for_function("document.getElementById('text').value.includes('<article>')")
    assert "op-ed.html" in page.inner_text("#source")
    page.click("#parse")
    page.wait_for_selector("#view mark", timeout=60_000)
    shown = page.input_value("#text")
    assert paragraph in shown and "<p>" not in shown  # the text box now holds what was parsed
    assert page.locator("#download-json").get_attribute("download") == "op-ed.json"
    assert_stayed_local(page, server)


def test_errors_are_shown_on_the_page(page, server):
    page.goto(server.base + "/")
    page.click("#parse")
    assert "Paste a text" in page.inner_text("#status")
    page.evaluate("document.getElementById('text').value = 'x'.repeat(1000001)")
    page.click("#parse")
    assert "1,000,000" in page.inner_text("#status")


def test_api_docs_render_offline(page, server):
    page.goto(server.base + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/parse", "/parse/batch", "/health"} <= {p.strip() for p in paths}
    assert_stayed_local(page, server)


@pytest.mark.skipif(shutil.which("dot") is None, reason="the graph's picture needs Graphviz")
def test_the_graph_is_drawn_and_a_node_finds_its_text(page, server, tmp_path):
    """The server's SVG: a node per component, conclusions on top, weak links faint; a click on
    a node scrolls to its text and flashes it."""
    from conftest import TINY_TEXTS

    page.goto(server.base + "/")
    page.fill("#text", TINY_TEXTS[0][0])
    page.click("#parse")
    page.wait_for_selector("#view figure.picture svg g.node", timeout=120_000)

    listed = page.locator("#view ol.components li").evaluate_all(
        "items => items.map(li => ({id: li.dataset.id, conclusion: "
        "li.classList.contains('type-conclusion')}))"
    )
    nodes = page.locator("#view figure.picture g.node")
    node_ids = nodes.evaluate_all("gs => gs.map(g => g.id)")
    assert sorted(node_ids) == sorted(f"node-{c['id']}" for c in listed)
    relations = page.locator("#view table.relations tr.relation")
    assert page.locator("#view figure.picture g.edge").count() == relations.count() >= 1
    weak_rows = page.locator("#view table.relations tr.relation.weak").count()
    assert page.locator("#view figure.picture g.edge.weak").count() == weak_rows

    # Every node's top, read in one step relative to the picture: the page scrolls smoothly to
    # the result after a parse, so positions read one by one against the viewport would race it.
    tops = nodes.evaluate_all(
        "gs => Object.fromEntries(gs.map(g => [g.id, g.getBoundingClientRect().top"
        " - g.ownerSVGElement.getBoundingClientRect().top]))"
    )

    def top(node_id: str) -> float:
        return tops[node_id]

    conclusions = [f"node-{c['id']}" for c in listed if c["conclusion"]]
    others = [f"node-{c['id']}" for c in listed if not c["conclusion"]]
    assert conclusions, "the shipped model finds the conclusion of this text"
    assert max(top(n) for n in conclusions) < min(top(n) for n in others)

    lowest = max(node_ids, key=top)  # the node furthest down the picture
    component = lowest.removeprefix("node-")
    page.locator(f"#view figure.picture g[id='{lowest}']").click()
    page.wait_for_selector(f"#view #arg-{component}.flash", timeout=5_000)
    page.wait_for_function(  # scrolled to: the text is on screen
        "id => { const r = document.getElementById('arg-' + id).getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
        arg=component,
        timeout=5_000,
    )
    assert "selected" in page.locator(f"#view g[id='{lowest}']").get_attribute("class")

    screenshot = tmp_path / "serve-page-graph.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot of the page with its graph: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    assert_stayed_local(page, server)
