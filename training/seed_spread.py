"""How much the scores depend on the training seed: the same recipe trained with other seeds.

    argmine train --config training/configs/default.json --seed 14 -o runs/seed14
    argmine train --config training/configs/default.json --seed 15 -o runs/seed15
    python training/seed_spread.py models/argmine-minilm-policy runs/seed14 runs/seed15 \\
        --model-card models/argmine-minilm-policy

Each model is scored in float32 on the same dev documents (CDCP dev, SemEval-2020 Task 5 dev);
the table goes to stdout and, with ``--model-card FOLDER``, into ``FOLDER/results/seeds.json``
and the card's "Seed spread" section.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import argmine
from argmine.corpus import load_graphs
from argmine.evaluation import evaluate

DEV = (("cdcp", "dev"), ("semeval2020-task5", "dev"))


def headline(scores: dict) -> dict[str, float]:
    """The numbers the seed table reports, from :func:`argmine.evaluation.evaluate` output."""
    row = {}
    if "given_units" in scores:
        given, e2e = scores["given_units"], scores["end_to_end"]
        row["component macro-F1"] = given["component_macro_f1"]
        row["link F1"] = given["link"]["f1"]
        if "proposition_type" in given:
            row["proposition type macro-F1"] = given["proposition_type"]["macro_f1"]
        row["end to end: component F1 (exact)"] = e2e["component_exact"]["macro_f1"]
        row["end to end: relation F1"] = e2e["relation"]["f1"]
    if "counterfactual" in scores:
        cf = scores["counterfactual"]
        row["counterfactual detection F1"] = cf["detection"]["f1"]
        row["antecedent exact F1"] = cf["antecedent_exact"]["f1"]
        row["consequent exact F1"] = cf["consequent_exact"]["f1"]
    return row


def seed_of(folder: Path) -> int | None:
    config = folder / "training_config.json"
    return json.loads(config.read_text())["seed"] if config.is_file() else None


def score_model(folder: Path) -> dict:
    miner = argmine.load(str(folder), precision="float32")
    row: dict = {"model": str(folder), "seed": seed_of(folder)}
    for corpus, split in DEV:
        row.update(headline(evaluate(miner, load_graphs(corpus, split=split))))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model folders, one per seed")
    parser.add_argument("--model-card", type=Path, help="write results/seeds.json and the card")
    args = parser.parse_args(argv)
    runs = [score_model(folder) for folder in args.models]
    print(json.dumps(runs, indent=2))
    if args.model_card:
        from argmine.hub.cards import write_model_card

        command = "python training/seed_spread.py " + " ".join(str(m) for m in args.models)
        record = {"runs": runs, "command": f"{command} --model-card {args.model_card}"}
        path = args.model_card / "results" / "seeds.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")
        write_model_card(args.model_card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
