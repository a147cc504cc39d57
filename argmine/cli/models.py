"""``argmine models``: the installed models, each with its base, size, speed class and card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from argmine.cli import CLIError

COLUMNS = ("name", "version", "base", "size", "speed", "base here", "card")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the installed models: base, size, speed class, card",
        description="List the models installed with argmine: the name to pass to --model or "
        "argmine.load(), version, base encoder, size on disk, speed class, whether the base "
        "encoder is on this machine (if not, the command that fetches it), and the model card.",
        epilog="examples:\n  argmine models\n  argmine models --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="one JSON array, for programs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from argmine.hub.registry import installed_models

    try:
        models = installed_models()
    except OSError as err:  # ModelLoadError: a config.json that cannot be read
        raise CLIError(str(err)) from err
    rows = [{**m.to_json(), **base_status(m.base_model)} for m in models]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(format_table(rows))
    return 0


def base_status(base: str) -> dict:
    """Whether ``base`` resolves to a folder on this machine, and if not, what fetches it."""
    from argmine.hub.bases import KNOWN_BASES, BaseError, resolve_base

    try:
        available = Path(resolve_base(base)).is_dir()
    except BaseError:
        available = False
    known = KNOWN_BASES.get(base)
    fetch = known.fetch_command if known is not None and not available and known.pieces else None
    return {"base_available": available, "fetch_command": fetch}


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "no models installed"
    cells = [COLUMNS] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS) - 1)]
    lines = []
    for line in cells:
        padded = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        lines.append("  ".join([*padded, line[-1]]).rstrip())
    return "\n".join(lines)


def _cells(row: dict) -> tuple[str, ...]:
    here = (
        "yes" if row["base_available"] else f"no: {row['fetch_command'] or 'not on this machine'}"
    )
    return (
        row["name"],
        row["version"],
        row["base_model"],
        format_size(row["size_bytes"]),
        row["speed_class"] or "-",
        here,
        row["card"] or "-",
    )


def format_size(size: int) -> str:
    """Decimal units, as model sizes are usually quoted (``26.2 MB``)."""
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
