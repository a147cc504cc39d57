"""argmine over HTTP: a JSON API and a web page (``argmine serve``; extra ``argmine[serve]``).

Endpoints: ``POST /parse`` (one text), ``POST /parse/batch`` (several, graphs in order),
``POST /view`` (what the web page calls: one parse with its HTML view and AIF), ``GET /health``,
``GET /`` (the page) and ``GET /docs`` (Swagger UI served from the installed
``swagger-ui-bundle-v2`` package, never from a CDN; the schema is at ``/openapi.json``).

How it is built, and why:

- The model is loaded once, before the server listens, and every call into it goes through
  the model worker (:mod:`~argmine.server.worker`): one thread, so the model is never run by
  two threads at once, and off the event loop, so ``/health`` and the page answer while a long
  text is being parsed. With ``batch_size`` above 1, requests that arrive while the worker is
  busy are parsed together in one ``pipe`` call (its ``DEFAULT_BATCH_SIZE`` says why it is 1
  by default).
- Errors are part of the interface, always JSON ``{"detail": ...}``: malformed JSON is a 400,
  a field of the wrong type a 422, a text over ``max_chars`` a 413 (a body far larger than
  that is refused before it is read in full), a failure inside the model a 500 whose message
  names the error; the traceback goes to the server's log, and the server keeps serving.
- Bound to a loopback address (the default), the server answers only requests addressed to
  ``localhost``/``127.0.0.1``/``[::1]``, so a web page elsewhere cannot reach it through DNS
  rebinding: argmine is used on sensitive texts. Texts are never written to the log.

The rooms: :mod:`~argmine.server.schemas` (request bodies and documented responses),
:mod:`~argmine.server.worker` (the model's thread), :mod:`~argmine.server.app` (the app and its
routes), :mod:`~argmine.server.handlers` (errors as JSON) and :mod:`~argmine.server.middleware`
(body size, loopback hosts). Importing this package needs the ``serve`` extra.
"""

from argmine.server.app import DEFAULT_MAX_CHARS, create_app
from argmine.server.schemas import GraphOut
from argmine.server.worker import DEFAULT_BATCH_SIZE, ModelWorker, ParseFailed

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_CHARS",
    "GraphOut",
    "ModelWorker",
    "ParseFailed",
    "create_app",
]
