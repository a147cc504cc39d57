"""The training loop: fine-tune a model from a config, with progress, checkpoints and resuming."""

from __future__ import annotations

import contextlib
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from argmine.graph import ArgumentGraph
from argmine.model.encoders import base_source, load_tokenizer, special_tokens
from argmine.model.network import ArgumentModel
from argmine.pipeline import ArgumentMiner
from argmine.runtime import autocast_dtype, resolve_device
from argmine.training.checkpoints import (
    CheckpointError,
    as_random_state,
    checkpoint_path,
    load_checkpoint,
    remove_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from argmine.training.config import HEADS, CorpusSelection, TrainConfig, changed_settings
from argmine.training.examples import Example, make_example, span_view
from argmine.training.losses import (
    AuxiliaryHeads,
    FrozenEncoderStates,
    batch_losses,
    proposition_class_weights,
)
from argmine.training.stages import STAGES_NAME, earlier_stages, prepare_initial_stage
from argmine.training.tuning import tune_decoding

Pool = tuple[list[Example], int | None]
"""The examples of one training source and how many to draw each epoch (None: all)."""


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
    # first, so that this stage's run is the same whether the earlier one ran now or before
    initial = prepare_initial_stage(config, lambda stage: train(stage, log=log, device=device), log)
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    sources = (
        [(CorpusSelection("given"), list(train_graphs))]
        if train_graphs is not None
        else [(s, load_selection(s)) for s in config.train]
    )
    if not any(graphs for _, graphs in sources):
        raise ValueError("no training documents: the config's 'train' corpora are empty")
    tokenizer = load_tokenizer(base_source(config.encoder))
    model = initial_model(config)
    if initial:
        fresh = model.load_initial_weights(initial)
        log(f"started from {initial}" + (f"; new: {', '.join(fresh)}" if fresh else ""))
    if config.freeze_encoder:
        model.encoder.requires_grad_(False)
        for head in set(HEADS) - set(config.train_heads or HEADS):
            if getattr(model, head) is not None:
                getattr(model, head).requires_grad_(False)
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
    built = [
        [make_example(g, tokenizer, config, s.type_options, special) for g in graphs]
        for s, graphs in sources
    ]
    if config.distill:
        built = with_teacher_targets(config, built, [graphs for _, graphs in sources], log)
    pools = [
        ([example.to(device) for example in examples] * s.repeat, s.sample)
        for (s, _), examples in zip(sources, built, strict=True)
    ]
    run = TrainingRun(model, auxiliary, pools, config, device)
    if run.proposition_weight is not None:
        pairs = zip(config.proposition_labels, run.proposition_weight.tolist(), strict=True)
        weights = ", ".join(f"{label} {weight:.2f}" for label, weight in pairs)
        log(f"proposition-type class weights: {weights}")
    if resume:
        run.restore(checkpoint_path(config.output_dir))
        log(f"resumed from {checkpoint_path(config.output_dir)} at step {run.step}")
    log(
        f"training {config.name} on {config.encoder} ({device}): {run.documents_per_epoch} "
        f"documents and {run.tokens_per_epoch} tokens an epoch, {run.total_steps} steps"
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
        save_trained(miner, config, earlier_stages(config, initial))
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
        pools: Sequence[Pool],
        config: TrainConfig,
        device: torch.device,
    ) -> None:
        self.model, self.auxiliary, self.pools, self.config = model, auxiliary, pools, config
        self.device = device
        self.total_steps = total_steps(config, self.documents_per_epoch)
        self.optimizer, self.scheduler = make_optimizer(model, auxiliary, config, self.total_steps)
        self.averaged = WeightAverage(model, config.average_from, self.total_steps)
        self.step = 0
        self.steps_in_epoch = 0
        self.epoch_rng_state = random.Random(config.seed).getstate()
        self.tokens_seen = 0
        self.frozen_states = (
            FrozenEncoderStates() if config.freeze_encoder and config.cache_frozen_states else None
        )
        self.proposition_weight = proposition_class_weights(
            config, [example for pool, _ in pools for example in pool]
        )

    def epoch_groups(self) -> tuple[list[list[list[Example]]], Any]:
        """The current epoch's optimiser steps (groups of ``accumulate`` batches), and the
        generator state the next epoch starts from."""
        rng = random.Random()
        rng.setstate(self.epoch_rng_state)
        batches = epoch_batches(self.pools, self.config, rng)
        size = self.config.accumulate
        return [batches[k : k + size] for k in range(0, len(batches), size)], rng.getstate()

    @property
    def documents_per_epoch(self) -> int:
        return sum(len(pool) if n is None else min(n, len(pool)) for pool, n in self.pools)

    @property
    def tokens_per_epoch(self) -> int:
        """Tokens of an epoch (sampled sources counted at their mean document length)."""
        total = 0.0
        for pool, n in self.pools:
            tokens = sum(e.encoding.n_tokens for e in pool)
            total += tokens if n is None or not pool else tokens * min(n, len(pool)) / len(pool)
        return round(total)

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
            batch = [span_view(e, self.config.lead_in_units) for e in batch]
            with (
                torch.autocast(self.device.type, dtype=dtype) if dtype else contextlib.nullcontext()
            ):
                losses = batch_losses(
                    self.model,
                    batch,
                    self.config.loss_weights,
                    self.auxiliary,
                    self.proposition_weight,
                    self.config.distill,
                    self.frozen_states,
                )
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
                "config": self.config.model_settings(),
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
        differ = changed_settings(state.get("config", {}), self.config.model_settings())
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


def with_teacher_targets(
    config: TrainConfig,
    built: Sequence[Sequence[Example]],
    graphs: Sequence[Sequence[ArgumentGraph]],
    log: Callable[[str], None],
) -> list[list[Example]]:
    """Each source's examples with the teacher's soft targets (labelled once, then cached).
    Loading the teacher draws random numbers (its heads are built before its weights are read),
    so the random state is put back afterwards: a run that labels trains exactly as one that
    reads the cache."""
    from argmine.training.distill import attach_soft_targets

    pairs = [
        (e, g)
        for examples, docs in zip(built, graphs, strict=True)
        for e, g in zip(examples, docs, strict=True)
    ]
    states = rng_states()
    attached = iter(attach_soft_targets(config, pairs, log))
    restore_rng_states(states)
    return [[next(attached) for _ in examples] for examples in built]


def total_steps(config: TrainConfig, n_documents: int) -> int:
    """Optimiser steps in a run: ``max_steps``, or ``epochs`` over the documents."""
    batches_per_epoch = math.ceil(n_documents / config.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / config.accumulate)
    return config.max_steps or max(1, round(config.epochs * steps_per_epoch))


def _trained_state(model: ArgumentModel) -> dict[str, torch.Tensor]:
    """The weights training changes (the frozen base weights need no checkpointing)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_trained(
    miner: ArgumentMiner, config: TrainConfig, stages: Sequence[dict[str, Any]] = ()
) -> None:
    """Save the model with its training config (and those of its earlier ``stages``) and a
    fresh model card (old results dropped)."""
    from argmine.hub.cards import write_model_card

    folder = Path(config.output_dir)
    miner.save_pretrained(folder)
    (folder / "training_config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    (folder / STAGES_NAME).unlink(missing_ok=True)
    if stages:
        (folder / STAGES_NAME).write_text(json.dumps(list(stages), indent=2) + "\n")
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


def epoch_batches(
    pools: Sequence[Pool], config: TrainConfig, rng: random.Random
) -> list[list[Example]]:
    """One epoch's batches: every pool (a sample of it where it names one), batched by length
    (:func:`length_bucketed_batches`) or, with ``batches_by_kind``, by kind too."""
    examples = [
        example
        for pool, sample in pools
        for example in (pool if sample is None else rng.sample(pool, min(sample, len(pool))))
    ]
    batch = batches_by_kind if config.batches_by_kind else length_bucketed_batches
    return batch(examples, config.batch_size, rng)


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


def batches_by_kind(
    examples: Sequence[Example], batch_size: int, rng: random.Random
) -> list[list[Example]]:
    """:func:`length_bucketed_batches` of the argument documents and of the counterfactual-only
    sentences apart, in one shuffled order: no batch holds both kinds."""
    batches = [
        batch
        for kind in (True, False)
        for batch in length_bucketed_batches(
            [e for e in examples if e.argument == kind], batch_size, rng
        )
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
    """The documents a config names (dev corpora: each once, whatever ``repeat`` says)."""
    return [graph for s in selections for graph in load_selection(s)]


def load_selection(selection: CorpusSelection) -> list[ArgumentGraph]:
    """The documents of one corpus selection."""
    from argmine.corpus import load_graphs

    kwargs = {"label_map": selection.label_map} if selection.label_map else {}
    graphs = load_graphs(selection.name, split=selection.split, **kwargs)
    if selection.join_words is None:
        return graphs
    from argmine.corpus.joined import shuffled_joined_documents

    return shuffled_joined_documents(graphs, tuple(selection.join_words))


def initial_model(config: TrainConfig) -> ArgumentModel:
    """The untrained model, its new heads drawn with ``init_seed`` where it is set and is not
    the run's seed (the generators then go back to ``seed``, for batch order and dropout)."""
    reseed = config.init_seed is not None and config.init_seed != config.seed
    if reseed:
        seed_everything(config.init_seed)
    model = ArgumentModel.from_base(config.model_config())
    if reseed:
        seed_everything(config.seed)
    return model


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
