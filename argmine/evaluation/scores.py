"""Evaluation with the field's standard metrics.

Given units (the gold spans are passed to the model, which predicts types and relations):
- component macro-F1 over the types present in the gold data;
- link F1: F1 of the "linked" class over ordered pairs of units (direction matters);
- relation-type accuracy on the links that are correct;
- 95% bootstrap intervals of component macro-F1 and link F1 over resampled documents, because
  dev sets of a few dozen documents move by several points from one sample to the next.

End to end (the model also segments):
- component F1 where a predicted span matches a gold span of the same type if they overlap by at
  least half of each (the Feedback Prize rule), and with exact boundaries (a trailing
  punctuation mark aside: the corpora differ on whether a unit keeps its full stop);
- relation F1 where both ends match (by the overlap rule) and the relation type agrees.

Microtexts (Peldszus & Stede): central-claim, function and attachment macro-F1 over units and
ordered unit pairs, by cross-validation over documents (:func:`cross_validate`).

Proposition types (CDCP's fact / testimony / reference / value / policy, the number the CDCP
literature reports): macro-F1 of ``attributes["proposition_type"]`` against each gold unit's
``native_label``, on given units.

Counterfactuals (SemEval-2020 Task 5 sentences, each given as one unit): detection precision,
recall and F1 on the sentences of subtask 1 (whose share of counterfactuals is the task's own),
and exact-match F1 of the antecedent and of the consequent on the sentences of subtask 2 (a
predicted part is correct when its boundaries equal the gold ones, a trailing punctuation mark
aside; a part predicted where the gold has none, or for a sentence not judged counterfactual,
counts as a miss).

Diagnostics (``scores["diagnostics"]``, what ``argmine evaluate --plots`` draws): a confusion
matrix per typed head (component types and proposition types on given units, counterfactual
detection), and the link scores against the gold links: a reliability table (is a link scored
0.7 right 70% of the time?) and precision/recall for each ``min_score``. They come from the
same predictions as the scores: the given-units pass keeps every link the decoder found
(``min_score=0``), and the scores above use those at or over the model's ``min_score``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import KFold

from argmine.evaluation.diagnostics import (
    component_type_confusion,
    counterfactual_confusion,
    link_diagnostics,
    proposition_type_confusion,
)
from argmine.evaluation.matching import (
    Pair,
    exact_match,
    indexed_links,
    match_components,
    overlap_match,
    prf,
)
from argmine.graph import COMPONENT_TYPES, ArgumentGraph


def evaluate(miner, gold: Sequence[ArgumentGraph], batch_size: int = 16) -> dict[str, Any]:
    """Every score that ``gold`` has annotations for: given units and end to end on argument
    documents, counterfactual detection and parts on counterfactual sentences."""
    arguments, counterfactuals = split_by_annotation(gold)
    scores: dict[str, Any] = {"documents": len(gold)}
    if arguments:
        scores.update(argument_scores(miner, arguments, batch_size))
    if counterfactuals:
        given = [[(0, len(g.text))] for g in counterfactuals]
        texts = [g.text for g in counterfactuals]
        predicted = _with_progress(
            miner.pipe(texts, batch_size=batch_size, segments=given),
            "counterfactuals",
            len(texts),
        )
        scores["counterfactual"] = counterfactual_scores(counterfactuals, predicted)
        diagnostics = scores.setdefault("diagnostics", {"confusion": {}})
        diagnostics["confusion"]["counterfactual"] = counterfactual_confusion(
            counterfactuals, predicted
        )
    return scores


def split_by_annotation(
    graphs: Sequence[ArgumentGraph],
) -> tuple[list[ArgumentGraph], list[ArgumentGraph]]:
    """Argument documents, and sentences annotated only for counterfactuals (SemEval)."""
    counterfactual = [g for g in graphs if g.metadata.get("annotates") == "counterfactual"]
    argument = [g for g in graphs if g.metadata.get("annotates") != "counterfactual"]
    return argument, counterfactual


def argument_scores(miner, gold: Sequence[ArgumentGraph], batch_size: int = 16) -> dict[str, Any]:
    """Given-units and end-to-end scores of ``miner`` on argument documents."""
    texts = [g.text for g in gold]
    segments = [[(c.start, c.end) for c in g] for g in gold]
    every_link = _with_progress(  # every decoded link, for the diagnostics of link scores
        miner.pipe(texts, batch_size=batch_size, segments=segments, min_score=0.0),
        "given units",
        len(gold),
    )
    min_score = miner.config.min_link_score
    given = [with_links_from(g, min_score) for g in every_link]  # what parse would return
    predicted = _with_progress(miner.pipe(texts, batch_size=batch_size), "end to end", len(gold))
    labels = miner.config.proposition_labels
    given_units = given_units_scores(gold, given, labels)
    given_units["intervals_95"] = bootstrap_intervals(gold, given)
    matrices = {"component_type": component_type_confusion(gold, given)}
    if propositions := proposition_type_confusion(gold, given, labels):
        matrices["proposition_type"] = propositions
    return {
        "argument_documents": len(gold),
        "given_units": given_units,
        "end_to_end": end_to_end_scores(gold, predicted),
        "diagnostics": {
            "confusion": matrices,
            "links": {
                **link_diagnostics(gold, every_link, min_score),
                "link_calibration": miner.config.link_calibration,  # what the scores are
            },
        },
    }


def with_links_from(graph: ArgumentGraph, min_score: float) -> ArgumentGraph:
    """``graph`` with only the relations scored ``min_score`` or more (the pipeline's filter:
    decoding does not depend on it, so this is the graph parsed with that ``min_score``)."""
    kept = [r for r in graph.relations if r.score is None or r.score >= min_score]
    return ArgumentGraph(graph.text, graph.components, kept, dict(graph.metadata))


def _with_progress(graphs, what: str, total: int) -> list[ArgumentGraph]:
    """Collect ``graphs`` behind a progress bar on the terminal (none in logs and pipes)."""
    from tqdm.auto import tqdm

    return list(tqdm(graphs, desc=what, total=total, unit="doc", disable=None, leave=False))


# ---------------------------------------------------------------------- given units
def given_units_scores(
    gold: Sequence[ArgumentGraph],
    pred: Sequence[ArgumentGraph],
    proposition_labels: Sequence[str] = (),
) -> dict[str, Any]:
    """Scores for predictions made on the gold units (same spans, in text order); with
    ``proposition_labels`` (the model's), also proposition-type macro-F1."""
    gold_types, pred_types = [], []
    gold_links: set[tuple[int, int, int]] = set()
    pred_links: dict[tuple[int, int, int], str] = {}
    gold_link_types: dict[tuple[int, int, int], str] = {}
    for d, (g, p) in enumerate(zip(gold, pred, strict=True)):
        gold_types += [c.type for c in g]
        pred_types += [c.type for c in p]
        for key, kind in indexed_links(g, d).items():
            gold_links.add(key)
            gold_link_types[key] = kind
        pred_links.update(indexed_links(p, d))
    labels = [t for t in COMPONENT_TYPES if t in gold_types]
    per_type = f1_score(gold_types, pred_types, labels=labels, average=None, zero_division=0)
    correct = [k for k in pred_links if k in gold_links]
    propositions = proposition_type_scores(gold, pred, proposition_labels)
    return {
        **({"proposition_type": propositions} if propositions else {}),
        "component_macro_f1": float(
            f1_score(gold_types, pred_types, labels=labels, average="macro", zero_division=0)
        ),
        "component_f1_per_type": {t: float(f) for t, f in zip(labels, per_type, strict=True)},
        "link": prf(len(correct), len(pred_links), len(gold_links)),
        "relation_type_accuracy_on_correct_links": (
            float(
                accuracy_score(
                    [gold_link_types[k] for k in correct], [pred_links[k] for k in correct]
                )
            )
            if correct
            else 0.0
        ),
    }


def proposition_type_scores(
    gold: Sequence[ArgumentGraph],
    pred: Sequence[ArgumentGraph],
    labels: Sequence[str] = (),
) -> dict[str, Any] | None:
    """Macro-F1 of predicted proposition types against gold native labels, over the units
    whose gold label is one of ``labels`` (the model's); None when no unit has one."""
    pairs = [
        (g.attributes.get("native_label"), p.attributes.get("proposition_type"))
        for gd, pd in zip(gold, pred, strict=True)
        for g, p in zip(gd, pd, strict=True)
        if g.attributes.get("native_label") in labels
    ]
    labels = sorted({g for g, _ in pairs})
    if not labels:
        return None
    gold_labels, pred_labels = zip(*pairs, strict=True)
    per_label = f1_score(gold_labels, pred_labels, labels=labels, average=None, zero_division=0)
    return {
        "macro_f1": float(np.mean(per_label)),
        "f1_per_label": {label: float(f) for label, f in zip(labels, per_label, strict=True)},
        "units": len(pairs),
    }


def counterfactual_scores(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph]
) -> dict[str, Any]:
    """Detection P/R/F1 on subtask-1 sentences; antecedent and consequent exact-match P/R/F1
    on subtask-2 sentences. Each predicted graph holds the sentence as its one unit."""
    detection = Counter()
    parts = {part: Counter() for part in ("antecedent", "consequent")}
    for g, p in zip(gold, pred, strict=True):
        unit = p.components[0].attributes if p.components else {}
        predicted = bool(unit.get("counterfactual"))
        meta = g.metadata
        if 1 in meta.get("subtasks", [1]):
            actual = bool(meta.get("counterfactual"))
            detection.update(tp=predicted and actual, predicted=predicted, gold=actual)
        if meta.get("spans_annotated"):
            for part, counts in parts.items():
                guess, truth = unit.get(part) if predicted else None, meta.get(part)
                hit = bool(guess and truth and exact_match(g.text, tuple(truth), tuple(guess)))
                counts.update(tp=hit, predicted=guess is not None, gold=truth is not None)
    return {
        "detection": prf(detection["tp"], detection["predicted"], detection["gold"]),
        **{f"{part}_exact": prf(c["tp"], c["predicted"], c["gold"]) for part, c in parts.items()},
        "sentences": len(gold),
    }


def bootstrap_intervals(
    gold: Sequence[ArgumentGraph],
    pred: Sequence[ArgumentGraph],
    samples: int = 1000,
    seed: int = 13,
    level: float = 0.95,
) -> dict[str, list[float]]:
    """Percentile intervals of component macro-F1 and link F1, resampling documents.

    Each document is reduced to its counts (true positives, predictions and gold units per type;
    the same for links), so a resample is a sum of counts and the scores it gives are exactly
    what :func:`given_units_scores` would compute on the resampled documents.
    """
    # (documents, types + links, [tp, predicted, gold])
    counts = np.array([_document_counts(g, p) for g, p in zip(gold, pred, strict=True)])
    rng = np.random.default_rng(seed)
    totals = counts[rng.integers(0, len(counts), size=(samples, len(counts)))].sum(axis=1)
    f1 = _f1(totals[..., 0], totals[..., 1], totals[..., 2])  # (samples, types + links)
    scored_types = counts[:, :-1, 2].sum(axis=0) > 0  # types with gold units, as in the score
    macro, link = f1[:, :-1][:, scored_types].mean(axis=1), f1[:, -1]
    tail = 100 * (1 - level) / 2
    return {
        "component_macro_f1": np.percentile(macro, [tail, 100 - tail]).round(4).tolist(),
        "link_f1": np.percentile(link, [tail, 100 - tail]).round(4).tolist(),
    }


def _document_counts(gold: ArgumentGraph, pred: ArgumentGraph) -> list[list[int]]:
    """``[tp, predicted, gold]`` for each component type, then for links."""
    pairs = [(g.type, p.type) for g, p in zip(gold, pred, strict=True)]
    counts = [
        [
            sum(g == p == kind for g, p in pairs),
            sum(p == kind for _, p in pairs),
            sum(g == kind for g, _ in pairs),
        ]
        for kind in COMPONENT_TYPES
    ]
    gold_links, pred_links = set(indexed_links(gold, 0)), set(indexed_links(pred, 0))
    return [*counts, [len(gold_links & pred_links), len(pred_links), len(gold_links)]]


def _f1(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> np.ndarray:
    """F1 from counts, 0 where there is nothing to score (sklearn's ``zero_division=0``)."""
    denominator = n_pred + n_gold
    return np.divide(2 * tp, denominator, out=np.zeros(np.shape(tp)), where=denominator > 0)


# ---------------------------------------------------------------------- diagnostics


# ---------------------------------------------------------------------- end to end


def end_to_end_scores(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph]
) -> dict[str, Any]:
    """Component F1 (overlap and exact) per type and macro, and relation F1 on matched ends."""
    return scores_from_end_to_end_counts(
        [end_to_end_counts(g, p) for g, p in zip(gold, pred, strict=True)]
    )


def scores_from_end_to_end_counts(per_document: Sequence[dict[str, list]]) -> dict[str, Any]:
    """:func:`end_to_end_scores` from documents' :func:`end_to_end_counts` (summed)."""
    totals = {
        key: np.sum([doc[key] for doc in per_document], axis=0, dtype=int).reshape(-1, 3)
        for key in ("component_overlap", "component_exact", "relation")
    }
    scores: dict[str, Any] = {}
    for key in ("component_overlap", "component_exact"):
        per_type = {
            t: prf(*map(int, counts))
            for t, counts in zip(COMPONENT_TYPES, totals[key], strict=True)
            if counts[2]
        }
        scores[key] = {
            "per_type": per_type,
            "macro_f1": sum(v["f1"] for v in per_type.values()) / max(len(per_type), 1),
        }
    scores["relation"] = prf(*map(int, totals["relation"][0]))
    return scores


def end_to_end_counts(gold: ArgumentGraph, pred: ArgumentGraph) -> dict[str, list[list[int]]]:
    """One document's ``[tp, predicted, gold]``: per component type under overlap and exact
    matching, and for relations (ends matched by overlap). Summed over documents they give
    :func:`end_to_end_scores`; resampled, its paired bootstrap (``training/compare.py``)."""
    rules = {"overlap": lambda g, p: overlap_match(g, p), "exact": partial(exact_match, gold.text)}
    gold_types = {c.id: c.type for c in gold.components}
    counts: dict[str, list[list[int]]] = {}
    for name, rule in rules.items():
        matched = match_components(gold, pred, rule)
        tp = Counter(gold_types[gold_id] for gold_id in matched.values())
        counts[f"component_{name}"] = [
            [
                tp[t],
                sum(c.type == t for c in pred.components),
                sum(c.type == t for c in gold.components),
            ]
            for t in COMPONENT_TYPES
        ]
        if name == "overlap":
            relations = _matched_relations(gold, pred, matched)
            counts["relation"] = [[relations, len(pred.relations), len(gold.relations)]]
    return counts


def _matched_relations(gold: ArgumentGraph, pred: ArgumentGraph, matched: dict[str, str]) -> int:
    """Predicted relations whose matched ends carry a gold relation of the same type."""
    gold_relations = {(r.source, r.target, r.type) for r in gold.relations}
    return sum(
        1
        for r in pred.relations
        if (matched.get(r.source), matched.get(r.target), r.type) in gold_relations
    )


# ---------------------------------------------------------------------- microtexts
def microtext_scores(
    gold: Sequence[ArgumentGraph], pred: Sequence[ArgumentGraph]
) -> dict[str, float]:
    """Peldszus & Stede's levels, macro-F1 as they report them, on given units.

    - central claim: is each unit the central claim (the unit with no outgoing relation)?
    - function: each unit's role in the graph: central, support or attack;
    - attachment: for every ordered pair of units, is the first attached to the second?
    """
    cc_g, cc_p, fu_g, fu_p, at_g, at_p = [], [], [], [], [], []
    for g, p in zip(gold, pred, strict=True):
        gf, pf = _functions(g), _functions(p)
        cc_g += [f == "central" for f in gf]
        cc_p += [f == "central" for f in pf]
        fu_g += gf
        fu_p += pf
        ga, pa = _attachments(g), _attachments(p)
        n = len(gf)
        for i in range(n):
            for j in range(n):
                if i != j:
                    at_g.append((i, j) in ga)
                    at_p.append((i, j) in pa)
    return {
        "central_claim_macro_f1": float(f1_score(cc_g, cc_p, average="macro", zero_division=0)),
        "central_claim_f1": float(f1_score(cc_g, cc_p, zero_division=0)),
        "function_macro_f1": float(f1_score(fu_g, fu_p, average="macro", zero_division=0)),
        "attachment_macro_f1": float(f1_score(at_g, at_p, average="macro", zero_division=0)),
        "attachment_f1": float(f1_score(at_g, at_p, zero_division=0)),
    }


def _functions(graph: ArgumentGraph) -> list[str]:
    outgoing = {r.source: r.type for r in graph.relations}
    return [outgoing.get(c.id, "central") for c in graph]


def _attachments(graph: ArgumentGraph) -> set[Pair]:
    position = {c.id: i for i, c in enumerate(graph)}
    return {(position[r.source], position[r.target]) for r in graph.relations}


def cross_validate(
    graphs: Sequence[ArgumentGraph],
    fit: Callable[[list[ArgumentGraph]], Any],
    folds: int = 5,
    seed: int = 13,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train with ``fit`` on k-1 folds of documents, predict the held-out fold on given units.

    Scores are computed over the pooled predictions of all folds, and per fold.
    """
    gold_all, pred_all, per_fold = [], [], []
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(list(range(len(graphs))))):
        miner = fit([graphs[i] for i in train_idx])
        gold = [graphs[i] for i in test_idx]
        pred = list(
            miner.pipe(
                [g.text for g in gold], segments=[[(c.start, c.end) for c in g] for g in gold]
            )
        )
        fold_scores = microtext_scores(gold, pred)
        log(f"fold {k + 1}/{folds}: " + " ".join(f"{m}={v:.3f}" for m, v in fold_scores.items()))
        per_fold.append(fold_scores)
        gold_all += gold
        pred_all += pred
    return {
        "folds": folds,
        "seed": seed,
        "pooled": microtext_scores(gold_all, pred_all),
        "per_fold": per_fold,
    }
