"""Hypothesis settings profiles and strategies shared by the generated tests and tests/fuzz.py.

Profiles: ``ci`` (the default in pytest: 200 examples per property, derandomized so a CI
failure reproduces) and ``fuzz`` (``tests/fuzz.py --examples N``: N examples, random seeds).
``ARGMINE_HYPOTHESIS_PROFILE`` picks one; ``ARGMINE_FUZZ_EXAMPLES`` sets the fuzz count.
"""

from __future__ import annotations

import os
import string

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from argmine.graph import COMPONENT_TYPES, RELATION_TYPES, ArgumentGraph, Component, Relation

CI_EXAMPLES = 200
SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]

settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=SLOW_OK
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("ARGMINE_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=SLOW_OK,
    database=None,
)
settings.load_profile(os.environ.get("ARGMINE_HYPOTHESIS_PROFILE", "ci"))

# ---------------------------------------------------------------------------- texts
PAGE_LINES = [
    "Leave a Reply",
    "Comments",
    "3 Responses",
    "Comments (2)",
    "Post a comment",
    "Reply",
    "Jane Doe says:",
    "March 3, 2010 at 4:12 pm",
    "2 days ago",
    "Fill in your details below or click an icon to log in:",
    "You are commenting using your Twitter account. Log Out / Change )",
    "Share this:",
    "Connecting to %s",
    "Your email address will not be published.",
    "We should ban cars in the city centre.",
    "Cars pollute the air, and a 2019 study proves it.",
    "If the rule had passed, lenders would have disclosed fees.",
    "Tuition should be free",
    "",
]
"""Lines that exercise the clean-up: comment markers, comment evidence, widgets, sentences."""

ODD_CHARACTERS = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None)
"""Every code point, surrogates and controls included (hypothesis leaves surrogates out of
``st.text()`` by default)."""


def page_texts() -> st.SearchStrategy[str]:
    """Lines of page furniture, sentences and random text, joined by varied line breaks."""
    line = st.one_of(st.sampled_from(PAGE_LINES), st.text(max_size=40))
    return st.builds(
        lambda lines, sep: sep.join(lines),
        st.lists(line, max_size=12),
        st.sampled_from(["\n", "\n\n", "\r\n", " ", "\u2028"]),
    )


def any_texts() -> st.SearchStrategy[str]:
    """Any ``str``: plain random text, every code point, and page-like texts."""
    return st.one_of(
        st.text(max_size=200),
        st.text(ODD_CHARACTERS, max_size=60),
        page_texts(),
    )


# ---------------------------------------------------------------------------- graphs
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
ATTRIBUTE_NAMES = st.one_of(
    st.sampled_from(["counterfactual", "native_label", "proposition_type", "note"]),
    st.text(string.ascii_letters + "_", min_size=1, max_size=10),
)
SCORES = st.one_of(st.none(), st.floats(0, 1))


@st.composite
def graphs(draw) -> ArgumentGraph:
    """A valid graph: random text, non-overlapping or nested spans, relations between them."""
    text = draw(st.one_of(st.text(min_size=1, max_size=120), page_texts().filter(bool)))
    n = draw(st.integers(0, 6))
    components = []
    for i in range(n):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        ids = st.one_of(st.just(f"c{i}"), st.just(f"T{i + 1}"), st.text(min_size=1, max_size=6))
        components.append(
            Component(
                id=draw(ids.filter(lambda x, used={c.id for c in components}: x not in used)),
                start=start,
                end=end,
                text=text[start:end],
                type=draw(st.sampled_from(COMPONENT_TYPES)),
                score=draw(SCORES),
                attributes=draw(st.dictionaries(ATTRIBUTE_NAMES, JSON_VALUES, max_size=3)),
            )
        )
    relations = []
    if len(components) > 1:
        pairs = st.tuples(st.sampled_from(components), st.sampled_from(components)).filter(
            lambda p: p[0] is not p[1]
        )
        chosen = draw(st.lists(pairs, max_size=6, unique_by=lambda p: (p[0].id, p[1].id)))
        relations = [
            Relation(
                s.id,
                t.id,
                draw(st.sampled_from(RELATION_TYPES)),
                draw(SCORES),
                draw(st.dictionaries(ATTRIBUTE_NAMES, JSON_VALUES, max_size=2)),
            )
            for s, t in chosen
        ]
    metadata = draw(
        st.dictionaries(st.sampled_from(["id", "source", "model"]), st.text(max_size=8))
    )
    if draw(st.booleans()):
        start = draw(st.integers(0, len(text) - 1))
        metadata["masked"] = [{"start": start, "end": len(text), "reason": "comment section"}]
    return ArgumentGraph(text, components, relations, metadata)
