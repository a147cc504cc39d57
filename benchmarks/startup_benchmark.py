"""Start-up: what a one-shot command costs in a fresh process (median of ``--runs``).

Each command runs ``--runs`` times in a new Python process, wall time from start to exit:
``argmine --help``, ``argmine parse`` on the ContactPoint article, ``import argmine;
argmine.load()`` for the default model and, where its base is fetched, the accurate one. The
CPU seconds other processes used during the runs are recorded, so a timing taken beside other
work says so.

    python benchmarks/startup_benchmark.py            # 3 runs each
    python benchmarks/startup_benchmark.py --runs 5

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


def commands(article: Path) -> dict[str, list[str]]:
    load = "import argmine; argmine.load({})"
    found = {
        "argmine --help": [*ARGMINE, "--help"],
        "argmine parse ARTICLE": [*ARGMINE, "parse", str(article)],
        "import argmine; argmine.load()": [sys.executable, "-c", load.format("")],
    }
    if base_available("all-mpnet-base-v2"):
        found["argmine.load('argmine-mpnet-policy')"] = [
            sys.executable,
            "-c",
            load.format("'argmine-mpnet-policy'"),
        ]
    return found


def other_cpu_seconds() -> float:
    """CPU seconds used by every process on the machine but this one's children (Linux)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(x) for i, x in enumerate(fields) if i not in (3, 4))  # minus idle, iowait
    children = os.times()
    return busy / os.sysconf("SC_CLK_TCK") - children.children_user - children.children_system


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    article = RESULTS.parent / "contactpoint.txt"
    article.write_text(load_graphs("contactpoint")[0].text, encoding="utf-8")
    rows = {}
    try:
        for name, command in commands(article).items():
            wall_seconds(command)  # warm the file cache: every user's second run is like this
            before = other_cpu_seconds()
            times = [wall_seconds(command) for _ in range(args.runs)]
            rows[name] = {
                "median_s": statistics.median(times),
                "runs_s": times,
                "other_processes_cpu_seconds": round(other_cpu_seconds() - before, 2),
            }
            print(f"{name:<42} median {statistics.median(times):.2f} s  runs {times}")
    finally:
        article.unlink()
    RESULTS.write_text(json.dumps({"cpu_count": os.cpu_count(), "rows": rows}, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
