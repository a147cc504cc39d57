"""``argmine label`` throughput: 1,000 CDCP-length comments with 1 and 2 worker processes.

Each run is the real command (``python -m argmine label docs.jsonl -o out.jsonl``) in a fresh
process, timed end to end as a user sees it: start-up, model loading and worker start-up
included. CPU time spent by other processes during each run is reported too (from
/proc/stat), so a figure taken on a busy machine can be told apart. Peak memory is measured two
ways: the largest single process (``ru_maxrss`` of the
run and its workers, from ``wait4``) and the whole process tree (sampled from /proc every 0.2 s,
Linux only). Prints a table and writes ``benchmarks/results/label.json``.

    python benchmarks/label_benchmark.py                    # the shipped model
    python benchmarks/label_benchmark.py --model PATH --documents 1000 --workers 1 2

Texts: CDCP comments (median ~85 words) from ``corpus/cdcp/cdcp.jsonl``, or else from
``../shared/corpora/cdcp/train/*.txt``, repeated in order up to ``--documents``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "label.json"
CORPUS_JSONL = ROOT / "corpus" / "cdcp" / "cdcp.jsonl"
CORPUS_TXT = ROOT.parent / "shared" / "corpora" / "cdcp" / "train"


def cdcp_texts(count: int) -> list[str]:
    """``count`` CDCP comments, cycling through the corpus in order."""
    if CORPUS_JSONL.is_file():
        lines = CORPUS_JSONL.read_text(encoding="utf-8").splitlines()
        texts = [json.loads(line)["text"] for line in lines if line.strip()]
    elif CORPUS_TXT.is_dir():
        texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS_TXT.glob("*.txt"))]
    else:
        sys.exit(f"no CDCP texts at {CORPUS_JSONL} or {CORPUS_TXT}")
    return [texts[i % len(texts)] for i in range(count)]


class TreeMemorySampler:
    """Peak resident memory of a process and all its descendants, sampled from /proc."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss(self.pid))
            self._stop.wait(self.interval)


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and its descendants (0 where /proc is not readable)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def run_label(source: Path, out: Path, model: str | None, workers: int, batch: int) -> dict:
    """One timed run of the command; its wall time and peak memory."""
    command = [sys.executable, "-m", "argmine", "label", str(source), "-o", str(out)]
    command += ["--workers", str(workers), "--batch-size", str(batch), "-q"]
    if model:
        command += ["--model", model]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    busy_before = busy_cpu_seconds()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE)
    with TreeMemorySampler(process.pid) as sampler:
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    own_cpu = usage.ru_utime + usage.ru_stime
    other_cpu = max(0.0, busy_cpu_seconds() - busy_before - own_cpu)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode not in (0, 1):
        sys.exit(f"argmine label failed ({process.returncode}):\n{stderr}")
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "documents_per_s": None,
        "peak_rss_mb_largest_process": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "peak_rss_mb_all_processes": round(sampler.peak_bytes / 2**20, 1),
        "cpu_seconds": round(own_cpu, 1),
        "other_processes_cpu_seconds": round(other_cpu, 1),
    }


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (Linux /proc/stat), to spot other load."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def model_identity(model: str | None) -> str:
    from argmine.hub.registry import resolve_model

    folder = resolve_model(model)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except OSError:
        sys.exit(f"no model at {folder}; pass --model PATH")
    layers = config.get("encoder_layers") or "all"
    return f"{config.get('name')} {config.get('version')} (encoder layers: {layers})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()

    texts = cdcp_texts(args.documents)
    words = sorted(len(t.split()) for t in texts)
    model = model_identity(args.model)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "docs.jsonl"
        source.write_text(
            "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)),
            encoding="utf-8",
        )
        for workers in args.workers:
            out = Path(tmp) / f"out-{workers}.jsonl"
            run = run_label(source, out, args.model, workers, args.batch_size)
            run["documents_per_s"] = round(args.documents / run["seconds"], 1)
            runs.append(run)
            print(f"workers={workers}: {run}", file=sys.stderr)
            if run["other_processes_cpu_seconds"] > 0.05 * run["seconds"] * (os.cpu_count() or 1):
                print("warning: other processes were busy during this run", file=sys.stderr)

    result = {
        "what": "argmine label, end to end (start-up and model loading included)",
        "model": model,
        "documents": args.documents,
        "median_words": words[len(words) // 2],
        "batch_size": args.batch_size,
        "machine": machine(),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))


def table(result: dict) -> str:
    head = (
        "| workers | seconds | documents/s | peak RSS, largest process | "
        "peak RSS, all processes | CPU s used by other processes |"
    )
    rule = "|---:|---:|---:|---:|---:|---:|"
    rows = [
        f"| {r['workers']} | {r['seconds']} | {r['documents_per_s']} | "
        f"{r['peak_rss_mb_largest_process']} MB | {r['peak_rss_mb_all_processes']} MB | "
        f"{r['other_processes_cpu_seconds']} |"
        for r in result["runs"]
    ]
    m = result["machine"]
    caption = (
        f"{result['documents']} CDCP comments (median {result['median_words']} words), "
        f"batch size {result['batch_size']}, model {result['model']}; "
        f"{m['cpu']}, {m['cpu_count']} CPUs, Python {m['python']}, torch {m['torch']}"
    )
    return "\n".join([caption, "", head, rule, *rows])


if __name__ == "__main__":
    main()
