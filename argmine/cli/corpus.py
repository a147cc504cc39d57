"""``argmine corpus``: corpus statistics and rebuilding ``corpus/`` from the original data.

argmine corpus stats [NAME|PATH]            # default: all
argmine corpus build --from ../shared -o corpus
"""

from __future__ import annotations

import argparse
from pathlib import Path

from argmine.cli import CLIError
from argmine.errors import one_line


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("corpus", help="inspect and build annotated corpora")
    parser.set_defaults(func=lambda args: parser.print_help())
    commands = parser.add_subparsers(dest="corpus_command", metavar="COMMAND")

    stats = commands.add_parser(
        "stats", help="documents, units and relations per type, per source and split"
    )
    stats.add_argument(
        "corpus",
        nargs="?",
        default="all",
        help="microtexts, cdcp, contactpoint, all (default), or a path (JSONL or a folder)",
    )
    stats.add_argument("--split", help="only this split")
    stats.set_defaults(func=run_stats)

    build = commands.add_parser("build", help="rebuild corpus/ from the original distributions")
    build.add_argument(
        "--from",
        dest="shared",
        required=True,
        type=Path,
        help="folder holding corpora/microtexts and corpora/cdcp (e.g. ../shared)",
    )
    build.add_argument("-o", "--output", type=Path, default=Path("corpus"), help="output folder")
    build.set_defaults(func=run_build)


def run_stats(args: argparse.Namespace) -> int:
    from argmine.corpus import CorpusFormatError, load_graphs
    from argmine.corpus.stats import corpus_stats, format_stats

    try:
        graphs = load_graphs(args.corpus, split=args.split)
    except (FileNotFoundError, CorpusFormatError, ValueError) as err:
        raise CLIError(one_line(err)) from err
    print(format_stats(corpus_stats(graphs)))
    return 0


def run_build(args: argparse.Namespace) -> int:
    from argmine.corpus import CorpusFormatError
    from argmine.corpus.build import build_corpus

    try:
        written = build_corpus(args.shared, args.output)
    except (FileNotFoundError, CorpusFormatError, ValueError) as err:
        raise CLIError(one_line(err)) from err
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0
