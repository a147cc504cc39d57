"""The ``argmine`` command line: one entry point, one module per subcommand.

Each subcommand module exposes ``add_parser(subparsers)``, which registers its parser and sets
``func`` to the function that runs it. Errors a user can fix (a missing file, a bad field name)
are raised as :class:`CLIError` and printed as one line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: tuple[str, ...] = ("corpus",)
"""Modules under ``argmine.cli`` that register a subcommand, in ``--help`` order."""


class CLIError(Exception):
    """An error in the user's input: printed as ``argmine: error: ...``, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="argmine", description="Argument mining: from raw text to argument graphs."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"argmine.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CLIError as err:
        print(f"argmine: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("argmine: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
