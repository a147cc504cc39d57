"""Clean-up: keep web-page chrome out of the argument without moving any offset.

Scraped articles arrive with a title line, share buttons, login widgets and a comment form.
Rather than cutting them out (which would shift every offset after them), :func:`mask_chrome`
overwrites them with spaces, so the masked text has the same length as the input and every
character offset found in it points into the text the user passed.

What counts as chrome:
- a comment section: from a line such as "Leave a Reply" or "N Comments" to the end;
- widget lines anywhere ("Share this:", "You are commenting using your ... account",
  "Connecting to %s", "Log Out / Change", "Like this:", "Loading...");
- a headline: a short first line with no sentence punctuation, followed by a blank line.

HTML goes through trafilatura (the ``html`` extra) in :func:`html_to_text`; offsets then point
into the extracted text, which the graph carries.
"""

from __future__ import annotations

import re

COMMENT_SECTION = re.compile(
    r"^\s*(leave a (reply|comment)|post a comment|\d+\s+(comments?|responses?)|"
    r"comments?( \(\d+\))?|responses?)\s*$",
    re.IGNORECASE,
)
WIDGET_LINE = re.compile(
    r"^\s*(share this:?|like this:?|related|loading\.{0,3}|"
    r"you are commenting using your .*account.*|connecting to %s|"
    r"fill in your details below or click an icon to log in:?.*|"
    r"(twitter|facebook|google\+?|wordpress\.com) (picture|photo|account)|"
    r"(log\s*out|log\s*in|sign\s*in|sign\s*up)\b.{0,40}|"
    r"(notify me of (new|follow-up) (comments|posts).*)|"
    r"(email|name|website)\s*\(?(required|address never made public)?\)?|"
    r"(click to share on .*)|(post was not sent - check your email addresses!)|"
    r"(posted in|tagged|filed under) .{0,80}|follow\b.{0,40})\s*$",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.!?:;\"'\u201d]\s*$")
HEADLINE_MAX_WORDS = 12


def mask_chrome(text: str) -> str:
    """``text`` with page chrome replaced by spaces (same length, same offsets)."""
    chars = list(text)
    for start, end in chrome_spans(text):
        chars[start:end] = [c if c in "\r\n" else " " for c in text[start:end]]
    return "".join(chars)


def chrome_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``text`` that are page chrome, in text order."""
    spans: list[tuple[int, int]] = []
    lines = list(_lines_with_offsets(text))
    for index, (start, end, line) in enumerate(lines):
        if COMMENT_SECTION.match(line):
            spans.append((start, len(text)))
            break
        if WIDGET_LINE.match(line) or (
            index == _first_nonblank(lines) and _is_headline(lines, index)
        ):
            spans.append((start, end))
    return spans


def _lines_with_offsets(text: str):
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        yield offset, offset + len(body), body
        offset += len(line)


def _first_nonblank(lines: list[tuple[int, int, str]]) -> int:
    return next((i for i, (_, _, line) in enumerate(lines) if line.strip()), -1)


def _is_headline(lines: list[tuple[int, int, str]], index: int) -> bool:
    """A short first line without sentence punctuation, set off by a blank line."""
    line = lines[index][2]
    followed_by_blank = index + 1 < len(lines) and not lines[index + 1][2].strip()
    return (
        followed_by_blank
        and len(line.split()) <= HEADLINE_MAX_WORDS
        and not SENTENCE_END.search(line)
    )


def html_to_text(html: str) -> str:
    """The main text of an HTML page, via trafilatura (``pip install 'argmine[html]'``)."""
    try:
        import trafilatura
    except ImportError as err:
        raise ImportError(
            "reading HTML needs the optional extractor: pip install 'argmine[html]'"
        ) from err
    extracted = trafilatura.extract(html, include_comments=False, include_tables=False)
    return extracted or ""
