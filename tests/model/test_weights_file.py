"""argmine's safetensors reader returns what safetensors wrote, and says what is wrong with a
file that is not one."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from argmine.model.weights_file import WeightsFileError, read_safetensors


@pytest.fixture
def written(tmp_path):
    tensors = {
        "float": torch.randn(3, 5),
        "half": torch.randn(7).half(),
        "bfloat": torch.randn(2, 2).bfloat16(),
        "long": torch.arange(4),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
        "bytes": torch.arange(3, dtype=torch.uint8),  # odd sizes: later tensors stay readable
    }
    path = tmp_path / "weights.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt"})
    return path


def test_reads_what_safetensors_wrote_every_dtype_and_shape(written):
    expected, found = load_file(str(written)), read_safetensors(written)
    assert found.keys() == expected.keys()
    for name, tensor in expected.items():
        assert found[name].dtype == tensor.dtype and found[name].shape == tensor.shape, name
        assert torch.equal(found[name], tensor), name


def test_each_tensor_owns_its_memory(written):
    found = read_safetensors(written)
    found["float"].add_(1)  # e.g. merging adapters into a weight
    assert torch.equal(found["half"], load_file(str(written))["half"])
    pointers = {t.untyped_storage().data_ptr() for t in found.values() if t.numel()}
    assert len(pointers) == sum(1 for t in found.values() if t.numel())


def header_file(tmp_path, header: object, data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"1234", "do not hold"),
        ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"12345678", "do not hold"),
        ({"w": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}, b"12345678", "bad header"),
        ({"w": {"shape": [2]}}, b"", "bad header"),
        (["not", "an", "object"], b"", "not a JSON object"),
    ],
)
def test_a_malformed_file_is_an_error_naming_what_is_wrong(tmp_path, header, data, message):
    with pytest.raises(WeightsFileError, match=message):
        read_safetensors(header_file(tmp_path, header, data))


def test_a_truncated_or_garbled_file_is_an_error(tmp_path, written):
    whole = written.read_bytes()
    short = tmp_path / "short.safetensors"
    for cut, message in [(4, "shorter than"), (len(whole) - 3, "do not hold")]:
        short.write_bytes(whole[:cut])
        with pytest.raises(WeightsFileError, match=message):
            read_safetensors(short)
    short.write_bytes(struct.pack("<Q", 10**9) + b"{}")
    with pytest.raises(WeightsFileError, match="header of"):
        read_safetensors(short)
    short.write_bytes(struct.pack("<Q", 4) + b"{no}")
    with pytest.raises(WeightsFileError, match="not JSON"):
        read_safetensors(short)
