"""Clean-up: keep web-page chrome out of the argument without moving any offset.

Scraped articles arrive with a title line, share buttons, login widgets and a comment form.
Rather than cutting them out (which would shift every offset after them), :func:`mask_chrome`
overwrites them with spaces, so the masked text has the same length as the input and every
character offset found in it points into the text the user passed.

What counts as chrome, and the ``reason`` each masked range records:
- ``comment section``: from a marker line ("Leave a Reply", "Comments", "12 Responses") to the
  end, but only with evidence that comments follow: within the next few lines, a reply link,
  an author or date line ("Jane says:", "March 3, 2010 at 4:12 pm", "2 days ago") or a comment
  form ("Fill in your details below", "Your email address will not be published"). A heading
  word alone ("Comments" in a report, or between two joined articles) is never enough;
- ``page widget``: widget lines anywhere ("Share this:", "You are commenting using your ...
  account", "Connecting to %s", "Log Out / Change", "Like this:", "Loading..."), and a
  "Leave a Reply" line with no comments after it;
- ``headline``: a short first line with no sentence punctuation, followed by a blank line.

Masking is never silent: the pipeline records every masked range with its reason in
``graph.metadata["masked"]``, the command line and the web page say how much was hidden, and
``clean=False`` (``--no-clean``) analyses everything.

HTML goes through trafilatura (the ``html`` extra) in :func:`html_to_text`; offsets then point
into the extracted text, which the graph carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any

COMMENT_MARKER = re.compile(
    r"^\s*(leave a (reply|comment)|post a comment|\d+\s+(comments?|responses?|replies)|"
    r"comments?( \(\d+\))?|responses?)\s*:?\s*$",
    re.IGNORECASE,
)
STRONG_MARKER = re.compile(r"^\s*(leave a (reply|comment)|post a comment)\s*:?\s*$", re.IGNORECASE)
"""Markers that are page furniture even with nothing after them (masked as one widget line)."""
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
COMMENT_EVIDENCE = re.compile(
    r"^\s*(reply( to this comment)?\s*[\u2193\u21b5]?|[\u2193\u21b5]\s*reply|"
    r"log in to reply|\d+ repl(y|ies)|"  # reply links
    r".{1,60}\b(says|said|wrote|writes)\s*:|"  # author lines
    r"your email address will not be published.*|required fields are marked.*|"
    r"(post|submit) comment|cancel reply|comment\s*\*?|(name|email)\s*\*|"
    r"save my name, email.*)\s*$",
    re.IGNORECASE,
)
DATE_LINE = re.compile(
    r"(\b\d{1,2}:\d{2}\b.*\b(19|20)\d{2}\b|\b(19|20)\d{2}\b.*\b\d{1,2}:\d{2}\b|"
    r"\b\d+\s+(minutes?|hours?|days?|weeks?|months?|years?)\s+ago\b)",
    re.IGNORECASE,
)
DATE_LINE_MAX_WORDS = 12
EVIDENCE_WINDOW = 8
"""Non-blank lines after a comment marker searched for evidence of comments."""
SENTENCE_END = re.compile(r"[.!?:;\"'\u201d]\s*$")
HEADLINE_MAX_WORDS = 12

COMMENT_SECTION = "comment section"
PAGE_WIDGET = "page widget"
HEADLINE = "headline"


@dataclass(frozen=True)
class MaskedSpan:
    """A character range the clean-up hid from the model, and why (``graph.metadata``)."""

    start: int
    end: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mask_chrome(text: str) -> str:
    """``text`` with page chrome replaced by spaces (same length, same offsets)."""
    return mask_spans(text, masked_spans(text))


def mask_spans(text: str, spans: Iterable[MaskedSpan]) -> str:
    """``text`` with each span blanked out; line breaks stay, so lines and offsets do too."""
    chars = list(text)
    for span in spans:
        chars[span.start : span.end] = [
            c if c in "\r\n" else " " for c in text[span.start : span.end]
        ]
    return "".join(chars)


def chrome_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``text`` that are page chrome, in text order."""
    return [(span.start, span.end) for span in masked_spans(text)]


def masked_spans(text: str) -> list[MaskedSpan]:
    """The page chrome of ``text``, in text order, each range with the reason it is masked."""
    spans: list[MaskedSpan] = []
    lines = list(_lines_with_offsets(text))
    first = _first_nonblank(lines)
    for index, (start, end, line) in enumerate(lines):
        if COMMENT_MARKER.match(line):
            if _comments_follow(lines, index):
                spans.append(MaskedSpan(start, len(text), COMMENT_SECTION))
                break
            if STRONG_MARKER.match(line):
                spans.append(MaskedSpan(start, end, PAGE_WIDGET))
            continue
        if WIDGET_LINE.match(line):
            spans.append(MaskedSpan(start, end, PAGE_WIDGET))
        elif index == first and _is_headline(lines, index):
            spans.append(MaskedSpan(start, end, HEADLINE))
    return [span for span in spans if span.start < span.end]


def _comments_follow(lines: list[tuple[int, int, str]], marker: int) -> bool:
    """Whether the lines after a marker look like comments: a reply link, an author or date
    line, or a comment form, among the next :data:`EVIDENCE_WINDOW` non-blank lines."""
    following = (line for _, _, line in lines[marker + 1 :] if line.strip())
    for line in islice(following, EVIDENCE_WINDOW):
        if COMMENT_EVIDENCE.match(line) or WIDGET_LINE.match(line):
            return True
        if len(line.split()) <= DATE_LINE_MAX_WORDS and DATE_LINE.search(line):
            return True
    return False


def describe_masked(text: str, masked: Iterable[MaskedSpan | dict[str, Any]]) -> str | None:
    """One sentence saying how much text the clean-up hid and why, or None when it hid no
    visible character (a user must be told when part of the input was not analysed)."""
    spans = [s if isinstance(s, MaskedSpan) else MaskedSpan(**s) for s in masked]
    hidden = sum(len(text[s.start : s.end].split()) for s in spans)
    if not hidden:
        return None
    chars = sum(s.end - s.start for s in spans)
    parts = []
    for span in spans:
        line = text.count("\n", 0, span.start) + 1
        if span.reason == COMMENT_SECTION:
            size = span.end - span.start
            parts.append(f"a comment section from line {line} to the end ({size:,} characters)")
    widgets = sum(s.reason == PAGE_WIDGET for s in spans)
    if widgets:
        parts.append(f"{widgets} page widget line{'s' if widgets > 1 else ''}")
    if any(s.reason == HEADLINE for s in spans):
        parts.append("the headline")
    share = 100 * chars / max(len(text), 1)
    return (
        f"clean-up masked {chars:,} of {len(text):,} characters ({share:.0f}%, {hidden:,} words): "
        + ", ".join(parts)
        + "; they are not analysed (graph metadata 'masked' lists them; --no-clean or "
        "clean=False analyses everything, e.g. several articles joined in one file)"
    )


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
