"""Loading for prediction without transformers: BERT and MPNet encoders in plain torch, and
the tokenizer straight from the ``tokenizers`` library.

Why: importing transformers' modeling code costs about 4 s in a fresh process (it pulls in
torch.distributed, torch._dynamo and scipy), ten times the prediction of a short article. The
two shipped bases are a BERT (MiniLM) and an MPNet; their forward pass is a few dozen lines.
Parameter names are transformers' own, so the saved weights, the base checksum, LoRA merging
and int8 quantization see the same tensors under the same names. Any other encoder family,
and training, use transformers (:mod:`argmine.model.encoders`). ``tests/model/test_plain.py`` holds
both paths to the same token states and the shipped models to the same graphs.
"""

from __future__ import annotations

import json
import math
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

SUPPORTED_TYPES = ("bert", "mpnet")
TOKEN_TYPE_TOKENIZERS = {"BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer"}
"""Tokenizer classes whose model takes token type ids (transformers' ``model_input_names``)."""
PLAIN_TOKENIZERS = TOKEN_TYPE_TOKENIZERS | {"MPNetTokenizer", "MPNetTokenizerFast"}
ADAPTER_PREFIX = "encoder.base_model.model."
"""Where peft puts the wrapped encoder's modules in a saved LoRA model's weight names."""


@dataclass
class EncoderSettings:
    """The part of a Hugging Face ``config.json`` the forward pass needs (read as ``.config``
    by argmine, like a transformers model's config)."""

    model_type: str
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    layer_norm_eps: float = 1e-12
    type_vocab_size: int = 2
    relative_attention_num_buckets: int = 32
    hidden_act: str = "gelu"
    position_embedding_type: str = "absolute"

    @classmethod
    def from_file(cls, path: Path) -> EncoderSettings:
        data = json.loads(path.read_text())
        return cls(**{f.name: data[f.name] for f in fields(cls) if data.get(f.name) is not None})

    @property
    def plain(self) -> bool:
        """Whether this module implements the encoder exactly."""
        return (
            self.model_type in SUPPORTED_TYPES
            and self.hidden_act == "gelu"
            and self.position_embedding_type == "absolute"
        )


@dataclass
class EncoderOutput:
    last_hidden_state: torch.Tensor


class PlainEncoder(nn.Module):
    """A BERT or MPNet encoder without its pooler, called like a transformers ``AutoModel``."""

    def __init__(self, config: EncoderSettings) -> None:
        super().__init__()
        self.config = config
        self.embeddings = Embeddings(config)
        self.encoder = LayerStack(config)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> EncoderOutput:
        hidden = self.embeddings(input_ids, token_type_ids)
        # additive mask as in transformers: the dtype's lowest value where a key is padding
        blocked = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(
            hidden.dtype
        ).min
        return EncoderOutput(self.encoder(hidden, blocked))


class Embeddings(nn.Module):
    def __init__(self, config: EncoderSettings) -> None:
        super().__init__()
        self.mpnet = config.model_type == "mpnet"
        self.padding_idx = 1 if self.mpnet else None
        """MPNet counts positions after its padding id (as RoBERTa does); BERT from 0."""
        size = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, size)
        if not self.mpnet:
            self.token_type_embeddings = nn.Embedding(config.type_vocab_size, size)
        self.LayerNorm = nn.LayerNorm(size, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None) -> torch.Tensor:
        embedded = self.word_embeddings(input_ids)
        if self.mpnet:
            real = input_ids.ne(self.padding_idx).int()
            positions = (torch.cumsum(real, dim=1).type_as(real) * real).long() + self.padding_idx
        else:
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(input_ids)
            embedded = embedded + self.token_type_embeddings(token_type_ids)
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
        embedded = embedded + self.position_embeddings(positions)
        return self.LayerNorm(embedded)


class LayerStack(nn.Module):
    def __init__(self, config: EncoderSettings) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(config) for _ in range(config.num_hidden_layers))
        self.mpnet = config.model_type == "mpnet"
        if self.mpnet:
            self.buckets = config.relative_attention_num_buckets
            self.relative_attention_bias = nn.Embedding(self.buckets, config.num_attention_heads)

    def forward(self, hidden: torch.Tensor, blocked: torch.Tensor) -> torch.Tensor:
        bias = self.position_bias(hidden.shape[1], hidden.device) if self.mpnet else None
        for layer in self.layer:
            hidden = layer(hidden, blocked, bias)
        return hidden

    def position_bias(self, length: int, device: torch.device) -> torch.Tensor:
        """MPNet's learned bias per head and bucketed relative position, ``(1, heads, L, L)``."""
        positions = torch.arange(length, dtype=torch.long, device=device)
        buckets = relative_position_bucket(positions[None, :] - positions[:, None], self.buckets)
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)


def relative_position_bucket(
    relative: torch.Tensor, num_buckets: int = 32, max_distance: int = 128
) -> torch.Tensor:
    """T5/MPNet buckets: exact for near positions, logarithmic further away, by direction."""
    n = -relative
    half = num_buckets // 2
    bucket = (n < 0).to(torch.long) * half
    n = torch.abs(n)
    max_exact = half // 2
    far = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (half - max_exact)
    ).to(torch.long)
    far = torch.min(far, torch.full_like(far, half - 1))
    return bucket + torch.where(n < max_exact, n, far)


class Layer(nn.Module):
    def __init__(self, config: EncoderSettings) -> None:
        super().__init__()
        self.attention = (
            MPNetAttention(config) if config.model_type == "mpnet" else BertAttention(config)
        )
        self.intermediate = Dense(config.hidden_size, config.intermediate_size)
        self.output = DenseNorm(config.intermediate_size, config.hidden_size, config)

    def forward(
        self, hidden: torch.Tensor, blocked: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        attended = self.attention(hidden, blocked, bias)
        inner = nn.functional.gelu(self.intermediate.dense(attended))
        return self.output(inner, attended)


class Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)


class DenseNorm(nn.Module):
    """A projection added to its residual, then layer-normalised."""

    def __init__(self, n_in: int, n_out: int, config: EncoderSettings) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        self.LayerNorm = nn.LayerNorm(n_out, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class Projections(nn.Module):
    """Query, key and value projections under the names each family gives them."""

    def __init__(self, config: EncoderSettings, names: tuple[str, str, str]) -> None:
        super().__init__()
        size = config.hidden_size
        self.names = names
        for name in names:
            setattr(self, name, nn.Linear(size, size))
        self.heads = config.num_attention_heads

    def attend(
        self, hidden: torch.Tensor, blocked: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        batch, length, size = hidden.shape
        q, k, v = (
            getattr(self, name)(hidden).view(batch, length, self.heads, -1).transpose(1, 2)
            for name in self.names
        )
        # torch's fused attention: the arithmetic of softmax(q k^T / sqrt(d) + bias + mask) v,
        # faster than spelling it out (MiniLM on CDCP windows, 2 cores)
        mask = blocked if bias is None else blocked + bias
        attended = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return attended.transpose(1, 2).reshape(batch, length, size)


class BertAttention(nn.Module):
    def __init__(self, config: EncoderSettings) -> None:
        super().__init__()
        self.self = Projections(config, ("query", "key", "value"))  # transformers' name
        self.output = DenseNorm(config.hidden_size, config.hidden_size, config)

    def forward(self, hidden, blocked, bias) -> torch.Tensor:
        return self.output(self.self.attend(hidden, blocked, bias), hidden)


class MPNetAttention(nn.Module):
    def __init__(self, config: EncoderSettings) -> None:
        super().__init__()
        self.attn = Projections(config, ("q", "k", "v"))
        self.attn.o = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden, blocked, bias) -> torch.Tensor:
        return self.LayerNorm(self.attn.o(self.attn.attend(hidden, blocked, bias)) + hidden)


def load_plain_encoder(folder: str | Path, layers: int | None = None) -> PlainEncoder | None:
    """The base encoder in ``folder`` as a :class:`PlainEncoder`, or None when this module
    does not implement its family or the folder has no safetensors weights."""
    folder = Path(folder)
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        return None
    config = EncoderSettings.from_file(folder / "config.json")
    if not config.plain:
        return None
    if layers:
        config.num_hidden_layers = min(layers, config.num_hidden_layers)
    from argmine.model.weights_file import read_safetensors

    stored = read_safetensors(folder / "model.safetensors")
    prefix = f"{config.model_type}."
    stored = {k.removeprefix(prefix): v for k, v in stored.items()}
    with skipped_initialisation():  # the weights are read next
        encoder = PlainEncoder(config)
    names = encoder.state_dict().keys()
    if any(name not in stored for name in names):
        return None
    encoder.load_state_dict({name: stored[name].float() for name in names}, assign=True)
    return encoder.eval()


@contextmanager
def skipped_initialisation():
    """Build modules without drawing random weights (as transformers' ``no_init_weights``):
    110M random numbers cost half a second, and a meta-device build imports torch's
    decompositions (another second)."""
    names = ("kaiming_uniform_", "uniform_", "normal_", "ones_", "zeros_")
    saved = {name: getattr(nn.init, name) for name in names}
    for name in names:
        setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(nn.init, name, function)


def merge_adapters(encoder: nn.Module, adapters: dict[str, torch.Tensor], lora: dict) -> None:
    """Fold saved LoRA adapters into ``encoder``'s linear weights: ``W += B A * alpha / r``,
    what peft's ``merge_and_unload`` computes."""
    scale = lora["alpha"] / lora["r"]
    suffix = ".lora_A.default.weight"
    for name, down in adapters.items():
        if not name.endswith(suffix):
            continue
        up = adapters[name.replace(".lora_A.", ".lora_B.")]
        module = encoder.get_submodule(name.removeprefix(ADAPTER_PREFIX).removesuffix(suffix))
        with torch.no_grad():  # fused: no temporary the size of the weight
            module.weight.addmm_(up.float(), down.float(), alpha=scale)


class PlainTokenizer:
    """A ``tokenizers.Tokenizer`` answering the calls argmine makes of a transformers fast
    tokenizer (ids, offsets, word ids, padding id), read from ``tokenizer.json``."""

    is_fast = True
    FILES = ("tokenizer.json", "tokenizer_config.json")

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.settings = json.loads((self.folder / "tokenizer_config.json").read_text())
        self.backend = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.backend.no_truncation()  # transformers switches both off for a plain call
        self.backend.no_padding()
        pad = self.settings.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_token_id = self.backend.token_to_id(pad) if pad else None
        self.model_max_length = int(self.settings.get("model_max_length") or 0) or None
        token_types = self.settings.get("tokenizer_class") in TOKEN_TYPE_TOKENIZERS
        self.model_input_names = (
            ["input_ids", "token_type_ids", "attention_mask"]
            if token_types
            else ["input_ids", "attention_mask"]
        )

    @classmethod
    def supports(cls, folder: str | Path) -> bool:
        """Whether the folder's tokenizer is one this class reproduces exactly."""
        folder = Path(folder)
        if not all((folder / name).is_file() for name in cls.FILES):
            return False
        settings = json.loads((folder / "tokenizer_config.json").read_text())
        return settings.get("tokenizer_class") in PLAIN_TOKENIZERS

    def __call__(self, text: str, add_special_tokens: bool = True, **_: Any) -> PlainEncoding:
        return PlainEncoding(self.backend.encode(text, add_special_tokens=add_special_tokens))

    def save_pretrained(self, folder: str) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for name in self.FILES:
            if (self.folder / name).resolve() != (Path(folder) / name).resolve():
                shutil.copyfile(self.folder / name, Path(folder) / name)


class PlainEncoding(dict):
    """``input_ids`` and ``offset_mapping`` by key, ``word_ids()`` by call, as transformers'
    ``BatchEncoding`` gives them."""

    def __init__(self, encoding) -> None:
        super().__init__(input_ids=encoding.ids, offset_mapping=encoding.offsets)
        self.encoding = encoding

    def word_ids(self) -> list[int | None]:
        return self.encoding.word_ids
