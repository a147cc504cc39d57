"""Each stage on its own: windows, BIO coding, snapping, chrome, counterfactuals, decoding."""

from __future__ import annotations

import pytest
import torch

from argmine.attributes import component_attributes
from argmine.bases import DEFAULT_BASE
from argmine.cleanup import chrome_spans, mask_chrome
from argmine.encoders import base_source, load_tokenizer
from argmine.relations import candidate_targets, decode_relations
from argmine.segmentation import (
    TAG_LABELS,
    assign_tokens_to_windows,
    bio_labels,
    decode_spans,
    encode_document,
    plan_windows,
    snap_to_words,
)


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "if ContactPoint had been running at the time\u00a0 it would have made no "
            "difference to the fate of these unfortunate children",
            True,
        ),
        ("Had the council acted, the bridge would not have collapsed", True),
        ("ContactPoint will close down on 6 August", False),
        ("If the rule passes, lenders will have to disclose fees", False),
    ],
)
def test_counterfactuals(text, expected):
    assert component_attributes(text)["counterfactual"] is expected


def test_decoder_breaks_cycles_and_self_loops():
    # greedy choice: 0 -> 1, 1 -> 0 (a cycle); 2 -> none
    link = torch.tensor([[0.0, 0.9, 0.05, 0.05], [0.8, 0.0, 0.1, 0.1], [0.1, 0.1, 0.0, 0.8]])
    kinds = torch.zeros(3, 3, 2)
    kinds[..., 0] = 1.0
    links = decode_relations(link, kinds)
    pairs = {(s, t) for s, t, _, _ in links}
    assert len(pairs) <= 2 and not ({(0, 1), (1, 0)} <= pairs)
    assert all(s != t for s, t in pairs)
    assert all(kind == "support" for _, _, kind, _ in links)


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
