"""The model worker: one thread runs the model, off the event loop, batching waiting requests."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from argmine.errors import describe
from argmine.graph import ArgumentGraph

logger = logging.getLogger("argmine.server")

DEFAULT_BATCH_SIZE = 1
"""Texts the worker parses in one ``pipe`` call when requests wait. 1 by default: a text's
graph then never depends on what other clients sent at the same time (with int8 precision,
the default on x86 CPUs, a batch's padding moves the quantisation scales, and a score near a
threshold can tip). Raise it for throughput under load where that does not matter, or with
float32 precision, whose graphs do not depend on the batch."""


class ParseFailed(Exception):
    """The model (or a format conversion) failed on one request: answered with a 500, or a
    422 when argmine refused the input itself (:class:`argmine.inputs.InputTextError`)."""

    def __init__(self, message: str, status_code: int = 500) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass
class _Job:
    texts: list[str]
    segments: list[Sequence[tuple[int, int]] | None]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    clean: bool = True


@dataclass
class ModelWorker:
    """Runs every parse on one thread, several waiting requests per ``pipe`` call.

    The model's forward pass already uses every core; one thread at a time keeps it from being
    run concurrently (never safe to assume for a torch model) and leaves the event loop free.
    """

    miner: Any
    max_batch: int = DEFAULT_BATCH_SIZE
    min_score: float | None = None
    """Passed to ``pipe``: relations scored below it are left out (None: the model's own)."""
    busy: bool = False
    _pending: deque[_Job] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="argmine-model")
    )

    @property
    def queued(self) -> int:
        return len(self._pending)

    async def parse(
        self,
        texts: list[str],
        segments: list[Sequence[tuple[int, int]] | None] | None = None,
        clean: bool = True,
    ) -> list[ArgumentGraph]:
        """Graphs for ``texts``, in order; raises :class:`ParseFailed` if the model fails."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        segments = list(segments or [None] * len(texts))
        job = _Job(list(texts), segments, loop.create_future(), loop, clean)
        with self._lock:
            self._pending.append(job)
        self._executor.submit(self._run_pending)
        return await job.future

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- on the worker thread
    def _run_pending(self) -> None:
        jobs = self._take_jobs()
        if not jobs:
            return  # an earlier call took them along
        self.busy = True
        try:
            self._run_jobs(jobs)
        finally:
            self.busy = False

    def _take_jobs(self) -> list[_Job]:
        """The oldest waiting job, and those after it while the batch stays within max_batch."""
        jobs: list[_Job] = []
        with self._lock:
            while self._pending:
                job = self._pending[0]
                size = sum(len(j.texts) for j in jobs) + len(job.texts)
                if jobs and (size > self.max_batch or job.clean != jobs[0].clean):
                    break
                jobs.append(self._pending.popleft())
        return [j for j in jobs if not j.future.cancelled()]  # the client went away

    def _run_jobs(self, jobs: list[_Job]) -> None:
        texts = [t for job in jobs for t in job.texts]
        segments = [s for job in jobs for s in job.segments]
        options: dict[str, Any] = {} if jobs[0].clean else {"clean": False}
        if self.min_score is not None:
            options["min_score"] = self.min_score
        try:
            graphs = list(
                self.miner.pipe(texts, batch_size=self.max_batch, segments=segments, **options)
            )
        except Exception as err:
            if len(jobs) > 1:  # one request's failure is its own: the others still get graphs
                for job in jobs:
                    self._run_jobs([job])
                return
            from argmine.inputs import InputTextError

            if isinstance(err, InputTextError):  # the client's input, not the server's fault
                _resolve(jobs[0], error=ParseFailed(f"cannot analyse this input: {err}", 422))
                return
            logger.exception("the model failed on a request of %d text(s)", len(texts))
            _resolve(jobs[0], error=ParseFailed(f"the model failed on this input: {describe(err)}"))
            return
        for job in jobs:
            mine, graphs = graphs[: len(job.texts)], graphs[len(job.texts) :]
            _resolve(job, result=mine)


def _resolve(job: _Job, result: Any = None, error: Exception | None = None) -> None:
    """Hand the outcome to the request's event loop (futures are not thread-safe)."""

    def settle() -> None:
        if job.future.done():  # cancelled: the client went away
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    job.loop.call_soon_threadsafe(settle)
