"""int8 linear layers, and the wrappers that keep outliers out of their one input scale (see
:mod:`argmine.runtime`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


class Int8Linear(nn.Module):
    """A linear layer with int8 weights (one symmetric scale per output channel) whose input is
    quantized on the fly, one scale per call: the arithmetic of torch's dynamically quantized
    ``Linear`` (fbgemm's ``linear_dynamic``, same packed weights, same results), built in one
    step. torch's ``quantize_dynamic`` packs a placeholder of every weight's full size before the
    real one (``python benchmarks/int8_build_benchmark.py``)."""

    def __init__(self, packed: torch.ScriptObject, in_features: int, out_features: int) -> None:
        super().__init__()
        self.packed = packed
        self.in_features = in_features
        self.out_features = out_features

    @classmethod
    def from_float(cls, linear: nn.Linear) -> Int8Linear:
        """The int8 version of ``linear`` (its weights are read, not changed)."""
        from torch.ao.quantization.observer import PerChannelMinMaxObserver

        weight = linear.weight.detach().float()
        observer = PerChannelMinMaxObserver(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
        observer(weight)
        scales, zero_points = observer.calculate_qparams()
        qweight = torch.quantize_per_channel(
            weight, scales.double(), zero_points.long(), 0, torch.qint8
        )
        bias = None if linear.bias is None else linear.bias.detach().float()
        packed = torch.ops.quantized.linear_prepack(qweight, bias)
        return cls(packed, linear.in_features, linear.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic(x, self.packed, reduce_range=True).to(x.dtype)

    def bias(self) -> torch.Tensor | None:
        """The float bias (as torch's quantized ``Linear.bias()``)."""
        return torch.ops.quantized.linear_unpack(self.packed)[1]

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


class FirstTokenApart(nn.Module):
    """A dynamically quantized linear layer that computes each sequence's first token apart.

    In the default's encoder that token ([CLS]) is the loudest at every feed-forward input,
    3.3-8.0x the median token's on CDCP dev (``python benchmarks/precision_units.py
    --first-token``). Dynamic quantization takes one scale for the whole input, so that one token's
    magnitude rounds every other token's activations coarsely. Apart, the other tokens get a
    scale of their own; the first token gets its own scale too (``weight`` None) or runs in
    float32 (``weight``: the layer's float weights)."""

    def __init__(self, quantized: nn.Module, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.quantized = quantized
        self.register_buffer("weight", weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3 or x.shape[1] < 2:
            return self.quantized(x)
        first, rest = x[:, :1].contiguous(), x[:, 1:].contiguous()
        if self.weight is None:
            head = self.quantized(first)
        else:
            head = functional.linear(first, self.weight, self.quantized.bias())
        return torch.cat([head, self.quantized(rest)], dim=1)


class Smoothed(nn.Module):
    """A dynamically quantized linear layer whose input channels were rescaled (SmoothQuant).

    Its float weights were multiplied, per input channel ``j``, by ``s_j`` before quantization, and
    the input is divided by ``s_j`` here, so the product is unchanged in exact arithmetic; with
    ``s_j = max|x_j|^alpha / max|W_:,j|^(1 - alpha)`` the few loud input channels (the activation
    outliers of transformer feed-forward layers) become quiet enough that one dynamic scale for
    the whole input no longer rounds every other channel coarsely, and the weights, quantized per
    output channel, absorb the difference (Xiao et al. 2023, https://arxiv.org/abs/2211.10438)."""

    def __init__(self, quantized: nn.Module, inverse_scale: torch.Tensor) -> None:
        super().__init__()
        self.quantized = quantized
        self.register_buffer("inverse_scale", inverse_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.quantized(x * self.inverse_scale)


class OutliersApart(nn.Module):
    """A dynamically quantized linear layer whose few loud input channels run in float32.

    A trained transformer's outliers sit in a handful of fixed input channels (in the accurate
    model, 1-4 per layer reach more than 6x the median channel's maximum on CDCP train, up to
    47x, in 29 of its 72 linear layers). Dynamic quantization takes one scale for the whole
    input, so those channels round every other one coarsely. Here they are zeroed in the
    quantized layer's input and their share of the product is added in float32 (the
    mixed-precision decomposition of Dettmers et al. 2022, https://arxiv.org/abs/2208.07339,
    with the channels chosen once on calibration texts): the int8 product covers the quiet
    channels at a fine scale, the float product costs ``len(channels) / in_features`` of the
    layer."""

    def __init__(
        self,
        quantized: nn.Module,
        in_features: int,
        channels: torch.Tensor,
        outlier_weight: torch.Tensor,
    ) -> None:
        super().__init__()
        self.quantized = quantized
        self.register_buffer("channels", channels)
        self.register_buffer("outlier_weight", outlier_weight)
        keep = torch.ones(in_features, dtype=outlier_weight.dtype)
        keep[channels] = 0.0
        self.register_buffer("keep", keep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        loud = x.index_select(-1, self.channels)
        return self.quantized(x * self.keep) + functional.linear(loud, self.outlier_weight)


def outlier_channels(input_maxima: torch.Tensor, ratio: float) -> torch.Tensor:
    """The input channels whose calibration maximum exceeds ``ratio`` times the median
    channel's: the ones :class:`OutliersApart` computes in float32."""
    if ratio <= 1.0:
        raise ValueError(f"the outlier ratio is above 1 (times the median channel), got {ratio}")
    threshold = ratio * input_maxima.float().median()
    return torch.nonzero(input_maxima.float() > threshold).flatten()


def smoothing_scales(
    input_maxima: torch.Tensor, weight: torch.Tensor, alpha: float
) -> torch.Tensor:
    """SmoothQuant's per-input-channel scales for a layer of ``weight`` (out, in) whose inputs
    reach at most ``input_maxima`` (in,) in absolute value on calibration texts; ``alpha`` moves
    the difficulty from activations (0) to weights (1)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"the smoothing alpha is between 0 and 1, got {alpha}")
    if input_maxima.shape != (weight.shape[1],):
        raise ValueError(
            f"{weight.shape[1]} input channels, but {tuple(input_maxima.shape)} maxima"
        )
    weight_maxima = weight.detach().abs().amax(dim=0).float()
    scales = input_maxima.float().clamp(min=1e-5).pow(alpha) / weight_maxima.clamp(min=1e-5).pow(
        1.0 - alpha
    )
    return scales.clamp(min=1e-5)


class InputMaxima:
    """Records, for named linear layers, each input channel's largest absolute activation over
    whatever runs through them while the recorder is open (the calibration of :class:`Smoothed`).

        with InputMaxima(encoder) as maxima:
            miner.pipe(calibration_texts)
        maxima.by_layer  # {layer name: tensor (in_features,)}
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.by_layer: dict[str, torch.Tensor] = {}
        self._hooks: list = []

    def __enter__(self) -> InputMaxima:
        for name, layer in self.module.named_modules():
            if isinstance(layer, nn.Linear):
                self._hooks.append(layer.register_forward_hook(self._recorder(name)))
        return self

    def __exit__(self, *exc) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()

    def _recorder(self, name: str):
        def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            x = inputs[0].detach()
            channels = x.reshape(-1, x.shape[-1]).abs().amax(dim=0).float()
            seen = self.by_layer.get(name)
            self.by_layer[name] = channels if seen is None else torch.maximum(seen, channels)

        return record
