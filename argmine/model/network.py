"""The neural model: one encoder pass per document, small heads on top.

- a token tagger (BIO over the component types) for segmentation,
- a span classifier for component types, and one for the source's own proposition types
  (CDCP's fact / testimony / reference / value / policy) when the model learned them,
- a relation scorer for links and their type,
- a counterfactual detector and antecedent/consequent tagger (:mod:`argmine.model.counterfactuals`).

The pipeline and the training losses read the span heads through one method,
:meth:`ArgumentModel.span_outputs`, so both see the same heads in the same way.

The encoder is any Hugging Face encoder with a fast tokenizer (:mod:`argmine.model.encoders`); its
name is the config's ``base_model``. Storage follows Hugging Face conventions (``config.json``,
``model.safetensors``, tokenizer files) and keeps a model folder small: only what training
changed is stored, in float16, and the rest is read from the base, whose checksum is recorded
in ``config.json`` and checked on load:

- full fine-tuning: every weight but the frozen input embeddings (26 MB on MiniLM);
- LoRA (``lora`` in the config): the adapters and the heads only; the whole base is checksummed.

The in-memory model is rounded to the storage precision after training, so a saved and
reloaded model predicts exactly what the trained one did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from argmine.hub.bases import remembered_checksum
from argmine.hub.folders import (
    CONFIG_NAME,
    INT8_CALIBRATION_NAME,
    WEIGHTS_NAME,
    ModelLoadError,
    read_model_json,
)
from argmine.model.classification import SpanClassifier
from argmine.model.config import ModelConfig
from argmine.model.counterfactuals import CounterfactualHead
from argmine.model.encoders import (
    add_lora,
    base_checksum,
    base_source,
    input_embedding_name,
    load_encoder,
    merge_lora,
    position_limit,
)
from argmine.model.plain import PlainEncoder, load_plain_encoder, merge_adapters
from argmine.model.relations import LinkScores, RelationScorer
from argmine.model.spans import (
    N_POSITION_FEATURES,
    DiscourseEncoder,
    paragraph_layout,
    pool_spans,
    position_features,
    token_ranges,
)
from argmine.model.weights_file import WeightsFileError, read_safetensors
from argmine.model.windows import DocumentEncoding, window_input_ids

STORAGE_DTYPE = torch.float16


@dataclass
class SpanOutputs:
    """The span heads' logits for one document's spans (see :meth:`ArgumentModel.span_outputs`)."""

    vectors: torch.Tensor
    """``(n, hidden)`` span representations, contextualised by the discourse encoder."""
    types: torch.Tensor
    """``(n, 3)`` component-type logits (conclusion, claim, evidence)."""
    proposition_types: torch.Tensor | None
    """``(n, len(proposition_labels))`` proposition-type logits; None without that head."""
    links: LinkScores
    """Link and relation-type logits over each span's candidate targets."""


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
        self.proposition = (
            nn.Linear(config.hidden, len(config.proposition_labels))
            if config.proposition_labels
            else None
        )
        self.relations = RelationScorer(
            config.hidden,
            config.hidden,
            config.dropout,
            paragraphs=config.paragraph_layout,
            has_target=config.link_has_target,
        )
        self.counterfactual = (
            CounterfactualHead(dim, config.hidden, config.dropout)
            if config.counterfactual
            else None
        )
        self.frozen_weight = "encoder." + input_embedding_name(encoder)
        """The input embeddings: never trained, never stored, read from the base."""
        self.merged_adapters: dict[str, torch.Tensor] = {}
        """LoRA adapters folded into the encoder at load time, kept to be saved again."""
        self.loaded_from: Path | None = None
        """The weights file the model was loaded from: saving a model whose encoder was
        converted for inference (int8) reads its float encoder weights back from there."""
        self.int8_calibration: dict[str, torch.Tensor] = {}
        """Per-channel input maxima of the encoder's linear layers (``config.int8_smoothing``,
        ``config.int8_outlier_ratio``),
        read from and saved to ``int8_calibration.safetensors``."""
        if config.lora is None:
            encoder.get_input_embeddings().weight.requires_grad_(False)

    # ------------------------------------------------------------------ building and storage
    @classmethod
    def from_base(cls, config: ModelConfig) -> ArgumentModel:
        """A fresh model on top of the pretrained encoder (heads randomly initialised).

        The window length is cut to what the encoder can take, and the checksum of what the
        model will read from its base is recorded.
        """
        encoder = load_encoder(base_source(config.base_model), config.encoder_layers)
        limit = position_limit(encoder)
        if limit is not None and config.max_length > limit:
            config.max_length = limit
        config.stride = min(config.stride, config.max_length // 4)
        config.base_sha256 = base_checksum(encoder, whole=config.lora is not None)
        if config.lora is not None:
            encoder = add_lora(encoder, config.lora)
        return cls(config, encoder)

    @classmethod
    def from_pretrained(cls, folder: str | Path, plain: bool = True) -> ArgumentModel:
        """Rebuild a saved model: its base, checked against the recorded checksum, plus the
        stored weights (LoRA adapters are merged into the base: prediction costs nothing more).

        ``plain``: run a BERT or MPNet base through :mod:`argmine.model.plain` (no transformers
        import); False, or any other family: transformers' own modeling code.
        """
        folder = Path(folder)
        try:
            config = ModelConfig.from_dict(read_model_json(folder / CONFIG_NAME))
        except ValueError as err:  # e.g. a link calibration with unknown features
            raise ModelLoadError(f"model file corrupt: {folder / CONFIG_NAME}: {err}") from err
        source = base_source(config.base_model)
        encoder = load_plain_encoder(source, config.encoder_layers) if plain else None
        if encoder is None:
            encoder = load_encoder(source, config.encoder_layers)
        whole = config.lora is not None
        found = remembered_checksum(
            source,
            f"{type(encoder).__name__} layers={config.encoder_layers} whole={whole}",
            lambda: base_checksum(encoder, whole=whole),
        )
        if config.base_sha256 and found != config.base_sha256:
            raise ModelLoadError(
                f"{folder / CONFIG_NAME}: this model was trained on base {config.base_model!r} "
                f"with sha256 {config.base_sha256[:16]}..., but the base at {source} has "
                f"{found[:16]}...; install the base named in the model card"
            )
        weights = _read_weights(folder / WEIGHTS_NAME)
        adapters = {}
        if config.lora is not None and isinstance(encoder, PlainEncoder):
            adapters = {k: v.float() for k, v in weights.items() if is_adapter(k)}
            weights = {k: v for k, v in weights.items() if k not in adapters}
            merge_adapters(encoder, adapters, config.lora)
        elif config.lora is not None:
            encoder = add_lora(encoder, config.lora)
        model = cls(config, encoder)
        model.load_stored_weights(weights)
        model.loaded_from = folder / WEIGHTS_NAME
        model.int8_calibration = _read_calibration(folder, config)
        if adapters:
            model.merged_adapters = adapters
        elif config.lora is not None:
            model.merge_adapters()
        model.eval()
        return model

    def save_pretrained(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        save_file(self.stored_weights(), str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
        if self.int8_calibration:
            calibration = {k: v.contiguous() for k, v in self.int8_calibration.items()}
            save_file(calibration, str(folder / INT8_CALIBRATION_NAME))

    def stored_weights(self) -> dict[str, torch.Tensor]:
        """The weights :meth:`save_pretrained` writes (what training changed), in fp16."""
        weights = {name: t for name, t in self.state_dict().items() if self.is_stored(name, t)}
        weights.update(self.merged_adapters)
        if self.loaded_from is not None and _converted(self.encoder):
            # int8/bfloat16 inference weights are not the trained ones: those are on disk
            on_disk = _read_weights(self.loaded_from)
            weights = {k: v for k, v in weights.items() if not k.startswith("encoder.")}
            weights.update({k: v for k, v in on_disk.items() if k.startswith("encoder.")})
        return {name: t.detach().to(STORAGE_DTYPE).contiguous() for name, t in weights.items()}

    def is_stored(self, name: str, tensor: torch.Tensor) -> bool:
        """Stored: the heads, and the encoder weights that training changes."""
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            return False  # also the packed parameters of int8 layers
        if name == self.frozen_weight:
            return False
        if self.config.lora is not None and name.startswith("encoder."):
            return is_adapter(name)
        return True

    def load_stored_weights(self, weights: dict[str, torch.Tensor]) -> None:
        expected = {name for name, t in self.state_dict().items() if self.is_stored(name, t)}
        missing, unexpected = expected - set(weights), set(weights) - expected
        if missing or unexpected:
            raise ModelLoadError(
                f"{WEIGHTS_NAME} does not match the model's config: missing {sorted(missing)[:3]}, "
                f"unexpected {sorted(unexpected)[:3]}"
            )
        self.load_state_dict({k: v.float() for k, v in weights.items()}, strict=False)

    def load_initial_weights(self, name_or_folder: str | Path) -> list[str]:
        """Start from a trained model's weights (same base); returns the heads it lacked,
        which keep their fresh initialisation."""
        from argmine.hub.registry import resolve_model

        folder = resolve_model(str(name_or_folder))
        saved = ModelConfig.from_dict(read_model_json(folder / CONFIG_NAME))
        if saved.base_sha256 != self.config.base_sha256 or bool(saved.lora) != bool(
            self.config.lora
        ):
            raise ModelLoadError(
                f"{folder / CONFIG_NAME}: init_from needs a model on the same base "
                f"({self.config.base_model}) adapted the same way"
            )
        weights = _read_weights(folder / WEIGHTS_NAME)
        own = self.state_dict()
        usable = {k: v.float() for k, v in weights.items() if k in own and own[k].shape == v.shape}
        self.load_state_dict(usable, strict=False)
        missing = {k for k, t in own.items() if self.is_stored(k, t) and k not in usable}
        return sorted({k.split(".")[0] for k in missing})

    def merge_adapters(self) -> None:
        """Fold LoRA adapters into the encoder weights, keeping them aside for saving."""
        self.merged_adapters = {
            name: t.detach().clone() for name, t in self.state_dict().items() if is_adapter(name)
        }
        self.encoder = merge_lora(self.encoder)
        self.frozen_weight = "encoder." + input_embedding_name(self.encoder)

    @torch.no_grad()
    def round_to_storage_precision(self) -> None:
        """Make the in-memory weights exactly what :meth:`save_pretrained` will store."""
        for name, param in self.named_parameters():
            if self.is_stored(name, param):
                param.copy_(param.to(STORAGE_DTYPE).float())

    # ------------------------------------------------------------------ forward pieces
    def encode(
        self, documents: Sequence[DocumentEncoding], max_tokens: int = 4096
    ) -> list[torch.Tensor]:
        """Token states ``(n_tokens, hidden)`` for each document, from one batched encoder pass
        over their windows, at most ``max_tokens`` (padding included) per encoder call."""
        windows = [ids for doc in documents for ids in window_input_ids(doc)]
        if not windows:
            return []
        states = self._encode_windows(windows, documents[0].special, max_tokens)
        out, first = [], 0
        for doc in documents:
            idx_w = torch.tensor([first + w for w in doc.token_window], dtype=torch.long)
            idx_p = torch.tensor(doc.token_position, dtype=torch.long)
            out.append(
                states[idx_w, idx_p] if doc.n_tokens else states.new_zeros((0, states.shape[-1]))
            )
            first += len(doc.windows)
        return out

    def _encode_windows(self, windows: list[list[int]], special, max_tokens: int) -> torch.Tensor:
        """Run the encoder over windows in length-sorted chunks; states padded to one length.

        Chunks hold similar lengths (little padding) and at most ``max_tokens`` tokens, which
        bounds the attention memory of a long document's many windows.
        """
        device = self.tagger.weight.device
        width = max(len(w) for w in windows)
        result = torch.zeros(len(windows), width, self.encoder.config.hidden_size, device=device)
        for chunk in _length_chunks(windows, max_tokens):
            length = max(len(windows[i]) for i in chunk)
            ids = torch.full((len(chunk), length), special.pad_id, dtype=torch.long)
            mask = torch.zeros(len(chunk), length, dtype=torch.long)
            for row, i in enumerate(chunk):
                ids[row, : len(windows[i])] = torch.tensor(windows[i])
                mask[row, : len(windows[i])] = 1
            inputs = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
            if special.token_type_ids:
                inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
            hidden = self.encoder(**inputs).last_hidden_state
            result[torch.tensor(chunk, device=device), :length] = hidden.to(result.dtype)
        return result

    def tag_logits(self, token_states: torch.Tensor) -> torch.Tensor:
        return self.tagger(self.dropout(token_states))

    def span_representations(
        self, token_states: torch.Tensor, doc: DocumentEncoding, spans: Sequence[tuple[int, int]]
    ) -> torch.Tensor:
        """One vector per span: pooled tokens and position, contextualised by the other spans."""
        pooled = pool_spans(self.dropout(token_states), token_ranges(doc, spans))
        position = position_features(spans, len(doc.text)).to(pooled.device)
        return self.discourse(torch.cat([pooled, position], dim=-1))

    def span_outputs(
        self, token_states: torch.Tensor, doc: DocumentEncoding, spans: Sequence[tuple[int, int]]
    ) -> SpanOutputs:
        """What every span head says about ``spans``, from one set of span vectors."""
        vectors = self.span_representations(token_states, doc, spans)
        layout = paragraph_layout(doc.text, spans) if self.config.paragraph_layout else None
        return SpanOutputs(
            vectors=vectors,
            types=self.classifier(vectors),
            proposition_types=None if self.proposition is None else self.proposition(vectors),
            links=self.relations(vectors, layout),
        )

    def counterfactual_logits(
        self, token_states: torch.Tensor, doc: DocumentEncoding, spans: Sequence[tuple[int, int]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Detection logits per span and antecedent/consequent tag logits per token."""
        states = self.dropout(token_states)
        detection = self.counterfactual.detection_logits(states, token_ranges(doc, spans))
        return detection, self.counterfactual.tag_logits(states)


def _length_chunks(windows: list[list[int]], max_tokens: int) -> list[list[int]]:
    """Window indices in length order, cut into chunks of at most ``max_tokens`` (padded)."""
    chunks: list[list[int]] = [[]]
    for i in sorted(range(len(windows)), key=lambda i: len(windows[i])):
        if chunks[-1] and (len(chunks[-1]) + 1) * len(windows[i]) > max_tokens:
            chunks.append([])
        chunks[-1].append(i)
    return chunks


def _converted(encoder: nn.Module) -> bool:
    """Whether the encoder was converted for inference (int8 modules, or below float32)."""
    from argmine.model.int8 import Int8Linear

    quantized = any(
        isinstance(m, Int8Linear) or "quantized" in type(m).__module__ for m in encoder.modules()
    )
    return quantized or any(p.dtype != torch.float32 for p in encoder.parameters())


def is_adapter(name: str) -> bool:
    """Whether a stored weight is a LoRA adapter factor (``encoder....lora_A.default.weight``)."""
    return name.startswith("encoder.") and "lora_" in name


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelLoadError(f"model file missing: {path}")
    try:
        return read_safetensors(path)
    except (OSError, WeightsFileError) as err:
        raise ModelLoadError(f"model file corrupt: {path}: {err}") from err


def _read_calibration(folder: Path, config: ModelConfig) -> dict[str, torch.Tensor]:
    """The int8 calibration a model's config asks for (a missing or corrupt file is a
    :class:`ModelLoadError` naming it), or nothing."""
    calibrated = config.int8_smoothing or config.int8_outlier_ratio
    return _read_weights(folder / INT8_CALIBRATION_NAME) if calibrated else {}
