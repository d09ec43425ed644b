"""The F0 saliency network and the two fixed maps between spectrogram and pitch axes.

* :class:`HarmonicStack` turns magnitude spectra ``(batch, channels, frames, 1024)`` (Spleeter's STFT
  bins) into a harmonic log-frequency stack ``(batch, 6, frames, 320)``: channel ``i`` holds the
  log-magnitude at ``h_i * f`` for every saliency-bin frequency ``f`` and ``h`` in (0.5, 1, 2, 3, 4, 5),
  so that a pitch's harmonics line up across channels (Bittner's HCQT idea, computed from the STFT).
* :class:`SalienceUNet` maps that stack to a saliency map ``(batch, frames, 320)`` in ``[0, 1]``.
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

__all__ = ["BIN_HZ", "HARMONICS", "SALIENCE_WIDTHS", "HarmonicStack", "SalienceUNet", "render_harmonics"]

HARMONICS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
SALIENCE_WIDTHS = (16, 32, 64, 128)
BIN_HZ = SAMPLE_RATE / N_FFT


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
    """Vocal F0 saliency from magnitude spectra (of a mixture or of separated vocals).

    Input ``(batch, channels, frames, 1024)`` magnitudes, frames a multiple of 16; output
    ``(batch, frames, 320)`` saliency in ``[0, 1]``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stack = HarmonicStack()
        self.unet = UNet(len(HARMONICS), 1, widths=SALIENCE_WIDTHS, dropout_blocks=0)

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        return self.unet(self.stack(magnitude))[:, 0]


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
