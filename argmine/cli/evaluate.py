"""``argmine evaluate``: score a model on a corpus split, or cross-validate on microtexts."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from argmine.cli import CLIError
from argmine.cli.parse import (
    add_device_option,
    add_precision_option,
    check_device,
    load_miner,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a model with the field's standard metrics",
        description="Score --model on --corpus/--split (given units and end to end), or with "
        "--cross-validate train and score a config on k folds of a corpus's documents.",
    )
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--corpus", default="cdcp", help="corpus name or path (default: cdcp)")
    parser.add_argument("--split", help="split to score (default: all documents)")
    parser.add_argument("--label-map", help="label map (JSON) for a corpus at a path")
    parser.add_argument(
        "--cross-validate",
        metavar="CONFIG",
        type=Path,
        help="train this config on k-1 folds of --corpus and score the held-out fold "
        "(central claim, function, attachment)",
    )
    parser.add_argument("--folds", type=int, default=5, help="folds for --cross-validate")
    parser.add_argument("--seed", type=int, default=13, help="seed of the fold assignment")
    parser.add_argument("--json", type=Path, help="also write the scores to this JSON file")
    add_device_option(parser)
    add_precision_option(parser)
    parser.add_argument(
        "--model-card",
        action="store_true",
        help="store the scores in the model folder's results/ and rewrite its model card",
    )
    parser.add_argument(
        "--plots",
        nargs="?",
        const="",
        metavar="DIR",
        help="draw confusion matrices, a reliability diagram of link scores and link "
        "precision/recall against min_score (PNG and SVG; extra argmine[plots]) into DIR; "
        "with --model-card into the model folder's plots/ (DIR optional), shown in the card",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from argmine.corpus import load_graphs
    from argmine.evaluation import format_report

    _check_plots_options(args)
    kwargs = {"label_map": args.label_map} if args.label_map else {}
    try:
        graphs = load_graphs(args.corpus, split=args.split, **kwargs)
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise CLIError(str(err)) from err
    if not graphs:
        raise CLIError(f"no documents in {args.corpus} (split {args.split})")
    if args.cross_validate:
        scores = _cross_validate(args, graphs)
        print(json.dumps(scores["pooled"], indent=2))
    else:
        scores = _evaluate(args, graphs)
        print(format_report(scores, title=f"{args.corpus} {args.split or 'all'}"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(scores, indent=2) + "\n")
    if args.plots:
        _write_plots(scores, Path(args.plots), _result_name(args))
    if args.model_card:
        _store_in_model_card(args, scores)
    return 0


def _check_plots_options(args: argparse.Namespace) -> None:
    """Before the evaluation (minutes): --plots makes sense here, and can be drawn."""
    if args.plots is None:
        return
    if args.cross_validate:
        raise CLIError("--plots is not available with --cross-validate")
    if not args.plots and not args.model_card:
        raise CLIError(
            "--plots needs a folder (--plots DIR), or --model-card to draw them in the model "
            "folder's plots/"
        )
    from argmine.evaluation.plots import PlotsUnavailable, check_available

    try:
        check_available()
    except PlotsUnavailable as err:
        raise CLIError(str(err)) from err


def _write_plots(scores: dict, folder: Path, name: str) -> None:
    from argmine.evaluation.plots import write_plots

    written = write_plots(scores, folder, name)
    print(f"{len(written)} plot files in {folder}" if written else "no diagnostics to plot")


def _evaluate(args: argparse.Namespace, graphs) -> dict:
    from argmine.evaluation import evaluate

    miner = load_miner(args.model, args.device, precision=args.precision)
    scores = evaluate(miner, graphs)
    scores.update(
        corpus=args.corpus,
        split=args.split,
        model=miner.config.name,
        model_arg=args.model,
        precision=miner.precision,
    )
    return scores


def _cross_validate(args: argparse.Namespace, graphs) -> dict:
    from argmine.evaluation import cross_validate
    from argmine.training import TrainConfig, train

    config = TrainConfig.from_file(args.cross_validate)
    config.output_dir = None
    device = check_device(args.device)

    def fit(train_graphs):
        return train(
            config,
            train_graphs,
            dev_graphs=[],
            log=lambda line: print(line, flush=True),
            device=device,
        )

    scores = cross_validate(graphs, fit, folds=args.folds, seed=args.seed)
    scores.update(corpus=args.corpus, config=str(args.cross_validate), model_arg=args.model)
    return scores


def _store_in_model_card(args: argparse.Namespace, scores: dict) -> None:
    from argmine.evaluation.plots import plot_files
    from argmine.hub.cards import PLOTS_FOLDER, write_model_card
    from argmine.hub.registry import resolve_model

    folder = resolve_model(args.model)
    name = _result_name(args)
    (folder / "results").mkdir(exist_ok=True)
    (folder / "results" / f"{name}.json").write_text(json.dumps(scores, indent=2) + "\n")
    if args.plots is not None:
        _write_plots(scores, folder / PLOTS_FOLDER, name)
    else:  # the plots of the result just replaced would show other numbers than the card
        for path in plot_files(folder / PLOTS_FOLDER, name):
            path.unlink(missing_ok=True)
    write_model_card(folder)


def _result_name(args: argparse.Namespace) -> str:
    """What a result is stored as in a model folder: results/NAME.json, plots/NAME-*."""
    kind = "cv" if args.cross_validate else (args.split or "all")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(args.corpus).name}-{kind}")
