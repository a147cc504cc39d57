"""Writing a file all at once or not at all: a run killed at any moment (``kill -9``
included) leaves the previous file or the new one, never half of one.

Training checkpoints and the folder outputs of batch labelling (brat, AIF, Parquet) are written
through here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_atomically(path: Path, durable: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` for the block to write; renamed over ``path`` when the
    block ends, removed if it fails. ``durable``: the file and its folder are flushed to disk
    too, so the new file survives a power cut (checkpoints; slower)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if durable:
            _fsync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync(path.parent, os.O_RDONLY)


def atomic_write(path: Path, data: str | bytes, durable: bool = False) -> None:
    """Write ``data`` (text as UTF-8) to ``path``: all of the file or none."""
    with replaced_atomically(path, durable) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _fsync(path: Path, flags: int) -> None:
    try:
        fd = os.open(path, flags)
    except OSError:  # a folder cannot be opened on every platform; the rename is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
