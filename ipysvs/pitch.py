"""Whole-song F0 estimation with the saliency network."""

from __future__ import annotations

import numpy as np
import torch

from .f0 import N_PITCH_BINS, Trajectory, decode_salience
from .models.salience import SalienceUNet
from .separation import plan_patches
from .spectral import frame_times


def song_salience(model: SalienceUNet, magnitude: torch.Tensor) -> np.ndarray:
    """Saliency of every frame of a song, computed in cross-faded 512-frame patches.

    Args:
        model: the saliency network.
        magnitude: ``(channels, frames, 1024)`` magnitudes (separated vocals or a mixture).

    Returns:
        ``(frames, 320)`` float32 in ``[0, 1]``.
    """
    n_frames = magnitude.shape[1]
    salience = torch.zeros(n_frames, N_PITCH_BINS)
    with torch.inference_mode():
        for patch in plan_patches(n_frames):
            stop = min(patch.start + patch.length, n_frames)
            chunk = torch.zeros(magnitude.shape[0], patch.length, magnitude.shape[2])
            chunk[:, : stop - patch.start] = magnitude[:, patch.start : stop]
            out = model(chunk.unsqueeze(0))[0] * patch.weights[:, None]
            salience[patch.start : stop] += out[: stop - patch.start]
    return salience.numpy()


def salience_trajectory(salience: np.ndarray) -> Trajectory:
    """Decode a song's ``(frames, 320)`` saliency into a :class:`Trajectory` at the STFT frame times."""
    hz, confidence = decode_salience(salience)
    return Trajectory(frame_times(salience.shape[0]).numpy(), hz, np.clip(confidence, 0, 1))
