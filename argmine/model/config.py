"""A model's settings (``config.json``): what is needed to rebuild it and to decode its output.

Configs of older argmine versions still load: renamed keys are read under their new names, and
a head a config predates is absent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from argmine.hub.bases import DEFAULT_BASE
from argmine.model.relations import LinkCalibration
from argmine.model.segmentation import TAG_LABELS

LEGACY_KEYS = {"base_embedding_sha256": "base_sha256"}
"""Config keys of argmine 0.1.0 models and their current names."""
LEGACY_DEFAULTS = {"counterfactual": False}
"""What a config that predates a head means: argmine 0.1.0 models have no counterfactual head."""
TUPLE_FIELDS = ("tag_labels", "type_weights", "proposition_labels", "int8_float_layers")
"""Fields kept as tuples in the config and written as JSON lists."""


@dataclass(frozen=True)
class DecodingSettings:
    """How the heads' scores become a graph. A model's own are chosen on dev data and stored in
    its config; a call may pass others (``parse(min_score=...)``, dev tuning) without changing
    the loaded model."""

    min_link_score: float = 0.0
    """Relations scored below this are left out of graphs."""
    none_weight: float = 1.0
    """Prior on "no target" when decoding relations (< 1 links more)."""
    type_weights: tuple[float, ...] = (1.0, 1.0, 1.0)
    """Priors on the component types (conclusion, claim, evidence)."""
    sentence_bounds: bool = False
    """Predicted units are cut at sentence boundaries and include their sentence's first
    words (:func:`argmine.model.segmentation.refine_to_sentences`)."""
    counterfactual_threshold: float = 0.5
    """Detector score from which a component is a counterfactual."""
    join_counterfactual_halves: bool = True
    """Predicted neighbouring units that are the antecedent and the consequent of one
    counterfactual conditional become one unit
    (:func:`argmine.model.counterfactuals.halves_to_join`)."""
    link_temperature: float = 1.0
    """The link scorer's logits are divided by this before the softmax: fitted on dev data by
    minimising NLL (:mod:`argmine.training.calibration`); 1.0 leaves older models unchanged."""
    link_calibration: dict[str, Any] | None = None
    """Maps each decoded link's score to the probability that it joins a gold source and target
    (:class:`argmine.model.relations.LinkCalibration`, fitted on dev data); None: scores are
    P(link) * P(type | link), as in older models. It never changes which links are decoded."""


@dataclass
class ModelConfig:
    """What a saved model needs to be rebuilt; written to ``config.json``."""

    name: str = "argmine-model"
    version: str = "0.0.0"
    base_model: str = DEFAULT_BASE
    """The base encoder: a known name (:mod:`argmine.hub.bases`), a local folder or a hub id."""
    encoder_layers: int | None = None
    """Keep only the first N encoder layers (None: all). Tests use 1 for speed."""
    max_length: int = 512
    """Tokens per encoder window, special tokens included (never past the encoder's limit)."""
    stride: int = 128
    hidden: int = 256
    discourse_layers: int = 2
    dropout: float = 0.1
    min_span_words: int = 3
    """Predicted spans shorter than this are dropped as fragments."""
    sentence_bounds: bool = False
    """Predicted units are cut at sentence boundaries and include their sentence's first words
    (:func:`argmine.model.segmentation.refine_to_sentences`); chosen on dev data."""
    none_weight: float = 1.0
    """Prior on "no target" when decoding relations (< 1 links more); tuned on dev data."""
    type_weights: tuple[float, ...] = (1.0, 1.0, 1.0)
    """Priors on the component types (conclusion, claim, evidence); tuned on dev data."""
    min_link_score: float = 0.0
    """Relations scored below this are left out of graphs (``min_score`` overrides it)."""
    link_temperature: float = 1.0
    """Divides the link logits before the softmax; fitted on dev data (1.0: older models)."""
    link_calibration: dict[str, Any] | None = None
    """``{"features": [...], "coef": [...], "intercept": b}``: Platt scaling that makes a
    relation's score the probability that it is right (fitted on dev data after training or by
    ``training/calibrate_links.py``); None (older models): the decoder's own score."""
    proposition_labels: tuple[str, ...] = ()
    """The source's own proposition types a head predicts (``attributes["proposition_type"]``);
    empty: no such head."""
    counterfactual: bool = True
    """Whether the model has the counterfactual heads."""
    paragraph_layout: bool = False
    """Whether the link scorer reads the text's paragraphs (paragraph distance, position in
    the paragraph); False in models trained before it existed."""
    link_has_target: bool = False
    """Whether "no target" is a separate decision of the link scorer rather than one more
    candidate in its softmax (:class:`argmine.model.relations.RelationScorer`)."""
    counterfactual_threshold: float = 0.5
    """Detector score from which a component is a counterfactual."""
    join_counterfactual_halves: bool = True
    """Predicted neighbouring units that are the antecedent and the consequent of one
    counterfactual conditional become one unit
    (:func:`argmine.model.counterfactuals.halves_to_join`)."""
    speed_class: str | None = None
    """How ``argmine models`` describes the model's speed (``fast``, ``accurate``)."""
    cpu_precision: str = "float32"
    """What ``precision="auto"`` picks on a CPU that runs it natively: ``float32``, or
    ``bfloat16`` / ``int8`` for a model whose units it was measured to keep
    (``benchmarks/precision_units.py``: at least 99% of float32's units on CDCP dev, all of
    the ContactPoint article's)."""
    int8_smoothing: dict[str, Any] | None = None
    """How ``precision="int8"`` smooths the encoder's linear layers before quantizing them
    (``{"alpha": 0.75, "first_token": "apart"}``, :class:`argmine.model.int8.Smoothed`), from the
    activation maxima in the folder's ``int8_calibration.safetensors``
    (``training/calibrate_int8.py``); None: PyTorch's plain dynamic quantization."""
    int8_outlier_ratio: float | None = None
    """Under ``precision="int8"``, the input channels of the encoder's linear layers whose
    calibration maximum (``int8_calibration.safetensors``) exceeds this many times the median
    channel's run in float32, the rest in int8 (:class:`argmine.model.int8.OutliersApart`,
    ``training/calibrate_int8.py --outliers``); it replaces ``int8_smoothing``'s scaling."""
    int8_float_layers: tuple[str, ...] = ()
    """Encoder linear layers ``precision="int8"`` keeps in float32 (fnmatch patterns over module
    names, ``"*.output.dense"``: the feed-forward outputs, where a model's activation outliers
    are loudest; ``benchmarks/precision_units.py`` measures which)."""
    lora: dict[str, Any] | None = None
    """LoRA settings when the base was adapted with LoRA; None: fully fine-tuned."""
    base_sha256: str = ""
    """Checksum of what the model reads from its base: the input embeddings (full
    fine-tuning) or every base weight (LoRA)."""
    tag_labels: tuple[str, ...] = TAG_LABELS

    def __post_init__(self) -> None:
        if self.link_calibration is not None:  # a broken one fails on load, not on first parse
            self.link_calibration = LinkCalibration.from_dict(self.link_calibration).to_dict()

    def decoding(self) -> DecodingSettings:
        """The model's own decoding settings."""
        return DecodingSettings(**{f.name: getattr(self, f.name) for f in fields(DecodingSettings)})

    def use_decoding(self, settings: DecodingSettings) -> None:
        """Make ``settings`` the model's own (dev tuning does, before the model is saved)."""
        for f in fields(DecodingSettings):
            setattr(self, f.name, getattr(settings, f.name))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in TUPLE_FIELDS:
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        data = {**LEGACY_DEFAULTS, **{LEGACY_KEYS.get(k, k): v for k, v in data.items()}}
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in data.items() if k in known})
        for key in TUPLE_FIELDS:
            setattr(config, key, tuple(getattr(config, key)))
        return config
