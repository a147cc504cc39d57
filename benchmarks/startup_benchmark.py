"""Start-up: what a one-shot command costs in a fresh process (median of ``--runs``).

Each command runs ``--runs`` times in a new Python process, wall time from start to exit:
``argmine --help``, ``argmine parse`` on the ContactPoint article, ``import torch`` (what every
load pays first), ``import argmine; argmine.load()`` for the default model and, where its base
is fetched, the accurate one. The
CPU seconds other processes used during the runs are recorded, so a timing taken beside other
work says so.

    python benchmarks/startup_benchmark.py            # 3 runs each
    python benchmarks/startup_benchmark.py --runs 5
    python benchmarks/startup_benchmark.py --only mpnet --precisions float32 int8 \
        -o benchmarks/results/startup-mpnet.json   # the accurate model's load, per precision
    git worktree add /tmp/before 25075ee && \
        python benchmarks/startup_benchmark.py --code /tmp/before -o before.json  # older code
    python benchmarks/startup_benchmark.py --against /tmp/before --runs 8  # paired with it

``--against CHECKOUT`` times each command alternately on this checkout and on CHECKOUT (the
order swapping every run), so both see the same machine, and reports the ratio of each pair.

Writes ``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from argmine.corpus import load_graphs
from argmine.hub.bases import base_available

RESULTS = Path(__file__).parent / "results" / "startup.json"
ARGMINE = [sys.executable, "-m", "argmine"]


def commands(article: Path, precisions: list[str]) -> dict[str, list[str]]:
    load = "import argmine; argmine.load({})"
    found = {
        "argmine --help": [*ARGMINE, "--help"],
        "argmine parse ARTICLE": [*ARGMINE, "parse", str(article)],
        "import torch": [sys.executable, "-c", "import torch"],
        "import argmine; argmine.load()": [sys.executable, "-c", load.format("")],
    }
    if base_available("all-mpnet-base-v2"):
        for precision in ["", *(f", precision='{p}'" for p in precisions)]:
            arguments = f"'argmine-mpnet-policy'{precision}"
            found[f"argmine.load({arguments})"] = [sys.executable, "-c", load.format(arguments)]
    return found


def other_cpu_seconds() -> float:
    """CPU seconds used by every process on the machine but this one's children (Linux)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(x) for i, x in enumerate(fields) if i not in (3, 4))  # minus idle, iowait
    children = os.times()
    return busy / os.sysconf("SC_CLK_TCK") - children.children_user - children.children_system


def wall_seconds(command: list[str], code: str | None = None) -> float:
    """Seconds ``command`` takes; with ``code``, run in that checkout (``python -m`` and ``-c``
    put the working folder first on the path, ahead of an installed argmine)."""
    env = dict(os.environ, PYTHONPATH=code) if code else None
    started = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=code
    )
    return time.perf_counter() - started


def paired_row(command: list[str], code: str | None, against: str, runs: int) -> dict:
    """``runs`` pairs of timings, this code and ``against`` alternating which goes first."""
    for checkout in (code, against):
        wall_seconds(command, checkout)  # warm both file caches
    before = other_cpu_seconds()
    ours, theirs = [], []
    for run in range(runs):
        order = [(ours, code), (theirs, against)]
        for times, checkout in order if run % 2 == 0 else order[::-1]:
            times.append(wall_seconds(command, checkout))
    ratios = sorted(t / o for o, t in zip(ours, theirs, strict=True))
    summary = (
        f"median {statistics.median(ours):.2f} s against {statistics.median(theirs):.2f} s: "
        f"{statistics.median(ratios):.2f}x faster (pairs {ratios[0]:.2f}x to {ratios[-1]:.2f}x)"
    )
    return {
        "median_s": statistics.median(ours),
        "runs_s": ours,
        "against_median_s": statistics.median(theirs),
        "against_runs_s": theirs,
        "speed_up_median": statistics.median(ratios),
        "speed_up_range": [ratios[0], ratios[-1]],
        "other_processes_cpu_seconds": round(other_cpu_seconds() - before, 2),
        "summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", help="run the commands on argmine from this checkout instead")
    parser.add_argument("-o", "--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--precisions", nargs="+", default=[], choices=["float32", "bfloat16", "int8"],
        help="also load the accurate model in these precisions",
    )  # fmt: skip
    parser.add_argument("--only", help="run only the commands whose name contains this")
    parser.add_argument("--against", help="a checkout to pair every run with (alternating)")
    args = parser.parse_args()
    article = RESULTS.parent / "contactpoint.txt"
    article.write_text(load_graphs("contactpoint")[0].text, encoding="utf-8")
    rows = {}
    try:
        for name, command in commands(article, args.precisions).items():
            if args.only and args.only not in name:
                continue
            if args.against:
                rows[name] = paired_row(command, args.code, args.against, args.runs)
                print(f"{name:<42} {rows[name]['summary']}")
                continue
            wall_seconds(command, args.code)  # warm the file cache: a user's second run is so
            before = other_cpu_seconds()
            times = [wall_seconds(command, args.code) for _ in range(args.runs)]
            rows[name] = {
                "median_s": statistics.median(times),
                "runs_s": times,
                "other_processes_cpu_seconds": round(other_cpu_seconds() - before, 2),
            }
            print(f"{name:<42} median {statistics.median(times):.2f} s  runs {times}")
    finally:
        article.unlink()
    summary = {
        "cpu_count": os.cpu_count(),
        "code": args.code or "this checkout",
        "against": args.against,
        "command": "python benchmarks/startup_benchmark.py " + " ".join(sys.argv[1:]),
        "rows": rows,
    }
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
