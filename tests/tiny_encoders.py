"""Tiny random-weight encoders of several families, built offline in a folder.

Each has a real tokenizer of its family, trained on a few sentences with ``tokenizers``
(WordPiece for BERT and MPNet, byte-level BPE for RoBERTa and ModernBERT, Unigram for DeBERTa-v2
and XLM-R), and a one- or two-layer model of hidden size 32: enough to exercise every code path
that depends on the encoder (special tokens, offsets, position limits, token type ids, embedding
names) in seconds, with no download.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

TEXTS = [
    "We should ban cars in the city centre. Cars pollute the air.",
    "A 2019 study found that 40% of asthma cases there come from traffic.",
    "Some say shops need customers who drive. But buses bring more customers than cars.",
    "Tuition should be free. Education benefits everyone in society.",
    "Graduates paid 30% more tax over their lives according to the ministry.",
    "If ContactPoint had been running it would have made no difference.",
] * 4
FAMILIES = ("bert", "roberta", "mpnet", "deberta-v2", "xlm-roberta", "modernbert")
SMALL = {
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
ROBERTA_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}
BRACKET_TOKENS = {
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "unk_token": "[UNK]",
    "mask_token": "[MASK]",
}


def _wordpiece(specials: list[str], unk: str) -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token=unk))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(
        TEXTS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials)
    )
    return tok


def _byte_bpe() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=ROBERTA_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TEXTS, trainer)
    return tok


def _unigram() -> Tokenizer:
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=200, special_tokens=list(BRACKET_TOKENS.values()), unk_token="[UNK]"
    )
    tok.train_from_iterator(TEXTS, trainer)
    return tok


def build_tiny_encoder(family: str, folder: str | Path, **config_overrides) -> Path:
    """Save a tiny ``family`` encoder and its tokenizer to ``folder``; returns the folder.

    ``config_overrides`` set model config attributes (e.g. ``hidden_dropout_prob=0.0``)."""
    import transformers as tf

    folder = Path(folder)
    if family == "bert":
        tokenizer = tf.BertTokenizerFast(
            tokenizer_object=_wordpiece(list(BRACKET_TOKENS.values()), "[UNK]")
        )
        config = tf.BertConfig(vocab_size=len(tokenizer), max_position_embeddings=128, **SMALL)
        model_class = tf.BertModel
    elif family == "roberta":
        tokenizer = tf.RobertaTokenizerFast(tokenizer_object=_byte_bpe(), **ROBERTA_TOKENS)
        config = tf.RobertaConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=130,
            pad_token_id=tokenizer.pad_token_id,
            **SMALL,
        )
        model_class = tf.RobertaModel
    elif family == "mpnet":
        tokenizer = tf.MPNetTokenizerFast(
            tokenizer_object=_wordpiece(ROBERTA_SPECIALS, "<unk>"), **ROBERTA_TOKENS
        )
        config = tf.MPNetConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=130,
            pad_token_id=tokenizer.pad_token_id,
            **SMALL,
        )
        model_class = tf.MPNetModel
    elif family == "deberta-v2":
        tokenizer = tf.DebertaV2TokenizerFast(tokenizer_object=_unigram(), **BRACKET_TOKENS)
        config = tf.DebertaV2Config(
            vocab_size=len(tokenizer),
            max_position_embeddings=128,
            relative_attention=True,
            position_buckets=32,
            pos_att_type=["p2c", "c2p"],
            position_biased_input=False,
            **SMALL,
        )
        model_class = tf.DebertaV2Model
    elif family == "xlm-roberta":
        tokenizer = tf.XLMRobertaTokenizerFast(
            tokenizer_object=_unigram(), bos_token="[CLS]", eos_token="[SEP]", **BRACKET_TOKENS
        )
        config = tf.XLMRobertaConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=130,
            pad_token_id=tokenizer.pad_token_id,
            **SMALL,
        )
        model_class = tf.XLMRobertaModel
    elif family == "modernbert":
        tokenizer = tf.PreTrainedTokenizerFast(
            tokenizer_object=_byte_bpe(),
            **{k: v for k, v in ROBERTA_TOKENS.items() if k not in ("bos_token", "eos_token")},
        )
        cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
        tokenizer._tokenizer.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>",
            pair="<s> $A </s> $B </s>",
            special_tokens=[("<s>", cls_id), ("</s>", sep_id)],
        )
        config = tf.ModernBertConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=128,
            pad_token_id=tokenizer.pad_token_id,
            cls_token_id=cls_id,
            sep_token_id=sep_id,
            bos_token_id=cls_id,
            eos_token_id=sep_id,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            global_attn_every_n_layers=1,
            local_attention=16,
        )
        model_class = tf.ModernBertModel
    else:
        raise ValueError(f"unknown family {family!r}; known: {FAMILIES}")
    for key, value in config_overrides.items():
        setattr(config, key, value)
    model = model_class(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
