"""int8 layers that compute each sequence's first token apart or smooth loud input channels
(argmine.model.int8)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from argmine.model.int8 import (
    FirstTokenApart,
    InputMaxima,
    Int8Linear,
    OutliersApart,
    Smoothed,
    outlier_channels,
    smoothing_scales,
)
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


def test_int8_linear_computes_what_torch_dynamic_quantization_does():
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    x = _inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torchs = quantize_dynamic(_layers(), {"0": per_channel_dynamic_qconfig}, torch.qint8)[0]
    ours = quantize_linear_layers(_layers())[0]
    assert isinstance(ours, Int8Linear) and not isinstance(ours, nn.Linear)
    with torch.no_grad():
        assert torch.equal(ours(x), torchs(x))
    assert torch.equal(ours.bias(), _layers()[0].bias.detach())
    assert "int8" in repr(ours)


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


def _mean_error(model: nn.Module, reference: nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x) - reference(x)).abs().mean())


def _loud_channel_inputs() -> torch.Tensor:
    torch.manual_seed(2)
    x = torch.randn(3, 6, 16)
    x[..., 5] *= 300  # one input channel dwarfs the others in every token, as outliers do
    return x


def test_smoothing_quiets_a_loud_input_channel():
    reference, x = _layers()[:1], _loud_channel_inputs()
    with InputMaxima(reference) as maxima, torch.no_grad():
        reference(x)
    assert torch.allclose(maxima.by_layer["0"], x.abs().amax(dim=(0, 1)))
    plain = quantize_linear_layers(_layers()[:1])
    smoothed = quantize_linear_layers(_layers()[:1], input_maxima=maxima.by_layer, alpha=0.5)
    assert isinstance(smoothed[0], Smoothed)
    assert _mean_error(smoothed, reference, x) < _mean_error(plain, reference, x) / 2


def test_smoothing_scales_keep_the_product_and_check_their_inputs():
    layer = _layers()[0]
    x = _loud_channel_inputs()
    scales = smoothing_scales(x.abs().amax(dim=(0, 1)), layer.weight, alpha=0.5)
    rescaled = nn.functional.linear(x / scales, layer.weight * scales, layer.bias)
    assert torch.allclose(rescaled, layer(x), atol=1e-3)
    assert scales[5] > 10 * scales.median()  # the loud channel is divided the most
    with pytest.raises(ValueError, match="alpha"):
        smoothing_scales(torch.ones(16), layer.weight, alpha=1.5)
    with pytest.raises(ValueError, match="input channels"):
        smoothing_scales(torch.ones(8), layer.weight, alpha=0.5)


def test_only_layers_with_maxima_are_smoothed():
    maxima = {"1": torch.ones(16)}
    layers = quantize_linear_layers(_layers(), input_maxima=maxima)
    assert not isinstance(layers[0], Smoothed) and isinstance(layers[1], Smoothed)


def test_float_layers_stay_float32_and_a_pattern_that_matches_nothing_is_an_error():
    layers = quantize_linear_layers(_layers(), keep_float=["1"])
    assert type(layers[1]) is nn.Linear and type(layers[0]) is not nn.Linear
    with pytest.raises(ValueError, match="no linear layer"):
        quantize_linear_layers(_layers(), keep_float=["*.output.dense"])


def test_loud_channels_apart_run_in_float32_and_the_rest_in_int8():
    reference, x = _layers()[:1], _loud_channel_inputs()
    maxima = {"0": x.abs().amax(dim=(0, 1))}
    assert outlier_channels(maxima["0"], ratio=6.0).tolist() == [5]
    plain = quantize_linear_layers(_layers()[:1])
    apart = quantize_linear_layers(_layers()[:1], input_maxima=maxima, outlier_ratio=6.0)
    assert isinstance(apart[0], OutliersApart)
    assert _mean_error(apart, reference, x) < _mean_error(plain, reference, x) / 10
    quiet = {"0": torch.ones(16)}  # no loud channel: a plain int8 layer
    assert not isinstance(
        quantize_linear_layers(_layers()[:1], input_maxima=quiet, outlier_ratio=6.0)[0],
        OutliersApart,
    )
    with pytest.raises(ValueError, match="outlier ratio"):
        outlier_channels(maxima["0"], ratio=0.5)
