"""The F0 saliency network and the two fixed maps between spectrogram and pitch axes.

* :class:`HarmonicStack` turns magnitude spectra ``(batch, channels, frames, 1024)`` (Spleeter's STFT
  bins) into a harmonic log-frequency stack ``(batch, 6, frames, 320)``: channel ``i`` holds the
  log-magnitude at ``h_i * f`` for every saliency-bin frequency ``f`` and ``h`` in (0.5, 1, 2, 3, 4, 5),
  so that a pitch's harmonics line up across channels (Bittner's HCQT idea, computed from the STFT).
* :class:`SalienceUNet` maps the stacks of the separated vocals and of the mixture to a saliency map
  ``(batch, frames, 320)`` in ``[0, 1]``.
* :func:`render_harmonics` draws a frame-wise F0 back onto the separator's grid as a harmonic comb
  ``(batch, 1, frames, 1024)``: the extra input of the F0-conditioned separator.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..f0 import N_PITCH_BINS, pitch_bin_frequencies
from ..spectral import MODEL_BINS, N_FFT, SAMPLE_RATE
from .unet import UNet

__all__ = [
    "BIN_HZ",
    "HARMONICS",
    "INPUT_CHANNELS",
    "SALIENCE_WIDTHS",
    "HarmonicStack",
    "SalienceUNet",
    "render_harmonics",
    "widen_vocals_only_state",
]

HARMONICS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
SALIENCE_WIDTHS = (16, 32, 64, 128)
BIN_HZ = SAMPLE_RATE / N_FFT
INPUT_CHANNELS = 2 * len(HARMONICS)  # the vocals' harmonic stack, then the mixture's
FIRST_LAYER_WEIGHT = "unet.encoder.0.conv.weight"


class HarmonicStack(nn.Module):
    """Magnitudes on Spleeter's linear bins -> log-magnitude harmonic stack on the pitch axis.

    Input ``(batch, channels, frames, 1024)``; channels are averaged (pitch is the same in both).
    Output ``(batch, len(HARMONICS), frames, 320)``, ``log1p`` of linearly interpolated magnitudes.
    """

    def __init__(self) -> None:
        super().__init__()
        position = np.outer(HARMONICS, pitch_bin_frequencies()) / BIN_HZ
        position = np.clip(position, 0, MODEL_BINS - 1.001)
        lower = np.floor(position).astype(np.int64)
        self.register_buffer("lower", torch.from_numpy(lower.reshape(-1)), persistent=False)
        self.register_buffer(
            "upper_weight", torch.from_numpy((position - lower).reshape(-1)).float(), persistent=False
        )

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        mono = magnitude.mean(dim=1)
        low = mono[..., self.lower]
        high = mono[..., self.lower + 1]
        stacked = torch.lerp(low, high, self.upper_weight)
        batch, frames = mono.shape[:2]
        return torch.log1p(stacked).reshape(batch, frames, len(HARMONICS), N_PITCH_BINS).transpose(1, 2)


class SalienceUNet(nn.Module):
    """Vocal F0 saliency from the separated vocals' magnitudes and the mixture's.

    The vocals' harmonic stack (channels 0-5 of the U-Net's input) and the mixture's (6-11) are read
    side by side: the mixture still holds the harmonics the separation removed or smeared.

    Input: ``vocals`` and ``mixture``, each ``(batch, channels, frames, 1024)`` magnitudes (any
    channel count: each is averaged over its channels), frames a multiple of 16. Output
    ``(batch, frames, 320)`` saliency in ``[0, 1]``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stack = HarmonicStack()
        self.unet = UNet(INPUT_CHANNELS, 1, widths=SALIENCE_WIDTHS, dropout_blocks=0)

    def stack_inputs(self, vocals: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
        """``(batch, 12, frames, 320)``: the vocals' harmonic stack, then the mixture's."""
        return torch.cat([self.stack(vocals), self.stack(mixture)], dim=1)

    def forward(self, vocals: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
        return self.unet(self.stack_inputs(vocals, mixture))[:, 0]


def widen_vocals_only_state(state: dict[str, torch.Tensor], *, prefix: str = "") -> dict[str, torch.Tensor]:
    """Tensors of a saliency network of an older ipysvs, which read the vocals' harmonic stack alone
    (first layer ``(16, 6, 5, 5)``), with zero weights for the mixture's stack (``(16, 12, 5, 5)``):
    the network then computes exactly what it did. Any other state is returned as it is.

    Args:
        state: tensor name -> tensor; the saliency network's names start with ``prefix``.
    """
    key = prefix + FIRST_LAYER_WEIGHT
    weight = state.get(key)
    if weight is None or weight.ndim != 4 or weight.shape[1] != len(HARMONICS):
        return state
    widened = weight.new_zeros(weight.shape[0], INPUT_CHANNELS, *weight.shape[2:])
    widened[:, : len(HARMONICS)] = weight
    return state | {key: widened}


def render_harmonics(hz: torch.Tensor, weight: torch.Tensor, *, bins: int = MODEL_BINS) -> torch.Tensor:
    """Draw a frame-wise F0 as a harmonic comb on Spleeter's bins: the conditioning input.

    Every harmonic ``h * f0`` below the top bin (11 kHz for all 1024) becomes a Gaussian peak one STFT
    bin (10.8 Hz) wide, so the comb stays sharp at high harmonics when the F0 is exact (user
    corrections keep their full precision; nothing is quantised to saliency bins).

    Args:
        hz: ``(batch, frames)`` F0 in Hz, 0 = unvoiced.
        weight: ``(batch, frames)`` in ``[0, 1]``: the comb's height (confidence; 1 for corrections).
        bins: how many of the lowest STFT bins to draw.

    Returns:
        ``(batch, 1, frames, bins)`` in ``[0, 1]``; unvoiced frames are all zero.
    """
    bins_hz = torch.arange(bins, dtype=hz.dtype, device=hz.device) * BIN_HZ
    f0 = hz.clamp_min(1.0).unsqueeze(-1)
    nearest = torch.round(bins_hz / f0).clamp_min(1) * f0
    comb = torch.exp(-0.5 * ((bins_hz - nearest) / BIN_HZ) ** 2)
    comb = comb * ((hz > 0) * weight).unsqueeze(-1)
    return comb.unsqueeze(1)
