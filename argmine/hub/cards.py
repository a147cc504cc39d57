"""Model cards: ``README.md`` in a model folder, written from what the folder holds.

The card is regenerated, never hand-edited: its numbers come from ``results/*.json`` (written by
``argmine evaluate --model-card``) and its training description from ``training_config.json``
(written by ``argmine train``), so every number in it is reproduced by the command printed
beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LICENCES = {
    "cdcp": "ODbL 1.0 (contents DbCL 1.0): Park & Cardie 2018; split of Niculae et al. 2017",
    "microtexts": "CC BY-NC-SA 4.0: Peldszus & Stede 2015",
    "contactpoint": "annotated by the argmine project; see corpus/contactpoint/",
    "semeval2020-task5": "use with citation (the organisers' terms): Yang et al. 2020, "
    "SemEval-2020 Task 5: Counterfactual Recognition",
}

CROSS_VALIDATION_NOTE = """
Cross-validation over documents (seeded folds): each fold trains a fresh model from the base
encoder with the named config on the other folds of this corpus alone, then predicts types and
relations on the held-out fold's gold units. `*_macro_f1` averages the F1 of both classes (of
all three for function: central, support, attack), as Peldszus & Stede report; `*_f1` is the
F1 of the positive class (is the central claim; is attached to)."""

BOOTSTRAP_NOTE = """
The intervals are 95% percentile bootstrap intervals over the documents (1,000 resamples,
seed 13): how far the score could move on another sample of documents like these. (Comparing two
models on the same documents is a paired question; the interval of each is not that test.)"""

INTENDED_USE = """\
## Intended use
Finding conclusions, claims and evidence and their support/attack links in English argumentative
prose of the kind it was trained on: public comments on regulations, short argumentative texts,
opinion articles on policy. Output is a starting point for analysis or annotation (it can be
exported to brat/INCEpTION for correction), not a verdict on any text.

## Limits
- Its argument heads learned from about 700 documents from three sources; it knows their
  annotation schemes, not the full variety of argumentative writing. Expect lower scores on
  other genres and on essays.
- Every component has at most one outgoing relation (the decoder builds a forest), as in the
  training data; texts whose units support several claims lose the extra links.
- `counterfactual`, `antecedent` and `consequent` were learned from news sentences (SemEval-2020
  Task 5); in argumentative prose the detector sees units, not sentences, and its threshold was
  chosen on those news sentences.
- English only. The training data's licence includes CC BY-NC-SA 4.0 (microtexts): check it
  before commercial use of this model.
"""


def write_model_card(folder: str | Path) -> Path:
    """(Re)write ``folder/README.md`` from the folder's config and results."""
    folder = Path(folder)
    path = folder / "README.md"
    path.write_text(render_model_card(folder), encoding="utf-8")
    return path


def render_model_card(folder: Path) -> str:
    config = _read(folder / "config.json")
    training = _read(folder / "training_config.json")
    stages = _read(folder / "training_stages.json", empty=[])
    results = {p.stem: _read(p) for p in sorted((folder / "results").glob("*.json"))}
    seeds = results.pop("seeds", None)
    name = config.get("name", folder.name)
    parts = [
        f"# {name} {config.get('version', '')}".rstrip(),
        "",
        "An argmine pipeline: segmentation (BIO tagger), component types (conclusion / claim / "
        f"evidence), support/attack relations, on {_base_description(config)}. Load it with "
        f"`argmine.load({name!r})` or `argmine.load(path)`.{_fetch_hint(config)}",
        "",
        _notes(folder),
        _training_section(training, stages),
        _results_section(results, folder),
        _seed_section(seeds),
        INTENDED_USE,
        _storage_section(config),
    ]
    return "\n".join(part for part in parts if part is not None)


def _base_description(config: dict[str, Any]) -> str:
    """Which base encoder the model sits on, how it was adapted, and the base's licence."""
    from argmine.hub.bases import KNOWN_BASES

    base = config.get("base_model", "")
    known = KNOWN_BASES.get(base)
    licence = f", {known.licence}" if known else ""
    lora = config.get("lora")
    how = (
        f"LoRA adapters (r={lora.get('r')}, alpha={lora.get('alpha')})"
        if lora
        else "full fine-tuning"
    )
    return f"the base encoder `{base}`{licence}, adapted by {how}"


def _fetch_hint(config: dict[str, Any]) -> str:
    """For a base that is not installed with argmine: the one command that fetches it."""
    from argmine.hub.bases import KNOWN_BASES

    known = KNOWN_BASES.get(config.get("base_model", ""))
    if known is None or known.packaged:
        return ""
    return f" Its base is not installed with argmine; fetch it once with `{known.fetch_command}`."


NOTES_FILE = "card_notes.md"
"""Hand-written notes kept in the model folder (how it was trained, what was not measured);
the card shows them under "Notes", since everything else in it is generated."""


def _notes(folder: Path) -> str | None:
    path = folder / NOTES_FILE
    if not path.is_file():
        return None
    return "## Notes\n" + path.read_text(encoding="utf-8").strip() + "\n"


def _training_section(training: dict[str, Any], stages: list[dict[str, Any]]) -> str:
    if not training:
        return "## Training\nNo training record in this folder.\n"
    if not stages:
        body = _stage_description(training)
    else:
        steps = [*stages, training]
        body = (
            f"Trained in {len(steps)} stages, each starting from the model of the one before; "
            f"`argmine train --config {training.get('config_file')}` runs them all (an earlier "
            "stage whose output folder already holds its model is reused).\n\n"
        ) + "\n".join(
            f"### Stage {k}: `{step.get('config_file')}`\n{_stage_description(step)}"
            for k, step in enumerate(steps, start=1)
        )
    return (
        "## Training\n"
        f"{body}\n"
        f"{_auxiliary_heads(training)}"
        "Decoding settings are chosen at the end of training on the dev corpora, from the short "
        'lists in the config: the prior on "no target" and the score below which a relation is '
        "left out (`min_score`), the prior on the conclusion type, whether units are cut at "
        "sentence boundaries, and the counterfactual detector's threshold. Dev scores below "
        "are measured with the settings chosen on them.\n"
    )


def _stage_description(training: dict[str, Any]) -> str:
    """One run's corpora (with licences), hyper-parameters and the command that repeats it."""
    rows = "\n".join(
        f"| {s['name']} | {s.get('split') or 'all'} | {s.get('repeat', 1)} | "
        f"{s.get('sample') or 'all'} | {LICENCES.get(s['name'], 'see the corpus folder')} |"
        for s in training.get("train", [])
    )
    hyper = ", ".join(
        f"{k}={training[k]}" for k in HYPER_PARAMETERS if training.get(k) not in (None, False)
    )
    config_file = training.get("config_file", "training/configs/default.json")
    return (
        "| corpus | split | repeat | documents an epoch | licence |\n|---|---|---|---|---|\n"
        f"{rows}\n\n"
        f"Hyper-parameters: {hyper}. Reproduce: `argmine train --config {config_file}` "
        f"(on {training.get('encoder', 'its base')}).\n"
    )


HYPER_PARAMETERS = (
    "init_from",
    "freeze_encoder",
    "epochs",
    "batch_size",
    "encoder_lr",
    "head_lr",
    "dropout",
    "max_length",
    "average_from",
    "seed",
)


def _auxiliary_heads(training: dict[str, Any]) -> str:
    weights = training.get("loss_weights", {})
    lines = []
    # training_config.json files written before the head's rename name it "native"
    propositions = training.get("proposition_labels", training.get("native_labels"))
    if weights.get("proposition", weights.get("native")) and propositions:
        lines.append(
            "It predicts each unit's proposition type as the source corpus defines it "
            f'(`attributes["proposition_type"]`: {", ".join(propositions)}).'
        )
    if weights.get("counterfactual") or weights.get("counterfactual_tags"):
        lines.append(
            "Its counterfactual heads (`counterfactual`, `counterfactual_score`, `antecedent`, "
            "`consequent`) were trained on SemEval-2020 Task 5 (Yang, Obadinma, Zhao, Zhang, "
            "Matwin and Zhu 2020: SemEval-2020 Task 5: Counterfactual Recognition, SemEval-2020), "
            "whose terms ask for that citation; see corpus/semeval2020-task5/ATTRIBUTION.md."
        )
    if distill := training.get("distill"):
        lines.append(
            f"It was distilled from `{distill['teacher']}`: every head also learned the "
            f"teacher's distributions (temperature {distill['temperature']}, weight "
            f"{distill['weight']}"
            + (
                f"; gold overruled it on {', '.join(distill['gold_wins'])}"
                if distill.get("gold_wins")
                else ""
            )
            + ")."
        )
    if weights.get("structure"):
        lines.append(
            "A training-only auxiliary head (not part of the saved model) also learned whether "
            "each unit receives and whether it sends a relation."
        )
    return " ".join(lines) + "\n\n" if lines else ""


def _results_section(results: dict[str, dict[str, Any]], folder: Path) -> str:
    if not results:
        return "## Results\nNo evaluation stored yet (`argmine evaluate --model-card`).\n"
    lines = ["## Results"]
    for name, scores in results.items():
        lines.append(f"\n### {name}\n")
        lines += _score_rows(scores)
        if "pooled" in scores:
            lines.append(CROSS_VALIDATION_NOTE)
        elif "intervals_95" in scores.get("given_units", {}):
            lines.append(BOOTSTRAP_NOTE)
        plots = _plots_drawn(folder, name)
        lines.append(f"\nReproduce: `{_command(scores)}{' --plots' if plots else ''}`")
        lines += _plots(name, plots, scores)
    return "\n".join(lines) + "\n"


PLOTS_FOLDER = "plots"
"""Where ``argmine evaluate --model-card --plots`` draws a model's plots (``NAME-PLOT.png``
and ``.svg`` for result ``NAME``); the card shows those of its results."""


def _plots_drawn(folder: Path, name: str) -> list[str]:
    """The plots of result ``name`` in the folder's plots/, in the card's order."""
    from argmine.evaluation.plots import PLOTS

    return [p for p in PLOTS if (folder / PLOTS_FOLDER / f"{name}-{p}.png").is_file()]


def _plots(name: str, shown: list[str], scores: dict[str, Any]) -> list[str]:
    """The result's plots (PNG, each linked to its SVG), by relative links; none if not drawn."""
    from argmine.evaluation.plots import PLOTS

    if not shown:
        return []
    lines = ["", "Plots (click one for its SVG): " + _reliability_note(scores), ""]
    for plot in shown:
        stem = f"{PLOTS_FOLDER}/{name}-{plot}"
        lines.append(f"[![{name}: {PLOTS[plot]}]({stem}.png)]({stem}.svg)")
    return lines


def _reliability_note(scores: dict[str, Any]) -> str:
    links = scores.get("diagnostics", {}).get("links")
    matrices = "confusion matrices count units (sentences for counterfactuals; rows: gold)"
    if not links or links["reliability"]["expected_calibration_error"] is None:
        return matrices + "."
    error = links["reliability"]["expected_calibration_error"]
    score = "P(link) x P(type | link)"
    if links.get("link_calibration"):
        score = (
            "calibrated to the probability that it is right (the model's link calibration, "
            "fitted on these dev documents: in-sample)"
        )
    return (
        f"{matrices}. The reliability diagram bins every link the decoder found on the gold "
        f"units (min_score 0) by its score, {score}, against the share that "
        f"join a gold source and target as link F1 counts them (expected calibration error "
        f"{error:.3f}); precision and recall are link F1's at each min_score (the model's: "
        f"{links['min_score']:g})."
    )


def _score_rows(scores: dict[str, Any]) -> list[str]:
    rows = ["| metric | value |", "|---|---|"]
    if "pooled" in scores:
        rows += [f"| {k} | {v:.3f} |" for k, v in scores["pooled"].items()]
        return rows
    if "given_units" in scores:
        rows += _argument_rows(scores["given_units"], scores["end_to_end"])
    if "counterfactual" in scores:
        cf = scores["counterfactual"]
        rows += [
            f"| counterfactuals ({cf['sentences']} sentences): {name} | {cf[key]['f1']:.3f} "
            f"(P {cf[key]['precision']:.3f}, R {cf[key]['recall']:.3f}) |"
            for name, key in (
                ("detection F1", "detection"),
                ("antecedent exact-match F1", "antecedent_exact"),
                ("consequent exact-match F1", "consequent_exact"),
            )
        ]
    return rows


def _argument_rows(gu: dict[str, Any], e2e: dict[str, Any]) -> list[str]:
    intervals = gu.get("intervals_95", {})
    rows = [
        f"| given units: component macro-F1 | {gu['component_macro_f1']:.3f}"
        f"{_ci(intervals.get('component_macro_f1'))} |",
        *(f"| given units: F1 {t} | {f:.3f} |" for t, f in gu["component_f1_per_type"].items()),
        f"| given units: link F1 | {gu['link']['f1']:.3f}{_ci(intervals.get('link_f1'))} |",
        f"| given units: relation-type accuracy on correct links | "
        f"{gu['relation_type_accuracy_on_correct_links']:.3f} |",
    ]
    if "proposition_type" in gu:
        pt = gu["proposition_type"]
        rows.append(f"| given units: proposition type macro-F1 | {pt['macro_f1']:.3f} |")
        rows += [f"| given units: F1 {t} | {f:.3f} |" for t, f in pt["f1_per_label"].items()]
    rows += [
        f"| end to end: component macro-F1 (half overlap) | "
        f"{e2e['component_overlap']['macro_f1']:.3f} |",
        f"| end to end: component macro-F1 (exact) | {e2e['component_exact']['macro_f1']:.3f} |",
        f"| end to end: relation F1 | {e2e['relation']['f1']:.3f} |",
    ]
    return rows


def _seed_section(seeds: dict[str, Any] | None) -> str | None:
    """Each headline score per training seed, with the spread (max - min); None without."""
    if not seeds or not seeds.get("runs"):
        return None
    runs = seeds["runs"]
    metrics = [k for k in runs[0] if k not in ("model", "seed")]
    header = "| metric | " + " | ".join(f"seed {r['seed']}" for r in runs) + " | mean | spread |"
    lines = ["### Seed spread", "", header, "|---" * (len(runs) + 3) + "|"]
    for metric in metrics:
        values = [r[metric] for r in runs if metric in r]
        cells = " | ".join(f"{v:.3f}" for v in values)
        mean, spread = sum(values) / len(values), max(values) - min(values)
        lines.append(f"| {metric} | {cells} | {mean:.3f} | {spread:.3f} |")
    lines += [
        "",
        "The same recipe trained with each seed, scored in float32 on the same dev documents "
        "(CDCP dev; SemEval-2020 Task 5 dev).",
        "",
        f"Reproduce: `{seeds.get('command')}` (after training each seed with "
        "`argmine train --config CONFIG --seed N -o FOLDER`)",
        "",
    ]
    return "\n".join(lines)


def _command(scores: dict[str, Any]) -> str:
    model = f" --model {scores['model_arg']}" if scores.get("model_arg") else ""
    if "pooled" in scores:
        return (
            f"argmine evaluate --corpus {scores.get('corpus')} --cross-validate "
            f"{scores.get('config')} --folds {scores.get('folds')} --seed {scores.get('seed')}"
            f"{model} --model-card"
        )
    split = f" --split {scores['split']}" if scores.get("split") else ""
    precision = f" --precision {scores['precision']}" if scores.get("precision") else ""
    return f"argmine evaluate{model} --corpus {scores.get('corpus')}{split}{precision} --model-card"


def _storage_section(config: dict[str, Any]) -> str:
    checksum = config.get("base_sha256") or config.get("base_embedding_sha256", "")
    stored = (
        "the LoRA adapters and the heads; every base weight is read from the base encoder"
        if config.get("lora")
        else "every weight but the frozen word embeddings, which are read from the base encoder"
    )
    calibration = ""
    ratio, smoothing = config.get("int8_outlier_ratio"), config.get("int8_smoothing")
    if ratio or smoothing:
        how = (
            f"input channels louder than {ratio:g}x the median in float32"
            if ratio
            else f"smoothing {smoothing}"
        )
        calibration = (
            "`int8_calibration.safetensors` (each encoder linear layer's largest input per "
            f'channel on CDCP train comments: `precision="int8"` runs {how}; written by '
            "`training/calibrate_int8.py`, which follows training), "
        )
    return (
        "## Files\n"
        f"`config.json` (architecture and labels), `model.safetensors` (float16: {stored} "
        f"`{config.get('base_model')}` and checked against sha256 `{checksum[:16]}...` on load), "
        f"{calibration}tokenizer files, `training_config.json`, `results/`.\n"
    )


def _read(path: Path, empty: Any = None) -> Any:
    """A JSON file's contents, or ``empty`` (default: an empty dict) when there is no file."""
    if not path.is_file():
        return {} if empty is None else empty
    return json.loads(path.read_text(encoding="utf-8"))


def _ci(bounds: list[float] | None) -> str:
    """`` (95% CI a to b)`` after a score, or nothing without an interval."""
    from argmine.evaluation.report import interval

    text = interval(bounds)
    return f" ({text})" if text else ""
