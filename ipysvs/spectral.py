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


def stft_frames(
    waveform: torch.Tensor, start: int, stop: int, window: torch.Tensor, *, offset: int = 0
) -> torch.Tensor:
    """STFT frames ``start..stop-1`` of a waveform, zero beyond its ends.

    Args:
        waveform: ``(channels, samples)`` float32 at 44.1 kHz: samples ``offset..`` of the signal
            (every sample the frames see, the signal's own zeros beyond its ends excepted).
        start, stop: frame range; may extend past the song (those frames see zeros).
        window: :func:`hann_window`.
        offset: index in the signal of ``waveform``'s first sample.

    Returns:
        ``(channels, N_BINS, stop - start)`` complex64 spectrum.
    """
    first = start * HOP - N_FFT // 2 - offset
    last = (stop - 1) * HOP + N_FFT // 2 - offset
    lo, hi = max(first, 0), min(last, waveform.shape[1])
    segment = waveform[:, lo:hi] if lo < hi else waveform[:, :0]
    segment = torch.nn.functional.pad(segment, (lo - first, last - first - (lo - first) - segment.shape[1]))
    return torch.stft(segment, N_FFT, HOP, window=window, center=False, return_complex=True)


class OverlapAdd:
    """Accumulates inverse-STFT frames into a waveform, chunk by chunk, holding only what is in flight.

    ``add(spectrum, start)`` adds the windowed inverse FFT of frames ``start..``; ``release(before)``
    hands out the next samples that no frame from ``before`` on touches, divided by the squared-window
    envelope of all frames of the song as ``torch.istft(center=True)`` does, and forgets them;
    ``result()`` releases the rest. Frames may come in any order, but not after their samples were
    released.

    Args:
        channels: number of channels of the output.
        n_samples: length of the output in samples.
    """

    def __init__(self, channels: int, n_samples: int) -> None:
        self.n_samples = n_samples
        self.n_frames = frame_count(n_samples)
        self.window = hann_window()
        # hop-blocks of the padded timeline (song sample n at index n + N_FFT // 2), from block
        # `first_block` on; frame j adds to blocks j .. j + OVERLAP - 1
        self.blocks = torch.zeros(channels, 0, HOP)
        self.first_block = 0
        self.released = 0  # song samples handed out so far

    def add(self, spectrum: torch.Tensor, start: int) -> None:
        """Add frames ``start .. start + spectrum.shape[-1] - 1``.

        Args:
            spectrum: ``(channels, N_BINS, frames)`` complex; frames outside the song are ignored.
            start: index of its first frame.

        Raises:
            ValueError: some of these frames touch samples already released.
        """
        lo, hi = max(start, 0), min(start + spectrum.shape[-1], self.n_frames)
        if lo >= hi:
            return
        if lo < self.first_block:
            raise ValueError(f"frame {lo} touches samples already released (from block {self.first_block})")
        spectrum = spectrum[..., lo - start : hi - start]
        frames = torch.fft.irfft(spectrum, n=N_FFT, dim=1) * self.window[:, None]
        # hop = N_FFT / 4: frame j's q-th quarter lands on hop-block j + q of the padded timeline
        quarters = frames.reshape(frames.shape[0], OVERLAP, HOP, hi - lo)
        self._hold_blocks_before(hi + OVERLAP - 1)
        first = lo - self.first_block
        for q in range(OVERLAP):
            self.blocks[:, first + q : first + q + hi - lo] += quarters[:, q].transpose(1, 2)

    def release(self, before_frame: int) -> torch.Tensor:
        """The samples from the last release up to where frame ``before_frame`` starts to reach:
        ``(channels, n)`` float32, final once every frame before ``before_frame`` was added."""
        stop = min(max(before_frame * HOP - N_FFT // 2, self.released), self.n_samples)
        lo, hi = self.released + N_FFT // 2, stop + N_FFT // 2  # on the padded timeline
        self._hold_blocks_before(-(-hi // HOP))
        base = self.first_block * HOP
        held = self.blocks.reshape(self.blocks.shape[0], -1)
        out = held[:, lo - base : hi - base] / _window_envelope(self.window, self.n_frames, lo, hi)
        drop = hi // HOP - self.first_block
        self.blocks = self.blocks[:, drop:].contiguous()
        self.first_block += drop
        self.released = stop
        return out

    def result(self) -> torch.Tensor:
        """The samples not yet released (the whole waveform if none were), ``(channels, n)`` float32."""
        return self.release(self.n_frames + OVERLAP)

    def _hold_blocks_before(self, stop_block: int) -> None:
        """Extend the held blocks with zeros up to block ``stop_block`` (exclusive)."""
        missing = stop_block - self.first_block - self.blocks.shape[1]
        if missing > 0:
            zeros = torch.zeros(self.blocks.shape[0], missing, HOP)
            self.blocks = torch.cat([self.blocks, zeros], dim=1) if self.blocks.shape[1] else zeros


def _window_envelope(window: torch.Tensor, n_frames: int, lo: int, hi: int) -> torch.Tensor:
    """Sum of squared windows of ``n_frames`` frames at padded-timeline samples ``lo..hi-1``."""
    quarters = (window**2).reshape(OVERLAP, HOP)
    first, stop = lo // HOP, -(-hi // HOP)
    blocks = torch.arange(first, stop)
    envelope = torch.zeros(stop - first, HOP)
    for offset, quarter in enumerate(quarters):
        inside = (blocks - offset >= 0) & (blocks - offset < n_frames)
        envelope[inside] += quarter
    return envelope.reshape(-1)[lo - first * HOP : hi - first * HOP].clamp_min(1e-11)
