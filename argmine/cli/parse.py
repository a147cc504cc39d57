"""``argmine parse``: one document in, its argument graph out (a tree, JSON, AIF, DOT or brat).

Also home of the options every model-using command shares (``--model``, ``--device``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from argmine.cli import CLIError

PARSE_FORMATS = ("tree", "json", "aif", "dot", "brat")
"""The terminal tree, and the exports of :data:`argmine.formats.FORMATS` that are text."""


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--device``, shared by the commands that run a model."""
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="model folder (default: the model shipped with argmine)",
    )
    add_device_option(parser)
    add_precision_option(parser)
    parser.add_argument(
        "--min-score",
        type=_score,
        metavar="P",
        help="leave out relations scored below P, 0 to 1 (default: the model's, chosen on dev "
        "data; 0 keeps every decoded relation)",
    )


def _score(value: str) -> float:
    try:
        number = float(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value!r}") from err
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {number}")
    return number


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    from argmine.runtime import PRECISIONS

    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="the encoder's arithmetic: auto (the precision the model's config names where "
        "this CPU runs it natively, else float32), int8, bfloat16 or float32, the reference "
        "(default: auto)",
    )


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        help="where to run: auto (a GPU where there is one), cpu, cuda, cuda:1 or mps "
        "(default: auto)",
    )


def check_device(device: str) -> str:
    """The device ``auto`` stands for here, or a one-line CLIError for one this machine lacks."""
    from argmine.runtime import DeviceError, resolve_device

    try:
        return str(resolve_device(device))
    except DeviceError as err:
        raise CLIError(f"--device: {err}") from err


def load_miner(model: str | None, device: str, precision: str = "auto"):
    """The miner, or a one-line CLIError saying why it cannot be loaded."""
    from argmine.hub.bases import BaseError
    from argmine.hub.folders import ModelLoadError
    from argmine.model.encoders import EncoderError
    from argmine.pipeline import ArgumentMiner
    from argmine.runtime import PrecisionError

    device = check_device(device)
    try:
        miner = ArgumentMiner.from_pretrained(model, device=device, precision=precision)
    except PrecisionError as err:
        raise CLIError(f"--precision: {err}") from err
    except (BaseError, EncoderError) as err:  # the model's base encoder is missing or differs
        raise CLIError(f"cannot load the model: {err}") from err
    except ModelLoadError as err:
        hint = "" if model else " (the default model is not installed; pass --model PATH)"
        raise CLIError(f"cannot load the model: {err}{hint}") from err
    except RuntimeError as err:  # e.g. an unknown or unavailable --device
        raise CLIError(f"cannot load the model on device {device!r}: {err}") from err
    return miner


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse one document and print its argument graph",
        description="Parse one document (a file, or - for standard input) and print its argument "
        "graph: by default as a tree (conclusions at the root, their supporters and attackers "
        "beneath), or as JSON, AIF, Graphviz DOT or brat standoff.",
        epilog="examples:\n  argmine parse comment.txt\n"
        "  echo 'Ban cars. They pollute.' | argmine parse - --format json\n"
        "  argmine parse page.html --format brat -o brat/page   # brat/page.txt + .ann",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE|-", help="a .txt or .html file, or - for stdin")
    parser.add_argument(
        "-f", "--format", choices=PARSE_FORMATS, default="tree", help="output (default: tree)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write to PATH instead of stdout (brat: PATH.txt and PATH.ann)",
    )
    parser.add_argument("--encoding", default="utf-8", help="the file's encoding (default: utf-8)")
    parser.add_argument(
        "--html", action="store_true", help="read the input as HTML (default for .html files)"
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the tree (default: auto, when stdout is a terminal and NO_COLOR is unset)",
    )
    add_clean_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def add_clean_option(parser) -> None:
    """``--no-clean``, shared by parse and label."""
    parser.add_argument(
        "--no-clean",
        action="store_true",
        help="analyse every character: mask no page chrome (comment sections, share and login "
        "widgets, the headline); what is masked otherwise is said on stderr and listed in the "
        "graph's metadata 'masked'",
    )


def run(args: argparse.Namespace) -> int:
    from argmine.inputs import InputTextError

    text = read_document(args.file, args.encoding, args.html)
    miner = load_miner(args.model, args.device, args.precision)
    try:
        graph = miner.parse(text, min_score=args.min_score, clean=not args.no_clean)
    except InputTextError as err:
        raise CLIError(f"cannot parse {_label(args.file)}: {err}") from err
    tell_masked(graph)
    if args.file != "-":
        graph.metadata = {"id": Path(args.file).stem, **graph.metadata}
    if args.format == "brat":
        write_brat_pair(graph, args.output)
        return 0
    rendered = format_graph(graph, args.format, color=use_color(args.color, args.output))
    if args.output:
        Path(args.output).write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    return 0


def _label(name: str) -> str:
    return "standard input" if name == "-" else name


def tell_masked(graph) -> None:
    """Say on stderr when the clean-up hid text: unanalysed text is never lost silently."""
    from argmine.cleanup import describe_masked

    message = describe_masked(graph.text, graph.metadata.get("masked") or [])
    if message:
        print(f"argmine: note: {message}", file=sys.stderr)


def read_document(name: str, encoding: str, html: bool = False) -> str:
    """The document's text; HTML goes through the extractor. Errors are one-line CLIErrors."""
    if name == "-":
        data, label = sys.stdin.buffer.read(), "standard input"
    else:
        path = Path(name)
        if not path.exists():
            raise CLIError(f"no such file: {name}")
        if path.is_dir():
            raise CLIError(f"{name} is a folder; parse reads one file (use argmine label)")
        data, label = path.read_bytes(), name
        html = html or path.suffix.lower() in (".html", ".htm")
    from argmine.inputs import InputTextError, decode_text

    try:
        text = decode_text(data, encoding, label)
    except InputTextError as err:
        raise CLIError(str(err)) from err
    if html:
        try:
            from argmine.cleanup import html_to_text

            text = html_to_text(text)
        except ImportError as err:
            raise CLIError(str(err)) from err
    return text


def use_color(choice: str, output: str | None) -> bool:
    import os

    if choice != "auto":
        return choice == "always"
    return output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def format_graph(graph, fmt: str, color: bool = False) -> str:
    """The graph as text in ``fmt``: the terminal tree, or a format of
    :data:`argmine.formats.FORMATS` (brat, two files, is written by :func:`write_brat_pair`)."""
    from argmine.formats import as_text

    if fmt == "tree":
        from argmine.render import graph_tree

        return graph_tree(graph, color=color, ascii_only=not _stdout_takes_unicode())
    try:
        return as_text(graph, fmt)
    except ValueError as err:
        raise CLIError(str(err)) from err


def _stdout_takes_unicode() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "└─│├".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def write_brat_pair(graph, output: str | None) -> None:
    """brat is a pair of files; without ``-o``, print the .ann (its offsets index the input)."""
    from argmine.formats import files

    stem = Path(output or "document")
    if stem.suffix in (".txt", ".ann"):
        stem = stem.with_suffix("")
    written = files(graph, "brat", stem.name)
    if output is None:
        sys.stdout.write(written[f"{stem.name}.ann"])
        return
    stem.parent.mkdir(parents=True, exist_ok=True)
    for name, content in written.items():
        stem.with_name(name).write_text(content, encoding="utf-8", newline="")
