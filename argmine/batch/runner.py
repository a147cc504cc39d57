"""Labelling a corpus: records in, one output record per input record, resumable.

The run reads the records in input order, labels them a batch at a time (in this process, or
in worker processes that each load the model once) and appends the results to the journal in
the same order. So the journal is always a prefix of the input: a restarted run counts the
records the journal holds, checks that their ids match the input's first records, and labels
only the rest. A record that fails (no text, a text that is not a string, a model error) is
written with an ``error`` and no graph; the run goes on.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from argmine.batch.journal import OutputError, RecordStats, Tally
from argmine.batch.readers import Record, Source
from argmine.batch.writers import Output
from argmine.inputs import SURROGATE

Result = tuple[str, RecordStats]
"""One finished record: its JSON line and what the summary needs from it."""


@dataclass
class ModelSpec:
    """Which model to load, and where: given to each worker, which loads it once."""

    path: str | None = None
    device: str = "cpu"
    min_score: float | None = None
    """Passed to ``pipe``: relations scored below it are left out (None: the model's own)."""
    precision: str = "auto"
    clean: bool = True
    """Mask page chrome (each graph lists what was masked); False analyses everything."""

    def folder(self) -> Path:
        from argmine.hub.registry import resolve_model

        return resolve_model(self.path)

    def identity(self) -> tuple[str, str] | None:
        """``(name, version)`` from the model's config, to tell whether a resumed output used it."""
        from argmine.hub.folders import CONFIG_NAME, read_model_json

        try:
            config = read_model_json(self.folder() / CONFIG_NAME)
        except OSError:  # ModelLoadError among them
            return None
        return config.get("name"), config.get("version")

    def check(self) -> None:
        """Raise ModelLoadError now if the model folder is missing, before workers start."""
        from argmine.hub.folders import CONFIG_NAME, ModelLoadError

        folder = self.folder()
        if not (folder / CONFIG_NAME).is_file():
            what = "the default model is not installed" if self.path is None else "no model"
            raise ModelLoadError(f"{what} at {folder} (no config.json); pass --model PATH")

    def load(self):
        from argmine.pipeline import ArgumentMiner

        return ArgumentMiner.from_pretrained(
            self.folder(), device=self.device, precision=self.precision
        )


@dataclass
class RunReport:
    """What a run did: the counts over the whole output, and this run's share of the time."""

    tally: Tally
    seconds: float
    labelled: int
    total: int
    output: Output

    def lines(self) -> list[str]:
        """The end-of-run summary, a few lines for a human."""
        t = self.tally
        rate = self.labelled / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"documents: {t.documents}"
            + (f" ({t.resumed} done by an earlier run)" if t.resumed else "")
            + f", written to {self.output.path} ({self.output.format})",
            "components: " + _counts(t.components),
            "relations: " + _counts(t.relations),
            f"errors: {t.errors}" + (" (records with an error field)" if t.errors else ""),
            f"masked: {t.masked_words:,} words of page chrome in {t.masked_documents} documents "
            "(listed in each graph's metadata 'masked'; --no-clean analyses everything)"
            if t.masked_documents
            else "masked: nothing",
            f"time: {self.seconds:.1f} s for {self.labelled} documents ({rate:.1f} documents/s)",
        ]
        return lines


def _counts(counter) -> str:
    if not counter:
        return "none"
    total = sum(counter.values())
    return f"{total} (" + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) + ")"


def label_corpus(
    source: Source,
    output: Output,
    model: ModelSpec,
    *,
    batch_size: int = 16,
    workers: int = 1,
    overwrite: bool = False,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Label every record of ``source`` into ``output``, resuming what an earlier run began.

    ``on_start(done, total)`` is called once the resume point is known, ``on_progress(n)``
    after each batch of ``n`` records is safely written.
    """
    started = time.perf_counter()
    model.check()
    output.prepare(overwrite)
    journal = output.journal
    done = journal.recover()
    check_resumable(done, source, output, model)
    tally = Tally(resumed=len(done))
    for stats in done:
        tally.add(stats)
    if on_start is not None:
        on_start(len(done), len(source))
    todo = skip_done(source.records(skip=len(done)), done, output)
    labelled = 0
    with journal.appender() as appender:
        for results in label_batches(todo, model, batch_size, workers):
            appender.write_batch([line for line, _ in results])
            for _, stats in results:
                tally.add(stats)
            labelled += len(results)
            if on_progress is not None:
                on_progress(len(results))
    output.finish()
    return RunReport(tally, time.perf_counter() - started, labelled, len(source), output)


def check_resumable(done: list[RecordStats], source: Source, output: Output, model) -> None:
    """An output can be resumed only from the same input and with the same model."""
    start_again = "use a new output, or --overwrite to start again"
    if len(done) > len(source):
        raise OutputError(
            f"{output.path} holds {len(done)} records but the input only {len(source)}: "
            f"it was written from another input; {start_again}"
        )
    used = next((s.model for s in done if s.model is not None), None)
    current = model.identity()
    if used is not None and current is not None and tuple(used) != tuple(current):
        raise OutputError(
            f"{output.path} was labelled by model {used[0]} {used[1]}, this run uses "
            f"{current[0]} {current[1]}; {start_again}"
        )


def skip_done(records: Iterator[Record], done: list[RecordStats], output: Output):
    """The records after the ``done`` prefix, checking that the prefix has the same ids."""
    for index, record in enumerate(records):
        if index < len(done):
            if record.id != done[index].id:
                raise OutputError(
                    f"record {index} of {output.path} has id {done[index].id!r} but the input's "
                    f"has {record.id!r}: the output was written from another input; use a new "
                    "output, or --overwrite to start again"
                )
            continue
        yield record


# ---------------------------------------------------------------------------- labelling
def label_batches(
    records: Iterable[Record], model: ModelSpec, batch_size: int, workers: int
) -> Iterator[list[Result]]:
    """Results batch by batch, in input order; no model is loaded when there is nothing to do."""
    batches = _batched(records, batch_size)
    first = next(batches, None)
    if first is None:
        return
    batches = chain([first], batches)
    if workers <= 1:
        miner = model.load()
        for batch in batches:
            yield label_batch(miner, batch, clean=model.clean, min_score=model.min_score)
    else:
        yield from _label_in_pool(batches, model, workers)


def _batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    records = iter(records)
    while batch := list(islice(records, size)):
        yield batch


def label_batch(
    miner, batch: list[Record], clean: bool = True, min_score: float | None = None
) -> list[Result]:
    """Results for one batch; a record that cannot be labelled gets an error, not an exception."""
    texts = [None if record.error else record.text for record in batch]
    outcomes = label_texts(miner, texts, clean=clean, min_score=min_score)
    return [
        result_of(record, graph, record.error or error)
        for record, (graph, error) in zip(batch, outcomes, strict=True)
    ]


def label_texts(
    miner, texts: list[Any], clean: bool = True, min_score: float | None = None
) -> list[tuple[Any, str | None]]:
    """``(graph, None)`` or ``(None, why)`` for each text, in order: never raises for one text.

    The texts are parsed as one batch; if the batch fails, one by one to find the culprit.
    """
    outcomes: list[tuple[Any, str | None]] = [(None, _text_problem(t)) for t in texts]
    todo = [i for i, (_, problem) in enumerate(outcomes) if problem is None]
    if not todo:
        return outcomes
    options = _parse_options(clean, min_score)
    try:
        graphs = list(miner.pipe([texts[i] for i in todo], batch_size=len(todo), **options))
        for i, graph in zip(todo, graphs, strict=True):
            outcomes[i] = (graph, None)
    except Exception:
        for i in todo:
            try:
                outcomes[i] = (miner.parse(texts[i], **options), None)
            except Exception as err:
                outcomes[i] = (None, f"{type(err).__name__}: {err}")
    return outcomes


def _parse_options(clean: bool, min_score: float | None) -> dict[str, Any]:
    """The ``pipe``/``parse`` options that differ from their defaults (so that miners without
    an option, such as test doubles, still work when it is not used)."""
    options: dict[str, Any] = {} if clean else {"clean": False}
    if min_score is not None:
        options["min_score"] = min_score
    return options


def _text_problem(text: Any) -> str | None:
    if isinstance(text, str):
        from argmine.inputs import InputTextError, check_encodable

        try:
            check_encodable(text)
        except InputTextError as err:  # the same message as parse's, as the record's error
            return f"{type(err).__name__}: {err}"
        return None
    kind = "null" if text is None else type(text).__name__
    return f"the text is {kind}, not a string"


def result_of(record: Record, graph, error: str | None) -> Result:
    """The output record's JSON line: id, kept fields, graph (with the id in its metadata)."""
    graph_dict = None
    if graph is not None:
        graph.metadata = {"id": record.id, **graph.metadata}
        graph_dict = graph.to_dict()
    data = {"id": record.id, **record.fields, "graph": graph_dict, "error": error}
    line = json.dumps(data, ensure_ascii=False, default=str)
    if SURROGATE.search(line):  # a kept field or id UTF-8 cannot hold: JSON escapes keep it
        line = json.dumps(data, ensure_ascii=True, default=str)
    return line, RecordStats.of(data)


# ---------------------------------------------------------------------------- worker processes
_WORKER_MINER: Any = None
_WORKER_LOAD_ERROR: Exception | None = None
_WORKER_MODEL: ModelSpec | None = None


def _init_worker(model: ModelSpec, threads: int) -> None:
    """Runs once in each worker: load the model; leave Ctrl-C to the parent, which stops us.

    A load error is kept and raised by the first task, so the parent gets the error itself
    rather than a broken pool.
    """
    global _WORKER_MINER, _WORKER_LOAD_ERROR, _WORKER_MODEL
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_MODEL = model
    _exit_with_parent()
    import torch

    torch.set_num_threads(threads)
    try:
        _WORKER_MINER = model.load()
    except Exception as err:
        _WORKER_LOAD_ERROR = err


def _exit_with_parent(interval: float = 0.5) -> None:
    """Exit when the parent dies (``kill -9`` gives it no chance to stop us): a watch thread."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="argmine-parent-watch", daemon=True).start()


def _label_in_worker(batch: list[Record]) -> list[Result]:
    if _WORKER_LOAD_ERROR is not None:
        raise _WORKER_LOAD_ERROR
    return label_batch(
        _WORKER_MINER, batch, clean=_WORKER_MODEL.clean, min_score=_WORKER_MODEL.min_score
    )


def _label_in_pool(
    batches: Iterator[list[Record]], model: ModelSpec, workers: int
) -> Iterator[list[Result]]:
    """Batches spread over ``workers`` processes; results yielded in input order.

    At most two batches per worker are in flight, so memory stays flat on any corpus size.
    Workers are started with ``spawn``: a fresh interpreter, safe with torch's threads.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(model, threads),
    )
    pending: deque = deque()
    try:
        for batch in batches:
            pending.append(pool.submit(_label_in_worker, batch))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool as err:
        raise WorkerError(
            "a worker process died (out of memory?); run the same command again to resume"
        ) from err
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class WorkerError(RuntimeError):
    """A worker process died; what was written so far is kept."""
