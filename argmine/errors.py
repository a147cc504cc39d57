"""How argmine words an error for a person: on one line, whatever the library beneath said.

Library errors often span paragraphs; the command line prints ``argmine: error: ...`` on one
line, the server answers ``{"detail": ...}`` and the views show a unit's text on one line, so
every place that turns text or an exception into such a line uses these two functions.
"""

from __future__ import annotations

MAX_DETAIL = 300
"""Characters of an exception's message :func:`describe` keeps."""


def one_line(value: object, limit: int | None = None) -> str:
    """``value`` (a text, or an exception's message) with every run of white space, line
    breaks included, made one space; cut to ``limit`` characters with "..." when longer."""
    text = " ".join(str(value).split())
    if limit is not None and len(text) > limit:
        return text[:limit] + "..."
    return text


def describe(err: BaseException, limit: int = MAX_DETAIL) -> str:
    """An exception as ``TypeName: message`` on one line (the type alone without a message)."""
    message = one_line(err, limit)
    return f"{type(err).__name__}: {message}" if message else type(err).__name__
