"""Distillation: a trained teacher's soft labels as extra targets for every head of the student.

The accurate model (mpnet: 77 minutes to train, 8.7 times the default's time to run) knows
more than the fast one learns from 600 documents of gold labels: its distributions say which
other type a unit nearly was, which link was the runner-up. The student (config key
``distill``) adds, for every head, ``weight * T^2 * KL(teacher_T || student_T)`` to its gold
losses (Hinton et al.: the T^2 keeps the soft term's gradients on the scale of the hard one's
as T changes); ``heads`` limits which heads learn from the teacher.

The teacher labels each training document once, and its labels are cached in a file keyed by the
teacher (name, version, weights checksum) and each document's text and gold spans, so a rerun,
another seed or a cross-validation fold pays nothing for it. What is cached does not depend on
the student's tokenizer: span heads (component types, proposition types, links, counterfactual
detection) are labelled on the gold spans, which are character spans; token heads (unit tags,
antecedent/consequent tags) are stored per character, each character holding the mean of the
distributions of the teacher tokens that cover it. A student token then takes the mean over its
characters (:func:`per_character`, :func:`per_token`): teacher and student may split words
differently (WordPiece against byte-level BPE).

Gold can overrule the teacher: ``gold_wins`` names proposition types the teacher is known to
miss (the mpnet model finds few ``reference`` units); a unit whose gold type is one of them and
whose teacher disagrees gets no soft proposition target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from argmine.graph import ArgumentGraph
from argmine.model.counterfactuals import IGNORE
from argmine.model.segmentation import TAG_LABELS
from argmine.training.config import DISTILLED_HEADS, TrainConfig
from argmine.training.examples import Example, SoftTargets, counterfactual_gold

CACHE_FORMAT = 1
TEACHER_BATCH = 16
CACHED_PROPOSITIONS = "native"
"""The key of the proposition-type logits in a cached record: cache format 1's name for the
head, kept so that caches written before the rename are read, not relabelled."""
SAVE_EVERY = 1024
"""Documents labelled between two writes of the cache: a killed labelling run keeps most of
its work (the SemEval training sentences take the mpnet teacher about half an hour)."""


class DistillationError(ValueError):
    """The teacher or its cache does not fit the student; says which and why."""


# ---------------------------------------------------------------------- alignment
def per_character(
    offsets: Sequence[tuple[int, int]], probs: torch.Tensor, n_chars: int
) -> torch.Tensor:
    """``(n_chars, k)``: each character's mean distribution over the tokens covering it; NaN
    rows for characters no token covers (spaces, text the clean-up masked)."""
    k = probs.shape[-1] if probs.ndim == 2 else 0
    total = torch.zeros(n_chars + 1, k)
    count = torch.zeros(n_chars + 1)
    if len(offsets):
        starts = torch.tensor([a for a, _ in offsets])
        ends = torch.tensor([b for _, b in offsets])
        probs = probs.detach().float().cpu()
        total.index_add_(0, starts, probs)
        total.index_add_(0, ends, -probs)
        count.index_add_(0, starts, torch.ones(len(offsets)))
        count.index_add_(0, ends, -torch.ones(len(offsets)))
    total, count = total.cumsum(0)[:n_chars], count.cumsum(0)[:n_chars].round()
    chars = total / count.clamp(min=1).unsqueeze(-1)
    chars[count == 0] = float("nan")
    return chars


def per_token(
    chars: torch.Tensor, offsets: Sequence[tuple[int, int]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each token's mean over its characters' distributions (the covered ones), and whether
    it has any: ``(n_tokens, k)`` and a boolean mask."""
    covered = ~torch.isnan(chars[:, 0]) if len(chars) else torch.zeros(0, dtype=torch.bool)
    values = torch.where(covered.unsqueeze(-1), chars, torch.zeros_like(chars))
    sums = torch.cat([values.new_zeros(1, chars.shape[-1]), values.cumsum(0)])
    counts = torch.cat([torch.zeros(1), covered.float().cumsum(0)])
    if not len(offsets):
        return chars.new_zeros(0, chars.shape[-1]), torch.zeros(0, dtype=torch.bool)
    starts = torch.tensor([a for a, _ in offsets]).clamp(max=len(chars))
    ends = torch.tensor([b for _, b in offsets]).clamp(max=len(chars))
    n = counts[ends] - counts[starts]
    mean = (sums[ends] - sums[starts]) / n.clamp(min=1).unsqueeze(-1)
    return mean, n > 0


# ---------------------------------------------------------------------- the teacher's labels
def document_key(graph: ArgumentGraph) -> str:
    """What the teacher's labels of a document depend on: its text and gold spans."""
    spans = [(c.start, c.end) for c in graph]
    payload = json.dumps([graph.text, spans, counterfactual_gold(graph).spans, _is_argument(graph)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _is_argument(graph: ArgumentGraph) -> bool:
    return graph.metadata.get("annotates", "argument") == "argument"


def teacher_identity(teacher: str, precision: str = "float32") -> dict[str, str]:
    """Name, version, weights checksum and labelling precision (the ``distill`` setting:
    ``float32``, ``bfloat16`` or ``auto``) of a saved model, read without loading it."""
    from argmine.hub.registry import resolve_model

    folder = Path(resolve_model(teacher))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    return {
        "name": config.get("name", ""),
        "version": config.get("version", ""),
        "sha256": digest,
        "precision": (
            teacher_precision(config.get("cpu_precision", "float32"))
            if precision == "auto"
            else precision
        ),
    }


def teacher_precision(cpu_precision: str) -> str:
    """What ``distill.precision: auto`` labels in: bfloat16 where the teacher's config names it
    and this CPU runs it natively (the mpnet teacher labels 2.6x faster, its CDCP dev scores
    within 0.004 of float32's), else float32; never int8, which moves units. The precision is
    part of the cache's identity: labels made in one are not mixed with the other's."""
    import torch

    from argmine.runtime import resolve_precision

    chosen = resolve_precision("auto", torch.device("cpu"), cpu_precision)
    return "bfloat16" if chosen == "bfloat16" else "float32"


def default_cache(teacher: str) -> Path:
    return Path("runs/teacher-cache") / f"{Path(teacher).name}.pt"


def teacher_labels(
    settings: dict[str, Any],
    graphs: Sequence[ArgumentGraph],
    log: Callable[[str], None] = print,
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """The teacher's labels of each document (by :func:`document_key`), from the cache file;
    documents it lacks are labelled now and added to it. Returns them and the teacher's head
    layout (its proposition labels)."""
    identity = teacher_identity(settings["teacher"], settings["precision"])
    path = Path(settings["cache"] or default_cache(settings["teacher"]))
    cache = _read_cache(path, identity)
    keys = {document_key(g): g for g in graphs}
    missing = [g for key, g in keys.items() if key not in cache["documents"]]
    if missing:
        import argmine

        log(f"teacher {identity['name']} {identity['version']}: labelling {len(missing)} documents")
        miner = argmine.load(settings["teacher"], precision=identity["precision"])
        for first in range(0, len(missing), SAVE_EVERY):
            labelled, layout = label_documents(miner, missing[first : first + SAVE_EVERY])
            cache["documents"].update(labelled)
            cache["layout"] = layout
            _write_cache(cache, path)
            log(f"teacher labels cached in {path} ({len(cache['documents'])} documents)")
    else:
        log(f"teacher labels of all {len(keys)} documents read from {path}")
    return {key: cache["documents"][key] for key in keys}, cache["layout"]


def _write_cache(cache: dict[str, Any], path: Path) -> None:
    """Write atomically: a killed run leaves the previous cache or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(cache, temporary)
    temporary.replace(path)


def _read_cache(path: Path, identity: dict[str, str]) -> dict[str, Any]:
    if not path.is_file():
        return {"format": CACHE_FORMAT, "teacher": identity, "layout": {}, "documents": {}}
    try:
        cache = torch.load(path, weights_only=True)
    except Exception as err:  # a truncated or foreign file: never silently relabel over it
        raise DistillationError(f"teacher cache {path} cannot be read: {err}") from err
    # caches written before the precision was recorded were labelled in float32
    cache.get("teacher", {}).setdefault("precision", "float32")
    if cache.get("format") != CACHE_FORMAT or cache.get("teacher") != identity:
        was = cache.get("teacher", {})
        raise DistillationError(
            f"teacher cache {path} holds the labels of {was.get('name')} {was.get('version')} "
            f"(weights {str(was.get('sha256'))[:12]}, {was.get('precision')}), not of "
            f"{identity['name']} {identity['version']} (weights {identity['sha256'][:12]}, "
            f"{identity['precision']}): delete it or set distill.cache to another file"
        )
    return cache


@torch.inference_mode()
def label_documents(
    miner, graphs: Sequence[ArgumentGraph]
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Run the teacher (an :class:`ArgumentMiner`, float32 or bfloat16) over the documents:
    per document, per-character tag distributions and logits of its span heads on the gold
    spans (in float32 whatever the encoder's precision)."""
    model = miner.model.eval()
    if tuple(miner.config.tag_labels) != TAG_LABELS:
        raise DistillationError(
            f"teacher {miner.config.name} tags {miner.config.tag_labels}, not {TAG_LABELS}"
        )
    labelled: dict[str, dict[str, torch.Tensor]] = {}
    for first in range(0, len(graphs), TEACHER_BATCH):
        batch = graphs[first : first + TEACHER_BATCH]
        docs = [miner.encode(g.text) for g in batch]
        states = miner.encoder_states(docs) if any(d.n_tokens for d in docs) else []
        for graph, doc, state in zip(batch, docs, states or [None] * len(docs), strict=True):
            record: dict[str, torch.Tensor] = {}
            spans = [(c.start, c.end) for c in graph]
            cf_spans = counterfactual_gold(graph).spans
            if state is not None and doc.n_tokens:
                if _is_argument(graph):
                    tags = model.tag_logits(state).softmax(-1)
                    record["chars"] = per_character(doc.offsets, tags, len(doc.text)).half()
                    if spans:
                        out = model.span_outputs(state, doc, spans)
                        record["types"] = out.types.float().cpu()
                        record["links"] = out.links.link.float().cpu()
                        if out.proposition_types is not None:
                            record[CACHED_PROPOSITIONS] = out.proposition_types.float().cpu()
                if cf_spans and model.counterfactual is not None:
                    detection, tag_logits = model.counterfactual_logits(state, doc, cf_spans)
                    record["counterfactual"] = detection.float().cpu()
                    record["cf_chars"] = per_character(
                        doc.offsets, tag_logits.softmax(-1), len(doc.text)
                    ).half()
            labelled[document_key(graph)] = record
    layout = {"proposition_labels": list(miner.config.proposition_labels)}
    return labelled, layout


# ---------------------------------------------------------------------- soft targets
def soft_targets(
    example: Example,
    record: dict[str, torch.Tensor],
    proposition_labels: Sequence[str],
    teacher_proposition_labels: Sequence[str],
    gold_wins: Sequence[str] = (),
    gold_wins_heads: Sequence[str] = (),
) -> SoftTargets:
    """The student's targets from a teacher record: token distributions realigned to the
    student's tokens, proposition logits reordered to the student's labels, ``gold_wins``
    applied (no soft proposition target where gold says a listed type and the teacher not) and
    ``gold_wins_heads`` (no soft tag or type target where the teacher's likeliest label is not
    gold's)."""
    offsets = example.encoding.offsets
    soft = SoftTargets()
    if "chars" in record:
        soft.tags, soft.tag_mask = per_token(record["chars"].float(), offsets)
        if "tags" in gold_wins_heads:
            soft.tag_mask = soft.tag_mask & teacher_agrees(soft.tags, example.tags)
    soft.types, soft.links = record.get("types"), record.get("links")
    if soft.types is not None:
        soft.type_mask = torch.ones(len(soft.types), dtype=torch.bool)
        if "types" in gold_wins_heads:
            soft.type_mask = example.types.gather(1, soft.types.argmax(-1, keepdim=True))[:, 0] > 0
    if CACHED_PROPOSITIONS in record and proposition_labels:
        teacher_order = list(teacher_proposition_labels)
        missing = [label for label in proposition_labels if label not in teacher_order]
        if missing:
            raise DistillationError(
                f"the teacher predicts the proposition types {teacher_order}, "
                f"not {missing}: distil from a teacher with the student's proposition_labels"
            )
        order = [teacher_order.index(label) for label in proposition_labels]
        soft.proposition = record[CACHED_PROPOSITIONS][:, order]
        soft.proposition_mask = gold_wins_mask(
            soft.proposition, example.proposition, proposition_labels, gold_wins
        )
    if "counterfactual" in record:
        soft.counterfactual = record["counterfactual"]
        soft.counterfactual_tags, mask = per_token(record["cf_chars"].float(), offsets)
        inside = torch.zeros(len(offsets), dtype=torch.bool)
        for start, end in example.counterfactual_spans:
            inside[list(example.encoding.tokens_in(start, end))] = True
        soft.counterfactual_tag_mask = mask & inside
    return soft


def teacher_agrees(teacher_probs: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
    """Per token, whether the teacher's likeliest tag is the gold tag (tokens without a gold
    tag: True). Where it is not, the teacher is wrong and gold alone teaches the token: the
    accurate model cuts the ContactPoint article's counterfactual conclusion at "it would",
    and its soft tags there would teach the student the same cut."""
    known = gold != IGNORE
    return ~known | (teacher_probs.argmax(-1) == gold.clamp(min=0))


def gold_wins_mask(
    teacher_logits: torch.Tensor,
    gold: torch.Tensor,
    labels: Sequence[str],
    gold_wins: Sequence[str],
) -> torch.Tensor:
    """Per unit, whether the teacher's proposition distribution is a target: not where the
    gold label is one of ``gold_wins`` and the teacher's argmax is another label."""
    wins = torch.tensor([label in gold_wins for label in labels], dtype=torch.bool)
    known = gold != IGNORE
    gold_index = gold.clamp(min=0)
    overruled = known & wins[gold_index] & (teacher_logits.argmax(-1) != gold_index)
    return ~overruled


def attach_soft_targets(
    config: TrainConfig,
    pairs: Sequence[tuple[Example, ArgumentGraph]],
    log: Callable[[str], None] = print,
) -> list[Example]:
    """The examples with the teacher's soft targets (labelled or read from the cache)."""
    settings = config.distill
    labels, layout = teacher_labels(settings, [graph for _, graph in pairs], log)
    teacher_propositions = layout.get("proposition_labels", [])
    return [
        replace(
            example,
            soft=soft_targets(
                example,
                labels[document_key(graph)],
                config.proposition_labels,
                teacher_propositions,
                settings["gold_wins"],
                settings["gold_wins_heads"],
            ),
        )
        for example, graph in pairs
    ]


# ---------------------------------------------------------------------- the losses
def kl_from_logits(student: torch.Tensor, teacher: torch.Tensor, t: float) -> torch.Tensor:
    """Per row KL(softmax(teacher / t) || softmax(student / t))."""
    target = (teacher.float() / t).softmax(-1)
    return nn.functional.kl_div(
        (student.float() / t).log_softmax(-1), target, reduction="none"
    ).sum(-1)


def kl_from_probs(student: torch.Tensor, teacher_probs: torch.Tensor, t: float) -> torch.Tensor:
    """Per row KL of the teacher's distribution tempered by ``t`` (``p^(1/t)``, renormalised:
    the same as softening its logits) from the student's softened one."""
    tempered = (teacher_probs.float().clamp(min=1e-8).log() / t).softmax(-1)
    return nn.functional.kl_div(
        (student.float() / t).log_softmax(-1), tempered, reduction="none"
    ).sum(-1)


def binary_logits(logits: torch.Tensor) -> torch.Tensor:
    """A detector's logits as two-class logits (no, yes)."""
    return torch.stack([torch.zeros_like(logits), logits], dim=-1)


def argument_terms(
    soft: SoftTargets,
    t: float,
    tag_logits: torch.Tensor | None,
    type_logits: torch.Tensor | None,
    link_logits: torch.Tensor | None,
    proposition_logits: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    """The argument heads' distillation losses of one document, each averaged over its tokens
    or units (like the gold losses); a head without targets adds nothing."""
    terms = {}
    if tag_logits is not None and soft.tags is not None and bool(soft.tag_mask.any()):
        mask = soft.tag_mask
        terms["distill_tags"] = kl_from_probs(tag_logits[mask], soft.tags[mask], t).mean()
    if type_logits is not None and soft.types is not None and bool(soft.type_mask.any()):
        mask = soft.type_mask
        terms["distill_types"] = kl_from_logits(type_logits[mask], soft.types[mask], t).mean()
    if link_logits is not None and soft.links is not None:
        terms["distill_links"] = kl_from_logits(link_logits, soft.links, t).mean()
    if (
        proposition_logits is not None
        and soft.proposition is not None
        and bool(soft.proposition_mask.any())
    ):
        mask = soft.proposition_mask
        terms["distill_proposition"] = kl_from_logits(
            proposition_logits[mask], soft.proposition[mask], t
        ).mean()
    return terms


def counterfactual_terms(
    soft: SoftTargets, t: float, detection: torch.Tensor, tag_logits: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The counterfactual heads' distillation losses of one document."""
    terms = {}
    if soft.counterfactual is not None:
        terms["distill_counterfactual"] = kl_from_logits(
            binary_logits(detection), binary_logits(soft.counterfactual), t
        ).mean()
    mask = soft.counterfactual_tag_mask
    if soft.counterfactual_tags is not None and bool(mask.any()):
        terms["distill_counterfactual_tags"] = kl_from_probs(
            tag_logits[mask], soft.counterfactual_tags[mask], t
        ).mean()
    return terms


__all__ = [
    "DISTILLED_HEADS",
    "DistillationError",
    "attach_soft_targets",
    "gold_wins_mask",
    "per_character",
    "per_token",
    "soft_targets",
    "teacher_labels",
]
