"""``argmine label``: label a whole corpus; resumable, one output record per input record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from argmine.cli import CLIError
from argmine.cli.parse import add_clean_option, add_model_options, check_device

DESCRIPTION = """\
Label every document of a corpus and write one output record per input record.

INPUT is a folder of .txt files (and .html, with the html extra), a JSONL, CSV/TSV or Parquet
file (the text in --text-field), or a Hugging Face dataset saved with save_to_disk.

OUTPUT by --format:
  jsonl    a file: one JSON line per input record: id, kept fields, graph, error
  parquet  a folder: documents.parquet, components.parquet, relations.parquet
  brat     a folder: NAME.txt + NAME.ann per document, for correction in brat or INCEpTION
  aif      a folder: NAME.json (AIF) per document

A record that cannot be labelled is still written, with an error field, and the run goes on
(exit status 1 at the end). An interrupted run (Ctrl-C, kill -9) leaves no half-written
record: run the same command again and it resumes where it stopped. The folder formats keep
their journal as OUTPUT/records.jsonl and are built from it when the run ends."""

EPILOG = """\
examples:
  argmine label comments/ -o comments.jsonl
  argmine label comments.csv --text-field comment --id-field comment_id --keep date -o out.jsonl
  argmine label comments.parquet --text-field body -o tables/ --format parquet --workers 2
  argmine label essays/ -o pre-annotation/ --format brat"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from argmine.batch import INPUT_FORMATS, OUTPUT_FORMATS

    parser = subparsers.add_parser(
        "label",
        help="label a whole corpus (folder, JSONL, CSV, Parquet, dataset)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="folder, .jsonl, .csv, .tsv or .parquet")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="file or folder")
    parser.add_argument(
        "-f",
        "--format",
        choices=OUTPUT_FORMATS,
        help="output format (default: jsonl when OUTPUT ends in .jsonl, else required)",
    )
    reading = parser.add_argument_group("reading the input")
    reading.add_argument("--input-format", choices=INPUT_FORMATS, help="default: from INPUT")
    reading.add_argument("--text-field", default="text", help="field with the text (default: text)")
    reading.add_argument(
        "--id-field",
        help="field with the record id (default: 'id' if there is one, else the record's "
        "position; for folders, the file's relative path)",
    )
    reading.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="FIELD[,FIELD]",
        help="input fields to copy into each output record (repeatable)",
    )
    reading.add_argument("--split", help="split of a saved DatasetDict")
    reading.add_argument("--encoding", default="utf-8", help="text encoding (default: utf-8)")
    add_clean_option(reading)
    running = parser.add_argument_group("running")
    running.add_argument(
        "--batch-size", type=_positive, default=16, help="documents per batch (default: 16)"
    )
    running.add_argument(
        "--workers", type=_positive, default=1, help="processes, each with its own model (CPU)"
    )
    add_model_options(running)
    running.add_argument(
        "--overwrite", action="store_true", help="start again instead of resuming OUTPUT"
    )
    running.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary"
    )
    parser.set_defaults(func=run)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from err
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def run(args: argparse.Namespace) -> int:
    from argmine.batch import (
        InputError,
        InputOptions,
        ModelSpec,
        Output,
        OutputError,
        WorkerError,
        label_corpus,
        open_input,
        output_format_for,
    )
    from argmine.hub.folders import ModelLoadError

    output_path = Path(args.output)
    fmt = args.format or output_format_for(output_path)
    if fmt is None:
        raise CLIError(
            f"cannot tell the output format from {args.output!r}; "
            "pass --format jsonl, parquet, brat or aif"
        )
    keep = tuple(name.strip() for item in args.keep for name in item.split(",") if name.strip())
    options = InputOptions(
        text_field=args.text_field,
        id_field=args.id_field,
        keep=keep,
        encoding=args.encoding,
        split=args.split,
        input_format=args.input_format,
    )
    device = check_device(args.device)
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        source = open_input(args.input, options)
        report = label_corpus(
            source,
            Output(output_path, fmt),
            ModelSpec(args.model, device, args.min_score, args.precision, not args.no_clean),
            batch_size=args.batch_size,
            workers=args.workers,
            overwrite=args.overwrite,
            on_start=progress.start,
            on_progress=progress.update,
        )
    except (InputError, OutputError, WorkerError) as err:
        raise CLIError(str(err)) from err
    except ModelLoadError as err:
        raise CLIError(f"cannot load the model: {err}") from err
    except KeyboardInterrupt:
        progress.close()
        print(
            "argmine: interrupted; the records written so far are kept: "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        progress.close()
    if not args.quiet:
        print("\n".join(report.lines()), file=sys.stderr)
    if report.tally.errors:
        record_id, error = report.tally.first_error or ("?", "?")
        record_id = record_id.encode("utf-8", "backslashreplace").decode("utf-8")  # \ud800 ids
        print(
            f"argmine: {report.tally.errors} of {report.tally.documents} documents could not be "
            f"labelled (first: {record_id}: {error}); their records in {args.output} have an "
            "error field",
            file=sys.stderr,
        )
        return 1
    return 0


class _Progress:
    """A tqdm bar on stderr (documents, documents/s, ETA) that starts at the resume point."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, done: int, total: int) -> None:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, initial=done, unit="doc", file=sys.stderr, dynamic_ncols=True
            )

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
