"""What argmine accepts as a text, checked before any tokenizer sees it.

A tokenizer's own error on odd input ("TextEncodeInput must be Union[...]") says nothing about
the text; these checks fail first, with argmine's own exception naming the position, so the
API, the command line, batch labelling and the server all report the same thing.
"""

from __future__ import annotations

import re

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


def check_encodable(text: str) -> None:
    """Raise :class:`UnencodableTextError` at the first surrogate code point of ``text``."""
    found = SURROGATE.search(text)
    if found is not None:
        raise UnencodableTextError(found.start(), ord(found.group()))
