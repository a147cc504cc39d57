"""Documents by length: joined texts keep their parts' units and links; figures per bucket."""

from __future__ import annotations

from argmine.evaluation.lengths import (
    JOINED_BUCKET,
    SEED_TABLE_BUCKETS,
    by_words,
    join,
    joined_documents,
    length_buckets,
    link_figures,
    seed_table,
    word_count,
)
from argmine.graph import ArgumentGraph, Relation


def _parts(tiny_graphs, n: int = 40) -> list[ArgumentGraph]:
    return [
        ArgumentGraph(g.text, g.components, g.relations, {**g.metadata, "id": f"d{k}"})
        for k, g in enumerate(tiny_graphs[k % 2] for k in range(n))
    ]


def test_a_joined_text_holds_its_parts_units_and_links_at_shifted_offsets(tiny_graphs):
    joined = join(tiny_graphs)
    assert joined.text == "\n\n".join(g.text for g in tiny_graphs)
    assert len(joined) == sum(len(g) for g in tiny_graphs)
    assert len(joined.relations) == sum(len(g.relations) for g in tiny_graphs)
    for c in joined.components:  # the graph checks text[start:end] == c.text on creation
        assert joined.text[c.start : c.end] == c.text
    second = [c for c in joined.components if c.id.startswith("1:")]
    assert second[0].start == len(tiny_graphs[0].text) + 2
    assert joined.metadata["joined"] == ["tiny0", "tiny1"]


def test_joined_texts_run_between_the_word_bounds_in_corpus_order(tiny_graphs):
    parts = _parts(tiny_graphs)
    texts = joined_documents(parts, words=(100, 150))
    assert texts and all(100 <= word_count(t.text) <= 150 for t in texts)
    ids = [i for t in texts for i in t.metadata["joined"]]
    assert ids == [f"d{k}" for k in range(len(ids))]


def test_buckets_and_figures(tiny_graphs):
    buckets = length_buckets(_parts(tiny_graphs), article=tiny_graphs[:1])
    assert list(by_words(tiny_graphs)) == list(buckets)[:3]
    assert buckets[JOINED_BUCKET] and buckets["ContactPoint article"] == tiny_graphs[:1]
    gold = tiny_graphs[0]
    predicted = ArgumentGraph(
        gold.text,
        gold.components,
        [Relation("c1", "c0", "support", 0.9), Relation("c2", "c0", "support", 0.2)],
    )
    figures = link_figures([predicted], [gold])
    assert figures["links_per_unit"] == 2 / 5 and figures["share_under_0.5"] == 0.5
    assert figures["mean_link_score"] == 0.55 and figures["gold_links_per_unit"] == 4 / 5
    assert figures["link"]["precision"] == 0.5 and figures["link"]["recall"] == 0.25


def _record(own: float, links_per_unit: float, f1: float) -> dict:
    """A saved links_by_length record: rows at the model's own min_score and at another."""
    rows = []
    for bucket in SEED_TABLE_BUCKETS:
        for min_score, value in ((own + 0.5, 99.0), (own, links_per_unit)):  # other first
            figures = {"links_per_unit": value, "share_under_0.5": 0.5, "mean_link_score": None}
            rows.append({"bucket": bucket, "units": "given", "min_score": min_score,
                         **figures, "link": {"f1": f1}})  # fmt: skip
            rows.append({"bucket": bucket, "units": "predicted", "min_score": min_score,
                         **figures})  # fmt: skip
    return {"model_min_score": own, "rows": rows}


def test_the_seed_table_averages_each_recipes_seeds_at_their_own_min_score():
    table = seed_table(
        {"plain": [_record(0.0, 0.2, 0.5), _record(0.3, 0.4, 0.7)], "other": [_record(0.1, 1, 1)]}
    )
    lines = table.splitlines()
    assert len(lines) == 2 + 2 * len(SEED_TABLE_BUCKETS)
    assert lines[2].startswith(f"| plain | {SEED_TABLE_BUCKETS[0]} | 0.300 (0.20 / 0.40) |")
    assert "| 0.600 (0.50 / 0.70) |" in lines[2]  # link F1
    assert "| n/a |" in lines[2]  # no seed has a mean link score
    assert "99" not in table  # rows at another min_score are not read
    assert lines[-1].startswith(f"| other | {SEED_TABLE_BUCKETS[-1]} | 1.000 (1.00) |")
