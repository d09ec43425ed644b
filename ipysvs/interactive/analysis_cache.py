"""The on-disk cache of a song's first analysis (separation, saliency, F0, beats), keyed by content.

Reopening a song the cache already holds is instant, and a song opened now and reopened later (or
restored after a crash) adapts from exactly the same vocals and estimate: :func:`cached_analysis`
always returns what the cache holds, never the fresher float32 analysis it was made from. The
arrays are also the analysis part of a saved session (:mod:`~ipysvs.interactive.store`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

import numpy as np
import torch

from .. import audio as audio_io
from ..analysis import SongAnalysis, analyse
from ..beats import beat_tracker
from ..cache import audio_key, cache_dir, evict, limit_bytes, touch, write_atomically
from ..f0 import Trajectory
from ..models.joint import SHIPPED_WEIGHTS
from ..progress import Progress
from ..spectral import SAMPLE_RATE, frame_count

__all__ = [
    "ANALYSED_ARRAYS",
    "ANALYSIS_VERSION",
    "analysis_arrays",
    "analysis_from_arrays",
    "cached_analysis",
    "content_key",
]

ANALYSIS_VERSION = "2"  # 2: saliency from the float16 magnitudes the cache holds
ANALYSED_ARRAYS = ("vocals", "vocal_magnitude", "salience", "f0_times", "f0_hz", "f0_confidence", "beats")


def content_key(samples: np.ndarray, sr: int, audio: str | None = None) -> str:
    """A hash of the audio (its :func:`~ipysvs.cache.audio_key`, computed unless given), the analysis
    version, the weights' content and the beat tracker in use."""
    audio = audio or audio_key(samples, sr)
    identity = f"{ANALYSIS_VERSION}:{_weights_digest()}:{beat_tracker()}:{audio}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


@functools.cache
def _weights_digest() -> str:
    """A hash of the shipped weights file (read once per process)."""
    return hashlib.sha256(SHIPPED_WEIGHTS.read_bytes()).hexdigest() if SHIPPED_WEIGHTS.is_file() else ""


def cached_analysis(
    samples: np.ndarray, sr: int, audio: str | None = None, *, progress: Progress | None = None
) -> SongAnalysis:
    """:func:`~ipysvs.analysis.analyse` of ``(channels, samples)`` at ``sr`` Hz, from the on-disk cache
    when this audio was analysed before (``audio``: the audio's :func:`~ipysvs.cache.audio_key`, if
    already computed; ``progress`` hears the analysis's phases when it runs). A damaged entry is
    recomputed."""
    folder = cache_dir() / "analysis"
    path = folder / f"{content_key(samples, sr, audio)}.npz"
    try:
        with np.load(path) as saved:
            analysis = analysis_from_arrays(saved, samples, sr)
        touch(path)  # recently used: evicted last
        return analysis
    except Exception:  # missing, truncated, damaged or of another shape: recomputed, whatever it was
        pass
    arrays = analysis_arrays(analyse(samples, sr, progress=progress))
    if write_atomically(path, lambda temporary: np.savez(temporary, **arrays)):
        evict(folder, limit_bytes(), keep=path)
    return analysis_from_arrays(arrays, samples, sr)


def analysis_arrays(analysis: SongAnalysis) -> dict[str, np.ndarray]:
    """The arrays that store an analysis (magnitudes and saliency as float16, the magnitudes of audio
    too loud for float16 as float32)."""
    magnitude = analysis.vocal_magnitude.numpy()
    compact = magnitude.astype(np.float16, copy=False)
    return {
        "vocals": analysis.vocals,
        "vocal_magnitude": compact
        if audio_io.all_finite(compact.reshape(compact.shape[0], -1))
        else magnitude.astype(np.float32),
        "salience": analysis.salience.astype(np.float16),
        "f0_times": analysis.f0.times,
        "f0_hz": analysis.f0.hz,
        "f0_confidence": analysis.f0.confidence,
        "beats": analysis.beats,
    }


def analysis_from_arrays(arrays: Mapping[str, np.ndarray], samples: np.ndarray, sr: int) -> SongAnalysis:
    """Rebuild what :func:`analysis_arrays` stored, for the mixture ``samples`` ``(channels, samples)``
    at ``sr`` Hz.

    Raises:
        KeyError: an array is missing.
        ValueError: the arrays do not fit the mixture or each other, or hold NaN or infinity.
    """
    vocals, frames = arrays["vocals"], arrays["f0_times"].shape
    fits = (
        vocals.shape == samples.shape
        and vocals.dtype == np.float32
        and frames == (frame_count(audio_io.resampled_length(samples.shape[1], sr, SAMPLE_RATE)),)
        and arrays["f0_hz"].shape == arrays["f0_confidence"].shape == frames
        and arrays["salience"].shape[:1] == arrays["vocal_magnitude"].shape[1:2] == frames
    )
    if not fits:
        raise ValueError(
            f"the stored analysis does not fit this mixture ({samples.shape[1]} samples at {sr} Hz)"
        )
    if not all(np.isfinite(arrays[name]).all() for name in ANALYSED_ARRAYS):
        raise ValueError("the stored analysis holds NaN or infinity")
    return SongAnalysis(
        vocals=arrays["vocals"],
        vocal_magnitude=torch.from_numpy(np.asarray(arrays["vocal_magnitude"])),  # float16: half the memory
        salience=arrays["salience"].astype(np.float32),
        f0=Trajectory(arrays["f0_times"], arrays["f0_hz"], arrays["f0_confidence"]),
        beats=arrays["beats"],
    )
