"""F0->SVS separation of whole songs: the frozen pretrained separator plus the gated, F0-informed
mask refinement of the joint model (:mod:`ipysvs.models.refiner`).

Two ways to run it, with the same result up to the cross-fades between patches:

* :class:`ConditionedSeparator` separates a song from scratch (both U-Nets and the refiner).
* :class:`RefinementSeparator` computes only what the pitch *adds*: given the pretrained separator's
  vocal magnitudes of every frame (known from the first separation), it separates the change of the
  vocals, so that
  ``pretrained vocals + change`` is the F0-informed result. Frames whose gate is zero change by
  exactly nothing, and patches without any pitch information are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .errors import ParameterError
from .models.joint import JointModel
from .separation import Patch, Separator

__all__ = ["RATIO_FLOOR", "ConditionedSeparator", "RefinementSeparator"]

RATIO_FLOOR = 1e-8  # mixture magnitude below which a bin's pretrained ratio is taken as 0


def _conditioning(
    hz: np.ndarray, gate: np.ndarray, deep_gate: np.ndarray | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validated ``(frames,)`` F0 (Hz), gate and deep gate (None: the gate) as float32 tensors, the
    gates clipped to ``[0, 1]``."""
    hz, gate = np.asarray(hz, dtype=np.float32), np.asarray(gate, dtype=np.float32)
    deep = gate if deep_gate is None else np.asarray(deep_gate, dtype=np.float32)
    if hz.ndim != 1 or hz.shape != gate.shape or deep.shape != gate.shape:
        raise ParameterError(
            f"hz, gate and deep_gate must be 1-D of one length, got {hz.shape}, {gate.shape} and {deep.shape}"
        )
    if not (np.isfinite(hz).all() and np.isfinite(gate).all() and np.isfinite(deep).all()) or (hz < 0).any():
        raise ParameterError("hz must be finite and >= 0 Hz and the gates finite")
    return torch.from_numpy(hz), torch.from_numpy(np.clip(gate, 0, 1)), torch.from_numpy(np.clip(deep, 0, 1))


def _frames_of(values: torch.Tensor, patches: Sequence[Patch], frames: int) -> torch.Tensor:
    """``(batch, frames, ...)`` slices of a song-long ``(song frames, ...)`` tensor at the patches'
    starts, zero past its end."""
    out = torch.zeros(len(patches), frames, *values.shape[1:], dtype=values.dtype)
    for row, patch in enumerate(patches):
        available = max(0, min(frames, values.shape[0] - patch.start))
        out[row, :available] = values[patch.start : patch.start + available]
    return out


class ConditionedSeparator(Separator):
    """A :class:`Separator` whose masks are refined by the vocal F0.

    Args:
        model: the joint model (its pretrained U-Nets and its refiner are used).
        hz: ``(frames,)`` F0 in Hz on Spleeter's STFT frames (0 = unvoiced).
        gate: ``(frames,)`` pitch information in ``[0, 1]``: 1 for user corrections (deletions
            included), the estimate's confidence where the estimate is trusted, 0 for none (that
            frame is separated exactly as by the pretrained separator).
        deep_gate: ``(frames,)`` in ``[0, 1]``, the gate of the refiner's deeper stages
            (:class:`~ipysvs.models.refiner.MaskRefiner`; None: ``gate``).
    """

    def __init__(
        self, model: JointModel, hz: np.ndarray, gate: np.ndarray, deep_gate: np.ndarray | None = None
    ) -> None:
        self.hz, self.gate, self.deep_gate = _conditioning(hz, gate, deep_gate)
        super().__init__(model.vocals, model.accompaniment)
        self.model = model

    def vocal_ratio(self, magnitude: torch.Tensor, patches: Sequence[Patch] = ()) -> torch.Tensor:
        """Refined ratio masks of patches (frames past the F0 get no pitch information)."""
        patches = list(patches) or [Patch(0, magnitude.shape[2], torch.ones(magnitude.shape[2]))]
        frames = magnitude.shape[2]
        hz, gate = _frames_of(self.hz, patches, frames), _frames_of(self.gate, patches, frames)
        return self.model.refined_ratio(magnitude, hz, gate, _frames_of(self.deep_gate, patches, frames))


class RefinementSeparator(Separator):
    """Separates the change of the vocals that the F0 makes, given the pretrained masks.

    ``separate_channels`` of this separator returns that change, ``(channels, samples)``; add it to
    the pretrained separator's vocals.

    The pretrained ratio mask of a patch is its pretrained vocal magnitudes over the patch's mixture
    magnitudes (the first stereo pair's, for songs with more channels).

    Args:
        model: the joint model (only its refiner runs).
        vocal_magnitude: ``(2, frames, 1024)`` the pretrained separator's vocal magnitudes
            (:attr:`~ipysvs.analysis.SongAnalysis.vocal_magnitude`).
        hz: ``(frames,)`` F0 in Hz; gate, deep_gate: ``(frames,)`` pitch information in ``[0, 1]``
            (as for :class:`ConditionedSeparator`).
    """

    def __init__(
        self,
        model: JointModel,
        vocal_magnitude: torch.Tensor,
        hz: np.ndarray,
        gate: np.ndarray,
        deep_gate: np.ndarray | None = None,
    ) -> None:
        self.hz, self.gate, self.deep_gate = _conditioning(hz, gate, deep_gate)
        if vocal_magnitude.ndim != 3 or vocal_magnitude.shape[0] != 2:
            raise ParameterError(
                f"vocal_magnitude must be (2, frames, 1024), got {tuple(vocal_magnitude.shape)}"
            )
        super().__init__(model.vocals, model.accompaniment)
        self.model = model
        self.vocal_magnitude = vocal_magnitude.transpose(0, 1)  # (frames, 2, 1024)

    def vocal_ratio(self, magnitude: torch.Tensor, patches: Sequence[Patch] = ()) -> torch.Tensor:
        """The change of the ratio masks of patches: zero where both gates are zero."""
        patches = list(patches) or [Patch(0, magnitude.shape[2], torch.ones(magnitude.shape[2]))]
        frames = magnitude.shape[2]
        gate, deep_gate = _frames_of(self.gate, patches, frames), _frames_of(self.deep_gate, patches, frames)
        change = torch.zeros_like(magnitude)
        informed = [row for row in range(len(patches)) if gate[row].any() or deep_gate[row].any()]
        if informed:
            vocals = _frames_of(self.vocal_magnitude, patches, frames).permute(0, 2, 1, 3)
            ratio = (vocals / magnitude.clamp_min(RATIO_FLOOR)).clamp(0, 1)
            hz = _frames_of(self.hz, patches, frames)
            change[informed] = self.model.refiner(
                magnitude[informed], ratio[informed], hz[informed], gate[informed], deep_gate[informed]
            )
        return change

    def has_change(self) -> bool:
        """Whether any frame carries pitch information (else the change is exactly zero)."""
        return bool(self.gate.any() or self.deep_gate.any())
