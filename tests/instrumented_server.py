"""The real server around a model that misbehaves when asked to, for tests of errors and load.

    python tests/instrumented_server.py MODEL_DIR BATCH_LOG

A text containing ``PLEASE FAIL`` makes the model raise; ``SLEEP 1.5`` makes it take 1.5 s
longer. Waiting requests are parsed together (``batch_size=16``). If two threads are ever
inside the model at once, it raises too (so every response would be a 500). Each call's
number of texts is appended to BATCH_LOG, one line per call.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path

import uvicorn

import argmine
from argmine.cli.serve import listen
from argmine.server import create_app

SLEEP = re.compile(r"SLEEP (\d+(?:\.\d+)?)")


class InstrumentedMiner:
    def __init__(self, miner, batch_log: Path) -> None:
        self.miner = miner
        self.batch_log = batch_log
        self.inside = 0
        self.lock = threading.Lock()

    def parse(self, text, segments=None):
        return self.pipe([text], segments=None if segments is None else [segments])[0]

    def pipe(self, texts, batch_size=16, segments=None):
        texts = list(texts)
        with self.lock:
            self.inside += 1
            overlapping = self.inside > 1
        try:
            if overlapping:
                raise RuntimeError("two threads were inside the model at once")
            with self.batch_log.open("a") as log:
                log.write(f"{len(texts)}\n")
            if any("PLEASE FAIL" in text for text in texts):
                raise RuntimeError("the model broke (on purpose, for a test)")
            for text in texts:
                if match := SLEEP.search(text):
                    time.sleep(float(match.group(1)))
            return list(self.miner.pipe(texts, batch_size=batch_size, segments=segments))
        finally:
            with self.lock:
                self.inside -= 1


def main(model_dir: str, batch_log: str) -> None:
    sock = listen("127.0.0.1", 0)
    model = argmine.load(model_dir, precision="float32")  # its graphs do not depend on the batch
    app = create_app(InstrumentedMiner(model, Path(batch_log)), max_chars=100_000, batch_size=16)
    print(f"instrumented server on http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main(*sys.argv[1:])
