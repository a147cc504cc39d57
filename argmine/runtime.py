"""Runtime settings: where a model runs (its device) and in what arithmetic (its precision).

One module decides both, so the API and every command agree on what ``auto`` means and an
unavailable device or precision is one clear error before any weight moves. torch is imported
where it is used: the command line's ``--help`` reads :data:`PRECISIONS` without it.

Devices are named ``auto`` (a GPU where there is one), ``cpu``, ``cuda``, ``cuda:1`` or ``mps``.
Precisions (``argmine.load(precision=...)``):
- ``float32``: the reference, exactly what the model was trained and evaluated with.
- ``int8``: the encoder's linear layers dynamically quantized to 8-bit integers (PyTorch's own
  dynamic quantization: weights stored as int8, activations quantized on the fly), on x86 CPUs.
  The heads, which are small, stay in float32.
- ``bfloat16``: the encoder's weights and arithmetic in bfloat16; fast only where the CPU has
  bfloat16 instructions (AVX512-BF16, AMX) or on a GPU, emulated and slow elsewhere.
- ``auto``: on a CPU, the precision the model's config names as keeping what float32 finds
  (``cpu_precision``), where this CPU runs it natively, else ``float32``; on a GPU, ``float32``. A
  cut unit is what a reader sees, so the choice is measured on units
  (``benchmarks/precision_units.py``): dynamic int8 found 87% of the shipped default's float32
  units on CDCP dev (97% with its feed-forward layers kept in float32) and cut two of the
  ContactPoint article's, so no shipped model names int8; bfloat16 found 99.5% (0.2.0; every unit
  of 0.3.0) and every unit of the article, in 0.73x the time end to end, so both shipped models
  name ``bfloat16``, which ``auto`` gives them on CPUs with bfloat16 instructions (AVX512-BF16,
  AMX) and nowhere else. Much of int8's loss is one token: each sequence's first ([CLS]) is the
  loudest at every feed-forward input, 3.3-8.0x the median token's
  (``benchmarks/precision_units.py --first-token``), and one dynamic scale for all tokens rounds
  the rest coarsely; computed apart (``quantize_linear_layers(first_token="apart")``) int8 found
  95.5% of the default's float32 units (still changing the article's) in 0.68-0.75x float32's time
  (plain int8 0.60-0.64x; four quiet runs of ``benchmarks/precision_units.py --precision
  bfloat16`` on 2 cores of an AVX-512 Xeon, where bfloat16 took 0.74-0.79x and kept every unit),
  so no model names ``int8`` as its ``cpu_precision``. A model folder may carry a calibration
  (``training/calibrate_int8.py``: per-channel activation maxima, and ``int8_smoothing`` or
  ``int8_outlier_ratio`` in its config), and then ``int8`` is smoothed SmoothQuant-style
  (:class:`argmine.model.int8.Smoothed`) or runs the loud input channels in float32
  (:class:`argmine.model.int8.OutliersApart`). The accurate model ships the latter (ratio 3):
  96.6% of float32's CDCP dev units and every unit of the article at 1.65x float32's speed on
  2 AVX2 cores, where plain int8 kept 30% (smoothing: 87.6%); still short of the 99% a
  ``cpu_precision`` needs (training/README, "int8 for the accurate model").

Training always runs in float32 (or bfloat16 autocast on a GPU); precision is a loading choice.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn

# ---------------------------------------------------------------------------- devices
DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"


class DeviceError(ValueError):
    """A device name that is unknown, or names hardware this machine does not have."""


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """The torch device for ``name``; ``auto`` (or None) is CUDA, else MPS, else the CPU."""
    import torch

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
    import torch

    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


# ---------------------------------------------------------------------------- precision
PRECISIONS: tuple[str, ...] = ("auto", "int8", "bfloat16", "float32")
CPU_PRECISIONS: tuple[str, ...] = ("float32", "bfloat16", "int8")
"""What a model's config may name for ``auto`` on a CPU (``cpu_precision``)."""


class PrecisionError(ValueError):
    """A precision that is unknown or cannot run on the chosen device."""


def resolve_precision(precision: str, device: torch.device, cpu_precision: str = "float32") -> str:
    """The concrete precision ``precision`` stands for on ``device``; ``cpu_precision`` is the
    model's choice for ``auto`` on a CPU (``int8``, ``bfloat16`` or ``float32``), taken where
    this CPU runs it natively."""
    if precision not in PRECISIONS:
        raise PrecisionError(
            f"unknown precision {precision!r} (choose from {', '.join(PRECISIONS)})"
        )
    if cpu_precision not in CPU_PRECISIONS:
        raise PrecisionError(
            f"a model's cpu_precision is one of {', '.join(CPU_PRECISIONS)}, not {cpu_precision!r}"
        )
    if precision == "auto":
        native = {"int8": int8_supported, "bfloat16": bfloat16_native, "float32": lambda: True}
        on_cpu = device.type == "cpu" and native[cpu_precision]()
        return cpu_precision if on_cpu else "float32"
    if precision == "int8" and device.type != "cpu":
        raise PrecisionError(f"int8 runs on the CPU only, not on {device.type}")
    if precision == "int8" and not int8_supported():
        raise PrecisionError(f"int8 needs an x86 CPU; this machine is {platform.machine()}")
    return precision


def int8_supported() -> bool:
    """Whether PyTorch has an int8 kernel library for this CPU (fbgemm/x86, AVX2 or better)."""
    import torch

    engines = torch.backends.quantized.supported_engines
    return platform.machine().lower() in ("x86_64", "amd64") and (
        "x86" in engines or "fbgemm" in engines
    )


def bfloat16_native() -> bool:
    """Whether this CPU has bfloat16 instructions oneDNN uses (else bfloat16 is emulated)."""
    import torch

    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check and check())


def apply_precision(
    encoder: nn.Module,
    precision: str,
    smoothing: Mapping[str, object] | None = None,
    input_maxima: Mapping[str, torch.Tensor] | None = None,
    float_layers: Sequence[str] = (),
    outlier_ratio: float | None = None,
) -> nn.Module:
    """The encoder converted for inference in ``precision`` (a concrete one, not ``auto``);
    int8 smoothed by ``smoothing`` (a model's ``int8_smoothing``: ``alpha``, ``first_token``)
    or with its loud input channels in float32 (``outlier_ratio``, a model's
    ``int8_outlier_ratio``), by the calibration ``input_maxima`` where the model has them,
    keeping the linear layers that match ``float_layers`` (``int8_float_layers``) in float32."""
    if precision == "int8":
        calibrated = bool(smoothing or outlier_ratio)  # maxima alone say nothing of their use
        smoothing = smoothing or {}
        return quantize_linear_layers(
            encoder,
            keep_float=float_layers,
            first_token=str(smoothing.get("first_token", "with-the-rest")),
            input_maxima=input_maxima if calibrated else None,
            alpha=float(smoothing.get("alpha", 0.5)),  # type: ignore[arg-type]
            outlier_ratio=outlier_ratio,
        )
    if precision == "bfloat16":
        import torch

        return encoder.to(torch.bfloat16)
    return encoder


FIRST_TOKEN_MODES: tuple[str, ...] = ("with-the-rest", "apart", "float32")
"""How int8 layers treat the first token of each sequence: quantized with the others (PyTorch's
plain dynamic quantization), quantized apart with its own scale, or computed in float32."""


def quantize_linear_layers(
    encoder: nn.Module,
    keep_float: Sequence[str] = (),
    first_token: str = "with-the-rest",
    input_maxima: Mapping[str, torch.Tensor] | None = None,
    alpha: float = 0.5,
    outlier_ratio: float | None = None,
) -> nn.Module:
    """Every ``nn.Linear`` of ``encoder`` as a dynamically quantized int8 layer, with one
    weight scale per output channel (a single scale per matrix lost 0.03 dev link F1 and 0.06
    proposition-type macro-F1 on the shipped model; per channel it was also faster here),
    except the layers whose module names match a ``keep_float`` pattern (fnmatch), which stay
    in float32. ``first_token`` (:data:`FIRST_TOKEN_MODES`) says how the first token of each
    sequence is computed (:class:`argmine.model.int8.FirstTokenApart`). ``input_maxima`` (each
    layer's largest absolute input per channel on calibration texts,
    :class:`argmine.model.int8.InputMaxima`) smooths the layers it names before quantizing them
    (:class:`argmine.model.int8.Smoothed`, SmoothQuant with ``alpha``), or, given
    ``outlier_ratio``, computes their input channels louder than that many times the median
    channel in float32 instead (:class:`argmine.model.int8.OutliersApart`). Converted in place:
    the float encoder is not copied first."""
    from torch import nn

    if first_token not in FIRST_TOKEN_MODES:
        raise ValueError(f"first_token must be one of {FIRST_TOKEN_MODES}, got {first_token!r}")
    linear = [name for name, module in encoder.named_modules() if isinstance(module, nn.Linear)]
    unmatched = [p for p in keep_float if not any(fnmatch(name, p) for name in linear)]
    if unmatched:  # a mistyped pattern would quietly quantize the layer it meant to keep
        raise ValueError(f"no linear layer of the encoder matches {unmatched} (kept in float32)")
    quantized = [name for name in linear if not any(fnmatch(name, p) for p in keep_float)]
    if outlier_ratio is None:
        inverse_scales = _smooth_weights(encoder, quantized, input_maxima or {}, alpha)
        outliers = {}
    else:
        inverse_scales = {}
        outliers = _take_outlier_columns(encoder, quantized, input_maxima or {}, outlier_ratio)
    float_weights = (  # the float layers are replaced, not changed: their weights stay valid
        {name: encoder.get_submodule(name).weight.detach() for name in quantized}
        if first_token == "float32"
        else {}
    )
    encoder.eval()
    for name, layer in zip(quantized, _int8_layers(encoder, quantized), strict=True):
        encoder.set_submodule(name, layer)
    if first_token != "with-the-rest":
        from argmine.model.int8 import FirstTokenApart

        for name in quantized:
            layer = FirstTokenApart(encoder.get_submodule(name), float_weights.get(name))
            encoder.set_submodule(name, layer)
    if inverse_scales:
        from argmine.model.int8 import Smoothed

        for name, inverse in inverse_scales.items():
            encoder.set_submodule(name, Smoothed(encoder.get_submodule(name), inverse))
    if outliers:
        from argmine.model.int8 import OutliersApart

        for name, (in_features, channels, weight) in outliers.items():
            layer = OutliersApart(encoder.get_submodule(name), in_features, channels, weight)
            encoder.set_submodule(name, layer)
    return encoder


def _int8_layers(encoder: nn.Module, names: Sequence[str]) -> list[nn.Module]:
    """The named linear layers as :class:`argmine.model.int8.Int8Linear`, built on as many
    threads as torch uses (the kernels release the GIL; the same packed weights, quicker:
    ``python benchmarks/int8_build_benchmark.py``)."""
    import torch

    from argmine.model.int8 import Int8Linear

    def build(name: str) -> nn.Module:
        return Int8Linear.from_float(encoder.get_submodule(name))

    with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
        return list(pool.map(build, names))


def _take_outlier_columns(
    encoder: nn.Module, names: Iterable[str], input_maxima: Mapping[str, torch.Tensor], ratio: float
) -> dict[str, tuple[int, torch.Tensor, torch.Tensor]]:
    """For each named layer with calibration maxima and loud input channels: its input width,
    those channels, and their float weight columns, which are zeroed in place (the int8 layer
    then sees only the quiet channels, and its per-output-channel weight scales fit them)."""
    import torch

    from argmine.model.int8 import outlier_channels

    taken = {}
    for name in names:
        if name not in input_maxima:
            continue
        layer = encoder.get_submodule(name)
        channels = outlier_channels(input_maxima[name], ratio)
        if len(channels) == 0:
            continue
        with torch.no_grad():
            columns = layer.weight[:, channels].clone()
            layer.weight[:, channels] = 0.0
        taken[name] = (layer.in_features, channels, columns)
    return taken


def _smooth_weights(
    encoder: nn.Module, names: Iterable[str], input_maxima: Mapping[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """Multiplies the float weights of the named layers that have calibration maxima by their
    SmoothQuant scales, in place, and returns the inverse scales their inputs are multiplied by."""
    import torch

    from argmine.model.int8 import smoothing_scales

    inverse_scales = {}
    for name in names:
        if name not in input_maxima:
            continue
        layer = encoder.get_submodule(name)
        scales = smoothing_scales(input_maxima[name], layer.weight, alpha)
        with torch.no_grad():
            layer.weight.mul_(scales.to(layer.weight.dtype))
        inverse_scales[name] = (1.0 / scales).to(layer.weight.dtype)
    return inverse_scales
