"""Reading a ``.safetensors`` file into tensors without an intermediate copy.

On 2 AMD EPYC cores ``safetensors.torch.load(bytes)`` took a median 1.89 s for the 438 MB
MPNet base, and reading each tensor's bytes straight into its own memory 0.30 s
(``benchmarks/weights_read_benchmark.py``); a memory map (``load_file``) is paid later, page
by page, with a copy of every page the adapters are merged into. The format is simple and fixed
(`safetensors format <https://github.com/huggingface/safetensors#format>`_): an 8-byte
little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
then the bytes. Writing stays with safetensors' ``save_file``.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import BinaryIO

import torch

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
"""The safetensors dtypes argmine's files use (and a few more), by their header names."""


class WeightsFileError(ValueError):
    """A file that is not a well-formed safetensors file; the message says what is wrong."""


def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor in the safetensors file at ``path``, each read straight into its own memory.

    One read per tensor, no intermediate copy; each tensor owns its storage, so one that a
    precision change replaces is freed. Raises :class:`WeightsFileError` for a truncated or
    malformed file, ``OSError`` when the file cannot be read.
    """
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        header, start = _header(handle, size)
        tensors = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            dtype, shape, begin, end = _placement(name, entry, start, size)
            raw = torch.empty(end - begin, dtype=torch.uint8)
            handle.seek(begin)
            if handle.readinto(memoryview(raw.numpy())) != end - begin:
                raise WeightsFileError(f"{name}: file ends inside its bytes")
            tensors[name] = raw.view(dtype).view(shape)
    return tensors


def _header(handle: BinaryIO, size: int) -> tuple[dict, int]:
    """The JSON header and where the tensor bytes start."""
    prefix = handle.read(8)
    if len(prefix) < 8:
        raise WeightsFileError("shorter than a safetensors header")
    (length,) = struct.unpack("<Q", prefix)
    if length > size - 8:
        raise WeightsFileError(f"header of {length} bytes in a file of {size}")
    try:
        header = json.loads(handle.read(length))
    except (UnicodeDecodeError, ValueError) as err:
        raise WeightsFileError(f"header is not JSON: {err}") from err
    if not isinstance(header, dict):
        raise WeightsFileError("header is not a JSON object")
    return header, 8 + length


def _placement(name: str, entry: object, start: int, size: int):
    """A header entry's dtype, shape and byte range in the file, checked against the file."""
    try:
        dtype = DTYPES[entry["dtype"]]
        shape = [int(n) for n in entry["shape"]]
        begin, end = (start + int(offset) for offset in entry["data_offsets"])
    except (KeyError, TypeError, ValueError) as err:
        raise WeightsFileError(f"{name}: bad header entry {entry!r}") from err
    itemsize = torch.empty((), dtype=dtype).element_size()
    if not start <= begin <= end <= size or end - begin != math.prod(shape) * itemsize:
        raise WeightsFileError(f"{name}: bytes {begin}-{end} do not hold {shape} {dtype}")
    return dtype, shape, begin, end
