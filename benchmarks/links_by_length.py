"""Links by document length: links per unit, link scores and link F1, short texts against long.

Buckets (:mod:`argmine.evaluation.lengths`): CDCP dev comments alone by words (under 100,
100-300, 300-700), CDCP dev comments joined in corpus order with blank lines into texts of
700-1,200 words (gold: the union of their units and links), and the ContactPoint article (449
words; in the shipped models' training data). Each bucket is parsed end to end (units
predicted) and on its gold units; per bucket: documents, words and units per document, links
per unit, mean link score, share of links under 0.5, link precision/recall/F1 on given units
(end-to-end relation P/R/F1 on predicted units), at the model's ``min_score`` and any other
``--min-score``. Deterministic; float32 unless ``--precision`` says otherwise.

    python benchmarks/links_by_length.py                                  # the default model
    python benchmarks/links_by_length.py --model argmine-mpnet-policy
    python benchmarks/links_by_length.py --min-score 0 --min-score 0.2
    python benchmarks/links_by_length.py --uncalibrated   # without the model's link calibration

Writes ``benchmarks/results/links-by-length[-NAME][-uncalibrated].json`` and ``.md``. With
``--seed-table`` it measures nothing and prints saved records of several seeds (``--out
runs/lengths/RECIPE-SEED``) as one table, the seeds of each recipe averaged:

    python benchmarks/links_by_length.py --seed-table runs/lengths/long-texts-1{3,4,5}.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import argmine
from argmine.corpus import load_graphs
from argmine.evaluation.lengths import length_buckets, length_rows, markdown_rows, seed_table
from argmine.hub.registry import DEFAULT_MODEL

RESULTS = Path(__file__).parent / "results"


def records_by_recipe(paths: list[Path]) -> dict[str, list[dict]]:
    """Saved records grouped by recipe, the name before the seed (``long-texts-13.json``)."""
    grouped: dict[str, list[dict]] = {}
    for path in paths:
        recipe = path.stem.rsplit("-", 1)[0]
        grouped.setdefault(recipe, []).append(json.loads(path.read_text(encoding="utf-8")))
    return grouped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--min-score", type=float, action="append", default=[],
        help="also these thresholds (the model's own is always reported)",
    )  # fmt: skip
    parser.add_argument(
        "--uncalibrated", action="store_true",
        help="decode without the model's link calibration (raw scores)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="results stem (default under results/)")
    parser.add_argument(
        "--seed-table", nargs="+", type=Path, metavar="RECIPE-SEED.json",
        help="print saved records as one table, averaging the seeds of each recipe",
    )  # fmt: skip
    args = parser.parse_args()
    if args.seed_table:
        print(seed_table(records_by_recipe(args.seed_table)), end="")
        return
    torch.set_num_threads(args.threads)
    miner = argmine.load(args.model, precision=args.precision)
    if args.uncalibrated:
        miner.config.link_calibration = None
    own = miner.config.min_link_score
    min_scores = sorted({own, *args.min_score})
    buckets = length_buckets(load_graphs("cdcp", split="dev"), load_graphs("contactpoint"))
    rows = length_rows(miner, buckets, min_scores)
    record = {
        "model": args.model,
        "precision": miner.precision,
        "link_calibration": miner.config.link_calibration,
        "link_temperature": miner.config.link_temperature,
        "none_weight": miner.config.none_weight,
        "model_min_score": own,
        "rows": rows,
    }
    table = markdown_rows(rows)
    suffix = ("" if args.model == DEFAULT_MODEL else f"-{Path(args.model).name}") + (
        "-uncalibrated" if args.uncalibrated else ""
    )
    stem = args.out or RESULTS / f"links-by-length{suffix}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    heading = (
        f"# Links by document length: {args.model}, {miner.precision}"
        f"{', uncalibrated' if args.uncalibrated else ''}\n\n"
        f"`python benchmarks/links_by_length.py{' --uncalibrated' if args.uncalibrated else ''}"
        f"{'' if args.model == DEFAULT_MODEL else ' --model ' + args.model}`\n\n"
    )
    stem.with_suffix(".md").write_text(heading + table)
    print(table)
    print(f"written {stem.with_suffix('.json')} and .md")


if __name__ == "__main__":
    main()
