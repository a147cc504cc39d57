"""Link calibration: one temperature for the link scorer, fitted on dev by minimising NLL.

A relation's score is what a reader (and ``min_score``) acts on: a link scored 0.7 should be
right about 70% of the time. Fine-tuned scorers are overconfident, and more so after training
to a peaked soft target; temperature scaling (Guo et al. 2017: On Calibration of Modern Neural
Networks) divides the link logits (every candidate target and "none") by one scalar T, which
keeps the ranking of each unit's candidates and changes only how sure the scores are. T is
fitted on the dev documents' gold units before ``none_weight`` and ``min_score`` are chosen
(they act on the calibrated scores), stored as ``link_temperature`` in the model's config
(1.0, older models: unchanged) and applied by the decoder.

Temperature scaling keeps one unit's candidates in order but cannot say that a link scored 0.3
in a 1,000-word text (its probability spread over 96 candidates) is likelier right than one
scored 0.3 in a comment of five units. The link calibration (Platt scaling, a logistic
regression on a few features of each decoded link: :class:`argmine.model.relations.
LinkCalibration`) maps a decoded link to P(it joins a gold source and target). It is fitted on
every link decoded (at min_score 0, with the model's ``none_weight`` and temperature) on the
gold units of the dev documents and of long texts made by joining consecutive dev documents
(:func:`argmine.evaluation.lengths.joined_by_source`), so that it sees long windows; it is
reported cross-fitted, each fold of documents scored by a calibration fitted on the others,
with a bootstrap interval over documents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from argmine.evaluation.diagnostics import reliability_table
from argmine.evaluation.matching import indexed_links
from argmine.graph import ArgumentGraph
from argmine.model.relations import (
    NO_LINK,
    LinkCalibration,
    decode_relations,
    link_features,
    link_targets,
)

LinkPair = tuple[torch.Tensor, torch.Tensor]
"""A document's link logits ``(n, w + 1)`` and its gold distribution over the same slots."""
TEMPERATURE_BOUNDS = (0.05, 20.0)


@torch.inference_mode()
def dev_link_logits(miner, encoded, dev: Sequence[ArgumentGraph]) -> list[LinkPair]:
    """Link logits on the gold units of each dev document (already encoded, in order) and the
    gold distribution over each unit's slots, as training's link loss sees it."""
    pairs = []
    graphs = iter(dev)
    for docs, states, given in encoded:
        for doc, state, spans in zip(docs, states, given, strict=True):
            graph = next(graphs)
            if not spans or len(spans) < 2:
                continue
            scores = miner.model.span_outputs(state, doc, spans).links
            index = {c.id: i for i, c in enumerate(graph)}
            links = [(index[r.source], index[r.target]) for r in graph.relations]
            pairs.append((scores.link.float().cpu(), link_targets(scores, links).float().cpu()))
    return pairs


def link_nll(pairs: Sequence[LinkPair], temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the gold slots over every unit, at ``temperature``."""
    if not pairs:
        return float("nan")
    total = sum(float(-(t * (z / temperature).log_softmax(-1)).sum()) for z, t in pairs)
    return total / sum(len(z) for z, _ in pairs)  # documents differ in candidate slots


def fit_link_temperature(
    pairs: Sequence[LinkPair], bounds: tuple[float, float] = TEMPERATURE_BOUNDS
) -> float:
    """The temperature that minimises :func:`link_nll` (searched on log T within ``bounds``);
    1.0 when there is nothing to fit on."""
    if not pairs:
        return 1.0
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(
        lambda log_t: link_nll(pairs, math.exp(log_t)),
        bounds=(math.log(bounds[0]), math.log(bounds[1])),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return round(math.exp(found.x), 4)


def link_calibration_error(
    pairs: Sequence[LinkPair], temperature: float = 1.0, bins: int = 10
) -> float | None:
    """Expected calibration error of "link vs no link": every real candidate target's
    probability against whether it is a gold target, binned by
    :func:`argmine.evaluation.reliability_table` (10 equal bins)."""
    scores: list[float] = []
    correct: list[bool] = []
    for logits, target in pairs:
        probs = (logits / temperature).softmax(-1)[:, :-1]
        real = logits[:, :-1] > NO_LINK / 2
        scores += probs[real].tolist()
        correct += (target[:, :-1][real] > 0).tolist()
    return reliability_table(scores, correct, bins)["expected_calibration_error"]


# ---------------------------------------------------------------------- link calibration
LINK_CALIBRATION_FEATURES = ("logit_score", "log_candidates")
"""The features the link calibration is fitted on. Measured on the default model (CDCP dev and
texts joined from it, ``training/calibrate_links.py --compare``): the cross-fitted log loss of
every set in :data:`FEATURE_CHOICES` is within 0.015 of the others (paired intervals all span
0); this one is the only set whose cross-fitted ECE is at or under what perfectly calibrated
scores would show, on single comments and on joined texts alike."""
FEATURE_CHOICES: tuple[tuple[str, ...], ...] = (
    ("logit_score",),
    ("logit_score", "log_candidates"),
    ("link_vs_none",),
    ("link_vs_none", "log_candidates"),
    ("logit_score", "link_vs_none"),
    ("logit_score", "link_vs_none", "log_candidates"),
)
"""Feature sets ``calibrate_links.py --compare`` measures."""
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 13


@dataclass
class DecodedLinks:
    """Every link decoded on the gold units of some documents, uncalibrated."""

    features: list[dict[str, float]]
    """Each link's raw quantities (:func:`argmine.model.relations.link_features`)."""
    correct: list[bool]
    """Whether it joins a gold source and target (as link F1 counts it)."""
    document: list[int]
    """The index of its document."""
    documents: int
    """How many documents were decoded (some have no link)."""

    def subset(self, documents: Sequence[int]) -> DecodedLinks:
        """The links of ``documents`` (renumbered in that order)."""
        position = {d: k for k, d in enumerate(documents)}
        keep = [i for i, d in enumerate(self.document) if d in position]
        return DecodedLinks(
            [self.features[i] for i in keep],
            [self.correct[i] for i in keep],
            [position[self.document[i]] for i in keep],
            len(documents),
        )


@torch.inference_mode()
def decoded_links(miner, graphs: Sequence[ArgumentGraph], batch_size: int = 16) -> DecodedLinks:
    """Every link the model decodes on the gold units of ``graphs`` at min_score 0, with its
    own ``none_weight`` and temperature and without its link calibration."""
    from argmine.pipeline import MULTITHREADED_HEADS_FROM, single_threaded

    decoding = miner.decoding()
    found = DecodedLinks([], [], [], len(graphs))
    for first in range(0, len(graphs), batch_size):
        batch = graphs[first : first + batch_size]
        segments = [[(c.start, c.end) for c in g] for g in batch]
        encoded = miner.encode_batch([g.text for g in batch], segments)
        for k, (graph, doc, states, spans) in enumerate(zip(batch, *encoded, strict=True)):
            if len(spans) < 2:
                continue
            with single_threaded(doc.n_tokens < MULTITHREADED_HEADS_FROM):
                links = miner.model.span_outputs(states, doc, spans).links
                decoded = decode_relations(links, decoding.none_weight, decoding.link_temperature)
                features = link_features(links, decoded, decoding.link_temperature)
            gold = {(s, t) for _, s, t in indexed_links(graph, 0)}
            found.features += features
            found.correct += [(s, t) in gold for s, t, _, _ in decoded]
            found.document += [first + k] * len(decoded)
    return found


def fit_link_calibration(
    links: DecodedLinks, features: Sequence[str] = LINK_CALIBRATION_FEATURES, c: float = 1.0
) -> dict | None:
    """Platt scaling of ``links`` on ``features`` (a logistic regression, L2 penalty ``c`` as
    scikit-learn's C), as a model config's ``link_calibration``; None when the links are all
    right or all wrong (nothing to fit)."""
    if len(set(links.correct)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    calibration = LinkCalibration(tuple(features), (0.0,) * len(features), 0.0)
    x = np.array(calibration.design(links.features))
    fitted = LogisticRegression(C=c).fit(x, np.array(links.correct))
    return LinkCalibration(
        tuple(features),
        tuple(round(float(v), 6) for v in fitted.coef_[0]),
        round(float(fitted.intercept_[0]), 6),
    ).to_dict()


def calibrated_scores(features: list[dict[str, float]], calibration: dict | None) -> list[float]:
    """The scores of links with these raw quantities under ``calibration`` (None: raw)."""
    if calibration is None:
        return [f["score"] for f in features]
    return LinkCalibration.from_dict(calibration).probabilities(features)


def cross_fitted_scores(
    links: DecodedLinks,
    groups: Sequence[int],
    features: Sequence[str] = LINK_CALIBRATION_FEATURES,
) -> list[float]:
    """Each link scored by a calibration fitted on the links of the other ``groups`` (one
    group id per document: documents that share text, such as a joined text and its parts,
    share a group so that none is scored by a calibration that saw it)."""
    scores = [0.0] * len(links.correct)
    for group in sorted(set(groups)):
        held_out = [d for d, g in enumerate(groups) if g == group]
        others = [d for d, g in enumerate(groups) if g != group]
        fitted = fit_link_calibration(links.subset(others), features)
        inside = set(held_out)
        rows = [i for i, d in enumerate(links.document) if d in inside]
        probabilities = calibrated_scores([links.features[i] for i in rows], fitted)
        for i, p in zip(rows, probabilities, strict=True):
            scores[i] = p
    return scores


def calibration_error(
    scores: Sequence[float],
    correct: Sequence[bool],
    document: Sequence[int],
    documents: int,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict:
    """ECE (10 equal bins, :func:`argmine.evaluation.reliability_table`) of the links, with a
    95% percentile bootstrap interval resampling the ``documents`` (those without links too),
    and the mean log loss."""
    ece = reliability_table(scores, correct)["expected_calibration_error"]
    rng = np.random.default_rng(seed)
    of_document: list[list[int]] = [[] for _ in range(documents)]
    for i, d in enumerate(document):
        of_document[d].append(i)
    resampled = []
    for _ in range(samples):
        rows = [i for d in rng.integers(0, documents, documents) for i in of_document[d]]
        if rows:
            table = reliability_table([scores[i] for i in rows], [correct[i] for i in rows])
            resampled.append(table["expected_calibration_error"])
    clipped = np.clip(np.array(scores, dtype=float), 1e-6, 1 - 1e-6)
    truth = np.array(correct, dtype=float)
    loss = -(truth * np.log(clipped) + (1 - truth) * np.log(1 - clipped)).mean()
    return {
        "links": len(scores),
        "documents": documents,
        "ece": ece,
        "ece_95": np.percentile(resampled, [2.5, 97.5]).round(4).tolist() if resampled else None,
        "log_loss": float(loss) if len(scores) else None,
    }


def calibration_documents(
    dev: Sequence[ArgumentGraph],
) -> tuple[list[ArgumentGraph], list[int], list[bool]]:
    """The link calibration's documents: ``dev`` and the long texts joined from it
    (:func:`argmine.evaluation.lengths.joined_by_source`), each document's group for
    cross-fitting (a joined text and its parts share one; parts of no joined text form the last
    group) and whether it is a joined text."""
    from argmine.evaluation.lengths import joined_by_source

    joined = joined_by_source(dev)
    group_of = {}
    for k, graph in enumerate(joined):
        for part in graph.metadata["joined"]:
            group_of[(graph.metadata.get("source"), part)] = k
    rest = len(joined)
    groups = [
        group_of.get((g.metadata.get("source"), str(g.metadata.get("id"))), rest) for g in dev
    ]
    groups += range(len(joined))
    return [*dev, *joined], groups, [False] * len(dev) + [True] * len(joined)


__all__ = [
    "FEATURE_CHOICES",
    "LINK_CALIBRATION_FEATURES",
    "DecodedLinks",
    "calibrated_scores",
    "calibration_documents",
    "calibration_error",
    "cross_fitted_scores",
    "decoded_links",
    "dev_link_logits",
    "fit_link_calibration",
    "fit_link_temperature",
    "link_calibration_error",
    "link_nll",
]
