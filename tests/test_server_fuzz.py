"""The server fuzzed against its own OpenAPI schema (schemathesis, in process, tiny model).

Every request schemathesis generates from ``/openapi.json``, valid or not, must get a 2xx or
a status the schema documents for that endpoint (400/413/415/422...), never a 5xx, within
:data:`REQUEST_TIMEOUT` seconds; malformed bodies get 400, 413, 415 or 422. 50 requests per
operation and mode here; ``python tests/fuzz.py --server-requests N`` sends N in all.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

pytest.importorskip("fastapi", reason="argmine serve needs the serve extra")
schemathesis = pytest.importorskip("schemathesis", reason="server fuzzing needs the dev extra")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error, status_code_conformance  # noqa: E402

MAX_CHARS = 5000
REQUEST_TIMEOUT = 60.0
"""Seconds one request may take before it counts as a hang (the tiny model answers in ms)."""
PER_OPERATION = int(os.environ.get("ARGMINE_SERVER_FUZZ_PER_OPERATION", "50"))
BASE_URL = "http://localhost"
"""The server answers only requests addressed to a loopback name (DNS-rebinding guard)."""
LOCAL = {"Host": "localhost"}
MALFORMED_STATUSES = {400, 413, 415, 422}


@pytest.fixture(scope="module")
def app(tiny_miner):
    from argmine.server import create_app

    return create_app(tiny_miner, max_chars=MAX_CHARS)


@pytest.fixture(scope="module")
def schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers=LOCAL)


def fuzz_operations(schema, per_operation: int, modes) -> dict[str, int]:
    """Send ``per_operation`` generated requests per operation and mode; the number sent per
    operation. Fails on a 5xx, an undocumented status or a request slower than the timeout."""
    sent: dict[str, int] = {}
    pool = ThreadPoolExecutor(1)
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in modes:
                if mode == GenerationMode.NEGATIVE and operation.method.upper() == "GET":
                    continue  # GET /health takes nothing that could be invalid
                fuzz_operation(operation, mode, per_operation, pool, sent)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return sent


def fuzz_operation(operation, mode, examples: int, pool, sent: dict[str, int]) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=examples, database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        future = pool.submit(
            case.call_and_validate,
            base_url=BASE_URL,
            headers=LOCAL,
            checks=[not_a_server_error, status_code_conformance],
        )
        try:
            response = future.result(timeout=REQUEST_TIMEOUT)
        except FutureTimeout:
            pytest.fail(f"{label} took over {REQUEST_TIMEOUT} s: {case.body!r:.200}")
        key = f"{label} {response.status_code}"
        sent[key] = sent.get(key, 0) + 1

    check()


def test_every_generated_request_gets_a_documented_answer_never_a_5xx(schema):
    sent = fuzz_operations(
        schema, PER_OPERATION, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    )
    print(json.dumps(sent, indent=1, sort_keys=True))
    assert sum(sent.values()) >= 4 * PER_OPERATION  # hypothesis stops early on small spaces
    for operation in ("POST /parse", "POST /parse/batch", "POST /view"):
        assert sent.get(f"{operation} 200"), f"no generated request reached the model: {sent}"


@pytest.fixture(scope="module")
def client(tiny_miner):
    """Its own app: schemathesis's client runs the first app's lifespan, whose end stops it."""
    from starlette.testclient import TestClient

    from argmine.server import create_app

    app = create_app(tiny_miner, max_chars=MAX_CHARS)
    return TestClient(app, base_url=BASE_URL)  # no `with`: the app's lifespan stays running


@settings(max_examples=100)
@given(
    path=st.sampled_from(["/parse", "/parse/batch", "/view"]),
    body=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["text", "texts", "format", "segments"]), inner)
            ),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode("utf-8")),
    ),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "", "application/x-www-form-urlencoded"]
    ),
)
def test_malformed_bodies_get_400_413_415_or_422(client, path, body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    reply = client.post(path, content=body, headers=headers)
    assert reply.status_code < 300 or reply.status_code in MALFORMED_STATUSES, reply.text[:300]
    assert "detail" in reply.json() or reply.status_code < 300


def test_a_lone_surrogate_is_a_422_naming_its_position(client):
    body = b'{"text": "Ban cars. \\ud800 They pollute."}'
    reply = client.post("/parse", content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 422 and "U+D800 at character 10" in json.dumps(reply.json())
    body = b'{"texts": ["Fine.", "\\udc00"]}'
    reply = client.post("/parse/batch", content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 422 and "text 1: " in json.dumps(reply.json())


def test_masking_is_in_the_answer_and_clean_false_turns_it_off(client):
    text = "Ban cars. They pollute.\n\nLeave a Reply\n\nJane says:\nGreat post."
    masked = client.post("/parse", json={"text": text}).json()["metadata"]["masked"]
    assert [m["reason"] for m in masked] == ["comment section"]
    answer = client.post("/parse", json={"text": text, "clean": False}).json()
    assert answer["metadata"]["masked"] == []
    reply = client.post("/parse", json={"text": "\x00\x00", "segments": [[0, 1]]})
    assert reply.status_code == 422 and "no tokens" in reply.json()["detail"]
