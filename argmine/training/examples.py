"""Training examples: a gold graph encoded the way the pipeline sees its text, with a target for
every head that the document has annotations for.

A document annotates arguments (units, types, links) unless its metadata says it annotates only
``counterfactual`` (the SemEval sentences): then only the counterfactual heads learn from it,
and nothing tells the tagger that its sentence holds no argument unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import torch

from argmine.cleanup import mask_spans
from argmine.graph import COMPONENT_TYPES, RELATION_TYPES, ArgumentGraph
from argmine.model.counterfactuals import IGNORE, PARTS, counterfactual_tag_targets
from argmine.model.encoders import SpecialTokens
from argmine.model.segmentation import bio_labels, lead_ins_widened
from argmine.model.windows import DocumentEncoding, encode_text
from argmine.training.config import TrainConfig


@dataclass
class SoftTargets:
    """The teacher's labels of one training document, in the student's terms (its tokens, its
    proposition labels); None where the teacher has no such head or the document no such gold.
    Distributions over tokens are probabilities at temperature 1, span heads logits."""

    tags: torch.Tensor | None = None
    tag_mask: torch.Tensor | None = None
    types: torch.Tensor | None = None
    type_mask: torch.Tensor | None = None
    links: torch.Tensor | None = None
    proposition: torch.Tensor | None = None
    proposition_mask: torch.Tensor | None = None
    counterfactual: torch.Tensor | None = None
    counterfactual_tags: torch.Tensor | None = None
    counterfactual_tag_mask: torch.Tensor | None = None

    def to(self, device: torch.device) -> SoftTargets:
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return replace(self, **moved)


@dataclass
class Example:
    """One training document: its encoding and gold labels for every head."""

    encoding: DocumentEncoding
    argument: bool
    """Whether the document annotates arguments (else only counterfactuals)."""
    tags: torch.Tensor
    spans: list[tuple[int, int]]
    types: torch.Tensor
    """Per gold span, a 0/1 mask over :data:`COMPONENT_TYPES` of the types the gold accepts."""
    relations: list[tuple[int, int, int]]
    """Gold links as ``(source, target, relation type index)`` over the spans in text order."""
    proposition: torch.Tensor
    """Per gold span, the index of its source label (its ``native_label`` attribute) in
    ``proposition_labels``, or -100 (skipped)."""
    structure: torch.Tensor
    """Per gold span, 0/1 for (receives a relation, sends a relation)."""
    counterfactual_spans: list[tuple[int, int]]
    """Spans whose counterfactual label is known (units, or a whole SemEval sentence)."""
    counterfactual_labels: torch.Tensor
    counterfactual_tags: torch.Tensor
    """Antecedent/consequent BIO target per token, :data:`IGNORE` where unknown."""
    soft: SoftTargets | None = None
    """A teacher's soft labels for every head (config key ``distill``), or None."""
    lead_in_spans: list[tuple[int, int]] | None = None
    """The gold spans with their sentences' lead-in words (config key ``lead_in_units``), where
    that changes any; else None."""

    def to(self, device: torch.device) -> Example:
        """The same example with its label tensors (soft targets included) on ``device``."""
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        if self.soft is not None:
            moved["soft"] = self.soft.to(device)
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
    check_has_tokens(encoding, tokenizer, graph)
    components = list(graph)  # text order
    index = {c.id: i for i, c in enumerate(components)}
    relations = [
        (index[r.source], index[r.target], RELATION_TYPES.index(r.type)) for r in graph.relations
    ]
    links = [(source, target) for source, target, _ in relations]
    cf = counterfactual_gold(graph)
    spans = [(c.start, c.end) for c in components]
    return Example(
        encoding=encoding,
        argument=graph.metadata.get("annotates", "argument") == "argument",
        tags=torch.tensor(bio_labels(encoding, [(c.start, c.end, c.type) for c in components])),
        spans=spans,
        types=type_masks([c.type for c in components], type_options or {}),
        relations=relations,
        proposition=torch.tensor(
            [
                _label_index(c.attributes.get("native_label"), config.proposition_labels)
                for c in components
            ],
            dtype=torch.long,
        ),
        structure=structure_targets(len(components), links),
        counterfactual_spans=cf.spans,
        counterfactual_labels=torch.tensor(cf.labels, dtype=torch.float32),
        counterfactual_tags=torch.tensor(
            counterfactual_tag_targets(encoding, cf.tagged, cf.parts), dtype=torch.long
        ),
        lead_in_spans=_lead_ins_widened(graph.text, spans) if config.lead_in_units else None,
    )


def _lead_ins_widened(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    widened = lead_ins_widened(text, spans)
    return widened if widened != spans else None


def span_view(example: Example, lead_in_units: float) -> Example:
    """The example whose span heads read its lead-in spans, with probability
    ``lead_in_units`` (drawn from torch's generator, which checkpoints save), else as is."""
    if example.lead_in_spans is None or not lead_in_units:
        return example
    if float(torch.rand(())) >= lead_in_units:
        return example
    return replace(example, spans=example.lead_in_spans)


class TokenizerError(ValueError):
    """The tokenizer cannot read a training document: the model would have nothing to learn
    from (and span pooling nothing to pool)."""


def check_has_tokens(encoding: DocumentEncoding, tokenizer, graph: ArgumentGraph) -> None:
    """Raise :class:`TokenizerError` naming the tokenizer when visible text yields no tokens."""
    if encoding.n_tokens or not mask_spans(encoding.text, encoding.masked).strip():
        return
    name = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
    doc_id = graph.metadata.get("id", "?")
    raise TokenizerError(
        f"the tokenizer {name!r} yields no tokens for document {doc_id!r} "
        f"({len(graph.text)} characters, starting {graph.text[:40]!r}); its vocabulary or "
        "normalizer drops every character of this text: use a tokenizer that covers it, or "
        "leave the document out"
    )


@dataclass
class CounterfactualGold:
    """What a document says about counterfactuals."""

    spans: list[tuple[int, int]]
    """Spans with a known label: a whole SemEval sentence, or units whose ``counterfactual``
    attribute is set (our ContactPoint annotation)."""
    labels: list[float]
    tagged: list[tuple[int, int]]
    """Spans inside which every token's antecedent/consequent tag is known."""
    parts: list[tuple[str, tuple[int, int]]]
    """``(antecedent|consequent, (start, end))`` of the annotated counterfactuals."""


def counterfactual_gold(graph: ArgumentGraph) -> CounterfactualGold:
    """The counterfactual annotation of a document: sentence-level for SemEval records, unit
    attributes elsewhere. Tags are known only where no counterfactual lacks its spans."""
    meta = graph.metadata
    if meta.get("annotates") == "counterfactual":
        labelled = [((0, len(graph.text)), bool(meta.get("counterfactual")), meta)]
    else:
        labelled = [
            ((c.start, c.end), c.attributes["counterfactual"], c.attributes)
            for c in graph
            if isinstance(c.attributes.get("counterfactual"), bool)
        ]
    parts = [
        (part, tuple(where[part]))
        for _, positive, where in labelled
        for part in PARTS
        if positive and where.get(part)
    ]
    complete = all(not positive or where.get("antecedent") for _, positive, where in labelled)
    return CounterfactualGold(
        spans=[span for span, _, _ in labelled],
        labels=[float(positive) for _, positive, _ in labelled],
        tagged=[span for span, _, _ in labelled] if complete else [],
        parts=parts,
    )


def _label_index(label: object, labels: list[str]) -> int:
    return labels.index(label) if label in labels else IGNORE


def structure_targets(n: int, links: Sequence[tuple[int, int]]) -> torch.Tensor:
    """``(n, 2)``: whether each unit receives a relation and whether it sends one."""
    target = torch.zeros(n, 2)
    for source, tgt in links:
        target[tgt, 0] = 1.0
        target[source, 1] = 1.0
    return target


def type_masks(types: Sequence[str], options: dict[str, list[str]]) -> torch.Tensor:
    """0/1 rows over :data:`COMPONENT_TYPES`: the gold type, or every type it may stand for."""
    mask = torch.zeros(len(types), len(COMPONENT_TYPES))
    for i, gold in enumerate(types):
        for accepted in options.get(gold, [gold]):
            mask[i, COMPONENT_TYPES.index(accepted)] = 1.0
    return mask
