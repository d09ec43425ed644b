"""Per-song learning beyond the pitch channel: the refiner learns *this* song's accompaniment.

What a user marks is information about the song itself:

* frames where nobody sings -- deletions, frames marked silent, and unvoiced runs of at least
  :data:`SILENT_RUN_S` inside corrected F0 (longer than any consonant) -- are **pure accompaniment**
  of this song;
* corrected voiced frames hold the voice at an exactly known pitch.

Each training step of ``adapt()`` (F0->SVS) mixes a crop of the song's separated voice at corrected
frames with a crop of its pure accompaniment into a new mixture whose stems are known, and trains the
refiner (only) to separate it, with the corrected F0 and the loss the refiner was pretrained with
(:func:`~ipysvs.models.refiner.stem_l1`). The separated voice is the refiner's own output before
adaptation, so the step teaches what to remove (this song's drums, chords, ...), not a new voice.
The pretrained separator stays frozen, so frames without pitch information still separate exactly
as it does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from ..models.joint import JointModel
from ..models.refiner import MaskRefiner, stem_l1
from ..spectral import HOP, SAMPLE_RATE

SILENT_RUN_S = 0.3
MIN_FRAMES = 32  # of voiced and of silent frames, for the remix to run
REMIX_CROP_FRAMES = 128


def pure_accompaniment(
    edited_hz: np.ndarray, corrected: np.ndarray, activity: np.ndarray, *, run_s: float = SILENT_RUN_S
) -> np.ndarray:
    """``(frames,)`` bool: frames where, by the user's edits, nobody sings.

    Args:
        edited_hz: ``(frames,)`` the F0 with the edits applied (Hz, 0 = unvoiced).
        corrected: ``(frames,)`` bool, frames whose F0 the user set or deleted.
        activity: ``(frames,)`` int8, -1 where marked silent.
        run_s: unvoiced corrected runs at least this long (seconds) count as silent.
    """
    unvoiced = corrected & (edited_hz <= 0)
    silent = activity < 0
    shortest = int(np.ceil(run_s * SAMPLE_RATE / HOP))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], unvoiced.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= shortest:
            silent[start:stop] = True
    return silent


@dataclass
class SongRemix:
    """The song material of the remix steps.

    Attributes:
        spectrum: ``(2, frames, 1024)`` complex64 mixture STFT frames (first stereo pair).
        pretrained_ratio: ``(2, frames, 1024)`` the pretrained separator's vocal ratio.
        hz: ``(frames,)`` float32 the corrected F0 (Hz).
        corrected: ``(frames,)`` bool; voiced: corrected voiced frames; silent: pure accompaniment.
        teacher: a frozen copy of the refiner before adaptation (separates the voice crops).
    """

    spectrum: torch.Tensor
    pretrained_ratio: torch.Tensor
    hz: torch.Tensor
    corrected: np.ndarray
    voiced: np.ndarray
    silent: np.ndarray
    teacher: MaskRefiner

    @classmethod
    def prepare(
        cls,
        model: JointModel,
        spectrum: torch.Tensor,
        pretrained_ratio: torch.Tensor,
        edited_hz: np.ndarray,
        corrected: np.ndarray,
        activity: np.ndarray,
    ) -> SongRemix | None:
        """The remix material, or None when the song has too few corrected voiced or silent frames."""
        silent = pure_accompaniment(edited_hz, corrected, activity)
        voiced = corrected & (edited_hz > 0)
        if voiced.sum() < MIN_FRAMES or silent.sum() < MIN_FRAMES:
            return None
        teacher = copy.deepcopy(model.refiner).eval()
        for parameter in teacher.parameters():
            parameter.requires_grad_(False)
        hz = torch.from_numpy(np.where(corrected, edited_hz, 0).astype(np.float32))
        return cls(spectrum, pretrained_ratio, hz, corrected, voiced, silent, teacher)

    def loss(self, model: JointModel, rng: np.random.Generator, *, batch: int = 1) -> torch.Tensor:
        """:func:`stem_l1` of the refiner on ``batch`` remixed crops (gradients reach the refiner only)."""
        voiced_frames, silent_frames = np.flatnonzero(self.voiced), np.flatnonzero(self.silent)
        total = self.spectrum.shape[1]
        length = min(REMIX_CROP_FRAMES, total - total % 64)
        mixtures, voices, accompaniments, hzs, gates = [], [], [], [], []
        for _ in range(batch):
            start = int(np.clip(rng.choice(voiced_frames) - length // 2, 0, total - length))
            frames = slice(start, start + length)
            gate = torch.from_numpy(self.corrected[frames].astype(np.float32))
            spectrum = self.spectrum[:, frames]
            with torch.no_grad():
                magnitude = spectrum.abs()[None]
                ratio = self.pretrained_ratio[None, :, frames]
                voice_ratio = ratio + self.teacher(magnitude, ratio, self.hz[None, frames], gate[None])
            voice = spectrum * voice_ratio[0]
            offset = int(rng.integers(silent_frames.size))
            accompaniment = self.spectrum[:, silent_frames[(offset + np.arange(length)) % silent_frames.size]]
            mixtures.append((voice + accompaniment).abs())
            voices.append(voice.abs())
            accompaniments.append(accompaniment.abs())
            hzs.append(self.hz[frames])
            gates.append(gate)
        mixture = torch.stack(mixtures)
        with torch.no_grad():
            ratio = model.pretrained_ratio(mixture)
        refined = ratio + model.refiner(mixture, ratio, torch.stack(hzs), torch.stack(gates))
        return stem_l1(refined, mixture, torch.stack(voices), torch.stack(accompaniments))


__all__ = ["SILENT_RUN_S", "SongRemix", "pure_accompaniment"]
