"""Each stage on its own: windows, BIO coding, snapping, chrome, counterfactuals, decoding."""

from __future__ import annotations

import pytest
import torch

from argmine.cleanup import chrome_spans, mask_chrome
from argmine.hub.bases import DEFAULT_BASE
from argmine.model.counterfactuals import (
    COUNTERFACTUAL_TAGS,
    counterfactual_attributes,
    counterfactual_tag_targets,
    decode_parts,
)
from argmine.model.encoders import base_source, load_tokenizer
from argmine.model.relations import LinkScores, candidate_targets, decode_relations
from argmine.model.segmentation import TAG_LABELS, bio_labels, decode_spans, snap_to_words
from argmine.model.windows import assign_tokens_to_windows, encode_document, plan_windows


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(base_source(DEFAULT_BASE))


def test_windows_cover_every_token_with_overlap():
    windows = plan_windows(1000, 510, 128)
    assert windows[0][0] == 0 and windows[-1][1] == 1000
    for (a1, b1), (a2, _) in zip(windows, windows[1:], strict=False):
        assert a2 == b1 - 128 and b1 - a1 == 510
    owner, position = assign_tokens_to_windows(1000, windows)
    for t in range(1000):
        a, b = windows[owner[t]]
        assert a <= t < b and position[t] == t - a + 1


def test_stride_must_be_smaller_than_window():
    with pytest.raises(ValueError, match="stride"):
        plan_windows(100, 10, 10)


def test_bio_labels_decode_back_to_the_gold_spans(tokenizer):
    text = "Cars pollute the air. We should ban cars downtown, clearly."
    gold = [(0, 20, "claim"), (22, 49, "conclusion")]
    doc = encode_document(text, tokenizer, max_length=8, stride=2)
    assert len(doc.windows) > 1
    one_hot = torch.nn.functional.one_hot(torch.tensor(bio_labels(doc, gold)), len(TAG_LABELS))
    assert [(a, b) for a, b, _ in decode_spans(one_hot.float(), doc)] == [(0, 20), (22, 49)]


def test_spans_snap_to_whole_words():
    text = "The database, ContactPoint, closes."
    assert snap_to_words(text, 16, 22) == (14, 26)
    assert snap_to_words(text, 3, 12) == (4, 12)


CONTACTPOINT_TAIL = (
    "Ends in August\n\nIt would have made no difference.\n\nLeave a Reply\n\n"
    "You are commenting using your Twitter account. Log Out / Change )\n\nConnecting to %s"
)


def test_chrome_is_masked_without_moving_offsets():
    masked = mask_chrome(CONTACTPOINT_TAIL)
    assert len(masked) == len(CONTACTPOINT_TAIL)
    assert "Ends in August" not in masked
    assert "would have made no difference." in masked
    body = CONTACTPOINT_TAIL.index("It would")
    assert masked[body : body + 8] == "It would"
    assert masked[CONTACTPOINT_TAIL.index("Leave a Reply") :].strip() == ""


def test_widget_lines_in_the_middle_are_chrome():
    text = "Tax cuts help.\nShare this:\nThey raise growth by 2%.\n"
    spans = chrome_spans(text)
    assert [text[a:b] for a, b in spans] == ["Share this:"]


def test_plain_argumentative_text_has_no_chrome():
    text = "We should ban cars.\n\nThey pollute the air, and the 2019 study proves it."
    assert chrome_spans(text) == []


COUNTERFACTUAL = "Fees rose. If the rule had passed, lenders would have disclosed fees."
ANTECEDENT = "If the rule had passed"
CONSEQUENT = "lenders would have disclosed fees"


def _span_of(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def test_counterfactual_tags_mark_both_parts_and_ignore_what_is_not_annotated(tokenizer):
    doc = encode_document(COUNTERFACTUAL, tokenizer)
    sentence = _span_of(COUNTERFACTUAL, "If the rule")[0], len(COUNTERFACTUAL)
    parts = [("antecedent", _span_of(COUNTERFACTUAL, ANTECEDENT))]
    parts.append(("consequent", _span_of(COUNTERFACTUAL, CONSEQUENT)))
    tags = counterfactual_tag_targets(doc, [sentence], parts)

    def tag_of(word: str) -> str | None:
        tag = tags[doc.tokens_in(*_span_of(COUNTERFACTUAL, word))[0]]
        return COUNTERFACTUAL_TAGS[tag] if tag >= 0 else None

    assert tag_of("Fees rose") is None  # outside the annotated sentence: unknown, not "O"
    assert tag_of("If") == "B-antecedent" and tag_of("passed") == "I-antecedent"
    assert tag_of("lenders") == "B-consequent" and tag_of("disclosed") == "I-consequent"
    assert tag_of(", lenders") == "O"


def test_decode_parts_reads_the_tagged_runs_inside_the_unit(tokenizer):
    doc = encode_document(COUNTERFACTUAL, tokenizer)
    probs = torch.zeros(doc.n_tokens, len(COUNTERFACTUAL_TAGS))
    probs[:, 0] = 1.0
    for part, where in (("antecedent", ANTECEDENT), ("consequent", CONSEQUENT)):
        tokens = doc.tokens_in(*_span_of(COUNTERFACTUAL, where))
        for k, t in enumerate(tokens):
            probs[t] = 0.0
            probs[t, COUNTERFACTUAL_TAGS.index(f"{'B' if k == 0 else 'I'}-{part}")] = 1.0
    unit = (COUNTERFACTUAL.index("If"), len(COUNTERFACTUAL))
    found = decode_parts(probs, doc, unit)
    assert COUNTERFACTUAL[slice(*found["antecedent"])] == ANTECEDENT
    assert COUNTERFACTUAL[slice(*found["consequent"])] == CONSEQUENT
    assert decode_parts(probs, doc, (0, 10)) == {"antecedent": None, "consequent": None}


def test_counterfactual_attributes_carry_parts_only_above_the_threshold():
    parts = {"antecedent": [0, 5], "consequent": [7, 9]}
    above = counterfactual_attributes(0.91234, parts, 0.5)
    assert above == {
        "counterfactual": True,
        "counterfactual_score": 0.9123,
        "antecedent": [0, 5],
        "consequent": [7, 9],
    }
    below = counterfactual_attributes(0.2, parts, 0.5)
    assert below["counterfactual"] is False and below["antecedent"] is None


def _scores(link_probs: list[list[float]]) -> LinkScores:
    """Link scores of a small document where every other unit is a candidate target."""
    n = len(link_probs)
    candidates, valid = candidate_targets(n)
    probs = torch.tensor(link_probs)  # (n, n + 1): one column per target, then "none"
    slots = torch.cat([probs.gather(1, candidates), probs[:, n:]], dim=1)
    logits = (
        slots.clamp_min(1e-9)
        .log()
        .masked_fill(torch.cat([~valid, torch.zeros(n, 1, dtype=torch.bool)], 1), -1e4)
    )
    kinds = torch.zeros(n, candidates.shape[1], 2)
    kinds[..., 0] = 5.0
    return LinkScores(candidates, valid, logits, kinds)


def test_decoder_breaks_cycles_and_self_loops():
    # greedy choice: 0 -> 1, 1 -> 0 (a cycle); 2 -> none
    links = decode_relations(
        _scores([[0.0, 0.9, 0.05, 0.05], [0.8, 0.0, 0.1, 0.1], [0.1, 0.1, 0.0, 0.8]])
    )
    pairs = {(s, t) for s, t, _, _ in links}
    assert pairs == {(0, 1)}  # the stronger link of the cycle survives; 1 has no better target
    assert all(kind == "support" for _, _, kind, _ in links)


def test_decoder_leaves_a_unit_unlinked_when_no_target_is_likelier():
    links = decode_relations(_scores([[0.0, 0.3, 0.7], [0.9, 0.0, 0.1]]))
    assert {(s, t) for s, t, _, _ in links} == {(1, 0)}
    assert decode_relations(_scores([[0.0, 0.3, 0.7], [0.9, 0.0, 0.1]]), none_weight=0.2)


def test_repairing_one_cycle_keeps_the_rest_of_a_long_document():
    """Only the cyclic part is re-solved: the greedy links elsewhere stay, as an exact
    maximum spanning arborescence over the whole document would keep them."""
    n = 60
    probs = [[0.0] * (n + 1) for _ in range(n)]
    for i in range(n):
        probs[i][n] = 0.1
        if i >= 2:
            probs[i][i - 1] = 0.9  # a chain 59 -> 58 -> ... -> 2 -> 1
    probs[0][1], probs[1][0] = 0.8, 0.7  # and a cycle 0 <-> 1 at its end
    pairs = {(s, t) for s, t, _, _ in decode_relations(_scores(probs))}
    assert {(i, i - 1) for i in range(2, n)} <= pairs
    assert (0, 1) in pairs and (1, 0) not in pairs


def test_candidate_targets_are_all_pairs_in_short_documents_and_banded_in_long_ones():
    candidates, valid = candidate_targets(5)
    found = {(i, int(j)) for i in range(5) for j in candidates[i][valid[i]]}
    assert found == {(i, j) for i in range(5) for j in range(5) if i != j}
    candidates, valid = candidate_targets(500)
    assert candidates.shape[1] < 500 and valid.sum() < 500 * 499


def test_html_is_reduced_to_its_text():
    pytest.importorskip("trafilatura")
    from argmine.cleanup import html_to_text

    html = (
        "<html><body><nav>Home | About</nav><article><p>The database will close, and the "
        "government had no alternative but to scrap it.</p></article></body></html>"
    )
    text = html_to_text(html)
    assert "government had no alternative" in text and "<p>" not in text


def test_prediction_scores_pairs_as_training_does_with_a_third_of_the_arithmetic():
    from argmine.model.relations import RelationScorer

    torch.manual_seed(0)
    scorer = RelationScorer(24, 16, dropout=0.0)
    spans = torch.randn(130, 24)  # more than one chunk of sources, banded candidates
    plain = scorer.train()(spans)
    factored = scorer.eval()(spans)
    assert torch.allclose(plain.link, factored.link, atol=1e-5)
    assert torch.allclose(plain.kinds, factored.kinds, atol=1e-5)


def test_long_documents_are_read_in_windows_of_units():
    from argmine.model.spans import SPANS_PER_WINDOW, DiscourseEncoder

    torch.manual_seed(0)
    encoder = DiscourseEncoder(12, 16, layers=1, dropout=0.0).eval()
    spans = torch.randn(3 * SPANS_PER_WINDOW, 12)
    with torch.no_grad():
        whole = encoder(spans)
        first_window = encoder.layers(encoder.project(spans[:SPANS_PER_WINDOW]).unsqueeze(0))
    assert whole.shape == (3 * SPANS_PER_WINDOW, 16)
    assert torch.allclose(whole[5], first_window[0, 5], atol=1e-5)  # read from its own window
