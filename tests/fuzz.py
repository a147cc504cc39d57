"""Run the generated tests far longer than CI does: ``python tests/fuzz.py --examples N``.

The same properties as tests/test_properties.py (parse on any str, every export format round
trip, batch labelling killed anywhere then resumed) with N examples each, and the server fuzzed
against its OpenAPI schema with ``--server-requests`` requests, all on the tiny test model
(trained here in under a minute). Each property runs in chunks of fresh random examples until
N or ``--minutes`` per property is reached; the summary says how many ran and what failed.

    python tests/fuzz.py --examples 20000 --server-requests 1000
    python tests/fuzz.py --examples 20000 --minutes 3 --json fuzz.json   # a time budget
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["ARGMINE_HYPOTHESIS_PROFILE"] = "fuzz"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CHUNK = 500


def tiny_miner():
    """The model of tests/conftest.py's ``tiny_miner`` fixture, trained the same way."""
    from conftest import TINY_TEXTS, make_graph, train_tiny_miner

    return train_tiny_miner(
        [make_graph(t, u, r, f"tiny{i}") for i, (t, u, r) in enumerate(TINY_TEXTS)]
    )


def run_property(name: str, make_test: Callable, examples: int, minutes: float) -> dict:
    """Run ``make_test(count)`` (a @given test counting into ``count``) in chunks of fresh
    random examples until ``examples`` ran, the time budget is spent, or one fails."""
    count = [0]
    deadline = time.monotonic() + 60 * minutes
    failure = None
    while count[0] < examples and time.monotonic() < deadline and failure is None:
        chunk = min(CHUNK, examples - count[0])
        test = settings(max_examples=chunk, database=None, derandomize=False)(make_test(count))
        try:
            test()
        except Exception:
            failure = traceback.format_exc(limit=-8)
    result = {"property": name, "examples": count[0], "failures": int(failure is not None)}
    if failure:
        result["failure"] = failure
    print(f"{name}: {count[0]:,} examples, {result['failures']} failures", flush=True)
    if failure:
        print(failure, file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20_000, help="per property")
    parser.add_argument("--minutes", type=float, default=float("inf"), help="per property")
    parser.add_argument("--server-requests", type=int, default=1_000, help="0: no server")
    parser.add_argument("--only", choices=("parse", "formats", "batch", "server"), nargs="*")
    parser.add_argument("--json", metavar="PATH", help="write the summary here as JSON")
    args = parser.parse_args(argv)
    chosen = set(args.only or ("parse", "formats", "batch", "server"))
    warnings.simplefilter("ignore")
    import logging

    logging.disable(logging.WARNING)  # trafilatura logs every odd page it is given

    from fuzzing import any_texts, graphs
    from test_properties import (
        BATCH_TEXTS,
        CachedMiner,
        check_kills_then_resume,
        check_parse,
        check_round_trips,
    )

    miner = tiny_miner() if chosen & {"parse", "batch", "server"} else None
    results = []

    if "parse" in chosen:

        def parse_test(count):
            @given(text=any_texts(), clean=st.booleans())
            def test(text, clean):
                count[0] += 1
                check_parse(miner, text, clean)

            return test

        results.append(run_property("parse", parse_test, args.examples, args.minutes))

    if "formats" in chosen:

        def formats_test(count):
            @given(graph=graphs())
            def test(graph):
                count[0] += 1
                check_round_trips(graph)

            return test

        results.append(run_property("formats", formats_test, args.examples, args.minutes))

    if "batch" in chosen:
        cached = CachedMiner(miner)

        def batch_test(count):
            @given(
                indices=st.lists(st.integers(0, len(BATCH_TEXTS) - 1), min_size=1, max_size=7),
                kills=st.lists(st.integers(0, 3000), max_size=4),
                fmt=st.sampled_from(["jsonl", "aif"]),
            )
            def test(indices, kills, fmt):
                count[0] += 1
                with tempfile.TemporaryDirectory() as folder:
                    check_kills_then_resume(Path(folder), cached, indices, kills, fmt)

            return test

        results.append(run_property("batch", batch_test, args.examples, args.minutes))

    if "server" in chosen and args.server_requests:
        results.append(fuzz_server(miner, args.server_requests))

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["failures"] for r in results) else 0


def fuzz_server(miner, requests: int) -> dict:
    """schemathesis against the in-process app: ``requests`` generated requests in all."""
    import schemathesis
    from schemathesis import GenerationMode
    from test_server_fuzz import LOCAL, MAX_CHARS, fuzz_operations

    from argmine.server import create_app

    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(miner, max_chars=MAX_CHARS), headers=LOCAL
    )
    per_operation = max(1, requests // 7)  # 3 POSTs x 2 modes, and GET /health
    sent: dict[str, int] = {}
    failure = None
    while sum(sent.values()) < requests and failure is None:
        try:
            more = fuzz_operations(
                schema, per_operation, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
            )
        except Exception:
            failure = traceback.format_exc(limit=-8)
            break
        for key, n in more.items():
            sent[key] = sent.get(key, 0) + n
    total = sum(sent.values())
    server_errors = sum(n for key, n in sent.items() if key.rsplit(" ", 1)[1].startswith("5"))
    result = {
        "property": "server",
        "examples": total,
        "failures": int(failure is not None or server_errors > 0),
        "server_errors": server_errors,
        "statuses": dict(sorted(sent.items())),
    }
    if failure:
        result["failure"] = failure
        print(failure, file=sys.stderr)
    print(
        f"server: {total:,} requests, {server_errors} server errors, {result['failures']} failures"
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
