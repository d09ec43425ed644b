"""One pass over a song: separation, vocal F0 and beats -- what ``ipysvs separate`` writes and what a
Session starts from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import audio as audio_io
from .beats import detect_beats
from .f0 import Trajectory
from .memory import return_freed_memory
from .models.joint import JointModel, default_joint_model
from .pitch import salience_trajectory, song_salience
from .progress import Progress
from .separation import Separator, VocalFrames, default_separator

__all__ = ["SongAnalysis", "analyse"]


@dataclass
class SongAnalysis:
    """The initial analysis of a song.

    Attributes:
        vocals: ``(channels, samples)`` float32 at the song's rate (the accompaniment is the mixture
            minus them: not held, a song's worth of memory).
        vocal_magnitude: ``(2, frames, 1024)`` separated vocal magnitudes on Spleeter's STFT grid:
            float16 (float32 for audio too loud for float16, :class:`~ipysvs.separation.VocalFrames`);
            consumers compute in float32.
        salience: ``(frames, 320)`` vocal F0 saliency.
        f0: the decoded trajectory at the STFT frame times.
        beats: ``(beats,)`` seconds.
    """

    vocals: np.ndarray
    vocal_magnitude: torch.Tensor
    salience: np.ndarray
    f0: Trajectory
    beats: np.ndarray


def analyse(
    samples: np.ndarray,
    sr: int,
    *,
    separator: Separator | None = None,
    pitch_model: JointModel | None = None,
    beats: bool = True,
    progress: Progress | None = None,
) -> SongAnalysis:
    """Separate ``(channels, samples)`` float32 audio at ``sr`` Hz, estimate its vocal F0 from the
    separated vocals and the mixture (the saliency network reads both straight from the separation
    pass) and track beats.

    ``progress`` (:mod:`ipysvs.progress`) hears the phases ``"beats"`` (0 then 1 of 1), ``"separate"``
    (patches) and ``"pitch"`` (0 then 1 of 1)."""
    samples, _ = audio_io.as_channels_first(samples)
    sr = audio_io.validate_sample_rate(sr)
    separator = separator or default_separator()
    pitch_model = pitch_model or default_joint_model()
    # the beats first: the tracker's working memory is freed before the separation's outputs exist
    if beats:
        _announce(progress, "beats", 0)
        beat_times = detect_beats(samples, sr)
        _announce(progress, "beats", 1)
    else:
        beat_times = np.zeros(0)
    return_freed_memory()
    collector = VocalFrames()
    vocals = separator.separate_channels(samples, sr, progress=progress, collector=collector)
    return_freed_memory()
    _announce(progress, "pitch", 0)
    salience = song_salience(pitch_model.salience, collector.magnitude, collector.mixture_magnitude)
    f0 = salience_trajectory(salience)
    _announce(progress, "pitch", 1)
    return_freed_memory()
    return SongAnalysis(
        vocals=vocals,
        vocal_magnitude=collector.magnitude,
        salience=salience,
        f0=f0,
        beats=beat_times,
    )


def _announce(progress: Progress | None, phase: str, done: int) -> None:
    """Tell ``progress`` that a one-step ``phase`` starts (``done=0``) or ended (``done=1``)."""
    if progress is not None:
        progress(phase, done, 1)
