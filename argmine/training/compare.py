"""Compare two training recipes on seed means, not on one run each (``training/compare.py``).

One run of a recipe is one draw: on CDCP dev (58 documents) the seed alone moves link F1 by up
to 0.07, more than most differences between recipes. So each recipe is trained with N seeds
(``seed``, ``seed + 1``, ...), every model is scored on the same documents, and the decision
reads the means, the spread, and the paired difference B - A (seed i of A against seed i of B:
the same seed draws the same batch order, so pairing removes part of the noise).

Runs live in ``runs/compare/<recipe>/<seed>``; a folder that already holds a model trained with
the same settings is reused, and an unfinished run resumes from its checkpoint, so an
interrupted comparison goes on where it stopped. Scores are cached beside each model
(``compare_scores.json``, keyed by the weights' checksum, the corpora scored and ``SCORING``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from argmine.evaluation.paired import argument_measures, counterfactual_measures
from argmine.graph import ArgumentGraph
from argmine.training.config import CorpusSelection, TrainConfig

MICROTEXTS = "microtexts"
CORPORA: dict[str, tuple[str, str | None]] = {
    "cdcp": ("cdcp", "dev"),
    "semeval": ("semeval2020-task5", "dev"),
    MICROTEXTS: (MICROTEXTS, None),
}
"""Where each source's documents come from: corpus name (or path) and split."""
SCORES_NAME = "compare_scores.json"
SCORING = 3
"""Bumped when the pipeline decodes the same weights differently, or the cache holds other
counts, so cached scores are redone: 2, counterfactual halves joined into one unit (decoding
``join_counterfactual_halves``); 3, per-document end-to-end counts for the bootstrap."""
DEFAULT_CHECKPOINT_EVERY = 100
"""Steps between checkpoints of a comparison run that sets none (a killed run loses less)."""


@dataclass(frozen=True)
class Measure:
    """One number of the comparison: where it comes from and how it reads."""

    key: str
    label: str
    source: str
    """``cdcp``, ``semeval`` or ``microtexts``: which evaluation produces it."""


MEASURES: tuple[Measure, ...] = (
    Measure("component_macro_f1", "CDCP dev, given units: component macro-F1", "cdcp"),
    Measure("link_f1", "CDCP dev, given units: link F1", "cdcp"),
    Measure(
        "proposition_type_macro_f1", "CDCP dev, given units: proposition type macro-F1", "cdcp"
    ),
    Measure("e2e_component_exact_f1", "CDCP dev, end to end: component F1 (exact)", "cdcp"),
    Measure("e2e_relation_f1", "CDCP dev, end to end: relation F1", "cdcp"),
    Measure("detection_f1", "SemEval-2020 Task 5 dev: counterfactual detection F1", "semeval"),
    Measure("antecedent_exact_f1", "SemEval-2020 Task 5 dev: antecedent exact F1", "semeval"),
    Measure("consequent_exact_f1", "SemEval-2020 Task 5 dev: consequent exact F1", "semeval"),
    Measure("central_claim_macro_f1", "microtexts 5-fold CV: central claim macro-F1", MICROTEXTS),
    Measure("attachment_macro_f1", "microtexts 5-fold CV: attachment macro-F1", MICROTEXTS),
)
BY_KEY = {m.key: m for m in MEASURES}
PRIMARY = ("link_f1", "component_macro_f1", "central_claim_macro_f1")
"""The primary measure is the mean of these (those that were measured): fixed before any
comparison was run, so the decision rule cannot be fitted to the numbers."""
PRIMARY_LABEL = "primary: mean of CDCP link F1, component macro-F1, microtexts central claim"
BOOTSTRAP_COUNTS = (
    "component_macro_f1",
    "link_f1",
    "proposition_type_macro_f1",
    "e2e_component_exact_f1",
    "e2e_relation_f1",
    "detection_f1",
)
"""Measures whose per-document counts are kept, for the paired bootstrap over documents."""


@dataclass
class CompareOptions:
    """What the comparison trains and measures (the command's options)."""

    seeds: int = 3
    first_seed: int | None = None
    """The first seed (default: each recipe's own ``seed``; pass one to pair the recipes)."""
    root: Path = Path("runs/compare")
    max_steps: int | None = None
    epochs: float | None = None
    cv: bool = True
    folds: int = 5
    cv_alone: bool = False
    """Cross-validation folds train on microtexts alone (cheap) instead of the whole recipe
    with its microtexts source replaced by the training folds (what the shipped model is)."""
    measures: tuple[str, ...] = tuple(m.key for m in MEASURES)
    bootstrap_samples: int = 1000
    device: str = "cpu"
    log: Callable[[str], None] = print
    corpora: dict[str, tuple[str, str | None]] = field(default_factory=lambda: dict(CORPORA))
    """Corpus (name or path) and split of each source; tests put tiny corpora here."""

    def __post_init__(self) -> None:
        unknown = [m for m in self.measures if m not in BY_KEY]
        if unknown:
            raise ValueError(f"unknown measure(s) {unknown}; known: {sorted(BY_KEY)}")
        if self.seeds < 1:
            raise ValueError(f"--seeds must be at least 1, got {self.seeds}")
        if not self.cv:
            self.measures = tuple(m for m in self.measures if BY_KEY[m].source != MICROTEXTS)
        if not self.measures:
            raise ValueError("no measure left to compare (--measures, --skip-cv)")

    def sources(self) -> set[str]:
        return {BY_KEY[m].source for m in self.measures}


@dataclass
class RecipeRuns:
    """One recipe's trained seeds and their scores."""

    name: str
    config_file: str
    seeds: list[int] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    scores: list[dict[str, float]] = field(default_factory=list)
    counts: list[dict[str, list]] = field(default_factory=list)


# ---------------------------------------------------------------------- training
def recipe_name(path: str | Path) -> str:
    return Path(path).stem


def seed_config(
    config_file: str | Path, seed: int, options: CompareOptions, folder: Path
) -> TrainConfig:
    """The recipe with this seed, the comparison's length overrides and its own run folder."""
    config = TrainConfig.from_file(config_file)
    config.seed = seed
    config.output_dir = str(folder)
    if options.max_steps is not None:
        config.max_steps = options.max_steps
    if options.epochs is not None:
        config.epochs, config.max_steps = options.epochs, None
    config.checkpoint_every = config.checkpoint_every or DEFAULT_CHECKPOINT_EVERY
    return config


def train_or_reuse(config: TrainConfig, options: CompareOptions) -> Path:
    """Train ``config`` into its output folder, unless a model trained with the same settings
    is there already; an unfinished run (a checkpoint) resumes."""
    from argmine.training.checkpoints import checkpoint_path
    from argmine.training.loop import train
    from argmine.training.stages import trained_from

    folder = Path(str(config.output_dir))
    if trained_from(config):
        options.log(f"{folder}: reusing the model trained with these settings")
        return folder
    resume = checkpoint_path(folder).is_file()
    options.log(f"{folder}: {'resuming' if resume else 'training'} (seed {config.seed})")
    train(config, log=options.log, device=options.device, resume=resume)
    return folder


# ---------------------------------------------------------------------- scoring
def score_model(
    folder: Path, options: CompareOptions, precision: str = "float32"
) -> tuple[dict[str, float], dict]:
    """Scores of a trained model on the dev documents in ``precision``, cached beside it by
    weights checksum (and config: it says how int8 treats the encoder)."""
    sources = sorted(options.sources() - {MICROTEXTS})
    key = {
        "weights": _checksum(folder / "model.safetensors"),
        "config": _checksum(folder / "config.json"),
        "corpora": {s: list(options.corpora[s]) for s in sources},
        "scoring": SCORING,
        "precision": precision,
    }
    cache = folder / (SCORES_NAME if precision == "float32" else f"compare_scores-{precision}.json")
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["scores"], saved["counts"]
    import argmine

    miner = argmine.load(str(folder), precision=precision)
    scores, counts = dev_scores(miner, sources, options.corpora)
    record = {"key": key, "scores": scores, "counts": counts}
    cache.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return scores, counts


def dev_scores(
    miner, sources: Sequence[str], corpora: dict[str, tuple[str, str | None]] = CORPORA
) -> tuple[dict[str, float], dict[str, list]]:
    """Every measure of CDCP dev and SemEval dev that ``sources`` asks for, and per-document
    counts (``[tp, predicted, gold]`` per class) for the paired bootstrap."""
    from argmine.corpus import load_graphs

    scores: dict[str, float] = {}
    counts: dict[str, list] = {}
    if "cdcp" in sources:
        gold = load_graphs(corpora["cdcp"][0], split=corpora["cdcp"][1])
        s, c = argument_measures(miner, gold)
        scores.update(s)
        counts.update(c)
    if "semeval" in sources:
        gold = load_graphs(corpora["semeval"][0], split=corpora["semeval"][1])
        s, c = counterfactual_measures(miner, gold)
        scores.update(s)
        counts.update(c)
    return scores, counts


def cross_validation_scores(
    config_file: str | Path, seed: int, options: CompareOptions, folder: Path
) -> dict[str, float]:
    """Microtexts k-fold CV of the recipe with this seed (fold models kept in ``folder/cv``).

    Each fold trains the recipe with its microtexts source replaced by the fold's training
    documents (``cv_alone``: on those alone), then predicts the held-out fold on given units;
    scores are pooled over the folds (:func:`argmine.evaluation.cross_validate`).
    """
    from argmine.corpus import load_graphs
    from argmine.corpus.records import write_jsonl
    from argmine.evaluation import cross_validate

    cache = folder / "cv" / "scores.json"
    graphs = load_graphs(options.corpora[MICROTEXTS][0], split=options.corpora[MICROTEXTS][1])
    fold_runs: list[Path] = []

    def fit(train_graphs: list[ArgumentGraph]):
        import argmine

        k = len(fold_runs) + 1
        fold = folder / "cv" / f"fold-{k}"
        fold.mkdir(parents=True, exist_ok=True)
        corpus = fold / "train.jsonl"
        write_jsonl(train_graphs, corpus)
        config = seed_config(config_file, seed, options, fold / "model")
        config.train = fold_sources(config.train, str(corpus), options.cv_alone)
        if options.cv_alone:
            config.dev = []
        fold_runs.append(train_or_reuse(config, options))
        return argmine.load(str(fold_runs[-1]), precision="float32")

    result = cross_validate(graphs, fit, folds=options.folds, seed=seed, log=options.log)
    pooled = result["pooled"]
    cache.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return {
        "central_claim_macro_f1": pooled["central_claim_macro_f1"],
        "attachment_macro_f1": pooled["attachment_macro_f1"],
    }


def fold_sources(
    sources: Sequence[CorpusSelection], fold_corpus: str, alone: bool
) -> list[CorpusSelection]:
    """The recipe's training sources with microtexts replaced by a fold's training documents
    (keeping its ``type_options`` and ``repeat``); ``alone``: that fold only."""
    named = [s for s in sources if s.name == MICROTEXTS]
    template = named[0] if named else CorpusSelection(MICROTEXTS)
    fold = CorpusSelection(
        fold_corpus, None, template.repeat, template.label_map, template.type_options
    )
    if alone:
        return [fold]
    return [s for s in sources if s.name != MICROTEXTS] + [fold]


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------- the comparison
def run_seed(config_file: str | Path, seed: int, runs: RecipeRuns, options: CompareOptions) -> None:
    """Train (or reuse) and score one seed of one recipe, adding it to ``runs``."""
    folder = options.root / runs.name / str(seed)
    train_or_reuse(seed_config(config_file, seed, options, folder), options)
    scores, counts = score_model(folder, options)
    if MICROTEXTS in options.sources():
        scores = {**scores, **cross_validation_scores(config_file, seed, options, folder)}
    runs.seeds.append(seed)
    runs.folders.append(str(folder))
    runs.scores.append({m: scores[m] for m in options.measures if m in scores})
    runs.counts.append(counts)


def seeds_of(config_file: str | Path, options: CompareOptions) -> range:
    first = options.first_seed
    if first is None:
        first = TrainConfig.from_file(config_file).seed
    return range(first, first + options.seeds)


def compare(config_a: str | Path, config_b: str | Path, options: CompareOptions) -> dict[str, Any]:
    """Train, score and compare two recipes; the record that the report is written from.

    Seeds alternate between the recipes (A's first seed, B's first seed, A's second, ...), so
    a comparison stopped part way, and resumed in a later session, already holds paired seeds.
    """
    if recipe_name(config_a) == recipe_name(config_b):
        raise ValueError(
            f"{config_a} and {config_b} have the same file name: their runs would share "
            f"{options.root / recipe_name(config_a)}; rename one"
        )
    a = RecipeRuns(recipe_name(config_a), str(config_a))
    b = RecipeRuns(recipe_name(config_b), str(config_b))
    seeds = zip(seeds_of(config_a, options), seeds_of(config_b, options), strict=True)
    for seed_a, seed_b in seeds:
        run_seed(config_a, seed_a, a, options)
        run_seed(config_b, seed_b, b, options)
    return summarize(a, b, options)


def compare_models(
    folder_a: str | Path,
    folder_b: str | Path | Sequence[str | Path],
    options: CompareOptions | None = None,
    precisions: tuple[str, str] = ("float32", "float32"),
) -> dict[str, Any]:
    """Two trained models (a soup against the shipped model, say), or one model in two
    ``precisions`` (float32 against int8), on the same dev documents: the report of
    :func:`compare` with one model a side, so the paired bootstrap over documents is the only
    interval (there is no seed spread to show). ``folder_b`` may name several models, the seeds
    of one recipe (three second stages from the shipped model, say): each is paired with A."""
    options = options or CompareOptions(cv=False)
    if MICROTEXTS in options.sources():
        raise ValueError("cross-validation trains a recipe; two trained models have none")
    folders_b = [folder_b] if isinstance(folder_b, str | Path) else list(folder_b)
    if not folders_b:
        raise ValueError("no model B to compare with")
    sides = []
    for folders, precision in zip(([folder_a], folders_b), precisions, strict=True):
        runs = RecipeRuns(name=_side_name(folders, precision), config_file=str(folders[0]))
        for folder in map(Path, folders):
            scores, counts = score_model(folder, options, precision)
            runs.folders.append(str(folder))
            runs.scores.append(scores)
            runs.counts.append(counts)
        if len(folders) > 1:
            runs.config_file = ", ".join(runs.folders)
        sides.append(runs)
    return summarize(*sides, options)


def _side_name(folders: Sequence[str | Path], precision: str) -> str:
    name = Path(folders[0]).name if len(folders) == 1 else Path(folders[0]).parent.name
    return name if precision == "float32" else f"{name} ({precision})"


def summarize(a: RecipeRuns, b: RecipeRuns, options: CompareOptions) -> dict[str, Any]:
    """Per measure: each recipe's mean, min, max and sd over seeds, and the paired difference
    B - A (per seed pair, its mean and a t-interval, and a paired bootstrap over documents)."""
    for runs in (a, b):
        for scores in runs.scores:
            primary = primary_of(scores)
            if primary is not None:
                scores["primary"] = primary
    keys = [m for m in (*options.measures, "primary") if all(m in s for s in a.scores + b.scores)]
    rows = []
    for key in keys:
        values_a = [s[key] for s in a.scores]
        values_b = [s[key] for s in b.scores]
        row = {
            "measure": key,
            "label": PRIMARY_LABEL if key == "primary" else BY_KEY[key].label,
            "a": spread(values_a),
            "b": spread(values_b),
            # one model A against B's seeds: each seed is paired with that one model
            "difference": paired_difference(values_a * (len(values_b) // len(values_a)), values_b),
        }
        if key in BOOTSTRAP_COUNTS and all(key in c for c in a.counts + b.counts):
            row["difference"]["bootstrap_95"] = paired_bootstrap(
                [c[key] for c in a.counts],
                [c[key] for c in b.counts],
                samples=options.bootstrap_samples,
            )
        rows.append(row)
    return {
        "a": {k: v for k, v in vars(a).items() if k != "counts"},
        "b": {k: v for k, v in vars(b).items() if k != "counts"},
        "primary_measures": [k for k in PRIMARY if k in options.measures],
        "measures": rows,
        "settings": {
            "seeds": options.seeds,
            "max_steps": options.max_steps,
            "epochs": options.epochs,
            "cross_validation": MICROTEXTS in options.sources(),
            "cv_alone": options.cv_alone,
            "folds": options.folds,
        },
    }


def primary_of(scores: dict[str, float]) -> float | None:
    """The primary measure: the mean of the :data:`PRIMARY` measures that were measured (None:
    none was)."""
    present = [scores[k] for k in PRIMARY if k in scores]
    return float(np.mean(present)) if present else None


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Mean, min, max and sample standard deviation (None for one value) over seeds."""
    array = np.asarray(values, dtype=float)
    return {
        "values": [float(v) for v in array],
        "mean": float(array.mean()),
        "min": float(array.min()),
        "max": float(array.max()),
        "sd": float(array.std(ddof=1)) if len(array) > 1 else None,
    }


def paired_difference(
    a: Sequence[float], b: Sequence[float], level: float = 0.95
) -> dict[str, Any]:
    """B - A per seed pair, their mean, and the t-interval of the mean (None for one pair):
    with three seeds the interval is wide, which is the point of reporting it."""
    from scipy import stats

    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    result: dict[str, Any] = {"per_seed": [float(d) for d in diffs], "mean": float(diffs.mean())}
    if len(diffs) > 1:
        half = (
            stats.t.ppf(0.5 + level / 2, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs))
        )
        result["t_interval_95"] = [float(diffs.mean() - half), float(diffs.mean() + half)]
    else:
        result["t_interval_95"] = None
    return result


def paired_bootstrap(
    counts_a: Sequence[Sequence], counts_b: Sequence[Sequence], samples: int = 1000, seed: int = 13
) -> list[float] | None:
    """95% percentile interval of B - A, resampling documents (the same resample for every
    seed of both recipes), each recipe's score computed on its seeds' predictions pooled.

    ``counts_x[seed][document][class] = [tp, predicted, gold]``; the score is the macro-F1 over
    the classes with gold units (a single class: its F1), as the evaluation computes it.
    """
    from argmine.evaluation.scores import _f1

    a, b = np.asarray(counts_a, dtype=float), np.asarray(counts_b, dtype=float)
    if a.ndim != 4 or a.shape[1] == 0 or a.shape[1:] != b.shape[1:]:
        return None
    scored = a[0, :, :, 2].sum(axis=0) > 0
    rng = np.random.default_rng(seed)
    index = rng.integers(0, a.shape[1], size=(samples, a.shape[1]))

    def score(counts: np.ndarray) -> np.ndarray:
        totals = counts.sum(axis=0)[index].sum(axis=1)  # pool seeds, then resample documents
        return _f1(totals[..., 0], totals[..., 1], totals[..., 2])[:, scored].mean(axis=1)

    differences = score(b) - score(a)
    return np.percentile(differences, [2.5, 97.5]).round(4).tolist()


# ---------------------------------------------------------------------- the report
def markdown_table(record: dict[str, Any]) -> str:
    """The comparison as a Markdown table (for training/README.md)."""
    a, b = record["a"], record["b"]
    header = f"A = `{a['config_file']}`{_seeds_note(a)}, B = `{b['config_file']}`{_seeds_note(b)}"
    if len(a["folders"]) == len(b["folders"]) == 1:
        return _one_each_table(header, record["measures"])
    lines = [
        header,
        "",
        "| measure | A mean (min to max, sd) | B mean (min to max, sd) | B - A per seed | "
        "B - A mean (95% t-interval) | B - A paired bootstrap 95% |",
        "|---|---|---|---|---|---|",
    ]
    for row in record["measures"]:
        diff = row["difference"]
        interval = diff.get("t_interval_95")
        boot = diff.get("bootstrap_95")
        lines.append(
            f"| {row['label']} | {_spread_cell(row['a'])} | {_spread_cell(row['b'])} | "
            + " / ".join(f"{d:+.3f}" for d in diff["per_seed"])
            + f" | {diff['mean']:+.3f}"
            + (f" ({interval[0]:+.3f} to {interval[1]:+.3f})" if interval else "")
            + f" | {f'{boot[0]:+.3f} to {boot[1]:+.3f}' if boot else ''} |"
        )
    return "\n".join(lines) + "\n"


def _one_each_table(header: str, rows: list[dict[str, Any]]) -> str:
    """Two models, one a side: their values and the difference (no seed spread to show)."""
    lines = [header, "", "| measure | A | B | B - A | B - A paired bootstrap 95% |"]
    lines.append("|---|---|---|---|---|")
    for row in rows:
        boot = row["difference"].get("bootstrap_95")
        lines.append(
            f"| {row['label']} | {row['a']['mean']:.3f} | {row['b']['mean']:.3f} | "
            f"{row['difference']['mean']:+.3f} | "
            f"{f'{boot[0]:+.3f} to {boot[1]:+.3f}' if boot else ''} |"
        )
    return "\n".join(lines) + "\n"


def _seeds_note(side: dict[str, Any]) -> str:
    return f" (seeds {', '.join(map(str, side['seeds']))})" if side["seeds"] else ""


def _spread_cell(s: dict[str, Any]) -> str:
    if len(s["values"]) == 1:
        return f"{s['mean']:.3f} (one model)"
    sd = f", sd {s['sd']:.3f}" if s["sd"] is not None else ""
    return f"{s['mean']:.3f} ({s['min']:.3f} to {s['max']:.3f}{sd})"


def choose(record: dict[str, Any]) -> str:
    """The recipe the fixed rule picks: the higher seed mean on the primary measure (A on a
    tie: the change must earn its place)."""
    primary = next((r for r in record["measures"] if r["measure"] == "primary"), None)
    if primary is None:
        return "a"
    return "b" if primary["b"]["mean"] > primary["a"]["mean"] else "a"


__all__ = [
    "MEASURES",
    "CompareOptions",
    "RecipeRuns",
    "choose",
    "compare",
    "compare_models",
    "markdown_table",
    "paired_bootstrap",
    "paired_difference",
    "primary_of",
    "spread",
    "summarize",
]
