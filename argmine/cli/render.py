"""``argmine render``: a graph (JSON) as an SVG picture or an HTML view of the highlighted text."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from argmine.cli import CLIError

RENDER_FORMATS = ("html", "svg")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="draw a graph as SVG, or as an HTML view of the text",
        description="Draw an argument graph: an SVG picture (Graphviz), or a self-contained HTML "
        "page with each component highlighted by type, the relations listed, and the picture. "
        "GRAPH is a graph's JSON (argmine parse --format json), or a JSONL file written by "
        "argmine label (pick the record with --id).",
        epilog="examples:\n  argmine parse comment.txt --format json > comment.json\n"
        "  argmine render comment.json -o comment.html\n"
        "  argmine render labels.jsonl --id 00195 -o 00195.svg",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("graph", metavar="GRAPH", help="graph JSON or label JSONL file, or -")
    parser.add_argument("-o", "--output", required=True, help="OUT.html or OUT.svg")
    parser.add_argument(
        "-f", "--format", choices=RENDER_FORMATS, help="default: from the output's suffix"
    )
    parser.add_argument("--id", dest="record_id", help="which record of a JSONL file to draw")
    parser.add_argument(
        "--no-picture", action="store_true", help="HTML without the Graphviz picture"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from argmine.render import GraphvizMissing, graph_html, graph_svg

    output = Path(args.output)
    fmt = args.format or _format_from_suffix(output)
    graph = load_graph(args.graph, args.record_id)
    try:
        if fmt == "svg":
            content = graph_svg(graph)
        else:
            svg = None if args.no_picture else _picture_if_possible(graph)
            content = graph_html(graph, svg=svg)
    except GraphvizMissing as err:
        raise CLIError(str(err)) from err
    except (RuntimeError, OSError) as err:
        raise CLIError(str(err)) from err
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(content, encoding="utf-8")
    return 0


def _format_from_suffix(output: Path) -> str:
    suffix = output.suffix.lower().lstrip(".")
    if suffix == "htm":
        return "html"
    if suffix not in RENDER_FORMATS:
        raise CLIError(f"cannot tell the format from {output.name}; use .html or .svg, or --format")
    return suffix


def _picture_if_possible(graph) -> str | None:
    """The SVG for the HTML page; the page is still useful without it, so Graphviz is optional."""
    from argmine.render import GraphvizMissing, graph_svg

    try:
        return graph_svg(graph)
    except GraphvizMissing:
        print("argmine: note: Graphviz is not installed; the page has no picture", file=sys.stderr)
        return None


def load_graph(name: str, record_id: str | None = None):
    """A graph from a graph JSON file or a label JSONL file (its record ``record_id``)."""
    from argmine.graph import ArgumentGraph, GraphValidationError

    text = _read_text(name)
    stripped = text.strip()
    if not stripped:
        raise CLIError(f"{name} is empty")
    try:
        data = json.loads(stripped)
        records = [data]
    except json.JSONDecodeError:
        records = _jsonl_records(name, stripped)
    graph_data = _pick_graph(name, records, record_id)
    try:
        return ArgumentGraph.from_dict(graph_data)
    except GraphValidationError as err:
        raise CLIError(f"{name} does not hold a valid graph: {err}") from err


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    if not path.is_file():
        raise CLIError(f"no such file: {name}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise CLIError(f"{name} is not UTF-8 JSON ({err.reason} at byte {err.start})") from err


def _jsonl_records(name: str, text: str) -> list:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise CLIError(f"{name} line {number} is not JSON: {err.msg}") from err
    return records


def _pick_graph(name: str, records: list, record_id: str | None) -> dict:
    """The graph of the record asked for: a bare graph, or the ``graph`` of a label record."""
    for record in records:
        if not isinstance(record, dict):
            continue
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        if record_id is not None and record_id not in (
            str(record.get("id")),
            str(metadata.get("id")),
        ):
            continue
        if "graph" in record and "text" not in record:
            if record["graph"] is None:
                if record_id is None:
                    continue
                raise CLIError(f"record {record_id!r} has no graph: {record.get('error')}")
            return record["graph"]
        return record
    if record_id is not None:
        raise CLIError(f"{name} has no record with id {record_id!r}")
    raise CLIError(f"{name} holds no graph")
