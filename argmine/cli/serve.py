"""``argmine serve``: the HTTP API and the web page (:mod:`argmine.server`) on a local port.

The port is taken before the model is loaded, so a busy port is reported at once; the model is
loaded before the server answers, so a bad ``--model`` is a one-line error, not a failing
server. Localhost by default: argmine is used on sensitive texts, and the server has no
authentication.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import errno
import ipaddress
import socket
import sys

from argmine.cli import CLIError
from argmine.cli.parse import add_model_options, load_miner

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_CHARS = 1_000_000
DEFAULT_BATCH_SIZE = 1
"""As :data:`argmine.server.DEFAULT_MAX_CHARS` and ``DEFAULT_BATCH_SIZE`` (not imported from
there: that needs FastAPI, and every ``argmine`` command builds this parser)."""
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the HTTP API and a web page for pasting texts",
        description="Serve argmine over HTTP: POST /parse and /parse/batch (JSON, AIF, brat or "
        "DOT), GET /health, a web page at / to paste a text or drop a .txt/.html file and see "
        "its arguments highlighted, and the API docs at /docs. Needs the serve extra: "
        "pip install 'argmine[serve]'.",
        epilog="examples:\n  argmine serve                        # http://127.0.0.1:8000/\n"
        "  argmine serve --port 0               # any free port (printed)\n"
        "  argmine serve --model models/mine --max-chars 200000\n"
        "  curl -s localhost:8000/parse -H 'Content-Type: application/json' \\\n"
        '       -d \'{"text": "Ban cars. They pollute the air."}\'',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; 0.0.0.0 "
        "exposes the server, which has no authentication, to the network)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--max-chars",
        type=_positive,
        default=DEFAULT_MAX_CHARS,
        metavar="N",
        help=f"longest text a request may carry; longer ones get 413 (default: "
        f"{DEFAULT_MAX_CHARS:,}; for /parse/batch, all its texts together)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"most texts the model parses in one pass when requests are waiting (default: "
        f"{DEFAULT_BATCH_SIZE}, one at a time: a text's graph never depends on other requests; "
        "more is faster under load, and with int8 precision a graph can then differ slightly)",
    )
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="server log (default: info)"
    )
    add_model_options(parser)
    parser.set_defaults(func=run)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0 to 65535)")
    return port


def _positive(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def run(args: argparse.Namespace) -> int:
    uvicorn = _server_packages()
    from argmine.server import create_app

    sock = listen(args.host, args.port)
    try:
        miner = load_miner(args.model, args.device, precision=getattr(args, "precision", "auto"))
        app = create_app(
            miner,
            max_chars=args.max_chars,
            local_only=is_loopback(args.host),
            batch_size=args.batch_size,
            min_score=getattr(args, "min_score", None),
        )
        host, port = sock.getsockname()[:2]
        _announce(app, host, port)
        config = uvicorn.Config(
            app,
            log_level=args.log_level,
            log_config=_log_config(),
            timeout_graceful_shutdown=5,
        )
        # Ctrl-C: uvicorn shuts down gracefully, then raises KeyboardInterrupt again
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    print("argmine serve: stopped", file=sys.stderr, flush=True)
    return 0


def _server_packages():
    """uvicorn (and FastAPI), or a one-line CLIError saying what to install."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as err:
        raise CLIError(
            f"argmine serve needs the serve extra ({err.name} is not installed): "
            "pip install 'argmine[serve]'"
        ) from err
    return uvicorn


def _log_config() -> dict:
    """uvicorn's logging, with argmine's server log (errors and their tracebacks) beside it."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["argmine"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a CLIError saying why there cannot be one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise CLIError(f"cannot listen on {host!r}: {err.strerror or err}") from err
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        busy = err.errno == errno.EADDRINUSE
        hint = " (pick another --port, or --port 0 for any free one)" if busy else ""
        raise CLIError(f"cannot listen on {_url(host, port)}: {err.strerror or err}{hint}") from err
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (then requests must be addressed to it)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _announce(app, host: str, port: int) -> None:
    """One line on stdout with the address (the port matters with --port 0)."""
    state = app.state.argmine
    model = " ".join(x for x in (state.model, state.model_version) if x) or "the model"
    print(
        f"argmine serve: {model} on {_url(host, port)}/ (API docs: /docs; Ctrl-C stops)",
        flush=True,
    )
    if not is_loopback(host):
        print(
            f"argmine: note: listening on {host}: anyone who can reach this machine can send "
            "texts to this server (it has no authentication)",
            file=sys.stderr,
            flush=True,
        )
