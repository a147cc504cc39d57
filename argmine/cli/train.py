"""``argmine train``: fine-tune a model from a config file (training/configs/*.json)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from argmine.cli import CLIError
from argmine.cli.parse import add_device_option, check_device


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from a config file",
        description="Train a model. Corpora come from the config; --train/--dev replace them "
        "(a corpus name, or a path to JSONL, a brat folder, a CDCP or a microtexts folder).",
    )
    parser.add_argument("--config", required=True, type=Path, help="training config (JSON)")
    parser.add_argument("-o", "--output-dir", help="where to save the model (overrides config)")
    parser.add_argument("--train", nargs="+", metavar="CORPUS", help="training corpora")
    parser.add_argument("--dev", nargs="+", metavar="CORPUS", help="dev corpora, scored at the end")
    parser.add_argument("--split", help="split of the --train corpora to use (default: all)")
    parser.add_argument("--dev-split", help="split of the --dev corpora (default: all)")
    parser.add_argument("--label-map", help="label map (JSON) for the --train/--dev corpora")
    parser.add_argument("--epochs", type=float, help="override the config's epochs")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps")
    parser.add_argument("--seed", type=int, help="override the config's seed (seed variance)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="go on from the checkpoint in the output folder (config key checkpoint_every)",
    )
    add_device_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from argmine.hub.bases import BaseError
    from argmine.model.encoders import EncoderError
    from argmine.training import CorpusSelection, TrainConfig, train
    from argmine.training.checkpoints import CheckpointError

    if not args.config.is_file():
        raise CLIError(f"no config file at {args.config}")
    try:
        config = TrainConfig.from_file(args.config)
    except ValueError as err:
        raise CLIError(str(err)) from err
    if args.train:
        config.train = [CorpusSelection(n, args.split, 1, args.label_map) for n in args.train]
    if args.dev:
        config.dev = [CorpusSelection(n, args.dev_split, 1, args.label_map) for n in args.dev]
    for key in ("output_dir", "epochs", "max_steps", "seed"):
        if getattr(args, key) is not None:
            setattr(config, key, getattr(args, key))
    device = check_device(args.device)
    try:
        train(config, log=lambda line: print(line, flush=True), device=device, resume=args.resume)
    except (CheckpointError, EncoderError, BaseError, FileNotFoundError, ValueError) as err:
        raise CLIError(str(err)) from err
    if config.output_dir:
        print(json.dumps({"saved": str(config.output_dir)}))
    return 0
