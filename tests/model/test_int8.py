"""int8 layers that compute each sequence's first token apart (argmine.model.int8)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from argmine.model.int8 import FirstTokenApart
from argmine.runtime import int8_supported, quantize_linear_layers

pytestmark = pytest.mark.skipif(not int8_supported(), reason="int8 needs an x86 CPU")


def _layers() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 16), nn.Linear(16, 16))


def _inputs() -> torch.Tensor:
    torch.manual_seed(1)
    x = torch.randn(3, 6, 16)
    x[:, 0] *= 200  # the first token's activations dwarf the others', as [CLS]'s do
    return x


def _error_on_later_tokens(model: nn.Module, reference: nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x)[:, 1:] - reference(x)[:, 1:]).abs().max())


def test_a_loud_first_token_apart_keeps_the_other_tokens_precise():
    reference, x = _layers(), _inputs()
    together = quantize_linear_layers(_layers())
    apart = quantize_linear_layers(_layers(), first_token="apart")
    assert all(isinstance(layer, FirstTokenApart) for layer in apart)
    assert (
        _error_on_later_tokens(apart, reference, x)
        < _error_on_later_tokens(together, reference, x) / 10
    )


def test_the_first_token_in_float32_is_the_float_layer_on_that_token():
    reference, x = _layers(), _inputs()
    in_float = quantize_linear_layers(_layers(), first_token="float32")
    with torch.no_grad():
        first = in_float[0](x)[:, 0]
        expected = reference[0](x)[:, 0]
    assert torch.allclose(first, expected, atol=1e-5)
    assert in_float[0](x).shape == (3, 6, 16)


def test_single_tokens_and_unknown_modes():
    layer = quantize_linear_layers(_layers(), first_token="apart")
    assert layer(torch.randn(4, 16)).shape == (4, 16)  # no sequence axis: one quantized call
    assert layer(torch.randn(2, 1, 16)).shape == (2, 1, 16)
    with pytest.raises(ValueError, match="first_token"):
        quantize_linear_layers(_layers(), first_token="first")
