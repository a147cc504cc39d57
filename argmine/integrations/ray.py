"""Labelling on Ray Data: for a corpus too big for one machine (``pip install 'argmine[ray]'``).

Ray does the distributed part (reading in parallel, scheduling, retries, writing); argmine adds
one callable class, :class:`ArgumentMinerUDF`, that loads the model once per actor and labels a
batch of rows. The path is ``read_* -> map_batches`` (an actor pool) ``-> write_parquet``::

    import ray
    from argmine.integrations.ray import label_dataset

    ray.init(address="ray://head:10001")          # or ray.init() on one machine
    ds = ray.data.read_parquet("s3://bucket/comments/")
    labelled = label_dataset(ds, model="/shared/models/argmine-minilm-policy", workers=16)
    labelled.write_parquet("s3://bucket/comments-labelled/")

Each output row holds the input's columns (less the text, which the graph carries), the
``graph`` as JSON text, ``error`` (null, or why the row could not be labelled: the run goes on)
and ``n_components`` / ``n_relations``. The model folder must be readable from every node (a
shared file system, or the default model installed with argmine on each node).

Unlike ``argmine label``, this path has no resume of its own: re-running re-labels everything.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise ImportError("the Ray path needs Ray Data: pip install 'argmine[ray]'") from err
    return ray


class ArgumentMinerUDF:
    """For ``Dataset.map_batches``: the model is loaded once per actor, in ``__init__``.

    Takes and returns pandas DataFrames. A row whose text is missing, not a string, or makes
    the model fail gets ``graph = None`` and an ``error``; the other rows are unaffected.
    """

    def __init__(
        self,
        model: str | None = None,
        device: str = "cpu",
        text_column: str = "text",
        id_column: str | None = "id",
        keep_text: bool = False,
        threads: int | None = None,
    ) -> None:
        from argmine.batch.runner import ModelSpec

        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self.miner = ModelSpec(model, device).load()
        self.text_column = text_column
        self.id_column = id_column
        self.keep_text = keep_text

    def __call__(self, batch):  # pandas.DataFrame -> pandas.DataFrame
        from argmine.batch.runner import label_texts

        if self.text_column not in batch.columns:
            raise KeyError(
                f"no text column {self.text_column!r}; the columns are {list(batch.columns)}"
            )
        texts = [_plain_text(t) for t in batch[self.text_column].tolist()]
        ids = (
            [str(v) for v in batch[self.id_column].tolist()]
            if self.id_column in batch.columns
            else [None] * len(texts)
        )
        outcomes = label_texts(self.miner, texts)
        out = batch if self.keep_text else batch.drop(columns=[self.text_column])
        out = out.copy()
        out["graph"] = [_graph_json(g, i) for (g, _), i in zip(outcomes, ids, strict=True)]
        out["error"] = [error for _, error in outcomes]
        out["n_components"] = [len(g.components) if g else 0 for g, _ in outcomes]
        out["n_relations"] = [len(g.relations) if g else 0 for g, _ in outcomes]
        return out


def _plain_text(value: Any) -> Any:
    """pandas hands a missing string over as None, NaN or NA: all mean "no text"."""
    return None if _missing(value) else value


def _missing(value: Any) -> bool:
    import pandas as pd

    if value is None or isinstance(value, str):
        return value is None
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other containers are values, not "missing"
        return False


def _graph_json(graph, record_id: str | None) -> str | None:
    if graph is None:
        return None
    if record_id is not None:
        graph.metadata = {"id": record_id, **graph.metadata}
    return graph.to_json()


def label_dataset(
    dataset,
    model: str | Path | None = None,
    *,
    text_column: str = "text",
    id_column: str | None = "id",
    device: str = "cpu",
    workers: int = 2,
    batch_size: int = 16,
    num_cpus: float = 1,
    num_gpus: float | None = None,
    keep_text: bool = False,
):
    """``dataset`` with each row labelled, by a pool of ``workers`` actors (lazy, like Ray Data).

    ``num_cpus`` / ``num_gpus`` are what each actor reserves; with ``num_gpus=1``, pass
    ``device="cuda"``. The torch threads of each actor follow ``num_cpus``. An input in fewer
    blocks than ``workers`` (a pandas frame, one file) is split first (:func:`split_for_actors`);
    on a cluster with no CPU to spare, the pool grows to ``workers`` (:func:`actor_pool`).
    """
    ray = _ray()
    dataset = split_for_actors(dataset, workers, rows_per_block=batch_size)
    return dataset.map_batches(
        ArgumentMinerUDF,
        fn_constructor_kwargs={
            "model": None if model is None else str(model),
            "device": device,
            "text_column": text_column,
            "id_column": id_column,
            "keep_text": keep_text,
            "threads": max(1, int(num_cpus)),
        },
        batch_size=batch_size,
        batch_format="pandas",
        compute=actor_pool(ray, workers, num_cpus),
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    )


def split_for_actors(dataset, workers: int, rows_per_block: int = 16):
    """``dataset`` in enough blocks for ``workers`` actors to share it.

    Ray hands each block to one actor, so a dataset in one block (``from_pandas`` of one frame,
    one small file) keeps one actor busy and the others idle. A dataset known to have at least
    ``workers`` blocks is left as it is; any other is cut, as it streams, into blocks of at
    most ``rows_per_block`` rows (small blocks also even out the actors' loads). On a Ray too
    old for that, a dataset known to be in fewer blocks is repartitioned into ``workers``.
    """
    blocks = _estimated_blocks(dataset)
    if blocks is not None and blocks >= workers:
        return dataset
    if "target_num_rows_per_block" in inspect.signature(dataset.repartition).parameters:
        return dataset.repartition(target_num_rows_per_block=max(1, rows_per_block), strict=True)
    if blocks is not None:
        return dataset.repartition(workers)
    return dataset


def actor_pool(ray, workers: int, num_cpus: float):
    """The actor pool: ``workers`` actors, but never all the CPUs from the start.

    Reading or splitting the input runs as Ray tasks that need a CPU too; actors holding every
    CPU would leave them none, and the run would wait forever (with 2 actors on a 2-CPU
    machine). So where the cluster has no CPU to spare beside ``workers`` actors, the pool
    starts smaller and grows to ``workers`` as CPUs come free.
    """
    cpus = _cluster_cpus(ray)
    if num_cpus <= 0 or cpus - workers * num_cpus >= 1:
        return ray.data.ActorPoolStrategy(size=workers)
    start = max(1, min(workers, int((cpus - 1) // num_cpus)))
    return ray.data.ActorPoolStrategy(min_size=start, max_size=workers)


def _cluster_cpus(ray) -> float:
    """CPUs of the cluster Ray is connected to (or, not started yet, of this machine, which
    is what Ray starts with when the dataset runs)."""
    if ray.is_initialized():
        return float(ray.cluster_resources().get("CPU", 0))
    return float(os.cpu_count() or 1)


def _estimated_blocks(dataset) -> int | None:
    """How many blocks Ray plans for ``dataset`` before running it (None: not known yet, as
    for most reads). Ray has no public call for this on a lazy dataset."""
    for plan_name in ("_logical_plan", "_plan"):
        plan = getattr(dataset, plan_name, None)
        estimate = getattr(plan, "initial_num_blocks", None)
        if callable(estimate):
            try:
                return estimate()
            except Exception:  # an internal API: if it changes, fall back to splitting
                return None
    return None


def read_dataset(path: str | Path, input_format: str | None = None):
    """A Ray dataset from Parquet, JSONL or CSV files (a file, a folder, or a glob/URI)."""
    ray = _ray()
    name = str(path)
    kind = input_format or _format_of(name)
    if kind == "parquet":
        return ray.data.read_parquet(name)
    if kind == "jsonl":
        return ray.data.read_json(name, lines=True)
    if kind == "csv":
        return ray.data.read_csv(name)
    raise ValueError(f"cannot tell the format of {name}; pass input_format='parquet'|'jsonl'|'csv'")


def _format_of(name: str) -> str | None:
    lowered = name.lower().rstrip("/")
    for kind, suffixes in (
        ("parquet", (".parquet", ".pq")),
        ("jsonl", (".jsonl", ".ndjson", ".json")),
        ("csv", (".csv",)),
    ):
        if lowered.endswith(suffixes):
            return kind
    return "parquet"  # a folder or a bucket prefix: what Ray itself writes


def label_files(
    input_path: str | Path,
    output_path: str | Path,
    model: str | Path | None = None,
    *,
    input_format: str | None = None,
    **options: Any,
) -> None:
    """Read ``input_path``, label every row, write Parquet files under ``output_path``."""
    dataset = read_dataset(input_path, input_format)
    label_dataset(dataset, model, **options).write_parquet(str(output_path))


def graphs(table) -> list:
    """The :class:`ArgumentGraph` of each labelled row of a pandas DataFrame (None on error)."""
    from argmine.graph import ArgumentGraph

    return [None if _missing(g) else ArgumentGraph.from_dict(json.loads(g)) for g in table["graph"]]
