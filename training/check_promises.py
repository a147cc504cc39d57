"""Whether trained models keep the project's promises on the ContactPoint article.

    python training/check_promises.py runs/compare/distilled/13 runs/compare/distilled/14

For each model folder (or shipped model's name): the article parsed in float32, and whether it
finds the counterfactual conclusion whole (antecedent and consequent) and its support from the
unit on what social workers knew (:mod:`argmine.evaluation.promises`). A model that misses
either is not shipped (training/README.md, "the rule that picks the shipped weights"). Exit
status 1 when any model misses one.

``--given-units`` also shows why: the article parsed on its gold units, and on the gold units
widened to their sentence's start where they begin one to three words in (as decoding with
``sentence_bounds`` widens predicted units), with the type given to the counterfactual
conclusion and the links of the social-workers unit in each.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="model folders or shipped model names")
    parser.add_argument("--json", action="store_true", help="one JSON object per model")
    parser.add_argument(
        "--given-units",
        action="store_true",
        help="also parse the article on its gold units and on them widened to sentence starts",
    )
    args = parser.parse_args(argv)

    import argmine
    from argmine.corpus import load_graphs
    from argmine.evaluation.promises import contactpoint_promises, where_they_stand
    from argmine.model.segmentation import lead_ins_widened

    gold = load_graphs("contactpoint")[0]
    article, units = gold.text, [(c.start, c.end) for c in gold]
    views = {"gold units": units, "gold units, lead-ins widened": lead_ins_widened(article, units)}
    kept_all = True
    for model in args.models:
        miner = argmine.load(model, precision="float32")
        graph = miner.parse(article)
        promises = contactpoint_promises(graph)
        kept_all &= all(promises.values())
        seen = {}
        if args.given_units:
            seen["predicted units"] = where_they_stand(graph)
            for view, segments in views.items():
                seen[view] = where_they_stand(miner.parse(article, segments=segments))
        if args.json:
            print(json.dumps({"model": model, **promises, **seen}))
            continue
        marks = ", ".join(f"{k} {'kept' if v else 'MISSED'}" for k, v in promises.items())
        print(f"{model}: {marks}")
        for view, stand in seen.items():
            print(f"  {view}: {_stand_line(stand)}")
    return 0 if kept_all else 1


def _stand_line(stand: dict) -> str:
    links = "; ".join(
        f"{kind} {score:.2f} -> {text[:45]!r}"
        for text, kind, score in stand["social_workers_link_to"]
    )
    return (
        f"conclusion typed {stand['conclusion_type']} ({stand['conclusion_score'] or 0:.3f}); "
        f"social workers: {links or 'no link'}"
    )


if __name__ == "__main__":
    sys.exit(main())
