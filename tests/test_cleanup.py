"""Visible clean-up and argmine's own input errors: nothing is lost without a trace.

A comment section is masked only with evidence of comments; every graph lists what was masked;
``clean=False`` / ``--no-clean`` analyses everything; the command line says how much was
hidden; a lone surrogate and a tokenizer without tokens are argmine's own errors.
"""

from __future__ import annotations

import json

import pytest
from conftest import TINY_TEXTS, assert_one_line_error

from argmine.cleanup import (
    COMMENT_SECTION,
    HEADLINE,
    PAGE_WIDGET,
    MaskedSpan,
    describe_masked,
    masked_spans,
)
from argmine.cli import main
from argmine.graph import ArgumentGraph, GraphValidationError
from argmine.inputs import InputTextError, UnencodableTextError

ARTICLE = TINY_TEXTS[0][0]
REPORT = TINY_TEXTS[0][0] + "\n\nComments\n\n" + TINY_TEXTS[1][0] + "\n"
"""A report with an ordinary heading in the middle that reads like a comment marker."""
JOINED = (
    TINY_TEXTS[0][0] + "\n\n3 Responses\n\n" + TINY_TEXTS[1][0] + "\n"
)  # two articles, the second after a heading that reads like a comment marker
WITH_COMMENTS = (
    ARTICLE + "\n\n2 Comments\n\nJane Doe says:\nMarch 3, 2010 at 4:12 pm\n"
    "Great post, ban them all.\nReply\n"
)


def reasons(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end].strip(), s.reason) for s in masked_spans(text)]


# ---------------------------------------------------------------------------- recognition
def test_a_heading_word_alone_is_not_a_comment_section():
    assert masked_spans(REPORT) == []
    assert masked_spans(JOINED) == []


@pytest.mark.parametrize(
    "evidence",
    [
        "Jane Doe says:\nGreat post.",
        "March 3, 2010 at 4:12 pm\nGreat post.",
        "Great post.\nReply",
        "Your email address will not be published. Required fields are marked *",
        "Fill in your details below or click an icon to log in:",
    ],
)
def test_a_marker_with_comments_after_it_masks_to_the_end(evidence):
    text = ARTICLE + "\n\nComments\n\n" + evidence + "\n"
    spans = masked_spans(text)
    assert spans == [MaskedSpan(text.index("Comments"), len(text), COMMENT_SECTION)]


def test_the_seed_article_keeps_its_chrome_masked():
    from argmine.corpus import load_graphs

    article = load_graphs("contactpoint")[0].text  # ../shared/seed/ends-in-august.txt unchanged
    spans = masked_spans(article)
    assert spans[0] == MaskedSpan(0, len("Ends in August"), HEADLINE)
    assert spans[-1] == MaskedSpan(article.index("Leave a Reply"), len(article), COMMENT_SECTION)


def test_leave_a_reply_with_nothing_after_it_is_one_widget_line():
    text = ARTICLE + "\n\nLeave a Reply\n"
    assert reasons(text) == [("Leave a Reply", PAGE_WIDGET)]


def test_describe_masked_says_how_much_and_why():
    assert describe_masked(ARTICLE, []) is None
    spans = masked_spans(WITH_COMMENTS)
    message = describe_masked(WITH_COMMENTS, spans)
    hidden = len(WITH_COMMENTS) - WITH_COMMENTS.index("2 Comments")
    assert f"{hidden:,} of {len(WITH_COMMENTS):,} characters" in message
    assert "comment section from line 3 to the end" in message and "--no-clean" in message


# ---------------------------------------------------------------------------- the graph
def test_every_graph_lists_what_was_masked(tiny_miner):
    graph = tiny_miner.parse(WITH_COMMENTS)
    start = WITH_COMMENTS.index("2 Comments")
    assert graph.metadata["masked"] == [
        {"start": start, "end": len(WITH_COMMENTS), "reason": COMMENT_SECTION}
    ]
    assert all(c.end <= start for c in graph.components)
    assert tiny_miner.parse(ARTICLE).metadata["masked"] == []


def test_a_report_with_a_comments_heading_is_analysed_to_the_end(tiny_miner):
    graph = tiny_miner.parse(REPORT)
    assert graph.metadata["masked"] == []
    assert [c for c in graph.components if c.start > REPORT.index("Tuition")]


def test_clean_false_analyses_everything(tiny_miner):
    cleaned = tiny_miner.parse(WITH_COMMENTS)
    everything = tiny_miner.parse(WITH_COMMENTS, clean=False)
    assert everything.metadata["masked"] == []
    assert (
        tiny_miner.encode(WITH_COMMENTS, clean=False).n_tokens
        > tiny_miner.encode(WITH_COMMENTS).n_tokens
    )
    [graph] = tiny_miner.pipe([WITH_COMMENTS], clean=False)
    assert graph.to_dict() == everything.to_dict() != cleaned.to_dict()


def test_masked_ranges_are_validated_and_survive_json():
    text = "Ban cars.\n\nComments"
    graph = ArgumentGraph(text, metadata={"masked": [{"start": 11, "end": 19, "reason": "x"}]})
    assert ArgumentGraph.from_json(graph.to_json()).to_dict() == graph.to_dict()
    with pytest.raises(GraphValidationError, match="masked"):
        ArgumentGraph(text, metadata={"masked": [{"start": 11, "end": 99, "reason": "x"}]})


# ---------------------------------------------------------------------------- errors
def test_a_lone_surrogate_is_a_value_error_naming_its_position(tiny_miner):
    with pytest.raises(UnencodableTextError, match="U\\+D83D at character 4") as caught:
        tiny_miner.parse("Ban \ud83d cars.")
    assert isinstance(caught.value, ValueError) and caught.value.position == 4
    with pytest.raises(UnencodableTextError):
        list(tiny_miner.pipe(["Fine.", "Bad \udfff."]))


def test_segments_on_a_text_without_tokens_are_argmines_error(tiny_miner):
    with pytest.raises(InputTextError, match="no tokens"):
        tiny_miner.parse("\x00\x00\x00", segments=[(0, 2)])
    masked = "Leave a Reply\n\nFill in your details below or click an icon to log in:"
    with pytest.raises(InputTextError, match="clean=False"):
        tiny_miner.parse(masked, segments=[(0, 5)])
    assert tiny_miner.parse(masked, segments=[(0, 5)], clean=False).components[0].text == "Leave"


def test_training_on_a_text_the_tokenizer_cannot_read_names_the_tokenizer(tiny_miner):
    from argmine.graph import Component
    from argmine.training import TrainConfig
    from argmine.training.examples import TokenizerError, make_example

    text = "\x00\u200b\ufffd\x00"  # non-empty; a BERT tokenizer drops every one of them
    graph = ArgumentGraph(text, [Component("c0", 0, 3, text[:3], "claim")], metadata={"id": "d7"})
    with pytest.raises(TokenizerError, match="tokenizer .* yields no tokens for document 'd7'"):
        make_example(graph, tiny_miner.tokenizer, TrainConfig(name="t", version="0"))


# ---------------------------------------------------------------------------- command line
def test_parse_says_when_masking_hid_text_and_no_clean_turns_it_off(
    capsys, tmp_path, tiny_model_dir, shared_miner
):
    path = tmp_path / "page.txt"
    path.write_text(WITH_COMMENTS, encoding="utf-8")
    args = ["parse", str(path), "--model", str(tiny_model_dir), "--format", "json"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["metadata"]["masked"][0]["reason"] == COMMENT_SECTION
    assert err.startswith("argmine: note: clean-up masked") and "comment section" in err
    assert main([*args, "--no-clean"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["metadata"]["masked"] == [] and err == ""


def test_parse_of_a_lone_surrogate_is_a_one_line_error(
    capsys, tmp_path, tiny_model_dir, shared_miner
):
    path = tmp_path / "escaped.txt"
    path.write_text("Ban cars. \\ud800 They pollute.", encoding="ascii")
    code = main(
        ["parse", str(path), "--encoding", "unicode_escape", "--model", str(tiny_model_dir)]
    )
    assert_one_line_error(code, capsys.readouterr().err, "U+D800 at character 10")


def test_label_gives_a_surrogate_its_own_error_record_and_counts_masking(
    capsys, tmp_path, tiny_model_dir, shared_miner
):
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": ARTICLE}),
        json.dumps({"id": "b\ud800", "text": "Ban \ud800 cars."}),
        json.dumps({"id": "c", "text": WITH_COMMENTS}),
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["label", str(source), "-o", str(out), "--model", str(tiny_model_dir)])
    err = capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == 1 and [r["id"] for r in records] == ["a", "b\ud800", "c"]
    assert records[1]["graph"] is None and "U+D800 at character 4" in records[1]["error"]
    assert records[2]["graph"]["metadata"]["masked"][0]["reason"] == COMMENT_SECTION
    assert "in 1 documents" in err and "Traceback" not in err
    again = tmp_path / "again.jsonl"
    main(["label", str(source), "-o", str(again), "--model", str(tiny_model_dir), "--no-clean"])
    capsys.readouterr()
    records = [json.loads(line) for line in again.read_text(encoding="utf-8").splitlines()]
    assert records[2]["graph"]["metadata"]["masked"] == []
