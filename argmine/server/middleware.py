"""ASGI middlewares: a cap on the request body's size, and loopback host names only."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from argmine.server.handlers import json_response

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


class BodySizeLimit:
    """Refuse (413) a request body over ``max_bytes``: by its Content-Length at once, else as
    soon as that many bytes have arrived; nothing larger is ever held in memory."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received, too_large, started = 0, False, False

        async def limited_receive() -> dict:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise StarletteHTTPException(413, self._message())
            return message

        async def guarded_send(message: dict) -> None:
            """Once the body is too large, the answer is this 413, whatever the app makes of
            the error raised while it read the body."""
            nonlocal started
            if message["type"] == "http.response.start":
                if started:
                    return
                started = True
                if too_large:
                    await self._refuse(send)
                    return
            elif too_large:
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not too_large or started:
                raise
            await self._refuse(send)

    def _message(self) -> str:
        return f"the request body is over {self.max_bytes:,} bytes (argmine serve --max-chars)"

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"detail": self._message()}).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class LoopbackHostsOnly:
    """Refuse (400) a request addressed to any name but localhost, 127.0.0.1 or [::1].

    A browser on this machine can be steered to a local server under a foreign name (DNS
    rebinding) by any web page; the Host header then names that page's domain.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"host")
            host = _host_name(header.decode("latin-1")) if header is not None else None
            if host is not None and host not in LOOPBACK_HOSTS:
                response = json_response(
                    {
                        "detail": f"this server answers only requests addressed to localhost, "
                        f"127.0.0.1 or [::1], not {host!r} (argmine serve --host sets "
                        "where it listens)"
                    },
                    400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _host_name(header: str) -> str:
    """The host of a Host header, without its port: ``[::1]:8000`` -> ``[::1]``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.split(":", 1)[0]
