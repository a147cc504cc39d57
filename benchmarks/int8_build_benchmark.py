"""How long building the accurate model's int8 layers takes: torch's ``quantize_dynamic`` (how
argmine quantized before :class:`argmine.model.int8.Int8Linear`) against ``Int8Linear`` built one
layer after another and on torch's threads (what ``quantize_linear_layers`` does), interleaved in
one process on copies of the same float encoder; and whether the three give the same encoder
outputs.

    python benchmarks/int8_build_benchmark.py --repeats 4

Writes ``benchmarks/results/int8-build.json``. Run it on quiet cores.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
from torch import nn

import argmine
from argmine.model.int8 import Int8Linear
from argmine.runtime import _int8_layers

RESULTS = Path(__file__).parent / "results" / "int8-build.json"


def with_torch(encoder: nn.Module, names: list[str]) -> None:
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = dict.fromkeys(names, per_channel_dynamic_qconfig)
        quantize_dynamic(encoder.eval(), spec, torch.qint8, inplace=True)


def one_by_one(encoder: nn.Module, names: list[str]) -> None:
    for name in names:
        encoder.set_submodule(name, Int8Linear.from_float(encoder.get_submodule(name)))


def on_threads(encoder: nn.Module, names: list[str]) -> None:
    for name, layer in zip(names, _int8_layers(encoder, names), strict=True):
        encoder.set_submodule(name, layer)


WAYS = {
    "torch quantize_dynamic": with_torch,
    "Int8Linear": one_by_one,
    "Int8Linear, threads": on_threads,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="argmine-mpnet-policy")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    encoder = argmine.load(args.model, precision="float32").model.encoder
    names = [n for n, m in encoder.named_modules() if isinstance(m, nn.Linear)]
    seconds: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.repeats):
        for way, build in WAYS.items():
            copied = copy.deepcopy(encoder)
            started = time.perf_counter()
            build(copied, names)
            seconds[way].append(round(time.perf_counter() - started, 3))
    ids = torch.randint(5, 1000, (2, 40))
    outputs = []
    for build in WAYS.values():
        copied = copy.deepcopy(encoder)
        build(copied, names)
        with torch.no_grad():
            outputs.append(
                copied(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            )
    record = {
        "command": "python benchmarks/int8_build_benchmark.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "linear_layers": len(names),
        "threads": torch.get_num_threads(),
        "seconds": seconds,
        "median_s": {way: statistics.median(s) for way, s in seconds.items()},
        "identical_outputs": all(torch.equal(outputs[0], o) for o in outputs[1:]),
    }
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["median_s"]), "identical:", record["identical_outputs"])


if __name__ == "__main__":
    main()
