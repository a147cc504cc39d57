"""Each corpus reader on small hand-written fixtures, and their errors on malformed input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from argmine.corpus import (
    CorpusFormatError,
    graph_to_record,
    load,
    load_graphs,
    load_label_map,
    read_jsonl,
    record_to_graph,
    write_jsonl,
)
from argmine.corpus.cdcp import choose_dev_ids, read_cdcp
from argmine.corpus.essays import read_essays
from argmine.corpus.microtexts import read_microtexts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


def units(graph) -> dict[str, tuple[str, str]]:
    return {c.id: (c.type, c.text) for c in graph}


def links(graph) -> set[tuple[str, str, str, str]]:
    return {(r.source, r.target, r.type, r.attributes["native_label"]) for r in graph.relations}


# ---------------------------------------------------------------------------------- microtexts
@pytest.fixture(scope="module")
def microtexts():
    return {g.metadata["id"]: g for g in read_microtexts(FIXTURES / "microtexts")}


def test_microtexts_undercut_attacks_the_source_and_add_joins_the_undercut(microtexts):
    graph = microtexts["micro_t001"]
    assert {c.id: c.type for c in graph} == {
        "a1": "conclusion",
        "a2": "claim",
        "a3": "claim",
        "a4": "claim",
        "a5": "claim",
        "a6": "claim",
    }
    assert links(graph) == {
        ("a2", "a1", "support", "sup"),
        ("a3", "a2", "support", "exa"),
        ("a4", "a1", "attack", "reb"),
        ("a5", "a4", "attack", "und"),  # undercuts a4 -> a1: attacks a4
        ("a6", "a4", "attack", "add"),  # joins that undercut
    }
    assert graph.component("a4").attributes == {"native_label": "opp", "role": "opp"}
    assert graph.component("a1").attributes == {"native_label": "central_claim", "role": "pro"}
    assert graph.metadata == {
        "id": "micro_t001",
        "source": "microtexts",
        "split": "train",
        "topic_id": "car_ban",
        "stance": "pro",
    }


def test_microtexts_offsets_point_into_the_original_txt(microtexts):
    graph = microtexts["micro_t001"]
    original = (FIXTURES / "microtexts" / "micro_t001.txt").read_text(encoding="utf-8")
    assert graph.text == original and "\n" in graph.text
    assert graph.component("a2").text == "They pollute the air."
    assert graph.component("a2").start == original.index("They")


def test_microtexts_chains_of_add_and_und_and_joints(microtexts):
    graph = microtexts["micro_t002"]  # no .txt: the EDUs joined by single spaces
    assert graph.text.startswith("Tuition should be free for every student. Education")
    assert graph.component("a1").text == "Tuition should be free for every student."
    assert graph.component("a1").type == "conclusion"
    assert links(graph) == {
        ("a2", "a1", "support", "sup"),
        ("a3", "a1", "support", "add"),  # second premise of a2 -> a1
        ("a4", "a3", "attack", "und"),  # undercuts the add relation, whose source is a3
        ("a5", "a3", "attack", "add"),  # joins that undercut
    }
    assert graph.metadata["topic_id"] is None and graph.metadata["stance"] is None


def test_microtexts_malformed_xml_names_file_and_line(tmp_path):
    shutil.copy(FIXTURES / "microtexts" / "micro_t002.xml", tmp_path / "micro_t002.xml")
    broken = (FIXTURES / "microtexts" / "micro_t001.xml").read_text(encoding="utf-8")
    broken = broken.replace('<adu id="a2" type="pro"/>', '<adu id="a2" type="pro">')
    (tmp_path / "micro_t001.xml").write_text(broken, encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"micro_t001\.xml:\d+: malformed XML"):
        read_microtexts(tmp_path)


# ---------------------------------------------------------------------------------------- CDCP
@pytest.fixture(scope="module")
def cdcp():
    return {g.metadata["id"]: g for g in read_cdcp(FIXTURES / "cdcp")}


def test_cdcp_types_ranges_and_merged_duplicates(cdcp):
    graph = cdcp["00001"]
    assert units(graph) == {
        "p0": ("claim", "Debt collectors call far too often."),
        "p1": ("evidence", "I got ten calls a day last year."),
        "p2": ("evidence", "The CFPB counted 5000 complaints in 2012"),
        "p3": ("evidence", "(see __URL__)."),
        "p4": ("conclusion", "Calls should be limited to one a week."),
    }
    assert links(graph) == {
        ("p0", "p4", "support", "reason"),
        ("p1", "p0", "support", "reason"),  # the range [1, 2] -> 0
        ("p2", "p0", "support", "reason"),  # stated again as evidence: merged, first label kept
        ("p3", "p2", "support", "evidence"),
    }
    assert graph.component("p3").attributes == {
        "native_label": "reference",
        "url": "http://example.org/complaints",
    }
    assert graph.component("p4").attributes == {"native_label": "policy"}


def test_cdcp_splits(cdcp):
    assert {i: g.metadata["split"] for i, g in cdcp.items()} == {
        "00001": "train",
        "00002": "train",
        "00003": "test",
    }
    assert units(cdcp["00003"]) == {"p0": ("claim", "Nothing changes.")}


def test_cdcp_dev_split_is_a_fixed_tenth():
    ids = [f"{i:05d}" for i in range(200)]
    chosen = choose_dev_ids(ids)
    assert len(chosen) == 20
    assert chosen == choose_dev_ids(list(reversed(ids)))  # independent of reading order


def copy_cdcp(tmp_path: Path) -> Path:
    folder = tmp_path / "train"
    shutil.copytree(FIXTURES / "cdcp" / "train", folder)
    return folder


def test_cdcp_bad_json_names_file_and_line(tmp_path):
    folder = copy_cdcp(tmp_path)
    (folder / "00002.ann.json").write_text('{"prop_labels": ["value"],\n "prop_offsets": [[0, 3]')
    with pytest.raises(CorpusFormatError, match=r"00002\.ann\.json:2: invalid JSON"):
        read_cdcp(folder)


def test_cdcp_missing_field_and_span_outside_the_text_are_named(tmp_path):
    folder = copy_cdcp(tmp_path)
    path = folder / "00002.ann.json"
    ann = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in ann.items() if k != "prop_offsets"}))
    with pytest.raises(CorpusFormatError, match=r"00002\.ann\.json: field 'prop_offsets'"):
        read_cdcp(folder)
    ann["prop_offsets"][1][1] = 500  # beyond the text: rejected, not clipped
    path.write_text(json.dumps(ann))
    with pytest.raises(CorpusFormatError, match=r"field 'prop_offsets\[1\]'.*outside the text"):
        read_cdcp(folder)


def test_cdcp_unmapped_label_is_an_error(tmp_path):
    folder = copy_cdcp(tmp_path)
    path = folder / "00002.ann.json"
    ann = json.loads(path.read_text())
    ann["prop_labels"][0] = "opinion"
    path.write_text(json.dumps(ann))
    with pytest.raises(CorpusFormatError, match=r"prop_labels\[0\].*'opinion'"):
        read_cdcp(folder)


# -------------------------------------------------------------------------------------- essays
def test_essays_stance_links_claims_to_the_first_major_claim():
    (graph,) = read_essays(FIXTURES / "essays")
    assert {c.id: c.type for c in graph} == {
        "T1": "conclusion",
        "T2": "conclusion",
        "T3": "claim",
        "T4": "evidence",
        "T5": "claim",
        "T6": "evidence",
    }
    # T2 is the first MajorClaim in the text (the introduction), though listed second
    assert links(graph) == {
        ("T4", "T3", "support", "supports"),
        ("T6", "T5", "attack", "attacks"),
        ("T3", "T2", "support", "For"),
        ("T5", "T2", "attack", "Against"),
    }
    assert graph.metadata == {"id": "essay001", "source": "essays", "split": "test"}


def test_essays_malformed_ann_names_file_and_line(tmp_path):
    shutil.copy(FIXTURES / "essays" / "essay001.txt", tmp_path)
    ann = (FIXTURES / "essays" / "essay001.ann").read_text(encoding="utf-8").splitlines()
    ann[2] = "T3\tClaim eighty 105\tCars pollute the air"
    (tmp_path / "essay001.ann").write_text("\n".join(ann) + "\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"essay001\.ann, line 3"):
        read_essays(tmp_path)


def test_essays_span_outside_the_text_is_rejected(tmp_path):
    shutil.copy(FIXTURES / "essays" / "essay001.txt", tmp_path)
    ann = (FIXTURES / "essays" / "essay001.ann").read_text(encoding="utf-8")
    ann = ann.replace("T1\tMajorClaim 267 299", "T1\tMajorClaim 267 999")
    (tmp_path / "essay001.ann").write_text(ann, encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"essay001\.ann: entity T1.*outside the text"):
        read_essays(tmp_path)


# --------------------------------------------------------------------------------------- JSONL
def test_jsonl_reads_the_records():
    a, b = read_jsonl(FIXTURES / "sample.jsonl")
    assert a.metadata == {"id": "doc-a", "source": "sample", "split": "train", "title": "Cars"}
    assert [c.type for c in a] == ["conclusion", "claim", "evidence"]
    assert b.conclusions[0].attributes["counterfactual"] is True


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_malformed_line_names_file_and_line(tmp_path):
    good = (FIXTURES / "sample.jsonl").read_text(encoding="utf-8").splitlines()[0]
    path = write_lines(tmp_path / "bad.jsonl", [good, '{"id": "x", "text": '])
    with pytest.raises(CorpusFormatError, match=r"bad\.jsonl:2: invalid JSON"):
        read_jsonl(path)


def test_jsonl_missing_field_is_named(tmp_path):
    record = json.loads((FIXTURES / "sample.jsonl").read_text(encoding="utf-8").splitlines()[0])
    del record["text"]
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps(record)])
    with pytest.raises(CorpusFormatError, match=r"bad\.jsonl:1: field 'text' is missing"):
        read_jsonl(path)


def test_jsonl_span_outside_the_text_is_rejected_not_clipped(tmp_path):
    record = json.loads((FIXTURES / "sample.jsonl").read_text(encoding="utf-8").splitlines()[0])
    record["components"][2]["end"] = len(record["text"]) + 5
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps(record)])
    with pytest.raises(CorpusFormatError, match=r"bad\.jsonl:1: field 'components'.*outside"):
        read_jsonl(path)


def test_jsonl_component_without_a_required_field_is_named(tmp_path):
    record = json.loads((FIXTURES / "sample.jsonl").read_text(encoding="utf-8").splitlines()[0])
    del record["components"][1]["type"]
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps(record)])
    with pytest.raises(CorpusFormatError, match=r"bad\.jsonl:1: field 'components\[1\]'.*type"):
        read_jsonl(path)


def test_round_trip_graph_record_graph_is_exact(tmp_path):
    graphs = [
        *read_jsonl(FIXTURES / "sample.jsonl"),
        *read_microtexts(FIXTURES / "microtexts"),
        *read_cdcp(FIXTURES / "cdcp"),
        *read_essays(FIXTURES / "essays"),
        *load_graphs("contactpoint"),
    ]
    for graph in graphs:
        assert record_to_graph(json.loads(json.dumps(graph_to_record(graph)))) == graph
    write_jsonl(graphs, tmp_path / "all.jsonl")
    assert read_jsonl(tmp_path / "all.jsonl") == graphs


# ---------------------------------------------------------------------- detection, label maps
@pytest.mark.parametrize(
    ("folder", "source"),
    [
        ("microtexts", "microtexts"),
        ("cdcp", "cdcp"),
        ("essays", "essays"),
        ("sample.jsonl", "sample"),
    ],
)
def test_paths_are_recognised_by_their_layout(folder, source):
    graphs = load_graphs(FIXTURES / folder)
    assert graphs and {g.metadata["source"] for g in graphs} == {source}


def test_an_unrecognised_folder_is_a_clear_error(tmp_path):
    (tmp_path / "notes.md").write_text("nothing here")
    with pytest.raises(CorpusFormatError, match="not a recognised corpus folder"):
        load_graphs(tmp_path)


def test_load_on_a_path_gives_a_dataset_dict_keyed_by_split():
    dataset = load(FIXTURES / "sample.jsonl")
    assert set(dataset) == {"train", "test"}
    row = dataset["test"][0]
    assert row["id"] == "doc-b" and row["metadata"] == {"title": "Bridge"}
    assert row["components"][0]["attributes"] == {
        "native_label": "conclusion",
        "counterfactual": True,
    }


def test_builtin_label_maps_load():
    assert load_label_map("cdcp").components["testimony"] == "evidence"
    assert load_label_map("microtexts").relations["und"] == "attack"
    assert load_label_map("essays").relations["Against"] == "attack"


def test_a_users_label_map_retypes_a_reader_and_a_jsonl_corpus(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(
        json.dumps(
            {
                "components": {
                    "fact": "claim",
                    "testimony": "claim",
                    "reference": "evidence",
                    "value": "claim",
                    "policy": "claim",
                    "evidence": "claim",
                },
                "relations": {"reason": "support", "evidence": "support"},
            }
        )
    )
    (graph, *_) = load_graphs(FIXTURES / "cdcp", label_map=path)
    assert graph.component("p1").type == "claim"
    assert graph.component("p4").type == "claim"  # no top_is_conclusion in this map
    a, _ = load_graphs(FIXTURES / "sample.jsonl", label_map=path)
    assert [c.type for c in a] == ["conclusion", "claim", "claim"]


def test_a_label_map_naming_an_unknown_type_is_rejected(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"components": {"fact": "premise"}}))
    with pytest.raises(ValueError, match="'fact' to 'premise'"):
        load_label_map(path)


SUBTASK1 = """sentenceID,gold_label,sentence
100000,1,"If the bill had passed, rates would have fallen."
100001,0,Rates fell in May.
100002,1,Had we known we would have sold.
"""
SUBTASK2 = "\n".join(
    [
        "sentenceID,sentence,antecedent,consequent,"
        "antecedent_startid,antecedent_endid,consequent_startid,consequent_endid",
        '200000,"If the bill had passed, rates would have fallen.",If the bill had passed,'
        "rates would have fallen,0,21,24,46",
        "200001,Were it not for the storm.,Were it not for the storm,{},0,24,-1,-1",
        "",
    ]
)


def test_semeval_reader_merges_the_two_files_and_makes_ends_exclusive(tmp_path):
    from argmine.corpus import read_corpus_path

    (tmp_path / "subtask1_train.csv").write_text(SUBTASK1, encoding="utf-8")
    (tmp_path / "subtask2_train.csv").write_text(SUBTASK2, encoding="utf-8")
    graphs = {g.text: g.metadata for g in read_corpus_path(tmp_path)}
    assert len(graphs) == 4  # the sentence in both files is one document
    both = graphs["If the bill had passed, rates would have fallen."]
    assert both["subtasks"] == [1, 2] and both["counterfactual"] is True
    text = "If the bill had passed, rates would have fallen."
    assert text[slice(*both["antecedent"])] == "If the bill had passed"
    assert text[slice(*both["consequent"])] == "rates would have fallen"
    no_consequent = graphs["Were it not for the storm."]
    assert no_consequent["consequent"] is None and no_consequent["subtasks"] == [2]
    assert graphs["Rates fell in May."]["counterfactual"] is False
    unlabelled_parts = graphs["Had we known we would have sold."]
    assert unlabelled_parts["counterfactual"] and not unlabelled_parts["spans_annotated"]


def test_semeval_reader_rejects_offsets_that_miss_their_text(tmp_path):
    from argmine.corpus import CorpusFormatError, read_corpus_path

    (tmp_path / "subtask2_train.csv").write_text(SUBTASK2.replace(",0,21,", ",1,21,"), "utf-8")
    with pytest.raises(CorpusFormatError, match="200000.*antecedent"):
        read_corpus_path(tmp_path)
