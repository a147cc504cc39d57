"""What argmine accepts as a text, checked before any tokenizer sees it.

A tokenizer's own error on odd input ("TextEncodeInput must be Union[...]") says nothing about
the text; these checks fail first, with argmine's own exception naming the position, so the
API, the command line, batch labelling and the server all report the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Segments = Sequence[tuple[int, int]]
"""Units a caller gives: ``(start, end)`` character spans of the text."""
SURROGATE = re.compile("[\ud800-\udfff]")


class InputTextError(ValueError):
    """argmine cannot analyse this text as given; the message says what to change."""


class UnencodableTextError(InputTextError):
    """The text holds a surrogate code point, which is not a Unicode character: no encoding
    (UTF-8 included) and no tokenizer can read it. Typical source: JSON with a lone ``\\ud800``
    escape, or bytes decoded with ``errors="surrogateescape"``."""

    def __init__(self, position: int, code_point: int) -> None:
        self.position = position
        self.code_point = code_point
        super().__init__(
            f"the text has a lone surrogate U+{code_point:04X} at character {position}, which is "
            "not valid Unicode and cannot be encoded; replace it first, e.g. "
            "text.encode('utf-8', 'replace').decode('utf-8') (one '?' per surrogate, so offsets "
            "stay the same)"
        )


class UnknownEncodingError(InputTextError):
    """An encoding name Python does not know."""

    def __init__(self, encoding: str) -> None:
        super().__init__(f"unknown encoding {encoding!r}")


class UndecodableTextError(InputTextError):
    """Bytes that are not text in the given encoding; the message names the byte and the fix."""


def decode_text(data: bytes, encoding: str, name: str) -> str:
    """``data`` as text; an unknown ``encoding`` or a byte it cannot decode is argmine's own
    error, naming ``name`` (a file, a line, standard input) and the option that fixes it."""
    try:
        return data.decode(encoding)
    except LookupError as err:
        raise UnknownEncodingError(encoding) from err
    except UnicodeDecodeError as err:
        raise UndecodableTextError(decode_message(name, encoding, err)) from err


def decode_message(name: str, encoding: str, err: UnicodeDecodeError) -> str:
    """Which byte of ``name`` is not ``encoding``, and how to say the right one."""
    bad = err.object[err.start : err.start + 1].hex()
    return (
        f"cannot decode {name} as {encoding} (byte 0x{bad} at offset {err.start}); "
        "pass its encoding with --encoding, e.g. --encoding latin-1"
    )


def check_encodable(text: str) -> None:
    """Raise :class:`UnencodableTextError` at the first surrogate code point of ``text``."""
    found = SURROGATE.search(text)
    if found is not None:
        raise UnencodableTextError(found.start(), ord(found.group()))


def check_min_score(min_score: float | None) -> float | None:
    """A relation-score threshold must be a number from 0 to 1 (None: the model's own)."""
    if min_score is None:
        return None
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)):
        raise TypeError(f"min_score must be a number, got {type(min_score).__name__}")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
    return min_score


def check_text(text: object) -> None:
    """argmine parses a ``str`` that is valid Unicode."""
    if not isinstance(text, str):
        raise TypeError(f"argmine parses str, got {type(text).__name__}; decode bytes first")
    check_encodable(text)


def check_segments(segments: Segments | None, text: str) -> list[tuple[int, int]] | None:
    """Given units must be non-empty pairs inside the text; they are kept in the given order."""
    if segments is None:
        return None
    checked = []
    for span in segments:
        try:
            start, end = (int(x) for x in span)
        except (TypeError, ValueError) as err:
            raise ValueError(f"a segment must be a (start, end) pair, got {span!r}") from err
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"segment {span!r} lies outside the text (length {len(text)}) or is empty"
            )
        checked.append((start, end))
    return checked
