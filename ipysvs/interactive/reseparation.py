"""Separating a song again after ``adapt()``: the pitch conditioning, the re-separation itself, and the
song's own copies of the separator's U-Nets.

F0->SVS keeps the first (pretrained) separation and adds only what the refiner changes where the
gate says the F0 is known (:class:`~ipysvs.conditioned.RefinementSeparator`); when an activity loss
retrained the joint model's U-Nets it separates from scratch
(:class:`~ipysvs.conditioned.ConditionedSeparator`).
SVS->F0 separates with its adapted plain U-Nets and reads the F0 off their vocals.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..analysis import SongAnalysis
from ..conditioned import ConditionedSeparator, RefinementSeparator
from ..errors import ParameterError
from ..f0 import Trajectory
from ..models.joint import JointModel
from ..models.unet import SeparationUNet
from ..pitch import salience_trajectory, song_salience
from ..progress import Progress
from ..separation import Separator, VocalFrames, default_separator, mixture_magnitude, mixture_spectrum
from ..stems import STEMS
from .adaptation import SongTensors, pitch_gate
from .edits import Edit, apply_edits
from .song_remix import SongRemix

__all__ = ["changed_tensors", "nets_with_changes", "pitch_conditioning", "reseparate", "training_song"]

UNetPair = tuple[SeparationUNet, SeparationUNet]  # (vocals, accompaniment)


def pitch_conditioning(
    edited_hz: np.ndarray, corrected: np.ndarray, activity: np.ndarray, estimate: Trajectory
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The refiner's F0, gate and deep gate, each ``(frames,)`` float32.

    The user's information is the corrected frames and the frames marked silent (``activity < 0``):
    there both gates are 1. Elsewhere the first stage's gate trusts the estimate as
    :func:`~ipysvs.interactive.adaptation.pitch_gate` says, and the deeper stages' gate is 0: a frame
    that only the estimate informs is refined by the first stage alone, so the deeper stage runs on
    the patches the user touched only (``benchmarks/RESULTS.md``, section 7: ``adapt()`` after 30 s of
    corrections of a 3-minute song 12.2-12.4 -> 9.4-9.6 s, at 0.1 dB of the uncorrected frames' gain on the
    demo songs).
    """
    informed = corrected | (activity < 0)
    hz, gate = pitch_gate(edited_hz, informed, estimate, corrections=bool(corrected.any()))
    return hz, gate, informed.astype(np.float32)


def training_song(
    model: JointModel,
    samples: np.ndarray,
    sr: int,
    analysis: SongAnalysis,
    edited_hz: np.ndarray,
    corrected: np.ndarray,
    activity: np.ndarray,
    *,
    needs_mixture: bool,
    remix: bool,
) -> SongTensors:
    """The song as the training loop reads it (the mixture's stereo magnitudes only when a step needs
    them; their channel mean, which the saliency network reads, always).

    Args:
        samples: ``(channels, samples)`` the mixture at ``sr`` Hz; ``analysis`` its first analysis.
        edited_hz, corrected, activity: ``(frames,)`` the F0 with the edits applied (Hz), which frames
            were corrected, the activity marks (1 singing, -1 silent, 0 unmarked).
        remix: prepare :class:`~ipysvs.interactive.song_remix.SongRemix` material from the song.
    """
    spectrum = mixture_spectrum(samples, sr) if needs_mixture or remix else None
    magnitude = spectrum.abs() if spectrum is not None else mixture_magnitude(samples, sr)
    song_remix = None
    if remix and spectrum is not None:
        ratio = (analysis.vocal_magnitude / spectrum.abs().clamp_min(1e-8)).clamp(0, 1)
        song_remix = SongRemix.prepare(model, spectrum, ratio, edited_hz, corrected, activity)
    return SongTensors(
        vocal_magnitude=analysis.vocal_magnitude,
        mixture_magnitude=magnitude if needs_mixture else None,
        salience_mixture=magnitude.mean(dim=0, keepdim=True).half(),
        remix=song_remix,
    )


def reseparate(
    model: JointModel,
    plain: UNetPair | None,
    samples: np.ndarray,
    sr: int,
    analysis: SongAnalysis,
    edits: Sequence[Edit],
    activity: np.ndarray,
    progress: Progress | None = None,
    *,
    separator_trained: bool,
) -> tuple[np.ndarray, np.ndarray, Trajectory]:
    """Separate the song with adapted networks.

    Args:
        model: the (adapted) joint model.
        plain: SVS->F0's adapted U-Nets, or None for F0->SVS.
        samples: ``(channels, samples)`` the mixture at ``sr`` Hz; ``analysis`` its first analysis.
        edits: the user's edits, replayed onto the new estimate; ``activity`` their activity marks.
        progress: called as ``progress(phase, done, total)`` with phases "estimate" and "separate".
        separator_trained: the joint model's U-Nets differ from the pretrained ones.

    Returns:
        Vocals ``(channels, samples)``, saliency ``(frames, 320)`` and the new F0 estimate.
    """
    if plain is not None:  # SVS->F0: separate, then read the F0 off the adapted vocals
        collector = VocalFrames()
        separator = Separator(*plain)
        vocals = separator.separate_channels(samples, sr, progress=progress, collector=collector)
        salience = song_salience(model.salience, collector.magnitude, collector.mixture_magnitude)
        return vocals, salience, salience_trajectory(salience)
    salience = song_salience(model.salience, analysis.vocal_magnitude, mixture_magnitude(samples, sr))
    estimate = salience_trajectory(salience)
    if progress is not None:
        progress("estimate", 1, 1)
    edited_hz, corrected = apply_edits(estimate.times, estimate.hz, edits)
    hz, gate, deep_gate = pitch_conditioning(edited_hz, corrected, activity, estimate)
    if separator_trained:  # the song's own U-Nets (Cantisani's option): separate from scratch
        separator = ConditionedSeparator(model, hz, gate, deep_gate)
        return separator.separate_channels(samples, sr, progress=progress), salience, estimate
    # the pretrained separation stays; only what the pitch adds is separated
    refinement = RefinementSeparator(model, analysis.vocal_magnitude, hz, gate, deep_gate)
    vocals = analysis.vocals
    if refinement.has_change():
        vocals = vocals + refinement.separate_channels(samples, sr, progress=progress)
    return vocals, salience, estimate


def changed_tensors(nets: UNetPair) -> dict[str, torch.Tensor]:
    """The tensors of adapted U-Nets that differ from the pretrained ones, as
    ``{"vocals.<name>" | "accompaniment.<name>": tensor}`` (empty: the nets are the pretrained ones)."""
    pretrained = default_separator()
    changed = {}
    for stem, net, original in zip(
        STEMS, nets, (pretrained.vocals_net, pretrained.accompaniment_net), strict=True
    ):
        reference = original.state_dict()
        for name, value in net.state_dict().items():
            if not torch.equal(value, reference[name]):
                changed[f"{stem}.{name}"] = value.detach().contiguous().clone()
    return changed


def nets_with_changes(changed: Mapping[str, torch.Tensor], *, source: str) -> UNetPair:
    """Copies of the pretrained U-Nets with the ``changed`` tensors (of :func:`changed_tensors`) put back.

    Raises:
        ParameterError: a tensor that the U-Nets do not have, or of another shape (``source`` names the file).
    """
    pretrained = default_separator()
    nets = (copy.deepcopy(pretrained.vocals_net), copy.deepcopy(pretrained.accompaniment_net))
    states = {stem: net.state_dict() for stem, net in zip(STEMS, nets, strict=True)}
    with torch.no_grad():
        for key, value in changed.items():
            stem, _, name = key.partition(".")
            target = states.get(stem, {}).get(name)
            if target is None or target.shape != value.shape:
                raise ParameterError(f"{source}: holds an unexpected separator tensor {key!r}")
            target.copy_(value)
    return nets
