"""Parsing one long document: time and memory against a short one.

    python benchmarks/long_document.py [--model NAME|PATH] [--words 1000 100000]

A document of about N words is built from CDCP comments, in corpus order, one per paragraph.
Each size is parsed in a fresh process (so its peak resident memory is its own) twice, and the
second, warm run is timed. Results go to ``benchmarks/results/long_document.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "long_document.json"


def document(words: int) -> str:
    """About ``words`` words of CDCP comments, one per paragraph (repeated if need be)."""
    from argmine.corpus import load_graphs

    comments = [g.text for g in load_graphs("cdcp")]
    paragraphs, count, k = [], 0, 0
    while count < words:
        text = comments[k % len(comments)]
        paragraphs.append(text)
        count += len(text.split())
        k += 1
    return "\n\n".join(paragraphs)


def measure(model: str | None, words: int) -> dict:
    """Parse one document of ``words`` words in this process (run in a child)."""
    import torch

    import argmine

    text = document(words)
    miner = argmine.load(model)
    miner.parse(text)  # warm-up: first-call costs out of the timing
    started = time.perf_counter()
    graph = miner.parse(text)
    seconds = time.perf_counter() - started
    n_words = len(text.split())
    return {
        "words": n_words,
        "seconds": round(seconds, 2),
        "words_per_second": round(n_words / seconds),
        "components": len(graph.components),
        "relations": len(graph.relations),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--words", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.model, args.words[0])))
        return
    runs = []
    for words in args.words:
        command = [sys.executable, __file__, "--child", "--words", str(words)]
        command += ["--model", args.model] if args.model else []
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]))
    short, long = runs[0], runs[-1]
    summary = {
        "machine": f"{platform.machine()}, {runs[0]['threads']} threads",
        "runs": runs,
        "long_vs_short_words_per_second": round(
            long["words_per_second"] / short["words_per_second"], 3
        ),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
