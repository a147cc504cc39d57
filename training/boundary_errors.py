"""Why predicted units miss their gold boundaries: counts by kind of error, end to end.

    python training/boundary_errors.py [--model NAME|PATH] [--corpus cdcp --split dev]
    python training/boundary_errors.py --gold-rules cdcp microtexts contactpoint

Each gold unit is matched to the predicted unit that overlaps it most and put in one class:
exact (boundaries equal, a trailing punctuation mark aside, as the exact-match score counts
them), start only / end only / both ends off (by how many words), split (two or more predicted
units share it), merged (its predicted unit also covers another gold unit), or missed (nothing
overlaps; short gold units of one or two words counted apart). Predicted units that overlap no
gold unit are counted as spurious.

``--gold-rules CORPUS ...`` needs no model: per corpus (every split), how many gold units break
the rules that decoding with ``sentence_bounds`` imposes on predicted units (they cross a
sentence start, or leave out a short lead-in; ``segmentation.sentence_rule_breaks``).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter

import argmine
from argmine.corpus import load_graphs
from argmine.evaluation.matching import exact_match
from argmine.model.segmentation import sentence_rule_breaks

WORD = re.compile(r"\w+")


def classify(gold, pred) -> Counter:
    counts: Counter = Counter()
    spans = [(p.start, p.end) for p in pred]
    for g in gold:
        overlapping = [s for s in spans if min(s[1], g.end) > max(s[0], g.start)]
        if not overlapping:
            words = len(WORD.findall(g.text))
            counts["missed (1-2 words)" if words < 3 else "missed"] += 1
            continue
        best = max(overlapping, key=lambda s: min(s[1], g.end) - max(s[0], g.start))
        covers = [h for h in gold if h is not g and min(best[1], h.end) - max(best[0], h.start) > 0]
        if exact_match(gold.text, (g.start, g.end), best):
            counts["exact"] += 1
        elif len(overlapping) > 1 and not covers:
            counts["split"] += 1
        elif covers:
            counts["merged"] += 1
        else:
            counts[_boundary_kind(gold.text, (g.start, g.end), best)] += 1
    counts["spurious (predicted, no gold overlap)"] += sum(
        1 for s in spans if not any(min(s[1], g.end) > max(s[0], g.start) for g in gold)
    )
    return counts


def _boundary_kind(text: str, gold: tuple[int, int], pred: tuple[int, int]) -> str:
    start_off = _words_between(text, gold[0], pred[0])
    end_off = len(WORD.findall(text, min(gold[1], pred[1]), max(gold[1], pred[1])))
    if start_off and end_off:
        return "both ends off"
    if start_off:
        side = "starts early" if pred[0] < gold[0] else "starts late"
        return f"start only: {side} by {min(start_off, 3)}{'+' if start_off >= 3 else ''} words"
    if end_off:
        side = "ends late" if pred[1] > gold[1] else "ends early"
        return f"end only: {side} by {min(end_off, 3)}{'+' if end_off >= 3 else ''} words"
    return "punctuation or spaces only"


def _words_between(text: str, a: int, b: int) -> int:
    return len(WORD.findall(text, min(a, b), max(a, b)))


def gold_rule_breaks(corpus: str) -> dict[str, int]:
    """The gold units of ``corpus`` (every split) that break the sentence rules, by rule."""
    total: Counter = Counter()
    graphs = load_graphs(corpus)
    for g in graphs:
        total.update(sentence_rule_breaks(g.text, [(c.start, c.end) for c in g.components]))
    return {"gold_units": sum(len(g.components) for g in graphs), **total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--corpus", default="cdcp")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--gold-rules", nargs="+", metavar="CORPUS", help="count gold units only")
    args = parser.parse_args()
    if args.gold_rules:
        print(json.dumps({name: gold_rule_breaks(name) for name in args.gold_rules}, indent=2))
        return
    gold = load_graphs(args.corpus, split=args.split)
    miner = argmine.load(args.model)
    total: Counter = Counter()
    for g, p in zip(gold, miner.pipe([g.text for g in gold]), strict=True):
        total += classify(g, p)
    n_gold = sum(len(g.components) for g in gold)
    print(json.dumps({"gold_units": n_gold, **dict(total.most_common())}, indent=2))


if __name__ == "__main__":
    main()
