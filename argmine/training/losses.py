"""Training losses: one per head, summed with the config's weights.

BIO tags over tokens, types over gold spans, head selection over each gold unit's targets,
support/attack on gold links, the source's proposition types, counterfactual detection and
antecedent/consequent tags. Gold spans feed the span heads during training (teacher forcing); at
prediction time they read the tagger's spans or the units a user gives.

One auxiliary head exists only during training (:class:`AuxiliaryHeads`; the saved model does
not contain it): each unit's place in the argument (does it receive a relation, does it send
one), which is what makes a unit a conclusion in our scheme. It shapes the shared span vectors.

With a teacher (config key ``distill``), each head also learns the teacher's distribution:
:mod:`argmine.training.distill` computes those terms from the logits computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from argmine.model.counterfactuals import IGNORE
from argmine.model.network import ArgumentModel
from argmine.model.relations import link_targets
from argmine.model.windows import DocumentEncoding
from argmine.training.config import TrainConfig
from argmine.training.distill import DISTILLED_HEADS, argument_terms, counterfactual_terms
from argmine.training.examples import Example

TRAINING_TOKENS_PER_CALL = 64 * 512
"""Encoder calls in training hold up to 64 windows of 512 tokens (a whole batch, as a rule)."""
COUNTERFACTUAL_LOSSES = ("counterfactual", "counterfactual_tags")


class AuxiliaryHeads(nn.Module):
    """Training-only head on the span vectors: each unit's place in the argument."""

    def __init__(self, span_dim: int) -> None:
        super().__init__()
        self.structure = nn.Linear(span_dim, 2)

    @classmethod
    def for_config(cls, config: TrainConfig) -> AuxiliaryHeads | None:
        """The head the config's loss weights switch on, or None."""
        return cls(config.hidden) if config.loss_weights.get("structure") else None


def loss_names(
    model: ArgumentModel, auxiliary: AuxiliaryHeads | None, distill: dict | None = None
) -> list[str]:
    """The losses this model and its auxiliary head compute, in a fixed order (with a
    teacher, each head's distillation loss after the gold ones)."""
    names = ["tags", "types", "links", "relation_types"]
    names += ["proposition"] if model.proposition is not None else []
    names += ["structure"] if auxiliary is not None else []
    names += list(COUNTERFACTUAL_LOSSES) if model.counterfactual is not None else []
    if distill:
        heads = distill.get("heads")
        names += [
            d
            for d, gold in DISTILLED_HEADS.items()
            if gold in names and (heads is None or gold in heads)
        ]
    return names


def proposition_class_weights(
    config: TrainConfig, examples: Sequence[Example]
) -> torch.Tensor | None:
    """The proposition-type loss's class weights under ``config.proposition_class_weight``,
    counted over the training units (a type without units keeps weight 1), or None for plain
    weights."""
    rule = config.proposition_class_weight
    if not rule or not config.proposition_labels:
        return None
    n_labels = len(config.proposition_labels)
    if isinstance(rule, dict):
        return torch.tensor([float(rule.get(label, 1.0)) for label in config.proposition_labels])
    labels = torch.cat([e.proposition for e in examples]) if examples else torch.empty(0)
    counts = torch.bincount(labels[labels >= 0].long(), minlength=n_labels).float()
    balanced = counts.sum() / (n_labels * counts.clamp(min=1))
    balanced = torch.where(counts > 0, balanced, torch.ones_like(balanced))
    return balanced.sqrt() if rule == "sqrt-balanced" else balanced


def example_losses(
    model: ArgumentModel,
    example: Example,
    states: torch.Tensor,
    auxiliary: AuxiliaryHeads | None = None,
    proposition_weight: torch.Tensor | None = None,
    temperature: float | None = None,
) -> dict[str, torch.Tensor]:
    """The losses of one document, for the heads it has annotations for; with a
    ``temperature`` and soft targets, the distillation losses too."""
    losses = {}
    if example.argument:
        losses.update(
            argument_losses(model, example, states, auxiliary, proposition_weight, temperature)
        )
    if model.counterfactual is not None and example.counterfactual_spans:
        losses.update(counterfactual_losses(model, example, states, temperature))
    return losses


def argument_losses(
    model: ArgumentModel,
    example: Example,
    states: torch.Tensor,
    auxiliary: AuxiliaryHeads | None,
    proposition_weight: torch.Tensor | None = None,
    temperature: float | None = None,
) -> dict[str, torch.Tensor]:
    """The argument heads' losses of one document. The span heads are read through
    :meth:`ArgumentModel.span_outputs`, the pipeline's own path, so training and prediction
    cannot drift apart in how spans reach the heads."""
    losses = {}
    soft = example.soft if temperature else None
    tag_logits = model.tag_logits(states) if example.encoding.n_tokens else None
    if tag_logits is not None:
        losses["tags"] = nn.functional.cross_entropy(tag_logits, example.tags)
    if not example.spans:
        if soft is not None:
            losses.update(argument_terms(soft, temperature, tag_logits, *[None] * 3))
        return losses
    out = model.span_outputs(states, example.encoding, example.spans)
    log_probs = out.types.log_softmax(-1)
    losses["types"] = -(log_probs.masked_fill(example.types == 0, -1e4).logsumexp(-1)).mean()
    scores = out.links
    links = [(source, target) for source, target, _ in example.relations]
    targets = link_targets(scores, links)
    losses["links"] = -(targets * scores.link.log_softmax(-1)).sum(-1).mean()
    typed = [(s, scores.slot(s, t), kind) for s, t, kind in example.relations]
    typed = [(s, slot, kind) for s, slot, kind in typed if slot is not None]
    if typed:
        src, slot, kind = (torch.tensor(x, device=states.device) for x in zip(*typed, strict=True))
        losses["relation_types"] = nn.functional.cross_entropy(scores.kinds[src, slot], kind)
    if out.proposition_types is not None and bool((example.proposition >= 0).any()):
        losses["proposition"] = nn.functional.cross_entropy(
            out.proposition_types,
            example.proposition,
            weight=None if proposition_weight is None else proposition_weight.to(states.device),
            ignore_index=IGNORE,
        )
    if auxiliary is not None:
        losses["structure"] = nn.functional.binary_cross_entropy_with_logits(
            auxiliary.structure(out.vectors), example.structure
        )
    if soft is not None:
        losses.update(
            argument_terms(
                soft, temperature, tag_logits, out.types, scores.link, out.proposition_types
            )
        )
    return losses


def counterfactual_losses(
    model: ArgumentModel, example: Example, states: torch.Tensor, temperature: float | None = None
) -> dict[str, torch.Tensor]:
    detection, tag_logits = model.counterfactual_logits(
        states, example.encoding, example.counterfactual_spans
    )
    losses = {
        "counterfactual": nn.functional.binary_cross_entropy_with_logits(
            detection, example.counterfactual_labels
        )
    }
    if bool((example.counterfactual_tags != IGNORE).any()):
        losses["counterfactual_tags"] = nn.functional.cross_entropy(
            tag_logits, example.counterfactual_tags, ignore_index=IGNORE
        )
    if temperature and example.soft is not None:
        losses.update(counterfactual_terms(example.soft, temperature, detection, tag_logits))
    return losses


class FrozenEncoderStates:
    """A frozen encoder's token states, computed once per document and reused every epoch.

    The encoder runs in eval mode without gradients (no dropout: a frozen encoder is a fixed
    feature extractor), lazily, on a document's first batch, so documents a sampled corpus never
    draws cost nothing. Keyed by the encoding object, which an example keeps for the whole run.
    """

    def __init__(self) -> None:
        self._states: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._states)

    def __call__(
        self, model: ArgumentModel, encodings: Sequence[DocumentEncoding]
    ) -> list[torch.Tensor]:
        missing = list({id(e): e for e in encodings if id(e) not in self._states}.values())
        if missing:
            training = model.encoder.training
            model.encoder.eval()
            with torch.no_grad():
                states = model.encode(missing, max_tokens=TRAINING_TOKENS_PER_CALL)
            model.encoder.train(training)
            self._states.update({id(e): s for e, s in zip(missing, states, strict=True)})
        return [self._states[id(e)] for e in encodings]


def batch_losses(
    model: ArgumentModel,
    batch: Sequence[Example],
    weights: dict[str, float],
    auxiliary: AuxiliaryHeads | None = None,
    proposition_weight: torch.Tensor | None = None,
    distill: dict | None = None,
    frozen_states: FrozenEncoderStates | None = None,
) -> dict[str, torch.Tensor]:
    """Each loss averaged over the batch's documents that have it (zero when none has), and
    their weighted sum as ``total``. ``frozen_states``: where a frozen encoder's token states
    come from (computed once per document) instead of an encoder pass.

    Averaging over the documents that have a loss keeps a head's weight independent of how
    many documents of other corpora share its batch (a SemEval sentence teaches no unit tags).
    ``distill`` (the config's settings): each head's distillation loss enters the total with
    ``weight * temperature^2``, for the heads whose gold loss has a weight.
    """
    temperature = float(distill["temperature"]) if distill else None
    encodings = [e.encoding for e in batch]
    if frozen_states is not None:
        states = frozen_states(model, encodings)
    else:
        states = model.encode(encodings, max_tokens=TRAINING_TOKENS_PER_CALL)
    per_doc = [
        example_losses(model, e, s, auxiliary, proposition_weight, temperature)
        for e, s in zip(batch, states, strict=True)
    ]
    zero = sum(s.sum() for s in states) * 0.0
    losses = {}
    for name in loss_names(model, auxiliary, distill):
        present = [doc[name] for doc in per_doc if name in doc]
        losses[name] = torch.stack(present).mean() if present else zero
    factors = total_weights(weights, distill)
    losses["total"] = sum(factors.get(k, 0.0) * v for k, v in losses.items())
    return losses


def total_weights(weights: dict[str, float], distill: dict | None) -> dict[str, float]:
    """The weight of each loss in the total: the config's, and for each distillation loss
    ``weight * T^2`` where its head's gold loss is weighted (0 where that head is off)."""
    if not distill:
        return weights
    scale = float(distill["weight"]) * float(distill["temperature"]) ** 2
    heads = distill.get("heads")
    soft = {
        d: scale
        for d, gold in DISTILLED_HEADS.items()
        if weights.get(gold) and (heads is None or gold in heads)
    }
    return {**weights, **soft}
