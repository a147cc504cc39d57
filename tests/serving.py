"""A real ``argmine serve`` in a subprocess, and a small HTTP client for the tests that use it."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URL_LINE = re.compile(r"on (http://[^/\s]+)/")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class ServerProcess:
    """``argv`` (a command that prints ``... on http://HOST:PORT/ ...``) run until stopped.

    The server picks its own free port (``--port 0``) and says which: no race for a port.
    Its log (stderr) goes to ``log_path``, for tests that check what it says.
    """

    def __init__(self, argv: list[str], log_path: Path, start_timeout: float = 120) -> None:
        self.log_path = log_path
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self._log, env=env, text=True
        )
        self.base = self._read_url(start_timeout)
        self.host, port = self.base.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)
        self._wait_until_healthy(start_timeout)

    def _read_url(self, timeout: float) -> str:
        found: list[str] = []

        def read() -> None:
            for line in self.process.stdout:
                match = URL_LINE.search(line)
                if match:
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.stop()
            raise RuntimeError(f"the server did not start: {self.log()[-3000:]}")
        return found[0]

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server never answered /health: {self.log()[-3000:]}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> int:
        """Ask the server to stop (Ctrl-C by default); its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    # ------------------------------------------------------------------ HTTP
    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload: Any, **kwargs: Any) -> Reply:
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, body=body, headers=headers, **kwargs)


def serve_command(*args: str) -> list[str]:
    """``argmine serve`` on any free local port, with ``args``."""
    return [
        sys.executable,
        "-m",
        "argmine",
        "serve",
        "--port",
        "0",
        "--log-level",
        "warning",
        *args,
    ]
