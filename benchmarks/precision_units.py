"""Which int8 variant keeps the units float32 finds? Per-layer sensitivity of the unit tagger.

Runs the model end to end (units predicted) over CDCP dev and the ContactPoint article in
float32, then in int8 variants that keep some linear layers in float32 (``--keep`` patterns,
fnmatch over the encoder's module names), and reports for each variant the share of float32's
units it finds exactly (same start, end and type), the documents whose units differ, the
end-to-end exact component F1 against gold (and its difference to float32's), and its encoder
time relative to float32 on the same documents in the same process.

    python benchmarks/precision_units.py                      # the default model, standard variants
    python benchmarks/precision_units.py --model argmine-mpnet-policy
    python benchmarks/precision_units.py --variant 'ffn-out=*.output.dense'
    python benchmarks/precision_units.py --only 'int8, first token apart'
    python benchmarks/precision_units.py --first-token   # how loud each layer's first token is
    python benchmarks/precision_units.py --model argmine-mpnet-policy --no-int8 --smooth 0.5 0.8
    python benchmarks/precision_units.py --model argmine-mpnet-policy --no-int8 --outliers 4 6 10
    python benchmarks/precision_units.py --precision bfloat16   # on a CPU with native bfloat16
    python benchmarks/precision_units.py --model argmine-mpnet-policy --precision bfloat16 --no-int8

Writes ``benchmarks/results/precision-units[-NAME].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import argmine
from argmine.corpus import load_graphs
from argmine.evaluation import end_to_end_scores
from argmine.hub.registry import DEFAULT_MODEL
from argmine.runtime import FIRST_TOKEN_MODES, quantize_linear_layers
from argmine.training.int8_calibration import CALIBRATION_COMMENTS, cdcp_train_maxima

RESULTS = Path(__file__).parent / "results"
STANDARD_VARIANTS = {
    "int8 (every linear layer)": [],
    "int8, feed-forward output in float32": ["*.output.dense"],
    "int8, feed-forward in float32": ["*.output.dense", "*.intermediate.dense"],
    "int8, last layer in float32": ["encoder.layer.{last}.*"],
    "int8, first and last layers in float32": ["encoder.layer.0.*", "encoder.layer.{last}.*"],
}
FIRST_TOKEN_VARIANTS = {
    "int8, first token apart": "apart",
    "int8, first token in float32": "float32",
}
"""Every linear layer in int8, the first token of each sequence computed apart
(:class:`argmine.model.int8.FirstTokenApart`)."""


def unit_keys(graph) -> set[tuple[int, int, str]]:
    return {(c.start, c.end, c.type) for c in graph.components}


def run(miner, texts: list[str]) -> tuple[list, float]:
    started = time.perf_counter()
    graphs = list(miner.pipe(texts, batch_size=8))
    return graphs, time.perf_counter() - started


def first_token_loudness(miner, texts: list[str]) -> list[tuple[str, float, float]]:
    """Per linear layer of the float32 encoder: how many times the median token's largest input
    activation the first token's is (median over sequences), and the share of sequences whose
    loudest token is the first (why :class:`argmine.model.int8.FirstTokenApart` exists)."""
    seen: dict[str, list[torch.Tensor]] = {}

    def record(name):
        def hook(module, inputs, output):
            loudness = inputs[0].detach().abs().amax(-1)  # (sequences, tokens)
            if loudness.dim() == 2 and loudness.shape[1] > 1:
                seen.setdefault(name, []).append(loudness)

        return hook

    layers = [
        (name, module)
        for name, module in miner.model.encoder.named_modules()
        if isinstance(module, torch.nn.Linear)
    ]
    hooks = [module.register_forward_hook(record(name)) for name, module in layers]
    try:
        run(miner, texts)
    finally:
        for hook in hooks:
            hook.remove()
    rows = []
    for name, batches in seen.items():
        ratios, first_loudest = [], []
        for loudness in batches:
            ratios.append(loudness[:, 0] / loudness[:, 1:].median(dim=1).values)
            first_loudest.append(loudness.argmax(dim=1) == 0)
        ratio = torch.cat(ratios).median().item()
        rows.append((name, ratio, torch.cat(first_loudest).float().mean().item()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=PATTERN,...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--precision", dest="model_precisions", action="append", default=[],
        help="also a whole-model precision (bfloat16)",
    )  # fmt: skip
    parser.add_argument("--no-int8", action="store_true", help="skip the standard int8 variants")
    parser.add_argument(
        "--smooth", nargs="+", type=float, default=[], metavar="ALPHA",
        help="also int8 smoothed SmoothQuant-style with these alphas, calibrated on CDCP train",
    )  # fmt: skip
    parser.add_argument(
        "--smooth-keep", nargs="+", default=[], metavar="PATTERN",
        help="linear layers the smoothed and outlier variants keep in float32 (fnmatch)",
    )  # fmt: skip
    parser.add_argument(
        "--smooth-first-token", choices=FIRST_TOKEN_MODES, default="with-the-rest",
        help="how the smoothed and outlier variants compute each sequence's first token",
    )  # fmt: skip
    parser.add_argument(
        "--outliers", nargs="+", type=float, default=[], metavar="RATIO",
        help="also int8 with input channels louder than RATIO x the median channel in float32",
    )  # fmt: skip
    parser.add_argument("--tag", help="written to precision-units[-MODEL][-TAG].json")
    parser.add_argument(
        "--calibration", type=int, default=CALIBRATION_COMMENTS, metavar="N",
        help="CDCP train comments whose activation maxima calibrate --smooth",
    )  # fmt: skip
    parser.add_argument("--only", nargs="+", metavar="VARIANT", help="run only these variants")
    parser.add_argument(
        "--first-token", action="store_true",
        help="only measure how loud each layer's first token is (float32, CDCP dev)",
    )  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gold = load_graphs("cdcp", split="dev") + load_graphs("contactpoint")  # the article last
    texts = [g.text for g in gold]
    if args.first_token:
        miner = argmine.load(args.model, precision="float32")
        for name, ratio, loudest in first_token_loudness(miner, texts[:-1]):
            print(
                f"{name:<45} first token {ratio:5.1f}x the median token, loudest in {loudest:.0%}"
            )
        return
    reference = argmine.load(args.model, precision="float32")
    layers = len(reference.model.encoder.encoder.layer)
    variants = {}
    if not args.no_int8:
        variants = {name: (keep, "with-the-rest") for name, keep in STANDARD_VARIANTS.items()}
        variants.update({name: ([], mode) for name, mode in FIRST_TOKEN_VARIANTS.items()})
    for spec in args.variant:
        name, patterns = spec.split("=", 1)
        variants[name] = (patterns.split(","), "with-the-rest")
    calibrated = args.smooth or args.outliers
    maxima = cdcp_train_maxima(reference, args.calibration) if calibrated else {}
    smoothed = {f"int8, smoothed (alpha {alpha})": alpha for alpha in args.smooth}
    apart = {f"int8, outlier channels apart (> {r:g}x median)": r for r in args.outliers}
    smoothing = (args.smooth_keep, args.smooth_first_token)
    variants.update({name: smoothing for name in [*smoothed, *apart]})
    float_graphs, float_seconds = run(reference, texts)
    rows = [summary("float32", float_graphs, float_graphs, gold, float_seconds, float_seconds)]
    if args.model_precisions:  # whole-model precisions the CPU offers, e.g. bfloat16
        for precision in args.model_precisions:
            graphs, seconds = run(argmine.load(args.model, precision=precision), texts)
            rows.append(summary(precision, graphs, float_graphs, gold, seconds, float_seconds))
    for name, (patterns, first_token) in variants.items():
        if args.only and name not in args.only:
            continue
        patterns = [p.replace("{last}", str(layers - 1)) for p in patterns]
        miner = argmine.load(args.model, precision="float32")
        miner.model.encoder = quantize_linear_layers(
            miner.model.encoder,
            keep_float=patterns,
            first_token=first_token,
            input_maxima=maxima if name in smoothed or name in apart else None,
            alpha=smoothed.get(name, 0.5),
            outlier_ratio=apart.get(name),
        )
        miner.precision = "int8"
        graphs, seconds = run(miner, texts)
        rows.append(summary(name, graphs, float_graphs, gold, seconds, float_seconds, patterns))
    for row in rows:
        print(
            f"{row['variant']:<45} units as float32 {row['same_units']:.4f} "
            f"({row['documents_differing']} docs differ, article {row['article_same']}) "
            f"e2e exact F1 {row['e2e_exact_f1']:.4f} ({row['e2e_exact_f1_change']:+.4f}) "
            f"time x{row['time_vs_float32']:.2f}"
        )
    suffix = "" if args.model == DEFAULT_MODEL else f"-{args.model}"
    suffix += f"-{args.tag}" if args.tag else ""
    out = RESULTS / f"precision-units{suffix}.json"
    out.write_text(
        json.dumps(
            {
                "model": args.model,
                "command": "python benchmarks/precision_units.py " + " ".join(sys.argv[1:]),
                "documents": len(texts),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {out}")


def summary(name, graphs, float_graphs, gold, seconds, float_seconds, patterns=()) -> dict:
    found = sum(len(unit_keys(g) & unit_keys(f)) for g, f in zip(graphs, float_graphs, strict=True))
    total = sum(len(unit_keys(f)) for f in float_graphs)
    differing = sum(unit_keys(g) != unit_keys(f) for g, f in zip(graphs, float_graphs, strict=True))
    f1 = exact_f1(graphs[:-1], gold[:-1])
    return {
        "variant": name,
        "float32_layers": list(patterns),
        "same_units": found / max(total, 1),
        "documents_differing": differing,
        "article_same": unit_keys(graphs[-1]) == unit_keys(float_graphs[-1]),
        "e2e_exact_f1": f1,
        "e2e_exact_f1_change": f1 - exact_f1(float_graphs[:-1], gold[:-1]),
        "time_vs_float32": seconds / float_seconds,
    }


def exact_f1(predicted, gold) -> float:
    """End-to-end exact component macro-F1 on CDCP dev (what the model card reports)."""
    return end_to_end_scores(gold, predicted)["component_exact"]["macro_f1"]


if __name__ == "__main__":
    main()
