"""Compare two training recipes on seed means: ``python training/compare.py A.json B.json``.

    python training/compare.py training/configs/default.json training/configs/distilled.json \\
        --seeds 3 --first-seed 13 -o runs/compare/default-vs-distilled

Each recipe is trained with seeds ``first, first + 1, ...`` into ``runs/compare/<recipe>/<seed>``
(a finished model with the same settings is reused, an unfinished run resumes from its
checkpoint), scored in float32 on CDCP dev, SemEval-2020 Task 5 dev and (unless ``--skip-cv``)
by 5-fold cross-validation on microtexts; the report gives each recipe's mean, range and sd
per measure and the paired difference B - A. It writes ``OUT.md`` (a Markdown table for
training/README.md) and ``OUT.json`` (every number). See :mod:`argmine.training.compare`.

Given two trained model folders instead of two configs, it scores the two models on the same
dev documents (a soup against the shipped model, say), with the paired bootstrap over documents:

    python training/compare.py runs/soup-default runs/soup-kind --skip-cv \\
        -o runs/compare/soup-default-vs-soup-kind

several folders for B are the seeds of one recipe, each paired with model A (three second
stages trained from the shipped model, say; the rows give B's seed mean and spread):

    python training/compare.py runs/mpnet/13 runs/mpnet-link-stage/13 runs/mpnet-link-stage/14 \
        runs/mpnet-link-stage/15 --skip-cv -o runs/compare/mpnet-vs-link-stage

or one model folder twice, in float32 and in int8 (how much int8 costs, document by document):

    python training/compare.py FOLDER FOLDER --precisions float32 int8 --skip-cv \
        -o runs/compare/FOLDER-int8
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from argmine.hub.folders import WEIGHTS_NAME
from argmine.training.compare import (
    BY_KEY,
    CompareOptions,
    choose,
    compare,
    compare_models,
    markdown_table,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path, help="recipe A (training config) or model A (folder)")
    parser.add_argument(
        "b", type=Path, nargs="+",
        help="recipe B (training config) or model B (folder); several folders: the seeds of one "
        "recipe, each paired with model A",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="seeds per recipe (default 3)")
    parser.add_argument(
        "--first-seed", type=int, help="first seed of both recipes (default: each config's seed)"
    )
    parser.add_argument("--root", type=Path, default=Path("runs/compare"), help="run folders")
    parser.add_argument("-o", "--output", type=Path, help="report path without suffix")
    parser.add_argument("--max-steps", type=int, help="override the recipes' length (cheap runs)")
    parser.add_argument("--epochs", type=float, help="override the recipes' epochs")
    parser.add_argument(
        "--skip-cv", action="store_true", help="no microtexts cross-validation (5 trainings a seed)"
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument(
        "--cv-alone",
        action="store_true",
        help="folds train on microtexts alone, not the whole recipe with microtexts replaced",
    )
    parser.add_argument(
        "--measures",
        nargs="+",
        choices=sorted(BY_KEY),
        metavar="MEASURE",
        help=f"measures to compare (default: all): {', '.join(BY_KEY)}",
    )
    parser.add_argument("--device", default="cpu", help="training device (cpu, cuda, auto)")
    parser.add_argument(
        "--precisions", nargs=2, default=["float32", "float32"], metavar=("A", "B"),
        choices=["float32", "int8", "bfloat16"],
        help="each model's precision (two folders only; one folder twice: float32 against int8)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    paths = [args.a, *args.b]
    models = [(path / WEIGHTS_NAME).is_file() for path in paths]
    if any(models) and not all(models):
        parser.error("give two training configs or model folders, not one of each")
    if len(args.b) > 1 and not all(models):
        parser.error("several B's are the seeds of one recipe as trained model folders")
    if args.precisions != ["float32", "float32"] and not all(models):
        parser.error("--precisions compares two model folders; recipes train in float32")
    for path, is_model in zip(paths, models, strict=True):
        if not (is_model or path.is_file()):
            parser.error(f"no config file or model folder at {path}")
    try:
        options = CompareOptions(
            seeds=args.seeds,
            first_seed=args.first_seed,
            root=args.root,
            max_steps=args.max_steps,
            epochs=args.epochs,
            cv=not args.skip_cv,
            folds=args.folds,
            cv_alone=args.cv_alone,
            measures=tuple(args.measures or BY_KEY),
            device=args.device,
            log=lambda line: print(line, flush=True),
        )
        if all(models):
            record = compare_models(args.a, args.b, options, tuple(args.precisions))
        else:
            record = compare(args.a, args.b[0], options)
    except ValueError as err:
        parser.error(str(err))
    output = args.output or args.root / f"{args.a.stem}-vs-{args.b[0].stem}"
    output.parent.mkdir(parents=True, exist_ok=True)
    table = markdown_table(record)
    same_precision = args.precisions[0] == args.precisions[1]
    record["chosen"] = record[choose(record)]["config_file"] if same_precision else None
    record["command"] = "python training/compare.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    output.with_suffix(".md").write_text(table, encoding="utf-8")
    output.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(table)
    which = "primary measure" if all(models) else "seed mean on the primary measure"
    if same_precision:  # one model in two precisions: the cost is read, nothing is chosen
        print(f"rule: {record['chosen']} (the higher {which})")
    print(f"wrote {output.with_suffix('.md')} and {output.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
