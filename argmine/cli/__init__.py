"""The ``argmine`` command line: one entry point, one module per subcommand.

Each subcommand module exposes ``add_parser(subparsers)``, which registers its parser and sets
``func`` to the function that runs it. Errors a user can fix (a missing file, a bad field name)
are raised as :class:`CLIError` and printed as one line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

ORDER: tuple[str, ...] = ("parse", "label", "render", "corpus", "train", "evaluate")
"""Subcommands listed first in ``--help``; other modules of ``argmine.cli`` follow by name."""


class CLIError(Exception):
    """An error in the user's input: printed as ``argmine: error: ...``, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="argmine", description="Argument mining: from raw text to argument graphs."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in subcommand_modules():
        importlib.import_module(f"argmine.cli.{name}").add_parser(subparsers)
    return parser


def subcommand_modules() -> list[str]:
    """The modules of this package, each registering one subcommand."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
        return status
    except CLIError as err:
        print(f"argmine: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("argmine: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`argmine ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
