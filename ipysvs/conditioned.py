"""F0->SVS separation of whole songs: the joint model's separator conditioned on a frame-wise F0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .errors import ParameterError
from .models.joint import JointModel
from .separation import Patch, Separator, ratio_mask


class ConditionedSeparator(Separator):
    """A :class:`Separator` whose U-Nets also see the vocal F0, drawn as a harmonic comb.

    Args:
        model: the joint model (its ``vocals`` and ``accompaniment`` U-Nets are used).
        hz: ``(frames,)`` F0 in Hz on Spleeter's STFT frames (0 = unvoiced).
        weight: ``(frames,)`` comb height in ``[0, 1]``: the estimate's confidence, 1 for user
            corrections.
    """

    def __init__(self, model: JointModel, hz: np.ndarray, weight: np.ndarray) -> None:
        hz, weight = np.asarray(hz, dtype=np.float32), np.asarray(weight, dtype=np.float32)
        if hz.ndim != 1 or hz.shape != weight.shape:
            raise ParameterError(
                f"hz and weight must be 1-D of one length, got {hz.shape} and {weight.shape}"
            )
        if not (np.isfinite(hz).all() and np.isfinite(weight).all()) or (hz < 0).any():
            raise ParameterError("hz must be finite and >= 0 Hz and weight finite")
        super().__init__(model.vocals, model.accompaniment)
        self.model = model
        self.hz = torch.from_numpy(hz)
        self.weight = torch.from_numpy(np.clip(weight, 0, 1))

    def vocal_ratio(self, magnitude: torch.Tensor, patches: Sequence[Patch] = ()) -> torch.Tensor:
        """Ratio masks of patches with their frames' F0 as conditioning (frames past the F0 are unvoiced)."""
        frames = magnitude.shape[2]
        starts = [p.start for p in patches] or [0] * magnitude.shape[0]
        hz, weight = torch.zeros(len(starts), frames), torch.zeros(len(starts), frames)
        for row, start in enumerate(starts):
            available = max(0, min(frames, self.hz.shape[0] - start))
            hz[row, :available] = self.hz[start : start + available]
            weight[row, :available] = self.weight[start : start + available]
        vocals_mask, accompaniment_mask = self.model.conditioned_masks(magnitude, hz, weight)
        return ratio_mask(vocals_mask, accompaniment_mask, magnitude)
