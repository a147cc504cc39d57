"""How a recipe's first epoch mixes argument documents with counterfactual-only sentences.

    python training/batch_mix.py training/configs/default-one-start.json

Draws the epoch as training does (the run's seed, each source's ``sample``, length-bucketed
batches, or ``batches_by_kind``) and counts batches by their number of argument documents:
what ``training/README.md`` says about mixed batches comes from here.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", help="training config (JSON)")
    args = parser.parse_args(argv)

    from argmine.model.encoders import base_source, load_tokenizer, special_tokens
    from argmine.training.config import TrainConfig
    from argmine.training.examples import make_example
    from argmine.training.loop import epoch_batches, load_selection

    config = TrainConfig.from_file(args.config)
    tokenizer = load_tokenizer(base_source(config.encoder))
    special = special_tokens(tokenizer)
    pools = [
        (
            [
                make_example(g, tokenizer, config, selection.type_options, special)
                for g in load_selection(selection)
            ]
            * selection.repeat,
            selection.sample,
        )
        for selection in config.train
    ]
    rng = random.Random(config.seed)  # the state TrainingRun starts its first epoch from
    batches = epoch_batches(pools, config, rng)
    arguments = [sum(e.argument for e in b) for b in batches]
    mixed = [n for n, b in zip(arguments, batches, strict=True) if 0 < n < len(b)]
    print(
        f"{len(batches)} batches of up to {config.batch_size}: {Counter(arguments)[0]} of "
        f"sentences only, {len(batches) - Counter(arguments)[0] - len(mixed)} of argument "
        f"documents only, {len(mixed)} mixed"
    )
    print(
        f"argument documents: {sum(arguments)}, of them in mixed batches: {sum(mixed)}, "
        f"alone among sentences: {mixed.count(1)}"
    )
    print("batches by argument documents:", dict(sorted(Counter(arguments).items())))


if __name__ == "__main__":
    main()
