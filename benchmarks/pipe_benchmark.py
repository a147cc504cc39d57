"""End-to-end ``pipe`` throughput against a bare forward pass of the same encoder.

Both run in the same process over the same texts with the same batching: the bare pass
tokenizes each text into the same windows and runs only the encoder; the pipeline adds chrome
masking, span decoding, typing, relation scoring and graph building. Prints a table and writes
``benchmarks/results/pipe.json``.

    python benchmarks/pipe_benchmark.py            # the shipped model, CDCP dev texts
    python benchmarks/pipe_benchmark.py --model PATH --documents 200 --threads 2
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import torch

import argmine
from argmine.corpus import load_graphs

RESULTS = Path(__file__).parent / "results" / "pipe.json"


def bare_forward(miner, texts: list[str], batch_size: int) -> float:
    """Seconds to tokenize ``texts`` into windows and run only the encoder over them."""
    started = time.perf_counter()
    with torch.inference_mode():
        for k in range(0, len(texts), batch_size):
            docs = [miner.encode(t) for t in texts[k : k + batch_size]]
            miner.model.encode(docs)
    return time.perf_counter() - started


def full_pipe(miner, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    for _ in miner.pipe(texts, batch_size=batch_size):
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--corpus", default="cdcp", help="texts to run on (corpus name or path)")
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="best of N runs of each")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    miner = argmine.load(args.model)
    load_seconds = time.perf_counter() - started
    graphs = load_graphs(args.corpus)
    texts = [graphs[i % len(graphs)].text for i in range(args.documents)]
    tokens = sum(miner.encode(t).n_tokens for t in texts)
    full_pipe(miner, texts[:32], args.batch_size)  # warm-up
    bare = min(bare_forward(miner, texts, args.batch_size) for _ in range(args.repeats))
    full = min(full_pipe(miner, texts, args.batch_size) for _ in range(args.repeats))
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads",
        "model": miner.config.name,
        "documents": len(texts),
        "tokens": tokens,
        "batch_size": args.batch_size,
        "load_seconds": load_seconds,
        "bare_forward_tokens_per_s": tokens / bare,
        "pipe_tokens_per_s": tokens / full,
        "pipe_documents_per_s": len(texts) / full,
        "pipe_vs_bare": bare / full,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    for key, value in result.items():
        print(f"{key:28s} {value:.2f}" if isinstance(value, float) else f"{key:28s} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
