"""What joining a counterfactual's two halves does: CDCP dev end to end with and without it.

Each model encodes the CDCP dev comments once (float32) and decodes them twice, with its own
decoding settings and with ``join_counterfactual_halves`` off, so the two rows differ only in
that step (paired, deterministic). Per model: the comments whose units change, component F1
(overlap and exact, macro) and relation F1 of both, and whether the ContactPoint promises hold
(:mod:`argmine.evaluation.promises`) with and without the join.

    python benchmarks/join_halves.py argmine-minilm-policy argmine-mpnet-policy
"""

from __future__ import annotations

import argparse

import argmine
from argmine.corpus import load_graphs
from argmine.evaluation.promises import contactpoint_promises
from argmine.evaluation.scores import end_to_end_scores

BATCH = 16


def decoded_both_ways(miner, texts: list[str]) -> dict[str, list]:
    """Graphs of ``texts`` with the model's decoding (``on``) and without the join (``off``)."""
    settings = {"on": miner.decoding(), "off": miner.decoding(join_counterfactual_halves=False)}
    graphs: dict[str, list] = {name: [] for name in settings}
    for first in range(0, len(texts), BATCH):
        encoded = miner.encode_batch(texts[first : first + BATCH])
        for name, decoding in settings.items():
            graphs[name] += miner.decode_batch(encoded, decoding)
    return graphs


def units(graph) -> list[tuple[int, int]]:
    return [(c.start, c.end) for c in graph.components]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="model names or folders")
    args = parser.parse_args()
    gold = load_graphs("cdcp", split="dev")
    article = load_graphs("contactpoint")[0].text
    print(
        "| model | comments changed | off: overlap / exact / relation F1 | on: overlap / exact "
        "/ relation F1 | ContactPoint promises off -> on |"
    )
    print("|---|---|---|---|---|")
    for model in args.models:
        miner = argmine.load(model, precision="float32")
        graphs = decoded_both_ways(miner, [g.text for g in gold])
        changed = sum(
            units(a) != units(b) for a, b in zip(graphs["on"], graphs["off"], strict=True)
        )
        cells = []
        for name in ("off", "on"):
            scores = end_to_end_scores(gold, graphs[name])
            cells.append(
                f"{scores['component_overlap']['macro_f1']:.4f} / "
                f"{scores['component_exact']['macro_f1']:.4f} / {scores['relation']['f1']:.4f}"
            )
        article_graphs = decoded_both_ways(miner, [article])
        promises = {n: all(contactpoint_promises(g[0]).values()) for n, g in article_graphs.items()}
        kept = " -> ".join("kept" if promises[n] else "missed" for n in ("off", "on"))
        print(f"| {model} | {changed}/{len(gold)} | {cells[0]} | {cells[1]} | {kept} |", flush=True)


if __name__ == "__main__":
    main()
