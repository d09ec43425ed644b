"""Whole-song separation with Spleeter's pretrained 2-stems U-Nets, chunk by chunk.

The song is cut into overlapping patches of at most 512 frames (11.9 s). Each patch's vocal ratio
mask ``m_v^2 / (m_v^2 + m_a^2)`` is computed from the two U-Nets, cross-faded linearly with its
neighbours over the overlap, extended above 11 kHz, and applied to the mixture spectrum; the masked
frames are overlap-added straight into the output (see :mod:`ipysvs.spectral`), so memory stays
bounded by a few patches whatever the song's length. The accompaniment is the mixture minus the
vocals, which is exactly what its ratio mask ``1 - vocal ratio`` gives and keeps ``vocals +
accompaniment == mixture`` to float precision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import audio as audio_io
from .errors import ParameterError
from .memory import return_freed_memory
from .models.unet import FRAME_MULTIPLE, SeparationUNet
from .progress import Progress
from .spectral import (
    HOP,
    MODEL_BINS,
    N_BINS,
    N_FFT,
    SAMPLE_RATE,
    OverlapAdd,
    frame_count,
    hann_window,
    stft_frames,
)

__all__ = [
    "EXTENSION_SOURCE_BINS",
    "OVERLAP_FRAMES",
    "PATCH_BATCH",
    "PATCH_FRAMES",
    "RATIO_EPS",
    "TRIM_EVERY_PATCHES",
    "Patch",
    "Separator",
    "StreamedInput",
    "VocalFrames",
    "default_separator",
    "extend_ratio",
    "mixture_magnitude",
    "mixture_spectrum",
    "plan_patches",
    "ratio_mask",
    "separate",
]

PATCH_FRAMES = 512
OVERLAP_FRAMES = 32
PATCH_BATCH = 2  # patches per network call: two run ~15 % faster than one after the other on a CPU
RATIO_EPS = 1e-10
TRIM_EVERY_PATCHES = 4  # give freed memory back to the system this often (ipysvs.memory)
# the vocal ratio above 11 kHz is the mean ratio of the top bins below it (9.7..11 kHz)
EXTENSION_SOURCE_BINS = 128


@dataclass(frozen=True)
class Patch:
    """One network input: frames ``start .. start + length - 1`` and their cross-fade weights.

    Attributes:
        start: first frame.
        length: frames (512 by default).
        weights: ``(length,)`` float32 weights; over the whole song the weights of all patches sum to 1.
    """

    start: int
    length: int
    weights: torch.Tensor


def plan_patches(
    n_frames: int, *, patch_frames: int = PATCH_FRAMES, overlap: int = OVERLAP_FRAMES
) -> list[Patch]:
    """Tile ``n_frames`` frames with overlapping patches and complementary linear cross-fades.

    Every patch is ``patch_frames`` long; the last one runs past the song's end into zero frames, as
    in Spleeter's own inference. (Shortening it changes the masks of the whole patch: the U-Net's
    receptive field spans hundreds of frames and its biases make padding frames non-zero inside it.)
    """
    if n_frames <= 0:
        raise ParameterError(f"cannot plan patches for {n_frames} frames")
    if not 0 <= overlap <= patch_frames // 2 or patch_frames % FRAME_MULTIPLE:
        raise ParameterError(
            f"patches of {patch_frames} frames (a multiple of {FRAME_MULTIPLE}) need an overlap in "
            f"0..{patch_frames // 2}, got {overlap}"
        )
    starts = [0]
    while starts[-1] + patch_frames < n_frames:
        starts.append(starts[-1] + patch_frames - overlap)
    fade_in = (torch.arange(overlap, dtype=torch.float32) + 0.5) / overlap
    patches = []
    for index, start in enumerate(starts):
        weights = torch.ones(patch_frames)
        if index > 0 and overlap:
            weights[:overlap] = fade_in
        if index < len(starts) - 1 and overlap:
            weights[patch_frames - overlap :] = fade_in.flip(0)
        patches.append(Patch(start, patch_frames, weights))
    return patches


class Separator:
    """Spleeter 2-stems separation of whole songs.

    Args:
        vocals: the vocals U-Net (pretrained weights by default).
        accompaniment: the accompaniment U-Net (pretrained weights by default).
        overlap_frames: frames shared by consecutive 512-frame patches (cross-faded).

    Example:
        >>> separator = Separator()                       # doctest: +SKIP
        >>> vocals, accompaniment = separator.separate(mixture, 44100)  # doctest: +SKIP
    """

    def __init__(
        self,
        vocals: SeparationUNet | None = None,
        accompaniment: SeparationUNet | None = None,
        *,
        overlap_frames: int = OVERLAP_FRAMES,
    ) -> None:
        from .models.weights import load_pretrained_unet

        self.vocals_net = (vocals or load_pretrained_unet("vocals")).eval()
        self.accompaniment_net = (accompaniment or load_pretrained_unet("accompaniment")).eval()
        self.overlap_frames = overlap_frames

    def vocal_ratio(self, magnitude: torch.Tensor, patches: Sequence[Patch] = ()) -> torch.Tensor:
        """Spleeter's vocal ratio mask for a batch of patches.

        Args:
            magnitude: ``(batch, 2, frames, 1024)`` mixture magnitudes.
            patches: where each patch lies in the song (subclasses use it to align conditioning).

        Returns:
            ``(batch, 2, frames, 1024)`` ratio in ``[0, 1]``.
        """
        return ratio_mask(self.vocals_net(magnitude), self.accompaniment_net(magnitude), magnitude)

    def separate(
        self, audio: object, sr: int, *, progress: Progress | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Separate a mixture into vocals and accompaniment.

        Args:
            audio: mixture, ``(samples,)``, ``(channels, samples)`` or ``(samples, channels)``.
            sr: its sample rate in Hz (8..192 kHz).
            progress: called as ``progress("separate", done, total)`` in patches (:mod:`ipysvs.progress`).

        Returns:
            ``(vocals, accompaniment)``, each shaped and typed like ``audio``, at rate ``sr``; they sum
            to the mixture.
        """
        samples, layout = audio_io.as_channels_first(audio)
        sr = audio_io.validate_sample_rate(sr)
        vocals = self.separate_channels(samples, sr, progress=progress)
        return layout.restore(vocals), layout.restore(samples - vocals)

    def separate_channels(
        self,
        samples: np.ndarray,
        sr: int,
        *,
        progress: Progress | None = None,
        collector: VocalFrames | None = None,
    ) -> np.ndarray:
        """Vocals of ``(channels, samples)`` float32 audio at ``sr`` Hz, same shape and rate
        (:meth:`vocal_blocks`, gathered)."""
        vocals = np.empty_like(samples)
        done = 0
        for block in self.vocal_blocks(samples, sr, progress=progress, collector=collector):
            vocals[:, done : done + block.shape[1]] = block
            done += block.shape[1]
        return vocals

    def vocal_blocks(
        self,
        samples: np.ndarray,
        sr: int,
        *,
        progress: Progress | None = None,
        collector: VocalFrames | None = None,
    ) -> Iterator[np.ndarray]:
        """Vocals of ``(channels, samples)`` float32 audio at ``sr`` Hz, streamed.

        Yields consecutive ``(channels, n)`` float32 blocks at ``sr`` Hz, ``samples.shape[1]`` in all,
        each as soon as it is final (about one patch, 11 s, at a time): memory stays a few patches
        whatever the song's length. Channels are separated in stereo pairs (0, 1), (2, 3), ...; a lone
        channel is separated as dual mono and its two vocal channels averaged. A ``collector``
        receives every patch's vocal magnitudes on the way (for pitch estimation without a second pass).

        Raises:
            ParameterError: ``samples`` is not finite float32 ``(channels, samples)`` audio or ``sr``
                not a supported rate (checked here, before the first block).
        """
        if not (isinstance(samples, np.ndarray) and samples.dtype == np.float32 and samples.ndim == 2):
            raise ParameterError(
                "vocal_blocks takes float32 (channels, samples) audio (ipysvs.audio.as_channels_first "
                f"makes it), got {type(samples).__name__} {getattr(samples, 'dtype', '')} "
                f"{getattr(samples, 'shape', '')}"
            )
        checked, _ = audio_io.as_channels_first(samples)
        if checked.shape != samples.shape:
            raise ParameterError(f"audio shaped {samples.shape} has more channels than samples")
        sr = audio_io.validate_sample_rate(sr)
        return self._vocal_blocks(samples, sr, progress, collector)

    def _vocal_blocks(
        self, samples: np.ndarray, sr: int, progress: Progress | None, collector: VocalFrames | None
    ) -> Iterator[np.ndarray]:
        """:meth:`vocal_blocks` of checked input."""
        n_resampled = audio_io.resampled_length(samples.shape[1], sr, SAMPLE_RATE)
        n_frames = frame_count(n_resampled)
        patches = plan_patches(n_frames, overlap=self.overlap_frames)
        groups = [slice(c, min(c + 2, samples.shape[0])) for c in range(0, samples.shape[0], 2)]
        total = len(patches) * len(groups)
        done = 0
        if collector is not None:
            collector.reset(n_frames, len(groups))

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress("separate", done, total)

        streams = [
            self._stereo_vocal_blocks(StreamedInput(samples[group], sr), patches, step, collector)
            for group in groups
        ]
        output = audio_io.ResamplingStream(samples.shape[0], SAMPLE_RATE, sr)
        emitted = 0
        for index, pieces in enumerate(zip(*streams, strict=True)):
            if index % TRIM_EVERY_PATCHES == TRIM_EVERY_PATCHES - 1:
                return_freed_memory()  # the patches' freed temporaries would otherwise pile up
            block = np.concatenate(
                [
                    piece if group.stop - group.start == 2 else piece.mean(axis=0, keepdims=True)
                    for piece, group in zip(pieces, groups, strict=True)
                ]
            )
            last = pieces[0].shape[1] == 0
            block = output.push(block, last=last)[:, : samples.shape[1] - emitted]
            emitted += block.shape[1]
            yield block
        if emitted < samples.shape[1]:
            yield np.zeros((samples.shape[0], samples.shape[1] - emitted), dtype=np.float32)

    def _stereo_vocal_blocks(
        self,
        source: StreamedInput,
        patches: Sequence[Patch],
        step: Callable[[], None],
        collector: VocalFrames | None,
    ) -> Iterator[np.ndarray]:
        """Vocals of one stereo pair (or dual mono) at 44.1 kHz: one ``(2, n)`` block per patch,
        then an empty block that marks the end."""
        output = OverlapAdd(2, source.length)
        for index, (patch, spectrum, ratio) in enumerate(self._patch_ratios(source, patches)):
            if ratio.any():  # a patch whose mask is all zero adds exactly nothing
                output.add(spectrum * (extend_ratio(ratio) * patch.weights), patch.start)
            if collector is not None:
                collector.add(patch, spectrum, ratio)
            step()
            following = patches[index + 1].start if index + 1 < len(patches) else None
            yield (output.result() if following is None else output.release(following)).numpy()
        yield np.zeros((2, 0), dtype=np.float32)

    def frame_ratios(self, stereo: torch.Tensor) -> torch.Tensor:
        """The cross-faded vocal ratio of every frame of ``(2, samples)`` 44.1 kHz audio.

        Returns:
            ``(2, 1024, frames)`` float32 in ``[0, 1]``.
        """
        source = StreamedInput(stereo.numpy(), SAMPLE_RATE)
        n_frames = frame_count(source.length)
        ratios = torch.zeros(2, MODEL_BINS, n_frames)
        patches = plan_patches(n_frames, overlap=self.overlap_frames)
        for patch, _, ratio in self._patch_ratios(source, patches):
            stop = min(patch.start + patch.length, n_frames)
            weighted = ratio * patch.weights
            ratios[..., patch.start : stop] += weighted[..., : stop - patch.start]
        return ratios

    def _patch_ratios(
        self, source: StreamedInput, patches: Sequence[Patch]
    ) -> Iterator[tuple[Patch, torch.Tensor, torch.Tensor]]:
        """For each of ``patches`` (in order) of ``source``: the patch, its ``(2, 2049, length)``
        spectrum (zero past the song's end) and its ``(2, 1024, length)`` vocal ratio."""
        window = hann_window()
        n_frames = frame_count(source.length)
        for first in range(0, len(patches), PATCH_BATCH):
            batch = patches[first : first + PATCH_BATCH]
            # inference mode only around the work: a generator suspended inside it would leave it on
            # for whoever consumes the patches
            with torch.inference_mode():
                spectra = []
                for patch in batch:
                    waveform, offset = source.span(
                        patch.start * HOP - N_FFT // 2, (patch.start + patch.length - 1) * HOP + N_FFT // 2
                    )
                    spectrum = stft_frames(
                        waveform.expand(2, -1), patch.start, patch.start + patch.length, window, offset=offset
                    )
                    spectrum[..., n_frames - patch.start :] = 0
                    spectra.append(spectrum)
                magnitude = torch.stack([s[:, :MODEL_BINS].abs().transpose(1, 2) for s in spectra])
                ratios = self.vocal_ratio(magnitude, batch).transpose(2, 3)
            yield from zip(batch, spectra, ratios, strict=True)


class StreamedInput:
    """One or two channels of a song seen at 44.1 kHz, resampled on the fly where needed.

    :meth:`span` hands out the samples of any range at or after the previous one's start; only those
    are held (the resampled song never is whole).

    Args:
        samples: ``(1 or 2, samples)`` float32 at ``sr`` Hz.
        sr: its rate in Hz.
    """

    FEED = 1 << 16  # input samples resampled at a time

    def __init__(self, samples: np.ndarray, sr: int) -> None:
        self.samples = samples
        self.length = audio_io.resampled_length(samples.shape[1], sr, SAMPLE_RATE)
        self._resampler = (
            None if sr == SAMPLE_RATE else audio_io.ResamplingStream(samples.shape[0], sr, SAMPLE_RATE)
        )
        self._held = np.zeros((samples.shape[0], 0), dtype=np.float32)
        self._held_from = 0
        self._fed = 0

    def span(self, lo: int, hi: int) -> tuple[torch.Tensor, int]:
        """Samples ``lo..hi-1`` at 44.1 kHz, clipped to the song: ``(channels, n)`` and the index of
        the first. ``lo`` must not be before the previous call's ``lo``."""
        lo, hi = min(max(lo, 0), self.length), min(max(hi, 0), self.length)
        if self._resampler is None:
            return torch.from_numpy(self.samples[:, lo:hi]), lo
        if lo < self._held_from:
            raise ValueError(f"sample {lo} was already dropped (the stream is at {self._held_from})")
        pieces = [self._held]
        held_to = self._held_from + self._held.shape[1]
        while held_to < hi and self._fed < self.samples.shape[1]:
            chunk = self.samples[:, self._fed : self._fed + self.FEED]
            self._fed += chunk.shape[1]
            pieces.append(self._resampler.push(chunk, last=self._fed >= self.samples.shape[1]))
            held_to += pieces[-1].shape[1]
        held = np.concatenate(pieces, axis=1) if len(pieces) > 1 else self._held
        self._held = held[:, lo - self._held_from :]
        self._held_from = lo
        return torch.from_numpy(self._held[:, : hi - lo]), lo


class VocalFrames:
    """Collects the separated vocal magnitude of every frame while a song is separated, and the
    mixture's (channel-averaged) magnitude beside it: what the saliency network reads.

    Patches are cross-faded like the audio; several stereo groups (multi-channel input) are averaged.
    Frames that later patches still add to are summed in float32; a frame is stored once the patches
    have moved past it, as float16 (half the memory; float32 from then on if the audio is too loud
    for float16). Patches must come in order of their start (all groups' patch before the next).
    After separation, :attr:`magnitude` holds ``(2, frames, 1024)`` vocal magnitudes and
    :attr:`mixture_magnitude` ``(1, frames, 1024)`` mixture magnitudes on Spleeter's grid (44.1 kHz
    STFT frames).
    """

    FLOAT16_LIMIT = 65_000.0  # float16 overflows to inf at 65 520

    def __init__(self) -> None:
        self.reset(0, 1)

    def reset(self, n_frames: int, groups: int) -> None:
        """Prepare for a song of ``n_frames`` frames separated as ``groups`` stereo groups."""
        self._stored = torch.zeros(2, n_frames, MODEL_BINS, dtype=torch.float16)
        self._stored_mixture = torch.zeros(1, n_frames, MODEL_BINS, dtype=torch.float16)
        self._pending = torch.zeros(3, 0, MODEL_BINS)  # float32 vocals + mixture sums, pending_start..
        self._pending_start = 0
        self.groups = groups

    def add(self, patch: Patch, spectrum: torch.Tensor, ratio: torch.Tensor) -> None:
        """Accumulate one patch: ``spectrum`` ``(2, 2049, length)``, ``ratio`` ``(2, 1024, length)``."""
        if patch.start < self._pending_start:
            raise ValueError(
                f"patch at frame {patch.start} comes after frames {self._pending_start}.. were stored"
            )
        self._store_before(patch.start)
        stop = min(patch.start + patch.length, self._stored.shape[1])
        missing = stop - self._pending_start - self._pending.shape[1]
        if missing > 0:
            self._pending = torch.cat([self._pending, torch.zeros(3, missing, MODEL_BINS)], dim=1)
        mixture = spectrum[:, :MODEL_BINS].abs()
        weights = patch.weights / self.groups
        weighted = torch.cat([ratio * mixture, mixture.mean(dim=0, keepdim=True)]) * weights
        first = patch.start - self._pending_start
        self._pending[:, first : first + stop - patch.start] += weighted[..., : stop - patch.start].transpose(
            1, 2
        )

    @property
    def magnitude(self) -> torch.Tensor:
        """``(2, frames, 1024)`` float16 (float32 for very loud audio) vocal magnitudes of every frame."""
        self._store_before(self._stored.shape[1])
        return self._stored

    @property
    def mixture_magnitude(self) -> torch.Tensor:
        """``(1, frames, 1024)`` float16 (float32 for very loud audio) mixture magnitudes of every
        frame, averaged over the channels."""
        self._store_before(self._stored.shape[1])
        return self._stored_mixture

    def _store_before(self, frame: int) -> None:
        """Store the pending frames before ``frame`` (no later patch reaches them)."""
        count = min(max(frame - self._pending_start, 0), self._pending.shape[1])
        if count:
            done = self._pending[:, :count]
            if self._stored.dtype == torch.float16 and float(done.abs().max()) > self.FLOAT16_LIMIT:
                self._stored, self._stored_mixture = self._stored.float(), self._stored_mixture.float()
            span = slice(self._pending_start, self._pending_start + count)
            self._stored[:, span] = done[:2]
            self._stored_mixture[:, span] = done[2:]
            self._pending = self._pending[:, count:].contiguous()
        self._pending_start += count
        if not self._pending.shape[1]:  # nothing pending: the next patch starts the pending frames
            self._pending_start = max(self._pending_start, frame)


def ratio_mask(
    vocals_mask: torch.Tensor, accompaniment_mask: torch.Tensor, magnitude: torch.Tensor
) -> torch.Tensor:
    """Spleeter's combination of two soft masks: ``(m_v x)^2 / ((m_v x)^2 + (m_a x)^2)``, any shape."""
    vocals = (vocals_mask * magnitude) ** 2
    accompaniment = (accompaniment_mask * magnitude) ** 2
    return (vocals + RATIO_EPS / 2) / (vocals + accompaniment + RATIO_EPS)


def extend_ratio(ratio: torch.Tensor) -> torch.Tensor:
    """Extend a ``(channels, 1024, frames)`` ratio mask to all ``2049`` bins.

    Bins above 11 kHz take, per frame and channel, the mean ratio of the top
    ``EXTENSION_SOURCE_BINS`` modelled bins, so high-frequency content is split between the stems in
    the same proportion as the band just below it instead of being dropped.
    """
    top = ratio[:, -EXTENSION_SOURCE_BINS:].mean(dim=1, keepdim=True)
    return torch.cat([ratio, top.expand(-1, N_BINS - MODEL_BINS, -1)], dim=1)


@functools.cache
def default_separator() -> Separator:
    """The process-wide pretrained :class:`Separator`, loaded on first use."""
    return Separator()


def separate(audio: object, sr: int, *, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Separate a mixture into ``(vocals, accompaniment)`` with the pretrained Spleeter 2-stems model.

    Args:
        audio: ``(samples,)``, ``(channels, samples)`` or ``(samples, channels)``; float or integer PCM.
        sr: sample rate in Hz, 8000..192000.
        progress: optional ``progress("separate", done, total)`` callback, in patches.

    Returns:
        Two arrays shaped and typed like ``audio`` (integer input gives float32), at rate ``sr``.

    Raises:
        ParameterError: ``audio`` or ``sr`` is invalid.

    Example:
        >>> import numpy as np, ipysvs
        >>> mixture = np.zeros((2, 44100), dtype=np.float32)
        >>> vocals, accompaniment = ipysvs.separate(mixture, 44100)
        >>> vocals.shape
        (2, 44100)
    """
    return default_separator().separate(audio, sr, progress=progress)


def mixture_spectrum(samples: np.ndarray, sr: int) -> torch.Tensor:
    """The STFT of a whole song's first stereo pair on the U-Nets' grid: ``(2, frames, 1024)`` complex64.

    Args:
        samples: ``(channels, samples)`` float32 audio (a lone channel is used as dual mono).
        sr: its sample rate in Hz.
    """
    pair = samples[:2] if samples.shape[0] >= 2 else np.repeat(samples[:1], 2, axis=0)
    stereo = torch.from_numpy(np.ascontiguousarray(audio_io.resample(pair, sr, SAMPLE_RATE)))
    spectrum = stft_frames(stereo, 0, frame_count(stereo.shape[1]), hann_window())
    return spectrum[:, :MODEL_BINS].transpose(1, 2).contiguous()


def mixture_magnitude(samples: np.ndarray, sr: int) -> torch.Tensor:
    """The U-Nets' input for a whole song: ``(2, frames, 1024)`` magnitudes of its first stereo pair
    (see :func:`mixture_spectrum`)."""
    return mixture_spectrum(samples, sr).abs()
