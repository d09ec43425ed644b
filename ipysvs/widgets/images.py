"""Log-frequency spectrogram images of a song, for the F0 editor's background and the Bokeh views.

The frequency axis is a log grid like the F0 saliency's (``fmin`` Hz, ``bins_per_octave`` bins per
octave); each log bin takes the largest STFT magnitude in its band (or the nearest STFT bin where log
bins are narrower than STFT bins). Frames are centred on given times, so the image lines up with the
Session's F0 frames.
"""

from __future__ import annotations

import numpy as np

from ..f0 import BINS_PER_OCTAVE, FMIN_HZ, N_PITCH_BINS

__all__ = [
    "CHUNK_FRAMES",
    "DYNAMIC_RANGE_DB",
    "WINDOW_S",
    "decimate",
    "log_spectrogram",
    "to_decibel_image",
    "to_uint8",
]

WINDOW_S = 4096 / 44100  # analysis window, as Spleeter's STFT
CHUNK_FRAMES = 512  # frames transformed at once (bounded memory for long songs)
DYNAMIC_RANGE_DB = 80.0


def log_spectrogram(
    samples: np.ndarray,
    sr: int,
    times: np.ndarray,
    *,
    fmin_hz: float = FMIN_HZ,
    bins_per_octave: int = BINS_PER_OCTAVE,
    n_bins: int = N_PITCH_BINS,
) -> np.ndarray:
    """Magnitude spectrogram of the channel mean on a log-frequency grid.

    Args:
        samples: ``(channels, samples)`` audio.
        sr: its sample rate in Hz.
        times: ``(frames,)`` frame centres in seconds.
        fmin_hz, bins_per_octave, n_bins: the grid: bin ``k`` is centred on
            ``fmin_hz * 2 ** (k / bins_per_octave)`` Hz.

    Returns:
        ``(frames, n_bins)`` float32 linear magnitudes.
    """
    mono = np.asarray(samples, dtype=np.float32).mean(axis=0)
    n_fft = 1 << int(np.ceil(np.log2(WINDOW_S * sr)))
    window = np.hanning(n_fft).astype(np.float32)
    padded = np.pad(mono, n_fft // 2)
    starts = _band_starts(n_fft, sr, fmin_hz, bins_per_octave, n_bins)
    centres = np.clip(np.round(np.asarray(times) * sr).astype(np.int64), 0, mono.size)
    out = np.empty((centres.size, n_bins), dtype=np.float32)
    offsets = np.arange(n_fft)
    for first in range(0, centres.size, CHUNK_FRAMES):
        chunk = centres[first : first + CHUNK_FRAMES]
        magnitude = np.abs(np.fft.rfft(padded[chunk[:, np.newaxis] + offsets] * window, axis=1))
        out[first : first + chunk.size] = np.maximum.reduceat(magnitude[:, : starts[-1] + 1], starts, axis=1)[
            :, :n_bins
        ]
    return out


def _band_starts(n_fft: int, sr: int, fmin_hz: float, bins_per_octave: int, n_bins: int) -> np.ndarray:
    """First STFT bin of each log bin's band (``n_bins + 1`` values: the last closes the top band)."""
    edges = fmin_hz * 2.0 ** ((np.arange(n_bins + 1) - 0.5) / bins_per_octave)
    starts = np.round(edges * n_fft / sr).astype(np.int64)
    return np.clip(starts, 0, n_fft // 2)


def to_decibel_image(magnitude: np.ndarray, *, reference: float | None = None) -> np.ndarray:
    """Magnitudes as an image in ``[0, 1]``: 0 is ``DYNAMIC_RANGE_DB`` below ``reference`` (default: the
    largest magnitude), 1 is the reference. Same shape, float32."""
    top = float(np.max(magnitude)) if reference is None else reference
    db = 20.0 * np.log10(np.maximum(magnitude, 1e-10) / max(top, 1e-10))
    return np.clip(1.0 + db / DYNAMIC_RANGE_DB, 0.0, 1.0).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """An image in ``[0, 1]`` as uint8 ``0..255`` (NaN as 0)."""
    return np.round(np.nan_to_num(np.clip(image, 0.0, 1.0)) * 255).astype(np.uint8)


def decimate(image: np.ndarray, max_frames: int) -> np.ndarray:
    """``(frames, bins)`` reduced to at most ``max_frames`` rows by taking the maximum of groups of
    consecutive frames (peaks stay visible in a zoomed-out view of a long song)."""
    group = int(np.ceil(image.shape[0] / max_frames))
    if group <= 1:
        return image
    frames = image.shape[0] - image.shape[0] % group
    reduced = image[:frames].reshape(-1, group, image.shape[1]).max(axis=1)
    tail = image[frames:]
    return np.concatenate([reduced, tail.max(axis=0, keepdims=True)]) if tail.size else reduced
