"""Reduced precision for the refiner's and the saliency network's inference on CPUs that compute
bfloat16 natively.

The refiner's U-Nets run 1.6-2.5x faster under bfloat16 autocast on a CPU with AVX-512 BF16 or AMX
(``benchmarks/bench_precision.py``), the saliency network's 1.3-1.5x (``benchmarks/bench_pitch.py``;
the figures are in ``benchmarks/RESULTS.md``). Only inference uses it -- never a step that computes
gradients -- and only the U-Nets' bodies: the refiner's gate, logit and sigmoid of the mask change stay
float32, so a frame whose gate is zero is still separated exactly as the pretrained separator
separates it, and the saliency network's harmonic stack and decoding stay float32. The pretrained
separator never uses it (its masks would move by more than 1e-3: ``benchmarks/RESULTS.md``, section 7).

``$IPYSVS_PRECISION``: ``auto`` (the default: bfloat16 where the CPU computes it natively, else
float32) or ``float32`` (always; the same numbers on every machine).
"""

from __future__ import annotations

import contextlib
import functools
import os

import torch

from ..errors import ParameterError

__all__ = ["PRECISIONS", "PRECISION_ENV", "inference_autocast", "native_bfloat16", "reduced_precision"]

PRECISION_ENV = "IPYSVS_PRECISION"
PRECISIONS = ("auto", "float32")


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 convolutions natively (oneDNN with AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without the probe: assume not
        return False


def reduced_precision() -> bool:
    """Whether inference runs under bfloat16 autocast here (``$IPYSVS_PRECISION`` and the CPU).

    Raises:
        ParameterError: ``$IPYSVS_PRECISION`` is set to something else than ``auto`` or ``float32``.
    """
    setting = os.environ.get(PRECISION_ENV, "auto").strip().lower() or "auto"
    if setting not in PRECISIONS:
        raise ParameterError(
            f"{PRECISION_ENV} must be one of {', '.join(PRECISIONS)}, got {setting!r:.40}; "
            "unset it for the default"
        )
    return setting == "auto" and native_bfloat16()


def inference_autocast() -> contextlib.AbstractContextManager:
    """bfloat16 autocast on the CPU while no gradients are computed and :func:`reduced_precision`
    holds; otherwise a context that changes nothing. Cast what it computes back with ``.float()``."""
    if torch.is_grad_enabled() or not reduced_precision():
        return contextlib.nullcontext()
    return torch.autocast("cpu", dtype=torch.bfloat16)
