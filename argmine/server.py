"""argmine over HTTP: a JSON API and a web page (``argmine serve``; extra ``argmine[serve]``).

Endpoints: ``POST /parse`` (one text), ``POST /parse/batch`` (several, graphs in order),
``POST /view`` (what the web page calls: one parse with its HTML view and AIF), ``GET /health``,
``GET /`` (the page) and ``GET /docs`` (Swagger UI served from the installed
``swagger-ui-bundle-v2`` package, never from a CDN; the schema is at ``/openapi.json``).

How it is built, and why:

- The model is loaded once, before the server listens, and every call into it goes through
  :class:`ModelWorker`: one thread, so the model is never run by two threads at once, and off
  the event loop, so ``/health`` and the page answer while a long text is being parsed.
  With ``batch_size`` above 1, requests that arrive while the worker is busy are parsed
  together in one ``pipe`` call (see :data:`DEFAULT_BATCH_SIZE` for why it is 1 by default).
- Errors are part of the interface, always JSON ``{"detail": ...}``: malformed JSON is a 400,
  a field of the wrong type a 422, a text over ``max_chars`` a 413 (a body far larger than
  that is refused before it is read in full), a failure inside the model a 500 whose message
  names the error; the traceback goes to the server's log, and the server keeps serving.
- Bound to a loopback address (the default), the server answers only requests addressed to
  ``localhost``/``127.0.0.1``/``[::1]``, so a web page elsewhere cannot reach it through DNS
  rebinding: argmine is used on sensitive texts. Texts are never written to the log.
"""

from __future__ import annotations

import asyncio
import html as html_module
import json
import logging
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import argmine
from argmine.graph import ArgumentGraph

logger = logging.getLogger("argmine.server")

DEFAULT_MAX_CHARS = 1_000_000
"""Longest text one request may carry (``/parse/batch``: all its texts together)."""
BODY_BYTES_PER_CHAR = 8
"""A request body over ``8 * max_chars`` bytes (plus 1 MiB for the rest of the JSON) cannot
hold an allowed text even with every character escaped: refused before it is read in full."""
DEFAULT_BATCH_SIZE = 1
"""Texts the worker parses in one ``pipe`` call when requests wait. 1 by default: a text's
graph then never depends on what other clients sent at the same time (with int8 precision,
the default on x86 CPUs, a batch's padding moves the quantisation scales, and a score near a
threshold can tip). Raise it for throughput under load where that does not matter, or with
float32 precision, whose graphs do not depend on the batch."""
FORMATS = ("json", "aif", "brat", "dot", "svg")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""The page and the docs load nothing from elsewhere; the browser is told so, and enforces it."""

Format = Literal["json", "aif", "brat", "dot", "svg"]
PICTURE_MAX_COMPONENTS = 400
"""The page's picture of the graph is drawn up to this many components: Graphviz's layout
time grows faster than the graph, and a picture of hundreds of boxes is not read anyway."""
PICTURE_TIMEOUT = 20.0
"""Seconds Graphviz may take to draw the page's picture; the text and tables come regardless."""
Segments = list[tuple[StrictInt, StrictInt]]


# ---------------------------------------------------------------------------- request bodies
def _html_field() -> Any:
    return Field(
        False,
        description="The text is an HTML page: its main text is extracted first (trafilatura), "
        "and the graph's text is that extract.",
    )


def _clean_field() -> Any:
    return Field(
        True,
        description="Mask page chrome (comment sections, share and login widgets, the "
        "headline); the graph lists what was masked in `metadata.masked`. `false` analyses "
        "every character.",
    )


def _check_encodable(text: str, what: str = "") -> None:
    """A lone surrogate (JSON ``\\ud800``) is the client's error: a 422 naming the position."""
    from argmine.inputs import InputTextError, check_encodable

    try:
        check_encodable(text)
    except InputTextError as err:
        raise ValueError(f"{what}{err}") from err


class ParseRequest(BaseModel):
    """One document: ``POST /parse``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Ban cars. They pollute the air."}]},
    )

    text: StrictStr = Field(description="The document (plain text, or HTML with `html: true`).")
    segments: Segments | None = Field(
        None,
        description="Your own argumentative units as [start, end] character offsets: they are "
        "kept as given, and only their types and links are predicted.",
        examples=[[[0, 9], [10, 31]]],
    )
    format: Format = Field("json", description="json, aif, brat, dot or svg (see the responses).")
    html: StrictBool = _html_field()
    clean: StrictBool = _clean_field()

    @model_validator(mode="after")
    def _segments_fit_the_text(self) -> ParseRequest:
        _check_encodable(self.text)
        _check_segments(self.segments, self.text, self.html)
        return self


class BatchRequest(BaseModel):
    """Several documents: ``POST /parse/batch``, like ``miner.pipe(texts, segments=...)``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"texts": ["Ban cars. They pollute.", "Tax sugar."]}]},
    )

    texts: list[StrictStr] = Field(description="The documents; graphs come back in this order.")
    segments: list[Segments | None] | None = Field(
        None, description="Units for each text (null for a text the model segments itself)."
    )
    format: Format = "json"
    html: StrictBool = _html_field()
    clean: StrictBool = _clean_field()

    @model_validator(mode="after")
    def _segments_fit_the_texts(self) -> BatchRequest:
        for i, text in enumerate(self.texts):
            _check_encodable(text, f"text {i}: ")
        if self.segments is None:
            return self
        if len(self.segments) != len(self.texts):
            raise ValueError(
                f"segments has {len(self.segments)} entries for {len(self.texts)} texts; "
                "give one per text (null for none)"
            )
        for i, (segments, text) in enumerate(zip(self.segments, self.texts, strict=True)):
            try:
                _check_segments(segments, text, self.html)
            except ValueError as err:
                raise ValueError(f"text {i}: {err}") from err
        return self


class ViewRequest(BaseModel):
    """What the web page sends to ``POST /view``."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr
    segments: Segments | None = None
    html: StrictBool = _html_field()
    clean: StrictBool = _clean_field()

    @model_validator(mode="after")
    def _segments_fit_the_text(self) -> ViewRequest:
        _check_encodable(self.text)
        _check_segments(self.segments, self.text, self.html)
        return self


def _check_segments(segments: Sequence[tuple[int, int]] | None, text: str, html: bool) -> None:
    if segments is None:
        return
    if html:
        raise ValueError("segments cannot be given with html: offsets index the extracted text")
    for start, end in segments:
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"segment [{start}, {end}] is empty or lies outside the text (length {len(text)})"
            )


# ---------------------------------------------------------------------------- response docs
class ComponentOut(BaseModel):
    id: str
    start: int
    end: int
    text: str
    type: str = Field(description="conclusion, claim or evidence")
    score: float | None
    attributes: dict[str, Any] = Field(
        description="e.g. counterfactual (bool) and counterfactual_score"
    )


class RelationOut(BaseModel):
    source: str
    target: str
    type: str = Field(description="support or attack")
    score: float | None
    attributes: dict[str, Any]


class GraphOut(BaseModel):
    """The graph's JSON form (docs/graph-schema.md): what ``format: json`` returns."""

    schema_version: int
    text: str
    components: list[ComponentOut]
    relations: list[RelationOut]
    metadata: dict[str, Any]


class BratOut(BaseModel):
    txt: str = Field(description="The .txt file: the document")
    ann: str = Field(description="The .ann standoff file; its offsets index txt")


class ViewOut(BaseModel):
    graph: GraphOut
    aif: dict[str, Any]
    html: str = Field(description="The highlighted view (argmine.render.graph_view)")
    picture_note: str | None = Field(
        None,
        description="Why the view has no picture of the graph (Graphviz not installed, too "
        "many components), or null: then the view holds the SVG, one node per component "
        '(`<g id="node-<component id>">`).',
    )


class HealthOut(BaseModel):
    status: Literal["ok"]
    model: str | None
    model_version: str | None
    argmine_version: str
    busy: bool = Field(description="The model is parsing now")
    queued: int = Field(description="Requests waiting for the model")
    max_chars: int


class ErrorOut(BaseModel):
    detail: Any = Field(description="What went wrong: a message (422: a list of field errors)")


PARSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The graph: `json` and `aif` as JSON, `brat` as `{txt, ann}`, `dot` as "
        "Graphviz text (`text/vnd.graphviz`), `svg` as the picture Graphviz draws, each "
        'component\'s node a `<g id="node-<component id>">`.',
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/GraphOut"}},
            "text/vnd.graphviz": {"schema": {"type": "string"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        },
    },
    400: {"model": ErrorOut, "description": "The body is not valid JSON"},
    413: {"model": ErrorOut, "description": "The text is longer than the server's --max-chars"},
    415: {"model": ErrorOut, "description": "The body is not JSON (Content-Type)"},
    422: {
        "model": ErrorOut,
        "description": "A field is missing or of the wrong type, or the text cannot be "
        "analysed as given (a lone surrogate; segments on a text without tokens; an HTML "
        "page the extractor cannot read)",
    },
    500: {"model": ErrorOut, "description": "The model failed on this input"},
    501: {"model": ErrorOut, "description": "`svg` without Graphviz on the server"},
}


# ---------------------------------------------------------------------------- the model worker
class ParseFailed(Exception):
    """The model (or a format conversion) failed on one request: answered with a 500, or a
    422 when argmine refused the input itself (:class:`argmine.inputs.InputTextError`)."""

    def __init__(self, message: str, status_code: int = 500) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass
class _Job:
    texts: list[str]
    segments: list[Sequence[tuple[int, int]] | None]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    clean: bool = True


@dataclass
class ModelWorker:
    """Runs every parse on one thread, several waiting requests per ``pipe`` call.

    The model's forward pass already uses every core; one thread at a time keeps it from being
    run concurrently (never safe to assume for a torch model) and leaves the event loop free.
    """

    miner: Any
    max_batch: int = DEFAULT_BATCH_SIZE
    busy: bool = False
    _pending: deque[_Job] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="argmine-model")
    )

    @property
    def queued(self) -> int:
        return len(self._pending)

    async def parse(
        self,
        texts: list[str],
        segments: list[Sequence[tuple[int, int]] | None] | None = None,
        clean: bool = True,
    ) -> list[ArgumentGraph]:
        """Graphs for ``texts``, in order; raises :class:`ParseFailed` if the model fails."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        segments = list(segments or [None] * len(texts))
        job = _Job(list(texts), segments, loop.create_future(), loop, clean)
        with self._lock:
            self._pending.append(job)
        self._executor.submit(self._run_pending)
        return await job.future

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- on the worker thread
    def _run_pending(self) -> None:
        jobs = self._take_jobs()
        if not jobs:
            return  # an earlier call took them along
        self.busy = True
        try:
            self._run_jobs(jobs)
        finally:
            self.busy = False

    def _take_jobs(self) -> list[_Job]:
        """The oldest waiting job, and those after it while the batch stays within max_batch."""
        jobs: list[_Job] = []
        with self._lock:
            while self._pending:
                job = self._pending[0]
                size = sum(len(j.texts) for j in jobs) + len(job.texts)
                if jobs and (size > self.max_batch or job.clean != jobs[0].clean):
                    break
                jobs.append(self._pending.popleft())
        return [j for j in jobs if not j.future.cancelled()]  # the client went away

    def _run_jobs(self, jobs: list[_Job]) -> None:
        texts = [t for job in jobs for t in job.texts]
        segments = [s for job in jobs for s in job.segments]
        options = {} if jobs[0].clean else {"clean": False}
        try:
            graphs = list(
                self.miner.pipe(texts, batch_size=self.max_batch, segments=segments, **options)
            )
        except Exception as err:
            if len(jobs) > 1:  # one request's failure is its own: the others still get graphs
                for job in jobs:
                    self._run_jobs([job])
                return
            from argmine.inputs import InputTextError

            if isinstance(err, InputTextError):  # the client's input, not the server's fault
                _resolve(jobs[0], error=ParseFailed(f"cannot analyse this input: {err}", 422))
                return
            logger.exception("the model failed on a request of %d text(s)", len(texts))
            _resolve(
                jobs[0], error=ParseFailed(f"the model failed on this input: {_describe(err)}")
            )
            return
        for job in jobs:
            mine, graphs = graphs[: len(job.texts)], graphs[len(job.texts) :]
            _resolve(job, result=mine)


def _resolve(job: _Job, result: Any = None, error: Exception | None = None) -> None:
    """Hand the outcome to the request's event loop (futures are not thread-safe)."""

    def settle() -> None:
        if job.future.done():  # cancelled: the client went away
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    job.loop.call_soon_threadsafe(settle)


def _describe(err: BaseException) -> str:
    message = " ".join(str(err).split())
    if len(message) > 300:
        message = message[:300] + "..."
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


# ---------------------------------------------------------------------------- formats
def formatted(graph: ArgumentGraph, fmt: str) -> Any:
    """The graph as the JSON value (or, for dot, the text) that ``fmt`` asks for."""
    if fmt == "json":
        return graph.to_dict()
    if fmt == "aif":
        return graph.to_aif()
    if fmt == "brat":
        txt, ann = graph.to_brat()
        return {"txt": txt, "ann": ann}
    if fmt == "dot":
        return graph.to_dot()
    if fmt == "svg":
        from argmine.render import graph_svg

        return graph_svg(graph)
    raise ValueError(f"unknown format {fmt!r}")


def _converted(graphs: list[ArgumentGraph], fmt: str) -> list[Any]:
    from argmine.render import GraphvizMissing

    try:
        return [formatted(g, fmt) for g in graphs]
    except GraphvizMissing as err:  # the server's set-up, not the request: say what to install
        raise StarletteHTTPException(501, str(err)) from err
    except Exception as err:
        logger.exception("converting a graph to %s failed", fmt)
        raise ParseFailed(f"converting the graph to {fmt} failed: {_describe(err)}") from err


def _json(value: Any, status_code: int = 200) -> Response:
    body = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return Response(body, status_code=status_code, media_type="application/json")


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
) -> FastAPI:
    """The ASGI app around a loaded miner (serve it with uvicorn, as ``argmine serve`` does).

    ``local_only``: answer only requests addressed to a loopback name (see the module doc).
    ``batch_size``: most texts parsed in one call when requests wait (1: one at a time).
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    worker = ModelWorker(miner, max_batch=batch_size)
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
    _add_error_handlers(app)
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
        raise StarletteHTTPException(
            422, f"cannot read the text as HTML: {_describe(err)}"
        ) from err


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
        return _json(value[0])

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
        return _json(_converted(graphs, body.format))

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
            raise ParseFailed(f"rendering the view failed: {_describe(err)}") from err
        return _json(
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
        return None, f"No picture of the graph: drawing it failed ({_describe(err)})."


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
def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ParseFailed, _parse_failed)
    app.add_exception_handler(Exception, _unexpected_error)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    """400 for a body that is not JSON at all, 415 for one sent as something else, else 422."""
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "not valid JSON")
            position = error.get("loc", ("body", None))[-1]
            where = f" at character {position}" if isinstance(position, int) else ""
            return _json({"detail": f"malformed JSON: {reason}{where}"}, 400)
    kind = request.headers.get("content-type", "")
    if kind and "json" not in kind.lower():
        message = f"send the body as JSON (Content-Type: application/json), not {kind}"
        return _json({"detail": message}, 415)
    return _json({"detail": [_field_error(e) for e in errors]}, 422)


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    """An error without the ``input`` pydantic echoes back (it can be the whole text)."""
    message = str(error.get("msg", ""))
    message = message.removeprefix("Value error, ")
    return jsonable_encoder(
        {"loc": list(error.get("loc", ())), "msg": message, "type": error.get("type")}
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if exc.detail is not None else "error"
    if exc.status_code == 404:
        detail = f"no such endpoint: {request.url.path} (see /docs)"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path} (see /docs)"
    response = _json({"detail": detail}, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _parse_failed(request: Request, exc: ParseFailed) -> Response:
    return _json({"detail": str(exc)}, exc.status_code)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json({"detail": f"internal server error: {_describe(exc)}"}, 500)


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
                response = _json(
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
