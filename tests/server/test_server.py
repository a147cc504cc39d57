"""``argmine serve``: the real server in a subprocess on a free local port, spoken to over HTTP.

Two servers: the command itself with the tiny model (``--max-chars 5000``), and the same app
around a model that fails, sleeps or detects concurrent use when a text asks it to
(``tests/instrumented_server.py``), for the 500s, batching and ``/health`` under load.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="argmine serve needs the serve extra")
pytest.importorskip("uvicorn", reason="argmine serve needs the serve extra")

from conftest import TINY_TEXTS, assert_one_line_error  # noqa: E402
from serving import ServerProcess, serve_command  # noqa: E402

import argmine  # noqa: E402
from argmine.cli import main  # noqa: E402

MAX_CHARS = 5000
TEXTS = [text for text, _, _ in TINY_TEXTS] + [
    "Smoking should be banned in parks. Children play there. Smoke harms them.",
    "We need more bike lanes. Cycling is healthy. If we had built them earlier, fewer people "
    "would have been hurt.",
]
SECRET = "Zanzibar-Quokka-7731"
"""A word sent in texts to the server: it must never show up in the server's log."""


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    running = ServerProcess(
        serve_command("--model", str(tiny_model_dir), "--max-chars", str(MAX_CHARS)), log
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def local_miner(tiny_model_dir):
    """The same model in this process: what the server's answers must equal."""
    return argmine.load(tiny_model_dir, device="cpu")


def post_json(server, path, payload):
    reply = server.post(path, payload)
    return reply.status, reply.json()


# ---------------------------------------------------------------------------- the API
def test_health_names_the_model_and_the_limit(server):
    reply = server.get("/health")
    assert reply.status == 200
    health = reply.json()
    assert health["status"] == "ok" and health["model"] == "tiny"
    assert health["max_chars"] == MAX_CHARS and health["busy"] is False
    assert health["argmine_version"] == argmine.__version__


def test_parse_returns_the_graph_the_library_returns(server, local_miner):
    for text in TEXTS:
        status, graph = post_json(server, "/parse", {"text": text})
        assert status == 200
        assert graph == local_miner.parse(text).to_dict()


def test_parse_graph_matches_the_documented_response_schema(server):
    from argmine.server import GraphOut

    _, graph = post_json(server, "/parse", {"text": TEXTS[0]})
    assert GraphOut.model_validate(graph).text == TEXTS[0]


def test_parse_formats(server, local_miner):
    text = TEXTS[0]
    graph = local_miner.parse(text)
    status, aif = post_json(server, "/parse", {"text": text, "format": "aif"})
    assert status == 200 and aif == json.loads(json.dumps(graph.to_aif()))
    status, brat = post_json(server, "/parse", {"text": text, "format": "brat"})
    assert status == 200 and [brat["txt"], brat["ann"]] == list(graph.to_brat())
    reply = server.post("/parse", {"text": text, "format": "dot"})
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/vnd.graphviz")
    assert reply.text == graph.to_dot()


def test_parse_keeps_given_segments(server):
    text = TEXTS[0]
    spans = [[0, 37], [39, 59]]
    status, graph = post_json(server, "/parse", {"text": text, "segments": spans})
    assert status == 200
    assert [[c["start"], c["end"]] for c in graph["components"]] == spans


def test_batch_returns_graphs_in_order(server, local_miner):
    status, graphs = post_json(server, "/parse/batch", {"texts": TEXTS})
    assert status == 200
    assert graphs == [local_miner.parse(text).to_dict() for text in TEXTS]
    status, dots = post_json(server, "/parse/batch", {"texts": TEXTS[:2], "format": "dot"})
    assert status == 200 and all(d.startswith("digraph") for d in dots)
    assert post_json(server, "/parse/batch", {"texts": []}) == (200, [])


def test_batch_segments_one_entry_per_text(server):
    texts = TEXTS[:2]
    status, graphs = post_json(
        server, "/parse/batch", {"texts": texts, "segments": [[[0, 37]], None]}
    )
    assert status == 200
    assert [(c["start"], c["end"]) for c in graphs[0]["components"]] == [(0, 37)]
    status, body = post_json(server, "/parse/batch", {"texts": texts, "segments": [None]})
    assert status == 422 and "1 entries for 2 texts" in body["detail"][0]["msg"]


def test_html_input_is_reduced_to_its_main_text(server):
    pytest.importorskip("trafilatura", reason="reading HTML needs the html extra")
    paragraph = (
        "Cities should ban cars from their centres. Cars pollute the air that children "
        "breathe, and a study found that traffic causes many asthma cases in the city."
    )
    page = (
        "<html><head><title>Op-ed</title><script>var tracking = 1;</script></head><body>"
        f"<nav>Home | About</nav><article><h1>Ban cars</h1><p>{paragraph}</p>"
        f"<p>{paragraph}</p></article></body></html>"
    )
    status, graph = post_json(server, "/parse", {"text": page, "html": True})
    assert status == 200
    assert paragraph in graph["text"] and "<p>" not in graph["text"]
    assert "tracking" not in graph["text"]
    status, body = post_json(server, "/parse", {"text": page, "html": True, "segments": [[0, 5]]})
    assert status == 422 and "segments cannot be given with html" in body["detail"][0]["msg"]


def test_view_returns_the_highlighted_view_graph_and_aif(server, local_miner):
    status, body = post_json(server, "/view", {"text": TEXTS[0]})
    assert status == 200
    graph = local_miner.parse(TEXTS[0])
    assert body["graph"] == graph.to_dict()
    assert body["aif"] == json.loads(json.dumps(graph.to_aif()))
    assert body["html"].count("<mark ") == len(graph.components)
    assert "<html" not in body["html"]  # a fragment for the page, not a page


# ---------------------------------------------------------------------------- bad input
def test_malformed_json_is_a_400_with_a_message(server):
    headers = {"Content-Type": "application/json"}
    reply = server.request("POST", "/parse", body=b'{"text": "Ban cars.",', headers=headers)
    assert reply.status == 400
    assert reply.json()["detail"].startswith("malformed JSON: ")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": 5}, ["body", "text"]),
        ({"text": None}, ["body", "text"]),
        ({}, ["body", "text"]),
        ({"text": "Ban cars.", "format": "pdf"}, ["body", "format"]),
        ({"text": "Ban cars.", "segments": [[0, "5"]]}, ["body", "segments", 0, 1]),
        ({"text": "Ban cars.", "segments": [[3, 2]]}, ["body"]),
        ({"text": "Ban cars.", "segments": [[0, 99]]}, ["body"]),
        ({"text": "Ban cars.", "html": "yes"}, ["body", "html"]),
        ({"text": "Ban cars.", "colour": "red"}, ["body", "colour"]),
        (["Ban cars."], ["body"]),
    ],
)
def test_wrong_fields_are_a_422_naming_the_field(server, payload, field):
    status, body = post_json(server, "/parse", payload)
    assert status == 422
    assert any(error["loc"] == field for error in body["detail"]), body
    assert all("input" not in error for error in body["detail"])  # the text is not echoed


def test_batch_with_wrong_types_is_a_422(server):
    status, body = post_json(server, "/parse/batch", {"texts": ["fine", 7]})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "texts", 1]
    status, _ = post_json(server, "/parse/batch", {"texts": "not a list"})
    assert status == 422


def test_a_body_that_is_not_json_is_a_415(server):
    reply = server.request(
        "POST", "/parse", body=b"Ban cars.", headers={"Content-Type": "text/plain"}
    )
    assert reply.status == 415 and "application/json" in reply.json()["detail"]


def test_text_over_max_chars_is_a_413(server):
    status, body = post_json(server, "/parse", {"text": "a" * (MAX_CHARS + 1)})
    assert status == 413
    assert "5,001 characters" in body["detail"] and "5,000" in body["detail"]
    assert post_json(server, "/parse", {"text": "Ban cars. " * (MAX_CHARS // 10)})[0] == 200
    status, body = post_json(server, "/parse/batch", {"texts": ["a" * 3000, "b" * 3000]})
    assert status == 413 and "the batch has 6,000 characters" in body["detail"]


def raw_request(server, head: bytes, chunks=()) -> tuple[bytes, bool]:
    """Send ``head`` and then ``chunks`` on a plain socket; the reply, and whether the server
    took the whole body (it may answer and close the connection before that)."""
    with socket.create_connection((server.host, server.port), timeout=60) as sock:
        sock.sendall(head)
        sent_all = True
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            sent_all = False
        reply = b""
        try:
            while data := sock.recv(65536):
                reply += data
        except ConnectionResetError:
            sent_all = False
        return reply, sent_all


def test_a_huge_body_is_refused_before_it_is_read(server):
    """Over 8 bytes per allowed character (plus 1 MiB): refused by its Content-Length before
    any of it is sent, or, sent in chunks with no length, as soon as it grows too big."""
    head = (
        b"POST /parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\nConnection: close\r\n\r\n"
    )
    reply, _ = raw_request(server, head)  # the body never comes: the answer must not wait for it
    assert reply.startswith(b"HTTP/1.1 413 ") and b"request body is over" in reply

    head = (
        b"POST /parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    piece = b"a" * 65536
    chunks = [b'10\r\n{"text": "aaaaaa\r\n'] + [b"10000\r\n" + piece + b"\r\n"] * 160
    reply, sent_all = raw_request(server, head, chunks + [b"0\r\n\r\n"])
    assert (reply.startswith(b"HTTP/1.1 413 ") and b"request body is over" in reply) or (
        not sent_all  # the server hung up while 10 MB were still on their way
    ), reply[:300]
    assert server.get("/health").status == 200


def test_unknown_paths_and_methods_answer_json(server):
    reply = server.get("/nope")
    assert reply.status == 404 and "no such endpoint: /nope" in reply.json()["detail"]
    reply = server.get("/parse")
    assert reply.status == 405 and "GET is not allowed" in reply.json()["detail"]


def test_only_requests_addressed_to_localhost_are_answered(server):
    """A page elsewhere cannot reach the local server by DNS rebinding (Host: its domain)."""
    reply = server.get("/health", headers={"Host": "attacker.example"})
    assert reply.status == 400 and "attacker.example" in reply.json()["detail"]
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", "[::1]"):
        assert server.get("/health", headers={"Host": host}).status == 200


# ---------------------------------------------------------------------------- page and docs
EXTERNAL = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import"""
)
"""An address of another host in a page: a script, style, image, link or form elsewhere."""


def test_page_is_self_contained(server):
    reply = server.get("/")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    page = reply.text
    assert not EXTERNAL.search(page)
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert 'id="text"' in page and 'id="file"' in page and "/view" in page
    assert f"MAX_CHARS = {MAX_CHARS};" in page and "__" not in page.split("<script>")[0]
    assert "mark.component.counterfactual" in page  # render.py's styles are in


def test_docs_work_offline(server):
    reply = server.get("/docs")
    assert reply.status == 200
    docs = reply.text
    assert not EXTERNAL.search(docs)
    assets = re.findall(r"""(?:src|href)=["']?(/[^"' >]+)""", docs)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert server.get(asset).status == 200, asset
    schema = server.get("/openapi.json").json()
    assert {"/parse", "/parse/batch", "/health", "/view"} <= set(schema["paths"])
    assert server.get("/redoc").status == 404  # ReDoc would load its script from a CDN


# ---------------------------------------------------------------------------- concurrency
def test_concurrent_requests_each_get_their_own_graph(server, local_miner):
    texts = [f"{text} Case {i}." for i, text in enumerate(TEXTS * 6)]
    expected = [local_miner.parse(text).to_dict() for text in texts]
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda t: post_json(server, "/parse", {"text": t}), texts))
    assert [status for status, _ in replies] == [200] * len(texts)
    assert [graph for _, graph in replies] == expected


@pytest.fixture(scope="module")
def instrumented(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("instrumented")
    script = Path(__file__).resolve().parents[1] / "instrumented_server.py"
    batch_log = folder / "batches.txt"
    running = ServerProcess(
        [sys.executable, str(script), str(tiny_model_dir), str(batch_log)], folder / "server.log"
    )
    running.batch_log = batch_log
    yield running
    running.stop()


def wait_until_busy(server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not server.get("/health").json()["busy"]:
        assert time.monotonic() < deadline, "the model never became busy"
        time.sleep(0.02)


def test_model_failure_is_a_500_with_a_message_and_the_server_goes_on(instrumented):
    status, body = post_json(instrumented, "/parse", {"text": f"{SECRET}. PLEASE FAIL."})
    assert status == 500
    assert body["detail"] == (
        "the model failed on this input: RuntimeError: the model broke (on purpose, for a test)"
    )
    assert instrumented.get("/health").status == 200
    status, graph = post_json(instrumented, "/parse", {"text": TEXTS[0]})
    assert status == 200 and graph["text"] == TEXTS[0]
    log = instrumented.log()
    assert "Traceback" in log and "the model broke" in log  # the details go to the log
    assert SECRET not in log  # the text does not


def test_health_answers_while_a_long_parse_runs(instrumented):
    done = []
    slow = threading.Thread(
        target=lambda: done.append(post_json(instrumented, "/parse", {"text": "SLEEP 3. Ban."}))
    )
    slow.start()
    try:
        wait_until_busy(instrumented)
        started = time.monotonic()
        reply = instrumented.get("/health")
        assert reply.status == 200 and reply.json()["busy"] is True
        assert time.monotonic() - started < 1.0
        assert instrumented.get("/").status == 200
        assert not done  # the slow parse is still going
    finally:
        slow.join()
    assert done[0][0] == 200


def test_waiting_requests_are_parsed_together_and_answered_separately(instrumented, tiny_model_dir):
    """While the model is busy, requests queue; the next call parses them as one batch, each
    gets its own graph, and one that fails fails alone. Two threads never use the model.
    (--batch-size 16 and float32 precision, whose graphs do not depend on the batch.)"""
    local_miner = argmine.load(tiny_model_dir, device="cpu", precision="float32")
    texts = [f"{text} Number {i}." for i, text in enumerate(TEXTS)]
    failing = f"{SECRET} PLEASE FAIL."
    slow = ThreadPoolExecutor(1).submit(post_json, instrumented, "/parse", {"text": "SLEEP 2."})
    wait_until_busy(instrumented)
    before = instrumented.batch_log.read_text().split()
    with ThreadPoolExecutor(len(texts) + 1) as pool:
        replies = list(
            pool.map(lambda t: post_json(instrumented, "/parse", {"text": t}), texts + [failing])
        )
    assert slow.result()[0] == 200
    assert [status for status, _ in replies] == [200] * len(texts) + [500]
    assert [graph for _, graph in replies[:-1]] == [local_miner.parse(t).to_dict() for t in texts]
    calls = [int(n) for n in instrumented.batch_log.read_text().split()[len(before) :]]
    assert max(calls) > 1, calls  # some requests shared a call to the model


# ---------------------------------------------------------------------------- the command
def test_serve_stops_cleanly_on_ctrl_c(tiny_model_dir, tmp_path):
    running = ServerProcess(serve_command("--model", str(tiny_model_dir)), tmp_path / "log")
    assert running.stop() == 0
    log = running.log()
    assert "Traceback" not in log and log.rstrip().endswith("argmine serve: stopped")


def test_serve_with_a_missing_model_is_a_one_line_error(capsys, tmp_path):
    code = main(["serve", "--port", "0", "--model", str(tmp_path / "nowhere")])
    assert_one_line_error(code, capsys.readouterr().err, "cannot load the model", "nowhere")


def test_serve_on_a_busy_port_is_a_one_line_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port)])
    assert_one_line_error(code, capsys.readouterr().err, f"127.0.0.1:{port}", "--port")


@pytest.mark.parametrize(
    "args", [["--port", "70000"], ["--max-chars", "0"], ["--port", "x"], ["--batch-size", "0"]]
)
def test_serve_rejects_bad_options(capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *args])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_serve_without_the_serve_extra_says_what_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    code = main(["serve", "--port", "0"])
    assert_one_line_error(code, capsys.readouterr().err, "pip install 'argmine[serve]'")


def test_other_commands_work_without_the_serve_extra():
    """Every command builds the serve parser: it must not need FastAPI."""
    code = (
        "import sys; sys.modules['fastapi'] = sys.modules['uvicorn'] = None\n"
        "from argmine.cli import main\n"
        "main(['--help'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout


def test_command_and_server_share_the_defaults():
    from argmine import server
    from argmine.cli import serve

    assert serve.DEFAULT_MAX_CHARS == server.DEFAULT_MAX_CHARS == 1_000_000
    assert serve.DEFAULT_BATCH_SIZE == server.DEFAULT_BATCH_SIZE == 1


def test_serving_beyond_this_machine_comes_with_a_warning(capsys):
    from types import SimpleNamespace

    from argmine.cli.serve import _announce, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    state = SimpleNamespace(model="tiny", model_version="0.0.1")
    app = SimpleNamespace(state=SimpleNamespace(argmine=state))
    _announce(app, "127.0.0.1", 8000)
    out, err = capsys.readouterr()
    assert "tiny 0.0.1 on http://127.0.0.1:8000/" in out and err == ""
    _announce(app, "0.0.0.0", 8000)
    assert "no authentication" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_parse_as_svg_draws_a_node_per_component(server, local_miner):
    reply = server.post("/parse", {"text": TEXTS[0], "format": "svg"})
    assert reply.status == 200 and reply.headers["content-type"].startswith("image/svg+xml")
    graph = local_miner.parse(TEXTS[0])
    for component in graph:
        assert f'id="node&#45;{component.id}" class="node component' in reply.text
    assert reply.text.count('class="node component') == len(graph.components)
