"""Load on ``argmine serve``: 200 ``POST /parse`` requests from 16 concurrent clients.

Starts the real command (``python -m argmine serve --port 0``) with the shipped model (or
``--model``), waits for ``/health``, then sends CDCP comments (``argmine.corpus.load_graphs
("cdcp")``, cycled) from client threads, each on its own keep-alive connection. A request
counts as an error unless it is a 200 whose graph holds the text that was sent. Reports
errors, p50/p95/max latency and throughput; first with one client (the latency of a lone
request), then with ``--clients``. CPU time that other processes used meanwhile is reported
too, so a run on a busy machine can be told apart. Writes ``benchmarks/results/serve.json``.

    pip install '.[serve]'
    python benchmarks/serve_benchmark.py
    python benchmarks/serve_benchmark.py --requests 200 --clients 16 --model PATH
    python benchmarks/serve_benchmark.py --batch-size 16     # -> results/serve-batch16.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from label_benchmark import busy_cpu_seconds, machine

RESULTS = Path(__file__).parent / "results" / "serve.json"


def start_server(model: str | None, batch_size: int) -> tuple[subprocess.Popen, str, int]:
    command = [sys.executable, "-m", "argmine", "serve", "--port", "0", "--log-level", "warning"]
    command += ["--batch-size", str(batch_size)]
    if model:
        command += ["--model", model]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    for line in server.stdout:
        if match := re.search(r"on http://([^/\s]+):(\d+)/", line):
            return server, match.group(1), int(match.group(2))
    sys.exit(f"the server did not start (exit status {server.wait()})")


def cpu_seconds_of(pid: int) -> float:
    """CPU time of a process and its reaped children, from /proc (0 where unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def post(connection: http.client.HTTPConnection, text: str) -> tuple[bool, float]:
    """One request; whether it succeeded, and its latency in seconds."""
    body = json.dumps({"text": text}).encode("utf-8")
    started = time.perf_counter()
    try:
        connection.request("POST", "/parse", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        ok = response.status == 200 and json.loads(data)["text"] == text
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        connection.close()  # reconnects on the next request
        ok = False
    return ok, time.perf_counter() - started


def load(host: str, port: int, texts: list[str], requests: int, clients: int) -> dict:
    """``requests`` requests spread over ``clients`` threads, as fast as the server answers."""
    work: queue.Queue[str] = queue.Queue()
    for i in range(requests):
        work.put(texts[i % len(texts)])
    outcomes: list[tuple[bool, float]] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=300)
        while True:
            try:
                text = work.get_nowait()
            except queue.Empty:
                break
            outcome = post(connection, text)
            with lock:
                outcomes.append(outcome)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies = sorted(latency for _, latency in outcomes)
    return {
        "clients": clients,
        "requests": requests,
        "errors": sum(1 for ok, _ in outcomes if not ok) + requests - len(outcomes),
        "seconds": round(seconds, 2),
        "requests_per_s": round(requests / seconds, 1),
        "latency_p50_ms": round(1000 * percentile(latencies, 50)),
        "latency_p95_ms": round(1000 * percentile(latencies, 95)),
        "latency_max_ms": round(1000 * latencies[-1]),
        "latency_mean_ms": round(1000 * statistics.fmean(latencies)),
    }


def percentile(sorted_values: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    rank = max(1, round(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder or name (default: the shipped model)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--batch-size", type=int, default=1, help="the server's --batch-size (default: 1)"
    )
    parser.add_argument(
        "--output", type=Path, help="where to write the JSON (default: benchmarks/results/)"
    )
    args = parser.parse_args()
    if args.output is None:
        suffix = "" if args.batch_size == 1 else f"-batch{args.batch_size}"
        args.output = RESULTS.with_name(f"serve{suffix}.json")

    from argmine.corpus import load_graphs

    texts = [graph.text for graph in load_graphs("cdcp")]
    server, host, port = start_server(args.model, args.batch_size)
    try:
        health = json.loads(_get(host, port, "/health"))
        runs = []
        for clients, requests in ((1, min(50, args.requests)), (args.clients, args.requests)):
            busy_before, server_before = busy_cpu_seconds(), cpu_seconds_of(server.pid)
            own_before = sum(os.times()[:2])
            run = load(host, port, texts, requests, clients)
            server_cpu = cpu_seconds_of(server.pid) - server_before
            own_cpu = sum(os.times()[:2]) - own_before
            run["server_cpu_seconds"] = round(server_cpu, 1)
            run["other_processes_cpu_seconds"] = round(
                max(0.0, busy_cpu_seconds() - busy_before - server_cpu - own_cpu), 1
            )
            runs.append(run)
            print(run, file=sys.stderr)
    finally:
        server.terminate()
        server.wait(30)

    sent = [texts[i % len(texts)] for i in range(args.requests)]
    words = sorted(len(t.split()) for t in sent)
    result = {
        "what": "argmine serve: POST /parse over HTTP on loopback, concurrent clients, "
        "each on a keep-alive connection; the server already warm",
        "model": f"{health['model']} {health['model_version']}",
        "server_batch_size": args.batch_size,
        "texts": f"CDCP comments (median {words[len(words) // 2]} words), cycled",
        "machine": machine(),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))


def _get(host: str, port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    connection.request("GET", path)
    return connection.getresponse().read()


def table(result: dict) -> str:
    head = "| clients | requests | errors | p50 | p95 | max | requests/s |"
    rule = "|---:|---:|---:|---:|---:|---:|---:|"
    rows = [
        f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['latency_p50_ms']} ms | "
        f"{r['latency_p95_ms']} ms | {r['latency_max_ms']} ms | {r['requests_per_s']} |"
        for r in result["runs"]
    ]
    caption = (
        f"model {result['model']}, {result['texts']}, "
        f"server --batch-size {result['server_batch_size']}"
    )
    return "\n".join([caption, "", head, rule, *rows])


if __name__ == "__main__":
    main()
