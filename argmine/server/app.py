"""The server's app: :func:`create_app` and its routes (the API, the page, the docs)."""

from __future__ import annotations

import html as html_module
import logging
import subprocess
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import argmine
from argmine.errors import describe
from argmine.formats import convert
from argmine.graph import ArgumentGraph
from argmine.server.handlers import add_error_handlers, json_response
from argmine.server.middleware import BodySizeLimit, LoopbackHostsOnly
from argmine.server.schemas import (
    PARSE_RESPONSES,
    BatchRequest,
    HealthOut,
    ParseRequest,
    ViewOut,
    ViewRequest,
)
from argmine.server.worker import DEFAULT_BATCH_SIZE, ModelWorker, ParseFailed

logger = logging.getLogger("argmine.server")

DEFAULT_MAX_CHARS = 1_000_000
"""Longest text one request may carry (``/parse/batch``: all its texts together)."""
BODY_BYTES_PER_CHAR = 8
"""A request body over ``8 * max_chars`` bytes (plus 1 MiB for the rest of the JSON) cannot
hold an allowed text even with every character escaped: refused before it is read in full."""
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""The page and the docs load nothing from elsewhere; the browser is told so, and enforces it."""

PICTURE_MAX_COMPONENTS = 400
"""The page's picture of the graph is drawn up to this many components: Graphviz's layout
time grows faster than the graph, and a picture of hundreds of boxes is not read anyway."""
PICTURE_TIMEOUT = 20.0
"""Seconds Graphviz may take to draw the page's picture; the text and tables come regardless."""


# ---------------------------------------------------------------------------- formats
def _converted(graphs: list[ArgumentGraph], fmt: str) -> list[Any]:
    from argmine.render import GraphvizMissing

    try:
        return [convert(g, fmt) for g in graphs]
    except GraphvizMissing as err:  # the server's set-up, not the request: say what to install
        raise StarletteHTTPException(501, str(err)) from err
    except Exception as err:
        logger.exception("converting a graph to %s failed", fmt)
        raise ParseFailed(f"converting the graph to {fmt} failed: {describe(err)}") from err


# ---------------------------------------------------------------------------- the app
@dataclass
class ServerState:
    worker: ModelWorker
    max_chars: int
    model: str | None
    model_version: str | None
    page: str
    started: float = field(default_factory=time.monotonic)


def create_app(
    miner: Any,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    local_only: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    min_score: float | None = None,
) -> FastAPI:
    """The ASGI app around a loaded miner (serve it with uvicorn, as ``argmine serve`` does).

    ``local_only``: answer only requests addressed to a loopback name (see the package doc).
    ``batch_size``: most texts parsed in one call when requests wait (1: one at a time).
    ``min_score``: relations scored below it are left out (None: the model's own threshold).
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    worker = ModelWorker(miner, max_batch=batch_size, min_score=min_score)
    model, model_version = _model_identity(miner)
    state = ServerState(worker, max_chars, model, model_version, _page(max_chars, model))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        worker.close()

    app = FastAPI(
        title="argmine",
        version=argmine.__version__,
        description="Argument mining over HTTP: conclusions, claims and evidence in a text, "
        "linked by support and attack. The web page is at `/`.",
        docs_url=None,  # served below from local files, not a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.argmine = state
    add_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=BODY_BYTES_PER_CHAR * max_chars + 2**20)
    if local_only:
        app.add_middleware(LoopbackHostsOnly)
    _add_api_routes(app, state)
    _add_page_routes(app, state)
    _add_docs_routes(app)
    return app


def _model_identity(miner: Any) -> tuple[str | None, str | None]:
    """The model's name and version, from a graph it makes (also warms it up for request 1)."""
    metadata = miner.parse("Warm-up. One sentence.").metadata
    return metadata.get("model"), metadata.get("model_version")


def _check_length(state: ServerState, texts: Sequence[str], what: str) -> None:
    total = sum(len(t) for t in texts)
    if total > state.max_chars:
        raise StarletteHTTPException(
            413,
            f"{what} has {total:,} characters; this server takes at most {state.max_chars:,} "
            "per request (argmine serve --max-chars)",
        )


async def _plain_texts(texts: list[str], html: bool) -> list[str]:
    """The texts to parse: as given, or each HTML page's main text (off the event loop)."""
    if not html:
        return texts
    from argmine.cleanup import html_to_text

    try:
        return [await run_in_threadpool(html_to_text, t) for t in texts]
    except ImportError as err:
        raise StarletteHTTPException(501, str(err)) from err
    except Exception as err:  # lxml refuses some strings outright (e.g. an XML declaration)
        raise StarletteHTTPException(422, f"cannot read the text as HTML: {describe(err)}") from err


def _add_api_routes(app: FastAPI, state: ServerState) -> None:
    worker = state.worker

    @app.post(
        "/parse",
        tags=["parse"],
        summary="Parse one document",
        responses=PARSE_RESPONSES,
        response_class=JSONResponse,
    )
    async def parse(body: ParseRequest) -> Response:
        """The argument graph of one text, in the format asked for (default: the graph's JSON)."""
        _check_length(state, [body.text], "the text")
        texts = await _plain_texts([body.text], body.html)
        graphs = await worker.parse(texts, [body.segments], body.clean)
        value = await run_in_threadpool(_converted, graphs, body.format)
        if body.format == "dot":
            return PlainTextResponse(value[0], media_type="text/vnd.graphviz")
        if body.format == "svg":
            return Response(value[0], media_type="image/svg+xml")
        return json_response(value[0])

    @app.post(
        "/parse/batch",
        tags=["parse"],
        summary="Parse several documents",
        responses={
            **PARSE_RESPONSES,
            200: {
                "description": "One item per text, in order, each as `format` asks "
                "(`dot`: a string each).",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/GraphOut"},
                        }
                    }
                },
            },
        },
        response_class=JSONResponse,
    )
    async def parse_batch(body: BatchRequest) -> Response:
        """One graph per text, in the order given (``miner.pipe``). ``--max-chars`` limits
        the texts' total length."""
        _check_length(state, body.texts, "the batch")
        texts = await _plain_texts(body.texts, body.html)
        graphs = await worker.parse(texts, body.segments, body.clean)
        return json_response(_converted(graphs, body.format))

    @app.get("/health", tags=["server"], summary="Is the server up?", response_model=HealthOut)
    async def health() -> dict[str, Any]:
        """Answers at once, even while the model is busy with a long text."""
        return {
            "status": "ok",
            "model": state.model,
            "model_version": state.model_version,
            "argmine_version": argmine.__version__,
            "busy": worker.busy,
            "queued": worker.queued,
            "max_chars": state.max_chars,
        }

    @app.post(
        "/view",
        tags=["page"],
        summary="Parse one document for the web page",
        response_model=ViewOut,
        responses={k: v for k, v in PARSE_RESPONSES.items() if k != 200},
    )
    async def view(body: ViewRequest) -> Response:
        """What the page at ``/`` calls: one parse, with the graph's JSON, its AIF and the
        highlighted HTML view (the same view as ``argmine render``)."""
        from argmine.render import graph_view

        _check_length(state, [body.text], "the text")
        texts = await _plain_texts([body.text], body.html)
        graphs = await worker.parse(texts, [body.segments], body.clean)
        graph, aif = graphs[0], _converted(graphs, "aif")[0]
        svg, note = await run_in_threadpool(_picture, graph)
        try:
            view_html = await run_in_threadpool(graph_view, graph, svg, note)
        except Exception as err:
            logger.exception("rendering the view failed")
            raise ParseFailed(f"rendering the view failed: {describe(err)}") from err
        return json_response(
            {"graph": graph.to_dict(), "aif": aif, "html": view_html, "picture_note": note}
        )


def _picture(graph: ArgumentGraph) -> tuple[str | None, str | None]:
    """The page's SVG of the graph, or why there is none: the view is worth showing without
    it, so no failure to draw is an error of the request."""
    from argmine.render import GraphvizMissing, graph_svg

    if not graph.components:
        return None, None
    if len(graph.components) > PICTURE_MAX_COMPONENTS:
        return None, (
            f"The graph has {len(graph.components):,} components: it is drawn only up to "
            f"{PICTURE_MAX_COMPONENTS} (download the JSON and use argmine render for more)."
        )
    try:
        return graph_svg(graph, timeout=PICTURE_TIMEOUT), None
    except GraphvizMissing as err:
        return None, f"No picture of the graph: {err}."
    except subprocess.TimeoutExpired:
        return None, f"No picture of the graph: Graphviz took over {PICTURE_TIMEOUT:.0f} s."
    except Exception as err:
        logger.exception("drawing the graph failed")
        return None, f"No picture of the graph: drawing it failed ({describe(err)})."


def _add_page_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(state.page, headers={"Content-Security-Policy": CSP})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)


def _page(max_chars: int, model: str | None) -> str:
    """The web page: one file in the package, with the view's CSS from render.py put in."""
    from argmine.render import VIEW_CSS

    template = (files("argmine") / "static" / "index.html").read_text(encoding="utf-8")
    return (
        template.replace("/*VIEW_CSS*/", VIEW_CSS)
        .replace("__MAX_CHARS__", str(max_chars))
        .replace("__MODEL__", html_module.escape(model or "argmine"))
        .replace("__VERSION__", argmine.__version__)
    )


def _add_docs_routes(app: FastAPI) -> None:
    """Swagger UI at /docs from the ``swagger-ui-bundle-v2`` package's files (the serve extra);
    without it, a plain local page listing the endpoints. Never a CDN: the server may be used
    offline, and a CDN would learn who reads the docs."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        swagger_ui_path = None

    if swagger_ui_path is None:

        @app.get("/docs", include_in_schema=False)
        async def plain_docs() -> HTMLResponse:
            return HTMLResponse(_plain_docs(app.openapi()))

        return

    from starlette.staticfiles import StaticFiles

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="argmine API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = CSP
        return page


def _plain_docs(schema: dict[str, Any]) -> str:
    rows = []
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            rows.append(
                f"<li><code>{method.upper()} {html_module.escape(path)}</code>: "
                f"{html_module.escape(operation.get('summary', ''))}</li>"
            )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>argmine API</title>'
        "</head><body><h1>argmine API</h1><ul>" + "".join(rows) + "</ul>"
        '<p>The full schema: <a href="/openapi.json">/openapi.json</a>. For the interactive '
        "docs here, install the serve extra: <code>pip install 'argmine[serve]'</code>.</p>"
        "</body></html>"
    )


# ---------------------------------------------------------------------------- errors
