"""Training checkpoints: one file, written atomically, read back with clear errors.

A checkpoint holds everything a training run needs to go on exactly where it stopped: the
trained weights, the optimiser and scheduler, every random number generator, and the position
in the batch order. It is written to a temporary file beside the target, flushed to disk and
renamed over the old one, so a run killed at any moment (``kill -9`` included) leaves either
the previous checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from argmine.files import replaced_atomically

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = "argmine-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, partial or from another run; names the file."""


def checkpoint_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / CHECKPOINT_NAME


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename, fsync folder)."""
    with replaced_atomically(path, durable=True) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The state saved at ``path``, or a :class:`CheckpointError` saying what is wrong."""
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}: nothing to resume (run without --resume to start over)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several unrelated types on a truncated file
        raise CheckpointError(
            f"checkpoint {path} is corrupt or partial ({type(err).__name__}); delete it and "
            "run without --resume to start over"
        ) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an argmine training checkpoint")
    return state


def remove_checkpoint(path: Path) -> None:
    """Delete a finished run's checkpoint (it is large and no longer needed)."""
    path.unlink(missing_ok=True)


def rng_states() -> dict[str, Any]:
    """Every global random state training draws from (dropout, shuffles), in a loadable form."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {
        "python": random.getstate(),
        "numpy": [kind, keys.tolist(), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(as_random_state(states["python"]))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def as_random_state(value: Any) -> Any:
    """``Random.setstate`` wants the nested tuples ``getstate`` gave (a round trip lists them)."""
    return tuple(as_random_state(v) for v in value) if isinstance(value, (list, tuple)) else value
