"""A seed soup: ``python training/soup.py runs/compare/B/13 runs/compare/B/14 -o models/X``.

Averages the weights of models of one recipe trained with different seeds (any other
difference is refused), tunes the decoding settings again on the recipe's dev corpora (or
``--dev``), and saves the soup with a model card naming its seeds. With ``--report PATH`` it then
scores the soup and each seed in float32 on CDCP dev and SemEval-2020 Task 5 dev (paired
bootstrap over documents) and writes ``PATH.md`` and ``PATH.json`` with the model the rule in
training/README.md ships: the soup, unless its mean of link F1 and component macro-F1 is below
every seed's, else the median seed. See :mod:`argmine.training.soup`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from argmine.training.soup import SoupError, make_soup, soup_against_seeds, soup_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model folders, one per seed")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the soup's folder")
    parser.add_argument("--dev", help="dev corpus (name or path) instead of the recipe's")
    parser.add_argument("--dev-split", help="split of --dev")
    parser.add_argument(
        "--report", type=Path, help="score the soup against its seeds: PATH.md and PATH.json"
    )
    args = parser.parse_args(argv)
    for folder in args.models:
        if not (folder / "model.safetensors").is_file():
            parser.error(f"no model in {folder}")
    dev = None
    if args.dev:
        from argmine.corpus import load_graphs

        dev = load_graphs(args.dev, split=args.dev_split)
    try:
        make_soup(args.models, args.output, dev, log=lambda line: print(line, flush=True))
    except SoupError as err:
        parser.error(str(err))
    if args.report:
        record = soup_against_seeds(args.output, args.models)
        table = soup_table(record)
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.with_suffix(".md").write_text(table, encoding="utf-8")
        args.report.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
