"""Whole-song F0 estimation with the saliency network, and snapping an F0 onto its saliency ridge."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional

from .errors import ParameterError
from .f0 import N_PITCH_BINS, Trajectory, bin_to_hz, decode_salience, hz_to_bin
from .models.precision import inference_autocast
from .models.salience import SalienceUNet
from .separation import plan_patches
from .spectral import frame_times

__all__ = ["SNAP_SEARCH_BINS", "salience_trajectory", "snap_to_ridge", "song_salience"]

SNAP_SEARCH_BINS = 5  # +-100 cents around the current pitch


def song_salience(model: SalienceUNet, vocals: torch.Tensor, mixture: torch.Tensor) -> np.ndarray:
    """Saliency of every frame of a song, computed in cross-faded 512-frame patches.

    The last patch ends at the song's end, rounded up to the network's frame multiple (16 frames),
    instead of running on into zero frames to 512 (up to a patch less to compute): the network's
    receptive field is about 60 frames either side, so only the saliency of the song's last 64 frames
    (1.5 s) can differ from the padded patch's, as at the edges of the crops it was trained on.
    Each patch's harmonic stack is computed from the song's frames in place and padded afterwards
    (a zero frame stacks to zeros), so no padded copy of the magnitudes is made. The network's U-Net
    runs in bfloat16 where the CPU computes it natively (:mod:`ipysvs.models.precision`; 1.3-1.5x as
    fast, the same pitch accuracy and voicing within a few tenths of a point: ``benchmarks/RESULTS.md``,
    section 3).

    Args:
        model: the saliency network.
        vocals: ``(channels, frames, 1024)`` separated vocal magnitudes.
        mixture: ``(channels, frames, 1024)`` the mixture's magnitudes on the same frames (any channel
            count: the network averages each input over its channels).

    Returns:
        ``(frames, 320)`` float32 in ``[0, 1]``.
    """
    if vocals.ndim != 3 or mixture.ndim != 3 or vocals.shape[1:] != mixture.shape[1:]:
        raise ParameterError(
            f"vocals {tuple(vocals.shape)} and mixture {tuple(mixture.shape)} must be (channels, frames, "
            "1024) magnitudes of the same frames"
        )
    n_frames = vocals.shape[1]
    multiple = model.unet.frame_multiple
    salience = torch.zeros(n_frames, N_PITCH_BINS)
    with torch.inference_mode():
        for patch in plan_patches(n_frames):
            stop = min(patch.start + patch.length, n_frames)
            length = min(patch.length, -(-(stop - patch.start) // multiple) * multiple)
            stacked = model.stack_inputs(
                vocals[None, :, patch.start : stop].float(), mixture[None, :, patch.start : stop].float()
            )
            stacked = functional.pad(stacked, (0, 0, 0, length - stacked.shape[2]))
            with inference_autocast():  # bfloat16 for the U-Net's body where the CPU computes it natively
                out = model.unet(stacked)[0, 0].float() * patch.weights[:length, None]
            salience[patch.start : stop] += out[: stop - patch.start]
    return salience.numpy()


def salience_trajectory(salience: np.ndarray) -> Trajectory:
    """Decode a song's ``(frames, 320)`` saliency into a :class:`Trajectory` at the STFT frame times."""
    hz, confidence = decode_salience(salience)
    return Trajectory(frame_times(salience.shape[0]).numpy(), hz, np.clip(confidence, 0, 1))


def snap_to_ridge(salience: np.ndarray, hz: np.ndarray, *, search_bins: int = SNAP_SEARCH_BINS) -> np.ndarray:
    """Move each frame's F0 onto the nearest ridge of its saliency.

    Args:
        salience: ``(frames, 320)`` the saliency of the frames to move.
        hz: ``(frames,)`` their current F0 in Hz (0 = unvoiced).
        search_bins: how far to look around a voiced frame's pitch, in 20-cent bins (5 = +-100 cents).

    Returns:
        ``(frames,)`` Hz: the weighted centre of the peak bin and its two neighbours -- the peak within
        ``search_bins`` of the current pitch, or the frame's strongest peak where it is unvoiced.
    """
    snapped = np.empty(len(hz))
    for index, (row, current) in enumerate(zip(salience, hz, strict=True)):
        if current <= 0:
            peak = int(np.argmax(row))
        else:
            centre = int(np.clip(round(float(hz_to_bin(current))), 0, row.size - 1))
            lo, hi = max(centre - search_bins, 0), min(centre + search_bins + 1, row.size)
            peak = lo + int(np.argmax(row[lo:hi]))
        neighbours = np.arange(max(peak - 1, 0), min(peak + 2, row.size))
        weights = row[neighbours] + 1e-9
        snapped[index] = bin_to_hz(np.sum(neighbours * weights) / np.sum(weights))
    return snapped
