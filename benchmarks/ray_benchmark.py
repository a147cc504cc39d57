"""Ray Data against ``argmine label`` on the same documents: 300 CDCP comments, 2 CPUs.

As a new user would run it: local Ray with 2 CPUs, the comments in a pandas frame,
``label_dataset(ray.data.from_pandas(frame), workers=2)``, read back with ``to_pandas()``.
Timed from the ``label_dataset`` call to the last row (actor start-up and model loading
included; ``ray.init`` not). Twice: as argmine now splits the input for its actors, and as
before (the frame's single block, which keeps one of the two actors idle). Then
``argmine label`` on the same documents as JSONL, end to end (start-up included), through
``label_benchmark.run_label``. Prints a table and writes ``benchmarks/results/ray.json``.

    pip install 'argmine[ray]'
    python benchmarks/ray_benchmark.py                   # the shipped model
    python benchmarks/ray_benchmark.py --documents 300 --model PATH
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from label_benchmark import busy_cpu_seconds, cdcp_texts, machine, model_identity, run_label

RESULTS = Path(__file__).parent / "results" / "ray.json"


def run_ray(frame, model: str | None, workers: int, batch_size: int, split: bool) -> dict:
    """One timed ``label_dataset`` run; its throughput, errors and whether ids are unique."""
    import ray

    import argmine.integrations.ray as argmine_ray

    original = argmine_ray.split_for_actors
    if not split:  # as before the fix: the input's own blocks
        argmine_ray.split_for_actors = lambda dataset, workers, rows_per_block=16: dataset
    try:
        dataset = ray.data.from_pandas(frame)
        busy_before = busy_cpu_seconds()
        started = time.perf_counter()
        labelled = argmine_ray.label_dataset(
            dataset, model, workers=workers, batch_size=batch_size
        ).to_pandas()
        seconds = time.perf_counter() - started
        busy = busy_cpu_seconds() - busy_before
    finally:
        argmine_ray.split_for_actors = original
    return {
        "runner": "ray, input split for the actors" if split else "ray, input as one block",
        "workers": workers,
        "seconds": round(seconds, 2),
        "documents_per_s": round(len(frame) / seconds, 1),
        "rows_out": len(labelled),
        "errors": int(labelled["error"].notna().sum()),
        "unique_ids": bool(labelled["id"].is_unique and len(labelled) == len(frame)),
        "machine_busy_cpu_seconds": round(busy, 1),
    }


def run_label_command(texts: list[str], model: str | None, batch_size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "docs.jsonl"
        source.write_text(
            "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)),
            encoding="utf-8",
        )
        out = Path(tmp) / "out.jsonl"
        run = run_label(source, out, model, 1, batch_size)
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {
        "runner": "argmine label",
        "workers": 1,
        "seconds": run["seconds"],
        "documents_per_s": round(len(texts) / run["seconds"], 1),
        "rows_out": len(records),
        "errors": sum(1 for r in records if r.get("error")),
        "unique_ids": len({r["id"] for r in records}) == len(texts) == len(records),
        "other_processes_cpu_seconds": run["other_processes_cpu_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import pandas as pd
    import ray

    texts = cdcp_texts(args.documents)
    frame = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    runs = []
    try:
        for split in (True, False):
            runs.append(run_ray(frame, args.model, args.workers, args.batch_size, split))
            print(runs[-1], file=sys.stderr)
    finally:
        ray.shutdown()
    runs.append(run_label_command(texts, args.model, args.batch_size))
    print(runs[-1], file=sys.stderr)

    result = {
        "what": "Ray Data label_dataset (local Ray, 2 CPUs, a pandas frame) vs argmine label, "
        "same documents; model loading and actor/process start-up included, ray.init not",
        "model": model_identity(args.model),
        "documents": len(texts),
        "batch_size": args.batch_size,
        "ray": ray.__version__,
        "machine": machine(),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))


def table(result: dict) -> str:
    head = "| runner | workers | seconds | documents/s | errors | unique ids |"
    rule = "|---|---:|---:|---:|---:|---|"
    rows = [
        f"| {r['runner']} | {r['workers']} | {r['seconds']} | {r['documents_per_s']} | "
        f"{r['errors']} | {r['unique_ids']} |"
        for r in result["runs"]
    ]
    caption = f"{result['documents']} CDCP comments, model {result['model']}, Ray {result['ray']}"
    return "\n".join([caption, "", head, rule, *rows])


if __name__ == "__main__":
    main()
