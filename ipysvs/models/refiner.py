"""The F0-informed mask refinement: the only part of the separator that reads pitch.

Spleeter's pretrained U-Nets stay frozen and give the vocal ratio mask ``R0`` of every frame. The
refiner reads the mixture magnitudes, ``R0``, the F0 drawn as a harmonic comb and a per-frame *gate*
``g`` in ``[0, 1]`` -- how much pitch information that frame carries (1 where the user corrected the
F0 or deleted it, the estimate's confidence where the estimate is trusted, 0 elsewhere) -- and
returns a change of the mask::

    R = clip(R0 + g * (sigmoid(logit(R0) + delta) - sigmoid(logit(R0))), 0, 1)

in stages (:data:`STAGE_WIDTHS`): a second, deeper U-Net applies the same kind of gated change to the
first stage's mask, with a gate of its own (``deep_gate``): the session opens it only where the user
gave information, so a frame that only the estimate informs is refined by the first stage alone, and
the deeper stage runs only on the patches the user touched (``benchmarks/RESULTS.md``, section 7:
a quarter of ``adapt()``'s time on a 3-minute song). With ``g = 0`` the change is exactly zero whatever
the refiner's weights (and so it is everywhere before training, while ``delta = 0``), so a frame
without pitch information is separated exactly as the pretrained separator separates it: the pitch
input can only add, through the one part trained to use it.

The refiner changes the voice's band only, bins ``0..REFINED_BINS-1`` (0-7.6 kHz, where the voice's
harmonics carry its energy), reading :data:`CONTEXT_BINS` more above it: its U-Nets run on 768 of the
1024 bins (three quarters of the cost), and above the band the mask is the pretrained one. On the
benchmark songs its changes above that band were worth nothing (``benchmarks/RESULTS.md``, section 7).
Inference runs the stages' U-Nets in bfloat16 where the CPU computes it
natively (:mod:`ipysvs.models.precision`). The crop frames must be a multiple of 64 for the pretrained U-Nets
that give ``R0``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from .precision import inference_autocast
from .salience import render_harmonics
from .unet import UNet

#: the U-Net widths of the refiner's stages: a first one of four levels and a second, deeper one
#: (five levels: twice the time context, 32 frames to a cell at the bottom) that refines the first's mask
STAGE_WIDTHS = ((16, 32, 64, 128), (16, 32, 64, 128, 256))
REFINER_FINAL_WIDTH = 4
INPUT_CHANNELS = 6  # log-magnitude x2, ratio x2, harmonic comb, gate
RATIO_CLAMP = 1e-4
LEVEL_EPS = 1e-6
REFINED_BINS = 704  # the band the refiner changes: bins 0..703, 0-7.6 kHz at 10.8 Hz a bin
CONTEXT_BINS = 64  # bins above that band its U-Nets read; they run on REFINED_BINS + CONTEXT_BINS
SECOND_FRAMES = 43  # STFT frames (hop 1024 at 44.1 kHz) in about one second
SDR_CAP = 1e-3  # framewise_error_db's error floor against the reference: SDR at most 30 dB


class RefinerStage(nn.Module):
    """One gated, F0-informed change of a stereo vocal ratio mask.

    A small U-Net (``widths``, no dropout) over ``(batch, 6, frames, REFINED_BINS + CONTEXT_BINS)``
    inputs, the lower bins of the ``(batch, 2, frames, 1024)`` spectra; its head starts at zero, so an
    untrained stage changes nothing even where the gate is open. Frames must be a multiple of
    :attr:`frame_multiple`.
    """

    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.unet = UNet(INPUT_CHANNELS, 2, widths=widths, final_width=REFINER_FINAL_WIDTH, dropout_blocks=0)
        if (REFINED_BINS + CONTEXT_BINS) % self.unet.frame_multiple:
            raise ValueError(f"the refiner's band must be a multiple of {self.unet.frame_multiple} bins")
        nn.init.zeros_(self.unet.mask_head.weight)
        nn.init.zeros_(self.unet.mask_head.bias)

    @property
    def frame_multiple(self) -> int:
        """Frames must be a multiple of this."""
        return self.unet.frame_multiple

    def forward(
        self, magnitude: torch.Tensor, ratio: torch.Tensor, hz: torch.Tensor, gate: torch.Tensor
    ) -> torch.Tensor:
        """The change of the vocal ratio mask ``ratio`` (shapes as in :meth:`MaskRefiner.forward`): zero
        above the first :data:`REFINED_BINS` bins."""
        gate = gate.clamp(0, 1).to(ratio.dtype)
        level = magnitude.mean(dim=(1, 2, 3), keepdim=True) + LEVEL_EPS  # the whole spectrum's level
        frames, band = magnitude.shape[2], REFINED_BINS + CONTEXT_BINS
        inputs = torch.cat(
            [
                torch.log1p(magnitude[..., :band] / level),
                ratio[..., :band],
                render_harmonics(hz, torch.ones_like(hz), bins=band).to(ratio.dtype),
                gate[:, None, :, None].expand(-1, 1, frames, band),
            ],
            dim=1,
        )
        with inference_autocast():  # bfloat16 for the U-Net's body only (ipysvs.models.precision)
            delta = self.unet.logits(inputs)[..., :REFINED_BINS].float()
        refined = ratio[..., :REFINED_BINS]
        logit = torch.logit(refined.clamp(RATIO_CLAMP, 1 - RATIO_CLAMP))
        moved = gate[:, None, :, None] * (torch.sigmoid(logit + delta) - torch.sigmoid(logit))
        change = (refined + moved).clamp(0, 1) - refined
        return functional.pad(change, (0, ratio.shape[-1] - REFINED_BINS))


class MaskRefiner(nn.Module):
    """The refiner: :class:`RefinerStage` s in sequence (widths :data:`STAGE_WIDTHS`), each refining
    the mask the one before it gave. Every stage is gated (the first by ``gate``, the deeper ones by
    ``deep_gate``), so the whole change is exactly zero where both gates are zero.

    Attributes:
        stages: the stages, first to last.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.ModuleList(RefinerStage(widths) for widths in STAGE_WIDTHS)

    @property
    def frame_multiple(self) -> int:
        """Frames must be a multiple of this."""
        return max(stage.frame_multiple for stage in self.stages)

    def forward(
        self,
        magnitude: torch.Tensor,
        ratio: torch.Tensor,
        hz: torch.Tensor,
        gate: torch.Tensor,
        deep_gate: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The change of the vocal ratio mask.

        Args:
            magnitude: ``(batch, 2, frames, 1024)`` mixture magnitudes (any scale: each example is
                normalised by its mean level).
            ratio: ``(batch, 2, frames, 1024)`` the pretrained vocal ratio ``R0`` in ``[0, 1]``.
            hz: ``(batch, frames)`` F0 in Hz (0 = unvoiced).
            gate: ``(batch, frames)`` pitch information per frame in ``[0, 1]``: the first stage's gate.
            deep_gate: ``(batch, frames)`` in ``[0, 1]``, the gate of the stages after the first
                (None: ``gate``, as in training). Examples whose deep gate is zero on every frame skip
                those stages: their change would be exactly zero.

        Returns:
            ``(batch, 2, frames, 1024)`` ``R - R0``: exactly zero in frames where both gates are zero,
            above the first :data:`REFINED_BINS` bins, and everywhere while the heads are zero;
            ``R0 + change`` lies in ``[0, 1]``.
        """
        first, *deeper = self.stages
        refined = ratio + first(magnitude, ratio, hz, gate)
        if deep_gate is None:
            deep_gate = gate
        rows = deep_gate.flatten(1).any(dim=1)
        if deeper and bool(rows.any()):
            deep = refined[rows]
            for stage in deeper:
                deep = deep + stage(magnitude[rows], deep, hz[rows], deep_gate[rows])
            refined = refined.index_put((rows,), deep)
        return refined - ratio


def stem_l1(
    ratio: torch.Tensor, mixture: torch.Tensor, voice: torch.Tensor, accompaniment: torch.Tensor
) -> torch.Tensor:
    """The refiner's loss: L1 between ratio-masked mixture magnitudes and the true stems' magnitudes,
    each example relative to its mixture's mean level, averaged over the batch.

    Args:
        ratio: ``(batch, 2, frames, 1024)`` vocal ratio mask.
        mixture, voice, accompaniment: magnitudes of the same shape.
    """
    error = (ratio * mixture - voice).abs() + ((1 - ratio) * mixture - accompaniment).abs()
    level = mixture.mean(dim=(1, 2, 3)) + LEVEL_EPS
    return (error.mean(dim=(1, 2, 3)) / level).mean()


def masked_error_energy(ratio: torch.Tensor, mixture: torch.Tensor, voice: torch.Tensor) -> torch.Tensor:
    """The refiner's waveform-aligned loss: the energy of ``ratio * mixture - voice`` in the complex
    STFT -- by Parseval the energy of the separated vocals' error, what SDR measures (the
    accompaniment's error is the same signal, negated) -- per example relative to its voice's energy
    plus a tenth of its mixture's (so that crops where nobody sings still count), averaged over the
    batch.

    Args:
        ratio: ``(batch, 2, frames, 1024)`` vocal ratio mask.
        mixture, voice: complex STFT frames of the same shape.
    """
    error = (ratio * mixture - voice).abs().square().sum(dim=(1, 2, 3))
    reference = voice.abs().square().sum(dim=(1, 2, 3)) + 0.1 * mixture.abs().square().sum(dim=(1, 2, 3))
    return (error / (reference + LEVEL_EPS)).mean()


def framewise_error_db(
    ratio: torch.Tensor,
    mixture: torch.Tensor,
    voice: torch.Tensor,
    *,
    window_frames: int = SECOND_FRAMES,
) -> torch.Tensor:
    """The refiner's frame-median-aligned loss: minus the vocals' SDR in dB of each window of about
    one second (``window_frames`` STFT frames, as museval's 1 s frames), averaged over windows and
    batch, so that a quiet passage counts as much as a loud one (the median over frames does).

    Per window ``10 log10((e + c r) / r)``, with ``e`` the energy of ``ratio * mixture - voice``
    (complex STFT: by Parseval the waveform error), ``r`` the voice's energy plus a hundredth of the
    mixture's (a window where nobody sings still counts) and ``c = 10^-3``: no window is pushed past
    30 dB, where museval's median no longer moves.

    Args:
        ratio: ``(batch, 2, frames, 1024)`` vocal ratio mask.
        mixture, voice: complex STFT frames of the same shape.
        window_frames: STFT frames per window; the last window of a crop may be shorter.
    """
    energy = (ratio * mixture - voice).abs().square().sum(dim=(1, 3))
    reference = voice.abs().square().sum(dim=(1, 3)) + 0.01 * mixture.abs().square().sum(dim=(1, 3))
    windows = torch.arange(energy.shape[1], device=energy.device) // window_frames
    count = int(windows[-1]) + 1
    error_w = energy.new_zeros(energy.shape[0], count).index_add_(1, windows, energy)
    reference_w = energy.new_zeros(energy.shape[0], count).index_add_(1, windows, reference) + LEVEL_EPS
    return (10 * torch.log10((error_w + SDR_CAP * reference_w) / reference_w)).mean()


__all__ = [
    "CONTEXT_BINS",
    "REFINED_BINS",
    "STAGE_WIDTHS",
    "MaskRefiner",
    "RefinerStage",
    "framewise_error_db",
    "masked_error_energy",
    "stem_l1",
]
