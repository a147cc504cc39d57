"""Seed soups: the uniform average of the weights of one recipe trained with several seeds.

Runs of one recipe that start from the same weights (the same base and the same ``init_seed``
for the new heads) and differ only in their seed (batch order, dropout) stay in one basin of
the loss (Wortsman et al. 2022: Model soups), so the mean of their weights is a model of the
same size and speed that is usually at least as good as the typical seed and varies less.
Heads drawn from other random weights are refused, and so are models trained with any other
difference (base, corpora, length) or with LoRA adapters they trained: their average has no
such guarantee. Seeds of a later, frozen-encoder stage all start from the model named by
``init_from`` and share its adapters unchanged, so they are souped like any seeds. The soup's
decoding settings (link temperature, priors, ``min_score``, sentence cuts, detector threshold)
are tuned again on the recipe's dev corpora, since the averaged scorer's scores are not any
seed's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from argmine.graph import ArgumentGraph
from argmine.model.network import is_adapter
from argmine.training.compare import (
    BOOTSTRAP_COUNTS,
    BY_KEY,
    MICROTEXTS,
    PRIMARY,
    CompareOptions,
    paired_bootstrap,
    primary_of,
    score_model,
    spread,
)
from argmine.training.config import TrainConfig

SOUP_RECORD = "soup.json"
"""In a soup's folder: the seeds and model folders it averages."""
SOUP_PRIMARY = tuple(key for key in PRIMARY if BY_KEY[key].source != MICROTEXTS)
"""The rule's measures for a soup against its seeds (training/README.md): the comparison's
primary measure without microtexts cross-validation, which a soup cannot have (a soup per fold)."""


class SoupError(ValueError):
    """The models cannot be averaged; says which one and why."""


def soup_configs(folders: Sequence[Path]) -> list[TrainConfig]:
    """The training configs of the models, checked to differ in their seed only."""
    if len(folders) < 2:
        raise SoupError("a soup needs at least two models (one recipe, several seeds)")
    configs = []
    for folder in folders:
        path = Path(folder) / "training_config.json"
        if not path.is_file():
            raise SoupError(f"{folder}: no training_config.json (not a model argmine trained)")
        configs.append(TrainConfig.from_dict(json.loads(path.read_text(encoding="utf-8"))))
    first = _without_seed(configs[0])
    for folder, config in zip(folders[1:], configs[1:], strict=True):
        other = _without_seed(config)
        differ = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
        if differ:
            raise SoupError(
                f"{folder} was trained with other settings than {folders[0]} "
                f"({', '.join(differ)}): a soup averages seeds of one recipe"
            )
    starts = {_start_of(c) for c in configs}
    if len(starts) > 1:
        raise SoupError(
            f"the models' heads start from different random weights (init seeds "
            f"{sorted(starts)}): their mean is no model; train the seeds with one init_seed"
        )
    seeds = [c.seed for c in configs]
    if len(set(seeds)) < len(seeds):
        raise SoupError(f"the models repeat a seed ({seeds}): average distinct runs")
    if configs[0].lora is not None and not configs[0].freeze_encoder:
        raise SoupError(
            "the models store LoRA adapters they trained: averaging each adapter's two factors "
            "is not the average of the models (only frozen-encoder stages, whose adapters are "
            "the same in every seed, can be souped)"
        )
    return configs


def _start_of(config: TrainConfig) -> str | int:
    """Where the heads start: a trained model's weights (a later stage), else the init seed."""
    if config.init_from is not None:
        return config.init_from
    return config.seed if config.init_seed is None else config.init_seed


def _without_seed(config: TrainConfig) -> dict:
    return {k: v for k, v in config.model_settings().items() if k not in ("seed", "init_seed")}


def averaged_weights(folders: Sequence[Path]) -> dict[str, torch.Tensor]:
    """The mean, in float32, of each stored weight over the models. LoRA adapter weights must
    be the same in every model (a frozen-encoder stage) and are kept as they are: the mean of
    two factors is not the mean of their products."""
    from safetensors.torch import load_file

    total: dict[str, torch.Tensor] = {}
    adapters: dict[str, torch.Tensor] = {}
    for folder in folders:
        weights = load_file(str(Path(folder) / "model.safetensors"))
        if (total or adapters) and set(weights) != set(total) | set(adapters):
            raise SoupError(f"{folder}/model.safetensors holds other weights than the first model")
        for name, tensor in weights.items():
            if not is_adapter(name):
                total[name] = total.get(name, 0.0) + tensor.float()
            elif not torch.equal(adapters.setdefault(name, tensor), tensor):
                raise SoupError(
                    f"{folder}: adapter weight {name} differs from the first model's (a soup "
                    "of LoRA models needs the adapters frozen, the same in every seed)"
                )
    averaged = {name: tensor / len(folders) for name, tensor in total.items()}
    return averaged | {name: tensor.float() for name, tensor in adapters.items()}


def make_soup(
    folders: Sequence[str | Path],
    output: str | Path,
    dev_graphs: Sequence[ArgumentGraph] | None = None,
    log: Callable[[str], None] = print,
):
    """Average the models' weights, tune the decoding on dev (the recipe's dev corpora unless
    ``dev_graphs``), save the soup to ``output`` with a card naming its seeds."""
    import argmine
    from argmine.hub.cards import NOTES_FILE, write_model_card
    from argmine.training.loop import save_trained, select_graphs
    from argmine.training.tuning import tune_decoding

    folders = [Path(f) for f in folders]
    configs = soup_configs(folders)
    miner = argmine.load(str(folders[0]), precision="float32")
    weights = averaged_weights(folders)
    # frozen adapters are the first model's, already merged into its encoder on load
    miner.model.load_stored_weights({k: v for k, v in weights.items() if not is_adapter(k)})
    miner.model.round_to_storage_precision()
    seeds = [c.seed for c in configs]
    log(f"averaged the weights of seeds {', '.join(map(str, seeds))}")
    config = configs[0]
    if dev_graphs is None:
        dev_graphs = select_graphs(config.dev)
    if dev_graphs:
        tune_decoding(miner, dev_graphs, config, log)
    else:
        log("no dev documents: the soup keeps the first model's decoding settings")
    config.output_dir = str(output)
    stages = _earlier_stages(folders[0])
    save_trained(miner, config, stages)
    folder = Path(output)
    record = {"seeds": seeds, "models": [str(f) for f in folders], "config": config.config_file}
    (folder / SOUP_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    (folder / NOTES_FILE).write_text(soup_note(record, bool(dev_graphs)), encoding="utf-8")
    write_model_card(folder)
    log(f"saved the soup to {folder}")
    return miner


def _earlier_stages(folder: Path) -> list[dict]:
    from argmine.training.stages import STAGES_NAME

    path = folder / STAGES_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def soup_note(record: dict, tuned: bool) -> str:
    """The model card's note on what the soup is."""
    seeds = ", ".join(map(str, record["seeds"]))
    models = ", ".join(f"`{m}`" for m in record["models"])
    recipe = f" of `{record['config']}`" if record.get("config") else ""
    tuning = (
        "its decoding settings were tuned again on the dev corpora"
        if tuned
        else "it keeps the first model's decoding settings (no dev corpus)"
    )
    return (
        f"This model is a seed soup: the uniform average of the weights of the runs{recipe} "
        f"with seeds {seeds} ({models}), trained from the same base with the same settings; "
        f"{tuning}. Same size and speed as each run. "
        f"Reproduce: `python training/soup.py {' '.join(record['models'])} -o OUTPUT`.\n"
    )


# ---------------------------------------------------------------------- the soup against its seeds
def soup_against_seeds(
    soup: str | Path, seeds: Sequence[str | Path], options: CompareOptions | None = None
) -> dict:
    """The soup and the seeds it averages, scored in float32 on the same dev documents, and
    the model the pre-registered rule ships: the soup unless its primary measure is below
    every seed's, else the seed with the median primary measure.

    Per measure: the seeds' values, mean and range, the soup's value, soup - seed mean and a
    paired bootstrap over documents of soup - seeds (the seeds' predictions pooled)."""
    options = options or CompareOptions(cv=False)
    missing = [key for key in SOUP_PRIMARY if key not in options.measures]
    if missing:
        raise ValueError(f"the rule needs {', '.join(missing)}: add it to the measures")
    seed_runs = [score_model(Path(folder), options) for folder in seeds]
    soup_scores, soup_counts = score_model(Path(soup), options)
    rows = []
    for key in options.measures:
        if key not in soup_scores or not all(key in scores for scores, _ in seed_runs):
            continue
        values = spread([scores[key] for scores, _ in seed_runs])
        row = {
            "measure": key,
            "label": BY_KEY[key].label,
            "seeds": values,
            "soup": soup_scores[key],
            "soup_minus_seed_mean": soup_scores[key] - values["mean"],
        }
        every_counts = [soup_counts, *(counts for _, counts in seed_runs)]
        if key in BOOTSTRAP_COUNTS and all(key in counts for counts in every_counts):
            row["bootstrap_95"] = paired_bootstrap(
                [counts[key] for _, counts in seed_runs],
                [soup_counts[key]],
                samples=options.bootstrap_samples,
            )
        rows.append(row)
    seed_primary = [primary_of(scores) for scores, _ in seed_runs]
    soup_primary = primary_of(soup_scores)
    return {
        "soup": str(soup),
        "seeds": [str(folder) for folder in seeds],
        "measures": rows,
        "primary": {"measures": list(SOUP_PRIMARY), "seeds": seed_primary, "soup": soup_primary},
        "chosen": shipped_by_rule(str(soup), soup_primary, [str(f) for f in seeds], seed_primary),
    }


def shipped_by_rule(
    soup: str, soup_primary: float, seeds: Sequence[str], seed_primary: Sequence[float]
) -> str:
    """The soup if its primary measure is not below the seeds' range, else the median seed
    (the lower of the two middle ones for an even number)."""
    if soup_primary >= min(seed_primary):
        return soup
    ranked = sorted(zip(seed_primary, seeds, strict=True))
    return ranked[(len(ranked) - 1) // 2][1]


def soup_table(record: dict) -> str:
    """The soup against its seeds as a Markdown table (for training/README.md)."""
    lines = [
        f"soup `{record['soup']}`, seeds {', '.join(f'`{s}`' for s in record['seeds'])}",
        "",
        "| measure | each seed | seed mean | soup | soup - seed mean | paired bootstrap 95% |",
        "|---|---|---|---|---|---|",
    ]
    for row in record["measures"]:
        boot = row.get("bootstrap_95")
        lines.append(
            f"| {row['label']} | {' / '.join(f'{v:.3f}' for v in row['seeds']['values'])} | "
            f"{row['seeds']['mean']:.3f} | {row['soup']:.3f} | "
            f"{row['soup_minus_seed_mean']:+.3f} | "
            f"{f'{boot[0]:+.3f} to {boot[1]:+.3f}' if boot else ''} |"
        )
    primary = record["primary"]
    lines.append(
        f"| rule: mean of link F1 and component macro-F1 | "
        f"{' / '.join(f'{v:.3f}' for v in primary['seeds'])} | "
        f"{sum(primary['seeds']) / len(primary['seeds']):.3f} | {primary['soup']:.3f} | | |"
    )
    return "\n".join(lines) + f"\n\nThe rule ships `{record['chosen']}`.\n"


__all__ = [
    "SoupError",
    "averaged_weights",
    "make_soup",
    "shipped_by_rule",
    "soup_against_seeds",
    "soup_configs",
    "soup_table",
]
