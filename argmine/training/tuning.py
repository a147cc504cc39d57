"""Decoding calibration: after training, the decoding settings that score best on dev data.

The settings (the prior on "no target", the link-score threshold, the prior on the conclusion
type, sentence cuts, the counterfactual threshold) only change decoding, so each dev document
is encoded once and decoded with every candidate, passed as arguments
(:meth:`argmine.ArgumentMiner.decode_batch`); the chosen ones become the model's own and are
saved with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from argmine.graph import ArgumentGraph
from argmine.pipeline import ArgumentMiner, EncodedBatch
from argmine.training.config import TrainConfig

COUNTERFACTUAL_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
BATCH_SIZE = 16
UNITS = ("gold", "whole", "none")
"""What the documents are encoded with: their gold units, each whole text as one unit, or
none (the model segments)."""


def tune_decoding(
    miner: ArgumentMiner,
    dev_graphs: Sequence[ArgumentGraph],
    config: TrainConfig,
    log: Callable[[str], None] = print,
) -> None:
    """Pick the decoding settings that score best on the dev documents.

    Argument documents choose, from the config's short candidate lists, the prior on "no
    target" with the score below which a link is left out (link F1); the link calibration is
    then fitted on the links decoded with that prior and the score threshold chosen again on
    the calibrated scores (:func:`fit_link_scores`); then the prior on the
    conclusion type (component macro-F1), then whether units are cut at sentences (end-to-end
    exact component F1); counterfactual sentences choose the detector's threshold (detection
    F1). The model card says that dev scores are measured with settings chosen on the same
    dev set.
    """
    from argmine.evaluation import split_by_annotation

    arguments, counterfactuals = split_by_annotation(dev_graphs)
    if arguments:
        _tune_argument_decoding(miner, arguments, config, log)
    if counterfactuals and miner.config.counterfactual:
        _tune_counterfactual_threshold(miner, counterfactuals, log)


def encoded(
    miner: ArgumentMiner, graphs: Sequence[ArgumentGraph], units: str = "gold"
) -> list[EncodedBatch]:
    """The documents encoded once, in batches, with the ``units`` of :data:`UNITS`."""
    texts = [g.text for g in graphs]
    segments = [
        {"gold": [(c.start, c.end) for c in g], "whole": [(0, len(g.text))], "none": None}[units]
        for g in graphs
    ]
    return [
        miner.encode_batch(texts[k : k + BATCH_SIZE], segments[k : k + BATCH_SIZE])
        for k in range(0, len(texts), BATCH_SIZE)
    ]


def decoded(
    miner: ArgumentMiner, batches: Sequence[EncodedBatch], **settings: Any
) -> list[ArgumentGraph]:
    """Graphs of encoded documents with the model's decoding settings but ``settings``."""
    decoding = miner.decoding(**settings)
    return [graph for batch in batches for graph in miner.decode_batch(batch, decoding)]


def _tune_argument_decoding(
    miner: ArgumentMiner,
    dev: Sequence[ArgumentGraph],
    config: TrainConfig,
    log: Callable[[str], None],
) -> None:
    from argmine.evaluation import end_to_end_scores, given_units_scores

    given = encoded(miner, dev)  # the settings only change decoding: encode once
    calibrate_links(miner, given, dev, log)  # first: the priors below act on its scores
    links = {
        (w, m): given_units_scores(
            dev, decoded(miner, given, none_weight=w, min_link_score=m, type_weights=(1, 1, 1))
        )["link"]["f1"]
        for w in config.none_weights
        for m in config.min_link_scores
    }
    best_none, best_min = max(links, key=lambda k: (links[k], k[0], -k[1]))
    chosen = {"none_weight": best_none, "min_link_score": best_min}
    if fit_link_scores(miner, dev, best_none, log):  # scores changed: min_score chosen again
        calibrated = {
            m: given_units_scores(
                dev,
                decoded(
                    miner, given, none_weight=best_none, min_link_score=m, type_weights=(1, 1, 1)
                ),  # fmt: skip
            )["link"]["f1"]
            for m in config.min_link_scores
        }
        chosen["min_link_score"] = max(calibrated, key=lambda m: (calibrated[m], -m))
        log(
            "min_link_score -> dev link F1 on calibrated scores: "
            + ", ".join(f"{m}: {f:.3f}" for m, f in calibrated.items())
        )
    types = {
        w: given_units_scores(dev, decoded(miner, given, **chosen, type_weights=(w, 1.0, 1.0)))[
            "component_macro_f1"
        ]
        for w in config.conclusion_weights
    }
    best_conclusion = max(types, key=lambda w: (types[w], -abs(w - 1.0)))
    log(
        "none_weight, min_link_score -> dev link F1: "
        + ", ".join(f"{w}, {m}: {f:.3f}" for (w, m), f in links.items())
    )
    log(
        "conclusion_weight -> dev component macro-F1: "
        + ", ".join(f"{w}: {f:.3f}" for w, f in types.items())
    )
    miner.config.use_decoding(miner.decoding(**chosen, type_weights=(best_conclusion, 1.0, 1.0)))
    segmented = encoded(miner, dev, units="none")
    exact = {
        bounds: end_to_end_scores(dev, decoded(miner, segmented, sentence_bounds=bounds))[
            "component_exact"
        ]["macro_f1"]
        for bounds in (False, True)
    }
    log(f"sentence_bounds -> dev end-to-end exact component F1: {exact}")
    miner.config.use_decoding(miner.decoding(sentence_bounds=exact[True] > exact[False]))


def calibrate_links(
    miner: ArgumentMiner,
    batches: Sequence[EncodedBatch],
    dev: Sequence[ArgumentGraph],
    log: Callable[[str], None],
) -> None:
    """Fit the link temperature on the dev documents' gold units and make it the model's."""
    from argmine.training.calibration import (
        dev_link_logits,
        fit_link_temperature,
        link_calibration_error,
        link_nll,
    )

    pairs = dev_link_logits(miner, batches, dev)
    if not pairs:
        return
    temperature = fit_link_temperature(pairs)
    errors = [link_calibration_error(pairs, t) for t in (1.0, temperature)]
    before, after = (f"{e:.3f}" if e is not None else "n/a" for e in errors)
    log(
        f"link temperature {temperature:.3f}: dev link NLL {link_nll(pairs):.3f} -> "
        f"{link_nll(pairs, temperature):.3f}, ECE (10 bins) {before} -> {after}"
    )
    miner.config.use_decoding(miner.decoding(link_temperature=temperature))


def fit_link_scores(
    miner: ArgumentMiner,
    dev: Sequence[ArgumentGraph],
    none_weight: float,
    log: Callable[[str], None],
) -> bool:
    """Fit the link calibration (:mod:`argmine.training.calibration`) on the links decoded with
    ``none_weight`` on the gold units of the dev documents and of texts joined from them, and
    make it the model's; log its cross-fitted ECE before and after. False when there is
    nothing to fit (no decoded link, or all right or all wrong): the scores stay raw."""
    from argmine.training.calibration import (
        LINK_CALIBRATION_FEATURES,
        calibration_documents,
        calibration_error,
        cross_fitted_scores,
        decoded_links,
        fit_link_calibration,
    )

    miner.config.use_decoding(miner.decoding(none_weight=none_weight, link_calibration=None))
    documents, groups, _ = calibration_documents(dev)
    links = decoded_links(miner, documents)
    calibration = fit_link_calibration(links, LINK_CALIBRATION_FEATURES)
    if calibration is None:
        log(f"link calibration: not fitted ({len(links.correct)} dev links, one outcome)")
        return False
    errors = [
        calibration_error(scores, links.correct, links.document, links.documents)
        for scores in (
            [f["score"] for f in links.features],
            cross_fitted_scores(links, groups, LINK_CALIBRATION_FEATURES),
        )
    ]
    before, after = (f"{e['ece']:.3f} (95% {e['ece_95'][0]:.3f} to {e['ece_95'][1]:.3f})"
                     for e in errors)  # fmt: skip
    log(
        f"link calibration {calibration}: {len(links.correct)} dev links on "
        f"{links.documents} documents (joined texts among them), ECE {before} -> cross-fitted "
        f"{after}"
    )
    miner.config.use_decoding(miner.decoding(link_calibration=calibration))
    return True


def _tune_counterfactual_threshold(
    miner: ArgumentMiner, dev: Sequence[ArgumentGraph], log: Callable[[str], None]
) -> None:
    from argmine.evaluation import counterfactual_scores

    sentences = encoded(miner, dev, units="whole")
    f1 = {
        t: counterfactual_scores(dev, decoded(miner, sentences, counterfactual_threshold=t))[
            "detection"
        ]["f1"]
        for t in COUNTERFACTUAL_THRESHOLDS
    }
    best = max(f1, key=lambda t: (f1[t], -abs(t - 0.5)))
    log(
        "counterfactual threshold -> dev detection F1: "
        + ", ".join(f"{t}: {v:.3f}" for t, v in f1.items())
    )
    miner.config.use_decoding(miner.decoding(counterfactual_threshold=best))
