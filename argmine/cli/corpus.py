"""``argmine corpus``: corpus statistics and rebuilding ``corpus/`` from the original data."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("corpus", help="inspect and build annotated corpora")
    parser.set_defaults(func=lambda args: parser.print_help())
