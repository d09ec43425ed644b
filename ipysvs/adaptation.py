"""Adapting the joint model to one song from the user's F0 corrections (Nakano et al., F0->SVS).

The saliency network is fine-tuned with the binary cross-entropy between its output and the
Gaussian-blurred corrected F0, on the corrected frames only (an unvoiced correction asks for zero
saliency). Its input, the pretrained separator's vocal magnitudes, was computed when the song was
opened, so no separation runs during training: the steps are cheap. The adapted network then
re-estimates the F0 of the frames the user did not touch, and the F0-conditioned separator re-separates
the song with the user's F0 where corrected and the new estimate elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional

from .errors import ParameterError
from .f0 import salience_target
from .models.joint import JointModel

AdaptProgress = Callable[[str, float], None]
"""Called as ``progress(phase, fraction)`` with phase "train", "estimate" or "separate"."""


@dataclass
class AdaptReport:
    """What :meth:`ipysvs.session.Session.adapt` did.

    Attributes:
        losses: the training loss after every step.
        seconds: wall time of the whole adaptation.
        steps: optimisation steps taken.
        changed_frames: uncorrected frames whose F0 estimate changed (by more than 50 cents or voicing).
        before, after: ``(vocals, accompaniment)`` before and after, ``(channels, samples)``.
    """

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    changed_frames: int = 0
    before: tuple[np.ndarray, np.ndarray] | None = None
    after: tuple[np.ndarray, np.ndarray] | None = None


def training_frames(corrected: np.ndarray, region: str) -> np.ndarray:
    """Frames whose F0 the loss sees: ``"corrected"`` (exactly the corrected ones) or ``"up-to-last"``
    (the paper: every frame up to the last corrected one counts as checked by the user)."""
    if region == "corrected":
        return corrected.copy()
    if region == "up-to-last":
        chosen = np.zeros_like(corrected)
        if corrected.any():
            chosen[: np.flatnonzero(corrected)[-1] + 1] = True
        return chosen
    raise ParameterError(f"region must be 'corrected' or 'up-to-last', got {region!r}")


def fine_tune_salience(
    model: JointModel,
    vocal_magnitude: torch.Tensor,
    target_hz: np.ndarray,
    frames: np.ndarray,
    *,
    steps: int,
    learning_rate: float = 3e-4,
    crop_frames: int = 128,
    batch: int = 4,
    seed: int = 0,
    progress: AdaptProgress | None = None,
) -> list[float]:
    """Fine-tune ``model.salience`` in place on the chosen frames; returns the loss of every step.

    Args:
        vocal_magnitude: ``(2, song frames, 1024)`` separated vocal magnitudes.
        target_hz: ``(song frames,)`` the F0 to learn (0 = unvoiced).
        frames: ``(song frames,)`` bool, the frames the loss sees.
    """
    if not frames.any():
        raise ParameterError("no frames to learn from: correct part of the F0 first")
    rng = np.random.default_rng(seed)
    targets = torch.from_numpy(salience_target(target_hz))
    mask = torch.from_numpy(frames)
    n_frames = vocal_magnitude.shape[1]
    crop = min(crop_frames, -(-n_frames // 16) * 16)
    starts = np.clip(np.flatnonzero(frames) - crop // 2, 0, max(n_frames - crop, 0))
    parameters = list(model.salience.parameters())
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    model.salience.eval()  # keep the running statistics learned in pretraining
    losses = []
    for step in range(steps):
        chosen = rng.choice(starts, size=batch)
        inputs, wanted, weights = zip(
            *(_crop(vocal_magnitude, targets, mask, s, crop) for s in chosen), strict=True
        )
        output = model.salience(torch.stack(inputs)).clamp(1e-6, 1 - 1e-6)
        weight = torch.stack(weights)[..., None].expand_as(output)
        loss = functional.binary_cross_entropy(output, torch.stack(wanted), weight=weight, reduction="sum")
        loss = loss / weight.sum().clamp_min(1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress is not None:
            progress("train", (step + 1) / steps)
    return losses


def _crop(
    magnitude: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, start: int, length: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Magnitudes ``(2, length, 1024)``, targets ``(length, 320)`` and loss weights ``(length,)``,
    zero-padded past the song's end."""
    stop = min(start + length, magnitude.shape[1])
    count = stop - start
    inputs = torch.zeros(magnitude.shape[0], length, magnitude.shape[2])
    inputs[:, :count] = magnitude[:, start:stop]
    wanted = torch.zeros(length, targets.shape[1])
    wanted[:count] = targets[start:stop]
    weights = torch.zeros(length)
    weights[:count] = mask[start:stop].float()
    return inputs, wanted, weights


def changed_frames(before_hz: np.ndarray, after_hz: np.ndarray, untouched: np.ndarray) -> int:
    """Uncorrected frames whose F0 changed voicing or moved by more than 50 cents."""
    voicing = (before_hz > 0) != (after_hz > 0)
    both = (before_hz > 0) & (after_hz > 0)
    cents = np.zeros_like(before_hz)
    cents[both] = 1200 * np.abs(np.log2(after_hz[both] / before_hz[both]))
    return int(np.sum(untouched & (voicing | (cents > 50))))
