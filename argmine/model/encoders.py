"""Base encoders: any Hugging Face encoder with a fast tokenizer, read offline first.

Everything that differs between encoder families is read from the encoder and its tokenizer
here, so the rest of argmine assumes no particular one: the special tokens that wrap a window
(``[CLS] ... [SEP]`` for BERT, ``<s> ... </s>`` for RoBERTa and MPNet), the padding id, whether
the encoder takes token type ids, how many positions it has (RoBERTa-style encoders reserve the
first ``padding_idx + 1``), and which weight is the input embedding matrix.

Two ways to fine-tune a base, chosen by a training config:
- full: every encoder weight but the input embeddings is trained and stored with the model;
- LoRA (``peft``): the base stays as it is and only small adapters are trained and stored, so
  a model on a 110M-parameter base is a few MB. Adapters are merged into the base weights when
  a model is loaded, so prediction costs exactly one plain encoder pass.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from argmine.errors import describe
from argmine.hub.bases import resolve_base

NO_LIMIT = 1_000_000
"""Tokenizers that do not know their model's limit report a huge ``model_max_length``."""
LORA_DEFAULTS: dict[str, Any] = {
    "r": 16,
    "alpha": 32,
    "dropout": 0.1,
    "target_modules": "all-linear",
}


class EncoderError(ValueError):
    """A base encoder or tokenizer argmine cannot use; the message says why."""


@dataclass(frozen=True)
class SpecialTokens:
    """How the encoder wants a window of document tokens wrapped and padded."""

    prefix: tuple[int, ...]
    """Ids before the document tokens, e.g. ``(cls_id,)``."""
    suffix: tuple[int, ...]
    """Ids after them, e.g. ``(sep_id,)``."""
    pad_id: int
    token_type_ids: bool
    """Whether the encoder takes token type ids (then all zeros: one segment)."""

    @property
    def count(self) -> int:
        return len(self.prefix) + len(self.suffix)


def base_source(name: str) -> str:
    """What ``from_pretrained`` should read for a base name: a folder, or a hub id."""
    return str(resolve_base(name))


def load_tokenizer(source: str):
    """The fast tokenizer at ``source``; a slow one cannot give character offsets."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source))
    except (OSError, ValueError) as err:
        raise EncoderError(f"cannot load the tokenizer of {source}: {describe(err)}") from err
    if not getattr(tokenizer, "is_fast", False):
        raise EncoderError(
            f"{source}: argmine needs a fast tokenizer (one that returns character offsets); "
            f"{type(tokenizer).__name__} is not"
        )
    return tokenizer


def special_tokens(tokenizer) -> SpecialTokens:
    """Read the window wrapping off the tokenizer by encoding one word with and without it."""
    plain = tokenizer("argument", add_special_tokens=False)["input_ids"]
    wrapped = tokenizer("argument")["input_ids"]
    for start in range(len(wrapped) - len(plain) + 1):
        if wrapped[start : start + len(plain)] == plain:
            prefix, suffix = wrapped[:start], wrapped[start + len(plain) :]
            break
    else:
        raise EncoderError(f"cannot tell where {type(tokenizer).__name__} puts its special tokens")
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = suffix[-1] if suffix else 0  # masked out anyway; only needs to be a real id
    return SpecialTokens(
        tuple(prefix),
        tuple(suffix),
        int(pad_id),
        "token_type_ids" in getattr(tokenizer, "model_input_names", ()),
    )


def load_encoder(source: str, layers: int | None = None) -> nn.Module:
    """The pretrained encoder (no task head), optionally cut to its first ``layers`` layers."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    overrides = {"num_hidden_layers": layers} if layers else {}
    try:
        config = AutoConfig.from_pretrained(str(source), **overrides)
        kwargs = {"add_pooling_layer": False} if _has_pooler(config) else {}
        return AutoModel.from_pretrained(str(source), config=config, **kwargs)
    except (OSError, ValueError) as err:
        raise EncoderError(f"cannot load the base encoder {source}: {describe(err)}") from err


def _has_pooler(config) -> bool:
    """BERT-like encoders build a pooling layer argmine never uses unless told not to."""
    return config.model_type in {"bert", "roberta", "xlm-roberta", "camembert", "mpnet", "electra"}


def position_limit(encoder: nn.Module, tokenizer=None) -> int | None:
    """How many tokens (special tokens included) one window may hold, or None if unbounded."""
    limits = []
    positions = getattr(encoder.config, "max_position_embeddings", None)
    if positions:
        embeddings = getattr(encoder, "embeddings", None)
        padding_idx = getattr(embeddings, "padding_idx", None)
        # RoBERTa-style position ids start after the padding index
        reserved = (
            padding_idx + 1 if _positions_from_padding(encoder) and padding_idx is not None else 0
        )
        limits.append(positions - reserved)
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < NO_LIMIT:
        limits.append(int(model_max))
    return min(limits) if limits else None


def _positions_from_padding(encoder: nn.Module) -> bool:
    return encoder.config.model_type in {"roberta", "xlm-roberta", "camembert", "mpnet"}


def input_embedding_name(encoder: nn.Module) -> str:
    """The parameter name of the input (word) embedding matrix inside ``encoder``."""
    weight = encoder.get_input_embeddings().weight
    for name, param in encoder.named_parameters():
        if param is weight:
            return name
    raise EncoderError("cannot find the encoder's input embedding matrix among its parameters")


def tensors_checksum(named: Iterable[tuple[str, torch.Tensor]]) -> str:
    """SHA-256 over tensors in name order (values as float32), independent of the file format."""
    digest = hashlib.sha256()
    for name, tensor in sorted(named, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def lora_settings(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """A LoRA config with defaults filled in; unknown keys are an error (no silent typo)."""
    if settings is None:
        return None
    unknown = set(settings) - set(LORA_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown lora key(s) {sorted(unknown)}; known: {sorted(LORA_DEFAULTS)}")
    return {**LORA_DEFAULTS, **settings}


def add_lora(encoder: nn.Module, settings: dict[str, Any]) -> nn.Module:
    """Wrap ``encoder`` with trainable LoRA adapters; the base weights are frozen."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as err:  # pragma: no cover - peft is a dependency
        raise EncoderError("LoRA fine-tuning needs peft: pip install peft") from err
    settings = lora_settings(settings)
    lora_config = LoraConfig(
        r=settings["r"],
        lora_alpha=settings["alpha"],
        lora_dropout=settings["dropout"],
        target_modules=settings["target_modules"],
    )
    with warnings.catch_warnings():  # peft calls an API transformers renamed; not ours to fix
        warnings.filterwarnings(
            "ignore", message=".*is_gradient_checkpointing", category=FutureWarning
        )
        return get_peft_model(encoder, lora_config)


def merge_lora(encoder: nn.Module) -> nn.Module:
    """The plain encoder with its adapters folded into the weights (no cost at prediction)."""
    return encoder.merge_and_unload()


def base_checksum(encoder: nn.Module, whole: bool) -> str:
    """SHA-256 of what a model reads from its base.

    ``whole=False`` (full fine-tuning): the input embedding matrix alone, its float32 bytes (the
    scheme of argmine 0.1.0 models). ``whole=True`` (LoRA): every floating-point base weight.
    """
    if whole:
        state = encoder.state_dict()
        return tensors_checksum((k, v) for k, v in state.items() if v.is_floating_point())
    weight = encoder.get_input_embeddings().weight.detach().to("cpu", torch.float32).contiguous()
    return hashlib.sha256(weight.numpy().tobytes()).hexdigest()
