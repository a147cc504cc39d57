"""Article-length documents made of shorter annotated ones, for training and for measuring.

Almost every annotated document is a short comment or microtext, while opinion articles run
700-1,200 words in paragraphs. Joining consecutive documents with a blank line between them
(each becomes a paragraph; gold units and links are kept, offsets shifted) gives long texts
with known graphs: :mod:`argmine.evaluation.lengths` measures links on them, and a training
source with ``join_words`` trains on them, so a link scorer sees many candidates and
paragraphs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from argmine.graph import ArgumentGraph, Component, Relation

ARTICLE_WORDS = (700, 1200)
"""The length of an opinion article, in words: what joined texts run to by default."""
SEPARATOR = "\n\n"
"""Between joined documents: a blank line, the paragraph break of plain text."""


def word_count(text: str) -> int:
    return len(text.split())


def joined_documents(
    graphs: Sequence[ArgumentGraph],
    words: tuple[int, int] = ARTICLE_WORDS,
    separator: str = SEPARATOR,
) -> list[ArgumentGraph]:
    """Consecutive documents (corpus order) joined with ``separator`` into texts of
    ``words[0]`` to ``words[1]`` words: documents are added until a text has at least
    ``words[0]``; a text that ends up over ``words[1]`` is dropped, and so are the last
    documents if they make less than ``words[0]``. Gold is the union of the parts' units and
    links (offsets shifted, ids prefixed with the part's position); ``metadata["joined"]``
    lists the parts' ids."""
    joined, group = [], []
    for graph in graphs:
        group.append(graph)
        total = sum(word_count(g.text) for g in group)
        if total >= words[0]:
            if total <= words[1]:
                joined.append(join(group, separator))
            group = []
    return joined


def join(parts: Sequence[ArgumentGraph], separator: str = SEPARATOR) -> ArgumentGraph:
    """One document of ``parts`` in order, with their units and links (see
    :func:`joined_documents`)."""
    text, components, relations = "", [], []
    for k, part in enumerate(parts):
        if k:
            text += separator
        offset = len(text)
        text += part.text
        components += [
            Component(
                f"{k}:{c.id}",
                c.start + offset,
                c.end + offset,
                c.text,
                c.type,
                c.score,
                dict(c.attributes),
            )
            for c in part.components
        ]
        relations += [
            Relation(f"{k}:{r.source}", f"{k}:{r.target}", r.type, r.score, dict(r.attributes))
            for r in part.relations
        ]
    first = parts[0].metadata
    ids = [str(p.metadata.get("id", k)) for k, p in enumerate(parts)]
    metadata = {
        "id": f"joined-{ids[0]}-{ids[-1]}",
        "source": first.get("source"),
        "split": first.get("split"),
        "joined": ids,
    }
    return ArgumentGraph(text, components, relations, metadata)


def shuffled_joined_documents(
    graphs: Sequence[ArgumentGraph], words: tuple[int, int], seed: int = 0
) -> list[ArgumentGraph]:
    """:func:`joined_documents` of ``graphs`` in an order drawn with ``seed`` (training: a
    text's paragraphs are unrelated comments, not neighbours in the corpus's order)."""
    order = list(graphs)
    random.Random(seed).shuffle(order)
    return joined_documents(order, words)
