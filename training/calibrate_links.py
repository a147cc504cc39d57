"""Fit the link calibration of an existing model and show what it changes.

    python training/calibrate_links.py --model argmine-minilm-policy            # measure only
    python training/calibrate_links.py --model argmine-minilm-policy --compare  # feature sets
    python training/calibrate_links.py --model models/argmine-minilm-policy --write

Every link the model decodes (min_score 0, its own ``none_weight`` and temperature, no
calibration) on the gold units of CDCP dev comments and of texts joined from them (700-1,200
words) is scored against gold; a Platt scaling on ``--features`` is fitted on all of them
(:mod:`argmine.training.calibration`). Printed: the expected calibration error before and after,
cross-fitted (each group of documents, a joined text with its comments, scored by a calibration
fitted on the others) with a 95% bootstrap interval over documents and the ECE that perfectly
calibrated scores would show on as many links (the noise floor of a 10-bin ECE); link
precision/recall/F1 on CDCP dev at each min_score, given units (with a bootstrap interval of
F1) and end to end; and the length buckets of ``benchmarks/links_by_length.py`` before and after
at the model's min_score. ``--write`` stores the calibration in the model folder's
``config.json`` (``link_calibration``; nothing else in the file changes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import argmine
from argmine.corpus import load_graphs
from argmine.evaluation import bootstrap_intervals, end_to_end_scores, with_links_from
from argmine.evaluation.diagnostics import MIN_SCORE_GRID, reliability_table, scored_links
from argmine.evaluation.lengths import length_buckets, length_rows, markdown_rows
from argmine.evaluation.matching import indexed_links, prf
from argmine.hub.registry import resolve_model
from argmine.training.calibration import (
    FEATURE_CHOICES,
    LINK_CALIBRATION_FEATURES,
    DecodedLinks,
    calibration_documents,
    calibration_error,
    cross_fitted_scores,
    decoded_links,
    fit_link_calibration,
)
from argmine.training.compare import paired_bootstrap

FLOOR_SAMPLES = 1000


def noise_floor(scores: list[float], seed: int = 13) -> list[float]:
    """Median and 95% range of the ECE of these scores against outcomes drawn from them
    (what perfectly calibrated scores would show on as many links)."""
    rng = np.random.default_rng(seed)
    probs = np.array(scores)
    errors = [
        reliability_table(scores, list(rng.random(len(probs)) < probs))[
            "expected_calibration_error"
        ]
        for _ in range(FLOOR_SAMPLES)
    ]
    return np.percentile(errors, [50, 2.5, 97.5]).round(3).tolist()


def error_rows(links: DecodedLinks, scores: list[float], joined: list[bool]) -> dict[str, dict]:
    """:func:`calibration_error` of ``scores`` on single documents, joined ones and both."""
    parts = {
        "single": [d for d in range(links.documents) if not joined[d]],
        "joined": [d for d in range(links.documents) if joined[d]],
        "all": list(range(links.documents)),
    }
    rows = {}
    for name, documents in parts.items():
        inside = set(documents)
        keep = [i for i, d in enumerate(links.document) if d in inside]
        sub = links.subset(documents)
        part = [scores[i] for i in keep]
        rows[name] = {
            **calibration_error(part, sub.correct, sub.document, sub.documents),
            "floor": noise_floor(part),
        }
    return rows


def print_errors(title: str, rows: dict[str, dict]) -> None:
    for name, row in rows.items():
        print(
            f"  {title:<34} {name:<6} {row['links']:>4} links ({row['documents']} docs): "
            f"ECE {row['ece']:.3f} (95% {row['ece_95'][0]:.3f} to {row['ece_95'][1]:.3f}; "
            f"perfect scores would show {row['floor'][0]:.3f}, {row['floor'][1]:.3f} to "
            f"{row['floor'][2]:.3f}), log loss {row['log_loss']:.3f}"
        )


def threshold_rows(miner, dev, min_scores, own: float) -> list[dict]:
    """Link P/R/F1 on CDCP dev at each min_score: given units (with the F1 interval) and end to
    end, each with the paired 95% bootstrap interval of its F1 change from min_score ``own``."""
    texts = [g.text for g in dev]
    given = list(miner.pipe(texts, segments=[[(c.start, c.end) for c in g] for g in dev],
                            min_score=0.0))  # fmt: skip
    predicted = list(miner.pipe(texts, min_score=0.0))

    def counts(m: float) -> tuple[list, list]:
        """Per document ``[[tp, predicted, gold]]`` of given-unit links and e2e relations."""
        links, relations = [], []
        for g, p, e in zip(dev, given, predicted, strict=True):
            gold, kept = set(indexed_links(g, 0)), set(indexed_links(with_links_from(p, m), 0))
            links.append([[len(gold & kept), len(kept), len(gold)]])
            e = with_links_from(e, m)
            found = end_to_end_scores([g], [e])["relation"]
            tp = round(found["recall"] * len(g.relations))
            relations.append([[tp, len(e.relations), len(g.relations)]])
        return links, relations

    base = counts(own)
    rows = []
    for m in min_scores:
        kept = [with_links_from(g, m) for g in given]
        _, correct, gold_links = scored_links(dev, kept)
        e2e = end_to_end_scores(dev, [with_links_from(g, m) for g in predicted])["relation"]
        links, relations = counts(m)
        rows.append(
            {
                "min_score": m,
                "given": prf(sum(correct), len(correct), gold_links),
                "given_link_f1_95": bootstrap_intervals(dev, kept)["link_f1"],
                "given_f1_change_95": paired_bootstrap([base[0]], [links]),
                "end_to_end": e2e,
                "e2e_f1_change_95": paired_bootstrap([base[1]], [relations]),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a model's name or folder")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--features", nargs="+", default=list(LINK_CALIBRATION_FEATURES))
    parser.add_argument("--compare", action="store_true", help="cross-fit every feature set")
    parser.add_argument("--write", action="store_true", help="store it in the model's config")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)

    miner = argmine.load(args.model, precision=args.precision)
    shipped = miner.config.link_calibration
    miner.config.link_calibration = None  # every figure "before" is the raw score
    dev = load_graphs("cdcp", split="dev")
    documents, groups, joined = calibration_documents(dev)
    links = decoded_links(miner, documents)
    print(
        f"{args.model} ({miner.precision}): {len(links.correct)} links decoded on the gold units "
        f"of {sum(not j for j in joined)} CDCP dev comments and {sum(joined)} joined texts, "
        f"{sum(links.correct)} of them right"
    )
    record: dict = {"model": args.model, "precision": miner.precision, "features": args.features}
    raw = [f["score"] for f in links.features]
    record["before"] = error_rows(links, raw, joined)
    print_errors("raw scores", record["before"])
    choices = FEATURE_CHOICES if args.compare else (tuple(args.features),)
    record["cross_fitted"] = {}
    for features in choices:
        rows = error_rows(links, cross_fitted_scores(links, groups, features), joined)
        record["cross_fitted"][" + ".join(features)] = rows
        print_errors("cross-fitted " + " + ".join(features), rows)
    calibration = fit_link_calibration(links, args.features)
    record["link_calibration"] = calibration
    print(f"fitted on every link: {json.dumps(calibration)}")

    own = miner.config.min_link_score
    buckets = length_buckets(dev, load_graphs("contactpoint"))
    record["buckets_before"] = length_rows(miner, buckets, [own])
    miner.config.link_calibration = calibration
    record["buckets_after"] = length_rows(miner, buckets, [own])
    for when in ("before", "after"):
        print(f"\nby length, {when} (min_score {own:g}):\n")
        print(markdown_rows(record[f"buckets_{when}"]))
    record["thresholds"] = threshold_rows(miner, dev, sorted({*MIN_SCORE_GRID[:11], own}), own)
    print(f"CDCP dev links at each min_score, calibrated scores (F1 change: paired 95% interval "
          f"against min_score {own:g}):\n")  # fmt: skip
    print(
        "| min_score | given P / R / F1 (F1 95%) | given F1 change | end to end P / R / F1 "
        "| e2e F1 change |\n|---|---|---|---|---|"
    )
    for row in record["thresholds"]:
        g, e, ci = row["given"], row["end_to_end"], row["given_link_f1_95"]
        dg, de = row["given_f1_change_95"], row["e2e_f1_change_95"]
        print(
            f"| {row['min_score']:g} | {g['precision']:.3f} / {g['recall']:.3f} / {g['f1']:.3f} "
            f"({ci[0]:.3f} to {ci[1]:.3f}) | {dg[0]:+.3f} to {dg[1]:+.3f} "
            f"| {e['precision']:.3f} / {e['recall']:.3f} / {e['f1']:.3f} "
            f"| {de[0]:+.3f} to {de[1]:+.3f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    if args.write:
        path = resolve_model(args.model) / "config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        config["link_calibration"] = calibration
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten link_calibration to {path} (it had {json.dumps(shipped)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
