"""A seed soup: ``python training/soup.py runs/compare/B/13 runs/compare/B/14 -o models/X``.

Averages the weights of models of one recipe trained with different seeds (any other
difference is refused), tunes the decoding settings again on the recipe's dev corpora (or
``--dev``), and saves the soup with a model card naming its seeds. See
:mod:`argmine.training.soup`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from argmine.training.soup import SoupError, make_soup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model folders, one per seed")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the soup's folder")
    parser.add_argument("--dev", help="dev corpus (name or path) instead of the recipe's")
    parser.add_argument("--dev-split", help="split of --dev")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
