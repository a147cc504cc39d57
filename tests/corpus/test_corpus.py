"""The committed corpus: counts, the hand-annotated ContactPoint article, loading, the CLI."""

from __future__ import annotations

import filecmp
from collections import Counter
from pathlib import Path

import pytest

import argmine
from argmine.corpus import CORPUS_NAMES, corpus_dir, load, load_graphs

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def type_counts(graphs, what: str) -> Counter:
    return Counter(x.type for g in graphs for x in getattr(g, what))


def test_corpus_dir_holds_the_checkouts_corpus():
    """corpus/ itself in a checkout; installed with pip, the copy inside the package."""
    folder = corpus_dir()
    assert folder in (REPO / "corpus", Path(argmine.__file__).parent / "_corpus")
    for name in ("microtexts", "cdcp", "contactpoint", "semeval2020-task5"):
        installed = (folder / name / f"{name}.jsonl").read_bytes()
        assert installed == (REPO / "corpus" / name / f"{name}.jsonl").read_bytes()
    assert set(CORPUS_NAMES) == {"microtexts", "cdcp", "contactpoint", "semeval2020-task5", "all"}


def test_corpus_dir_can_be_overridden(tmp_path, monkeypatch):
    monkeypatch.setenv("ARGMINE_CORPUS_DIR", str(tmp_path))
    assert corpus_dir() == tmp_path
    monkeypatch.setenv("ARGMINE_CORPUS_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="ARGMINE_CORPUS_DIR"):
        corpus_dir()


def test_microtexts_counts():
    graphs = load_graphs("microtexts")
    assert len(graphs) == 112
    assert sum(len(g) for g in graphs) == 576
    assert type_counts(graphs, "components") == {"conclusion": 112, "claim": 464}
    assert sum(len(g.relations) for g in graphs) == 464
    assert all(len(g.conclusions) == 1 for g in graphs)


def test_cdcp_counts():
    graphs = load_graphs("cdcp")
    assert len(graphs) == 581
    assert type_counts(graphs, "components") == {
        "conclusion": 690,
        "claim": 1775,
        "evidence": 1441,
    }
    assert type_counts(graphs, "relations") == {"support": 1099}
    splits = Counter(g.metadata["split"] for g in graphs)
    assert splits == {"train": 523, "dev": 58}


def test_cdcp_spans_have_no_surrounding_whitespace():
    for graph in load_graphs("cdcp"):
        for c in graph.components:
            assert c.text == c.text.strip() and c.text == graph.text[c.start : c.end]


@pytest.fixture(scope="module")
def article():
    (graph,) = load_graphs("contactpoint")
    return graph


def test_contactpoint_counterfactual_conclusion_with_social_workers_support(article):
    (cf,) = [c for c in article.components if c.attributes.get("counterfactual")]
    assert cf.type == "conclusion"
    assert cf.text == (
        "if ContactPoint had been running at the time\u00a0 it would have made no difference "
        "to the fate of these unfortunate children"
    )
    (support,) = article.supporters(cf.id)
    assert "social workers knew that the respective" in support.text
    assert support.text.endswith("failed to act \u00a0properly to protect them")


def test_contactpoint_main_conclusion_and_its_two_concessions(article):
    main = [c for c in article.conclusions if not c.attributes.get("counterfactual")]
    assert [c.text for c in main] == [
        "frankly the coalition government had little alternative but to scrap it"
    ]
    attackers = article.attackers(main[0].id)
    assert len(attackers) == 2
    assert all(c.text.startswith("Although") for c in attackers)
    assert any(c.text.startswith("Although many charities were keen") for c in attackers)
    assert any("principle \u00a0behind ContactPoint was sound" in c.text for c in attackers)


def test_contactpoint_statistics_are_evidence_for_security_concerns(article):
    by_text = {c.text.split("\u00a0")[0].split()[0]: c for c in article.evidence}
    security = next(c for c in article.claims if c.text.startswith("Security concerns"))
    supporters = {c.id for c in article.supporters(security.id)}
    assert by_text["Over"].id in supporters
    leeds = next(c for c in article.evidence if "Leeds" in c.text)
    assert "70,000 incidents of inappropriate access" in leeds.text


def test_contactpoint_text_is_the_article_unchanged_and_units_avoid_the_chrome(article):
    seed = SHARED / "seed" / "ends-in-august.txt"
    if seed.is_file():
        with seed.open(encoding="utf-8", newline="") as handle:
            assert article.text == handle.read()
    assert "\u00a0" in article.text
    chrome = article.text.index("Leave a Reply")
    title_end = article.text.index("\n")
    spans = sorted((c.start, c.end) for c in article.components)
    assert all(title_end < s and e <= chrome for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False))  # no overlap
    for c in article.components:
        assert c.text == c.text.strip() and c.text[0].isalnum() and c.text[-1].isalnum()
    assert article.metadata == {
        "id": "ends-in-august",
        "source": "contactpoint",
        "split": "train",
        "title": "Ends in August",
    }


def test_load_returns_a_dataset_dict_keyed_by_split():
    import datasets

    cdcp = load("cdcp")
    assert isinstance(cdcp, datasets.DatasetDict)
    assert set(cdcp) == {"train", "dev"}
    first = cdcp["train"][0]
    expected = load_graphs("cdcp", split="train")[0]
    assert first["id"] == expected.metadata["id"]
    assert first["text"] == expected.text
    assert [c["text"] for c in first["components"]] == [c.text for c in expected]
    assert first["components"][0]["attributes"]["native_label"] in {"value", "policy", "fact"}
    assert set(load("all")) == {"train", "dev"}
    dev = load("cdcp", split="dev")
    assert isinstance(dev, datasets.Dataset) and len(dev) == 58


def test_load_graphs_names_the_splits_a_corpus_has():
    with pytest.raises(ValueError, match="has no split 'test'.*dev"):
        load_graphs("cdcp", split="test")


def test_all_concatenates_the_sources():
    sources = Counter(g.metadata["source"] for g in load_graphs("all"))
    assert sources == {"microtexts": 112, "cdcp": 581, "contactpoint": 1}


def test_cli_stats_prints_the_cdcp_counts(capsys):
    from argmine.cli import main

    assert main(["corpus", "stats", "cdcp"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[:2] == ["cdcp", "all"])
    assert row.split()[2:] == ["581", "3906", "690", "1775", "1441", "1099", "1099", "0"]


def test_cli_stats_rejects_an_unknown_corpus(capsys):
    from argmine.cli import main

    assert main(["corpus", "stats", "no-such-corpus"]) == 2
    assert "no-such-corpus" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED / "corpora").is_dir(), reason="../shared/corpora is not here")
def test_rebuilding_from_shared_reproduces_the_committed_corpus(tmp_path):
    from argmine.corpus.build import build_corpus

    build_corpus(SHARED, tmp_path)
    for name in ("microtexts", "cdcp", "contactpoint", "semeval2020-task5"):
        built, committed = tmp_path / name / f"{name}.jsonl", corpus_dir() / name / f"{name}.jsonl"
        assert filecmp.cmp(built, committed, shallow=False), name


def test_readme_shows_the_current_stats(capsys):
    from argmine.cli import main

    main(["corpus", "stats"])
    table = capsys.readouterr().out.strip()
    assert table in (REPO / "corpus" / "README.md").read_text(encoding="utf-8")


def test_semeval_counterfactual_sentences_are_a_corpus_of_their_own():
    graphs = load_graphs("semeval2020-task5")
    splits = Counter(g.metadata["split"] for g in graphs)
    assert splits == {"train": 14556, "dev": 1617}
    assert sum(g.metadata["counterfactual"] for g in graphs) == 4641
    with_parts = [g for g in graphs if g.metadata["spans_annotated"]]
    assert len(with_parts) == 3549
    assert all(g.text[slice(*g.metadata["antecedent"])] for g in with_parts)
    assert not any(g.components for g in graphs)
    assert "semeval2020-task5" not in {g.metadata["source"] for g in load_graphs("all")}
