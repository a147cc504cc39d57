"""End-to-end ``pipe`` throughput in each precision, against a bare float32 encoder pass.

All throughput runs happen in one process over the same texts with the same batching, in
alternating order (best of ``--repeats``), so the ratios compare like with like on a machine
whose speed drifts: the bare pass tokenizes each text into the same windows and runs only the
float32 encoder; each ``pipe`` adds chrome masking, span decoding, typing, relation scoring,
counterfactuals and graph building, with the encoder in float32, int8 or bfloat16. Load time
and peak memory come from one fresh process per precision (load, then ``pipe`` over the texts).
``--baseline`` adds another model's default-precision ``pipe`` to the same interleaved runs
(the accurate model against the fast default). Prints a table and writes
``benchmarks/results/pipe.json`` (``pipe-NAME.json`` for a model other than the default).

    python benchmarks/pipe_benchmark.py            # the shipped model, CDCP texts
    python benchmarks/pipe_benchmark.py --model PATH --documents 200 --threads 2
    python benchmarks/pipe_benchmark.py --model argmine-mpnet-policy \
        --baseline argmine-minilm-policy --documents 100 --repeats 2
    python benchmarks/pipe_benchmark.py --model runs/int8/apart6 --tag outliers-apart \
        --baseline runs/int8/plain --documents 100 --repeats 2   # int8 variants, one run
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

import torch

import argmine
from argmine.corpus import load_graphs
from argmine.hub.registry import DEFAULT_MODEL
from argmine.runtime import bfloat16_native, int8_supported

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


def benchmark_texts(corpus: str, documents: int) -> list[str]:
    graphs = load_graphs(corpus)
    return [graphs[i % len(graphs)].text for i in range(documents)]


def precisions() -> list[str]:
    """float32 and what this CPU runs natively (emulated bfloat16 is many times slower)."""
    return (
        ["float32"]
        + (["int8"] if int8_supported() else [])
        + (["bfloat16"] if bfloat16_native() else [])
    )


def throughput(args: argparse.Namespace) -> dict:
    """Tokens/s of the bare float32 encoder and of ``pipe`` in each precision, interleaved."""
    texts = benchmark_texts(args.corpus, args.documents)
    miners = {p: argmine.load(args.model, precision=p) for p in precisions()}
    tokens = sum(miners["float32"].encode(t).n_tokens for t in texts)
    baseline = f"baseline {args.baseline}" if args.baseline else None
    if baseline:  # its own tokenizer may cut the same texts into other tokens: time, not tokens
        miners[baseline] = argmine.load(args.baseline)
    for miner in miners.values():
        full_pipe(miner, texts[:32], args.batch_size)  # warm-up
    best = {"bare float32": float("inf"), **{p: float("inf") for p in miners}}
    for _ in range(args.repeats):
        best["bare float32"] = min(
            best["bare float32"], bare_forward(miners["float32"], texts, args.batch_size)
        )
        for name, miner in miners.items():
            best[name] = min(best[name], full_pipe(miner, texts, args.batch_size))
    return {
        "documents": len(texts),
        "tokens": tokens,
        "tokens_per_s": {
            name: round(tokens / seconds) for name, seconds in best.items() if name != baseline
        },
        "vs_bare_float32": {
            name: round(best["bare float32"] / seconds, 3)
            for name, seconds in best.items()
            if name != baseline
        },
        "seconds": {name: round(seconds, 2) for name, seconds in best.items()},
        "model": miners["float32"].config.name,
        **({"vs_baseline_seconds": _vs_baseline(best, baseline)} if baseline else {}),
    }


def _vs_baseline(best: dict[str, float], baseline: str) -> dict[str, float]:
    """How many times the baseline's time each run took on the same texts (> 1: slower)."""
    return {
        name: round(seconds / best[baseline], 2)
        for name, seconds in best.items()
        if name != baseline
    }


def load_and_memory(args: argparse.Namespace, precision: str) -> dict:
    """Load time and peak memory of one precision, measured in a fresh process."""
    command = [sys.executable, __file__, "--child", precision, "--documents", str(args.documents)]
    command += ["--corpus", args.corpus, "--threads", str(args.threads)]
    command += ["--model", args.model] if args.model else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(args: argparse.Namespace) -> None:
    texts = benchmark_texts(args.corpus, args.documents)
    started = time.perf_counter()
    miner = argmine.load(args.model, precision=args.child)
    load_seconds = time.perf_counter() - started
    full_pipe(miner, texts, args.batch_size)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_seconds": round(load_seconds, 2), "peak_memory_mb": round(peak)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model name or folder (default: the shipped model)")
    parser.add_argument("--corpus", default="cdcp", help="texts to run on (corpus name or path)")
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs of each")
    parser.add_argument("--baseline", help="another model timed in the same runs (auto precision)")
    parser.add_argument("--tag", help="written to pipe-NAME-TAG.json (a variant of a model)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        child(args)
        return
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads",
        **throughput(args),
        "per_precision": {p: load_and_memory(args, p) for p in precisions()},
        "auto_is": argmine.load(args.model).precision,
        "bfloat16_native": bfloat16_native(),
    }
    print(json.dumps(result, indent=2))
    path = results_path(result["model"], args.tag)
    result["command"] = "python benchmarks/pipe_benchmark.py " + " ".join(sys.argv[1:])
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def results_path(model_name: str, tag: str | None = None) -> Path:
    """``pipe.json`` for the default model, ``pipe-NAME.json`` for any other, ``-TAG`` added."""
    stem = "pipe" if model_name == DEFAULT_MODEL else f"pipe-{model_name}"
    return RESULTS.with_name(f"{stem}-{tag}.json" if tag else f"{stem}.json")


if __name__ == "__main__":
    main()
