"""The plain-torch inference path (argmine.model.plain) against transformers' own code."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from tiny_encoders import build_tiny_encoder

from argmine.model.encoders import load_encoder, load_tokenizer, special_tokens
from argmine.model.plain import PlainEncoder, PlainTokenizer, load_plain_encoder
from argmine.pipeline import ArgumentMiner

TEXTS = [
    "We should ban cars. Cars pollute the air.",
    "Café naïve — ½ of 2019's\u00a0cases, don't you think?  Tabs\tand\nlines 😀.",
    "",
    "If ContactPoint had been running it would have made no difference.",
]


@pytest.fixture(scope="module", params=["bert", "mpnet"])
def base(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    return build_tiny_encoder(
        request.param, folder, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )


def test_the_plain_encoder_has_transformers_weight_names_and_token_states(base):
    reference, plain = load_encoder(base).eval(), load_plain_encoder(base)
    assert isinstance(plain, PlainEncoder)
    floating = {k for k, v in reference.state_dict().items() if v.is_floating_point()}
    assert set(plain.state_dict()) == floating
    tokenizer = load_tokenizer(base)
    pad = tokenizer.pad_token_id
    rows = [tokenizer(t)["input_ids"] for t in TEXTS]  # different lengths: padding and masking
    width = max(map(len, rows))
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask).last_hidden_state
        found = plain(input_ids=ids, attention_mask=mask).last_hidden_state
    for row, r in enumerate(rows):
        torch.testing.assert_close(found[row, : len(r)], expected[row, : len(r)])


def test_the_plain_tokenizer_gives_transformers_ids_offsets_and_words(base):
    reference, plain = load_tokenizer(base), PlainTokenizer(base)
    assert PlainTokenizer.supports(base)
    assert special_tokens(plain) == special_tokens(reference)
    assert plain.model_max_length == reference.model_max_length
    for text in TEXTS:
        for special in (True, False):
            want = reference(text, add_special_tokens=special, return_offsets_mapping=True)
            got = plain(text, add_special_tokens=special, return_offsets_mapping=True)
            assert got["input_ids"] == want["input_ids"]
            assert [tuple(o) for o in got["offset_mapping"]] == [
                tuple(o) for o in want["offset_mapping"]
            ]
            assert got.word_ids() == want.word_ids()


def test_other_families_fall_back_to_transformers(tmp_path):
    base = build_tiny_encoder("roberta", tmp_path / "roberta")
    assert load_plain_encoder(base) is None
    assert not PlainTokenizer.supports(base)


@pytest.mark.slow
@pytest.mark.parametrize("lora", [None, {"r": 4, "alpha": 8}], ids=["full", "lora"])
def test_a_saved_model_gives_the_same_graphs_on_both_paths(base, lora, tiny_graphs, tmp_path):
    from argmine.training import TrainConfig, train

    config = TrainConfig(
        encoder=str(base), lora=lora, max_steps=6, batch_size=2, head_lr=3e-3, log_every=1000
    )
    train(config, tiny_graphs, log=lambda line: None).save_pretrained(tmp_path / "model")
    plain = ArgumentMiner.from_pretrained(tmp_path / "model", precision="float32")
    reference = ArgumentMiner.from_pretrained(tmp_path / "model", precision="float32", plain=False)
    assert isinstance(plain.model.encoder, PlainEncoder)
    assert not isinstance(reference.model.encoder, PlainEncoder)
    texts = [g.text for g in tiny_graphs] + TEXTS
    for text in texts:
        assert plain.parse(text).to_json() == reference.parse(text).to_json()
    # saving what the plain path loaded writes the same trained weights back
    plain.save_pretrained(tmp_path / "again")
    folders = (tmp_path / "model", tmp_path / "again")
    before, after = (load_file(str(folder / "model.safetensors")) for folder in folders)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
