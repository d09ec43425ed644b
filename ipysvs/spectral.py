"""The spectral front end shared by the separator and the pitch models: Spleeter's STFT.

Conventions (Spleeter's): audio at 44.1 kHz, periodic Hann window of 4096 samples, hop 1024 samples
(23.2 ms), ``center=True`` framing with zero padding, so frame ``j`` is centred on sample ``j * 1024``.
The networks see bins ``0..1023`` (0..11 kHz) of the 2049.

Whole songs are processed frame-range by frame-range: :func:`stft_frames` computes any range of frames
from the waveform alone, and :class:`OverlapAdd` accumulates the inverse of any set of frames into an
output buffer. Chunked processing is therefore *exact*: the result equals a single ``torch.istft`` of
the whole song, with no seams at chunk edges.
"""

from __future__ import annotations

import torch

__all__ = [
    "HOP",
    "MODEL_BINS",
    "N_BINS",
    "N_FFT",
    "OVERLAP",
    "SAMPLE_RATE",
    "OverlapAdd",
    "frame_count",
    "frame_times",
    "hann_window",
    "stft_frames",
]

SAMPLE_RATE = 44_100
N_FFT = 4096
HOP = 1024
MODEL_BINS = 1024
N_BINS = N_FFT // 2 + 1
OVERLAP = N_FFT // HOP  # frames covering each sample


def hann_window() -> torch.Tensor:
    """The periodic Hann analysis/synthesis window, ``(N_FFT,)`` float32."""
    return torch.hann_window(N_FFT, periodic=True)


def frame_count(n_samples: int) -> int:
    """Number of STFT frames of a signal of ``n_samples`` samples (``center=True``)."""
    return n_samples // HOP + 1


def frame_times(n_frames: int) -> torch.Tensor:
    """Centre time of each frame in seconds, ``(n_frames,)`` float64."""
    return torch.arange(n_frames, dtype=torch.float64) * (HOP / SAMPLE_RATE)


def stft_frames(waveform: torch.Tensor, start: int, stop: int, window: torch.Tensor) -> torch.Tensor:
    """STFT frames ``start..stop-1`` of a waveform, zero beyond its ends.

    Args:
        waveform: ``(channels, samples)`` float32 at 44.1 kHz.
        start, stop: frame range; may extend past the song (those frames see zeros).
        window: :func:`hann_window`.

    Returns:
        ``(channels, N_BINS, stop - start)`` complex64 spectrum.
    """
    first = start * HOP - N_FFT // 2
    last = (stop - 1) * HOP + N_FFT // 2
    lo, hi = max(first, 0), min(last, waveform.shape[1])
    segment = waveform[:, lo:hi] if lo < hi else waveform[:, :0]
    segment = torch.nn.functional.pad(segment, (lo - first, last - first - (lo - first) - segment.shape[1]))
    return torch.stft(segment, N_FFT, HOP, window=window, center=False, return_complex=True)


class OverlapAdd:
    """Accumulates inverse-STFT frames into a waveform, chunk by chunk.

    ``add(spectrum, start)`` adds the windowed inverse FFT of frames ``start..`` ; ``result()`` divides by
    the squared-window envelope of all frames of the song, as ``torch.istft(center=True)`` does.

    Args:
        channels: number of channels of the output.
        n_samples: length of the output in samples.
    """

    def __init__(self, channels: int, n_samples: int) -> None:
        self.n_samples = n_samples
        self.n_frames = frame_count(n_samples)
        self.window = hann_window()
        # padded timeline: sample n of the song is at index n + N_FFT // 2
        self.buffer = torch.zeros(channels, (self.n_frames - 1) * HOP + N_FFT)

    def add(self, spectrum: torch.Tensor, start: int) -> None:
        """Add frames ``start .. start + spectrum.shape[-1] - 1``.

        Args:
            spectrum: ``(channels, N_BINS, frames)`` complex; frames outside the song are ignored.
            start: index of its first frame.
        """
        lo, hi = max(start, 0), min(start + spectrum.shape[-1], self.n_frames)
        if lo >= hi:
            return
        spectrum = spectrum[..., lo - start : hi - start]
        frames = torch.fft.irfft(spectrum, n=N_FFT, dim=1) * self.window[:, None]
        # hop = N_FFT / 4: frame j's q-th quarter lands on hop-block j + q of the padded timeline
        quarters = frames.reshape(frames.shape[0], OVERLAP, HOP, hi - lo)
        blocks = self.buffer.view(self.buffer.shape[0], -1, HOP)
        for q in range(OVERLAP):
            blocks[:, lo + q : hi + q] += quarters[:, q].transpose(1, 2)

    def result(self) -> torch.Tensor:
        """The waveform, ``(channels, n_samples)`` float32."""
        envelope = _window_envelope(self.window, self.n_frames)
        start = N_FFT // 2
        return self.buffer[:, start : start + self.n_samples] / envelope[start : start + self.n_samples]


def _window_envelope(window: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Sum of squared windows of ``n_frames`` frames on the padded timeline, ``(samples,)``."""
    quarters = (window**2).reshape(OVERLAP, HOP)
    blocks = torch.zeros(n_frames + OVERLAP - 1, HOP)
    for offset, quarter in enumerate(quarters):
        blocks[offset : offset + n_frames] += quarter
    return blocks.reshape(-1).clamp_min(1e-11)
