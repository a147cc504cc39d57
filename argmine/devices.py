"""Devices: where a model runs, chosen by name (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``).

One function decides, so the API and every command agree on what ``auto`` means (a GPU where
there is one) and an unavailable device is one clear error before any weight moves.
"""

from __future__ import annotations

import torch

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"


class DeviceError(ValueError):
    """A device name that is unknown, or names hardware this machine does not have."""


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """The torch device for ``name``; ``auto`` (or None) is CUDA, else MPS, else the CPU."""
    if name is None or str(name) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise DeviceError(f"unknown device {str(name)!r} (try {DEVICE_CHOICES})") from err
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {str(name)!r}: no cuda device available on this machine")
        if device.index is not None and device.index >= count:
            raise DeviceError(f"device {str(name)!r}: this machine has {count} CUDA device(s)")
    elif device.type == "mps" and not _mps_available():
        raise DeviceError(f"device {str(name)!r}: no mps device available on this machine")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unsupported device {str(name)!r} (try {DEVICE_CHOICES})")
    return device


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed-precision type for training on ``device``: bfloat16 on GPUs that support it."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()
