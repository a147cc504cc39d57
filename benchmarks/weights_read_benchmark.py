"""Reading a base's weights file: safetensors' readers against argmine's, in one process.

Each reader runs ``--repeats`` times, interleaved, on the same file (warm in the page cache),
and is timed until every tensor has been summed once (so a memory map's pages are paid too).
The readers must return equal tensors.

    python benchmarks/weights_read_benchmark.py --repeats 5   # the accurate model's base

Writes ``benchmarks/results/weights-read.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load, load_file

from argmine.hub.bases import WEIGHTS_FILE, resolve_base
from argmine.model.weights_file import read_safetensors

RESULTS = Path(__file__).parent / "results" / "weights-read.json"
READERS = {
    "safetensors.torch.load(bytes)": lambda path: load(path.read_bytes()),
    "safetensors.torch.load_file (memory map)": lambda path: load_file(str(path)),
    "argmine read_safetensors": read_safetensors,
}


def seconds_to_use(reader, path: Path) -> tuple[float, dict[str, torch.Tensor]]:
    """Seconds until every tensor has been read and summed."""
    started = time.perf_counter()
    tensors = reader(path)
    for tensor in tensors.values():
        tensor.float().sum()
    return time.perf_counter() - started, tensors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="all-mpnet-base-v2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    path = Path(resolve_base(args.base)) / WEIGHTS_FILE
    times: dict[str, list[float]] = {name: [] for name in READERS}
    reference = None
    for _ in range(args.repeats):
        for name, reader in READERS.items():
            elapsed, tensors = seconds_to_use(reader, path)
            times[name].append(elapsed)
            if reference is None:
                reference = tensors
            elif not all(torch.equal(reference[k], tensors[k]) for k in reference):
                sys.exit(f"{name} read other tensors than {next(iter(READERS))}")
    rows = {name: {"median_s": statistics.median(t), "runs_s": t} for name, t in times.items()}
    for name, row in rows.items():
        print(f"{name:<42} median {row['median_s']:.3f} s")
    summary = {
        "file": str(path),
        "bytes": path.stat().st_size,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "command": "python benchmarks/weights_read_benchmark.py " + " ".join(sys.argv[1:]),
        "rows": rows,
    }
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
