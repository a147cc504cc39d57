"""Whether trained models keep the project's promises on the ContactPoint article.

    python training/check_promises.py runs/compare/distilled/13 runs/compare/distilled/14

For each model folder (or shipped model's name): the article parsed in float32, and whether it
finds the counterfactual conclusion whole (antecedent and consequent) and its support from the
unit on what social workers knew (:mod:`argmine.evaluation.promises`). A model that misses
either is not shipped (training/README.md, "the rule that picks the shipped weights"). Exit
status 1 when any model misses one.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="model folders or shipped model names")
    parser.add_argument("--json", action="store_true", help="one JSON object per model")
    args = parser.parse_args(argv)

    import argmine
    from argmine.corpus import load_graphs
    from argmine.evaluation.promises import contactpoint_promises

    article = load_graphs("contactpoint")[0].text
    kept_all = True
    for model in args.models:
        promises = contactpoint_promises(argmine.load(model, precision="float32").parse(article))
        kept_all &= all(promises.values())
        if args.json:
            print(json.dumps({"model": model, **promises}))
        else:
            marks = ", ".join(f"{k} {'kept' if v else 'MISSED'}" for k, v in promises.items())
            print(f"{model}: {marks}")
    return 0 if kept_all else 1


if __name__ == "__main__":
    sys.exit(main())
