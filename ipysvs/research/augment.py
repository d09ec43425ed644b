"""Prétet et al.'s data augmentations, applied to training crops of magnitude spectrograms.

Every augmentation transforms a :class:`Crop` -- the magnitude arrays of one training excerpt and
its frame-wise F0 -- consistently, so inputs, targets and pitch labels stay aligned. Prétet et al.
(ICASSP 2019) found each worth at most ~0.2 dB; they are options, off by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional

from ..errors import ParameterError

__all__ = [
    "AUGMENTATIONS",
    "Crop",
    "StemAugmentation",
    "StemCrop",
    "augment",
    "augment_stems",
    "channel_swap",
    "loudness_scale",
    "pitch_shift",
    "random_filter",
    "remix",
    "smooth_equaliser",
    "time_stretch",
]


@dataclass(frozen=True)
class Crop:
    """One training excerpt.

    Attributes:
        magnitudes: name -> ``(channels, frames, bins)`` magnitude spectrogram (mixture, stems, ...).
        f0_hz: ``(frames,)`` F0 in Hz, 0 = unvoiced.
    """

    magnitudes: dict[str, torch.Tensor]
    f0_hz: torch.Tensor

    def map(self, transform: Callable[[torch.Tensor], torch.Tensor]) -> Crop:
        """Apply ``transform`` to every magnitude array."""
        return replace(self, magnitudes={k: transform(v) for k, v in self.magnitudes.items()})


def channel_swap(crop: Crop, rng: np.random.Generator) -> Crop:
    """Swap left and right with probability 1/2 (a no-op on dual-mono material such as MIR-1K)."""
    return crop.map(lambda m: m.flip(0)) if rng.random() < 0.5 else crop


def loudness_scale(crop: Crop, rng: np.random.Generator, *, low_db: float = -10, high_db: float = 6) -> Crop:
    """Scale every magnitude by one random gain in ``[low_db, high_db]`` dB."""
    gain = 10 ** (rng.uniform(low_db, high_db) / 20)
    return crop.map(lambda m: m * gain)


def remix(crop: Crop, rng: np.random.Generator, *, low_db: float = -6, high_db: float = 6) -> Crop:
    """Re-balance accompaniment against voice by a random gain; the mixture magnitude becomes
    ``sqrt(|V|^2 + g^2 |A|^2)`` (its expectation over the unknown relative phase). Needs ``voice``,
    ``accompaniment`` and ``mixture`` in the crop."""
    needed = {"voice", "accompaniment", "mixture"}
    if not needed <= crop.magnitudes.keys():
        raise ParameterError(f"remix needs the magnitudes {sorted(needed)}")
    gain = 10 ** (rng.uniform(low_db, high_db) / 20)
    voice, accompaniment = crop.magnitudes["voice"], crop.magnitudes["accompaniment"] * gain
    mixture = torch.sqrt(voice**2 + accompaniment**2)
    return replace(crop, magnitudes={**crop.magnitudes, "accompaniment": accompaniment, "mixture": mixture})


def random_filter(crop: Crop, rng: np.random.Generator, *, max_db: float = 6) -> Crop:
    """Apply one random smooth equaliser (a sum of 4 cosines over frequency, within +-max_db)."""
    bins = next(iter(crop.magnitudes.values())).shape[-1]
    position = np.linspace(0, np.pi, bins)
    curve = sum(rng.uniform(-1, 1) * np.cos(k * position) for k in range(1, 5)) / 4
    gain = torch.from_numpy(10 ** (max_db * curve / 20)).float()
    return crop.map(lambda m: m * gain)


def pitch_shift(crop: Crop, rng: np.random.Generator, *, max_semitones: float = 2) -> Crop:
    """Stretch the frequency axis by ``2^(s/12)``, ``s`` uniform in ``+-max_semitones``; F0 follows."""
    factor = 2 ** (rng.uniform(-max_semitones, max_semitones) / 12)
    shifted = crop.map(lambda m: _resample_axis(m, -1, 1 / factor))
    return replace(shifted, f0_hz=crop.f0_hz * factor)


def time_stretch(crop: Crop, rng: np.random.Generator, *, low: float = 0.8, high: float = 1.25) -> Crop:
    """Play the crop ``r`` times faster (``r`` uniform in ``[low, high]``), keeping its length in frames
    (frames past the end are zero); F0 is resampled by nearest frame."""
    rate = rng.uniform(low, high)
    stretched = crop.map(lambda m: _resample_axis(m, -2, rate))
    frames = crop.f0_hz.shape[0]
    source = torch.round(torch.arange(frames) * rate).long()
    f0 = torch.where(source < frames, crop.f0_hz[source.clamp_max(frames - 1)], torch.zeros(()))
    return replace(stretched, f0_hz=f0)


def _resample_axis(values: torch.Tensor, axis: int, step: float) -> torch.Tensor:
    """Linear interpolation of ``values`` at positions ``0, step, 2 step, ...`` along ``axis`` (same
    length; positions past the end read zero)."""
    moved = values.movedim(axis, -1)
    length = moved.shape[-1]
    position = torch.arange(length, dtype=torch.float32) * step
    lower = position.floor().long()
    fraction = position - lower
    padded = functional.pad(moved, (0, 2))
    lower = lower.clamp_max(length)
    result = padded[..., lower] * (1 - fraction) + padded[..., lower + 1] * fraction
    return result.movedim(-1, axis)


AUGMENTATIONS: dict[str, Callable[[Crop, np.random.Generator], Crop]] = {
    "channel-swap": channel_swap,
    "pitch-shift": pitch_shift,
    "time-stretch": time_stretch,
    "remix": remix,
    "filter": random_filter,
    "loudness": loudness_scale,
}


def augment(crop: Crop, names: tuple[str, ...], rng: np.random.Generator) -> Crop:
    """Apply the named augmentations (see :data:`AUGMENTATIONS`) in order."""
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ParameterError(f"unknown augmentation(s) {unknown}; choose from {sorted(AUGMENTATIONS)}")
    for name in names:
        crop = AUGMENTATIONS[name](crop, rng)
    return crop


# --------------------------------------------------------------------------- stems in the waveform
# The refiner learns from mixtures made on the fly from separate stems, so that what it sees is not
# one data set's sound: every crop is pitch shifted, re-balanced, equalised per stem, band limited
# and re-levelled before the stems are summed.


@dataclass(frozen=True)
class StemCrop:
    """One training excerpt as complex spectra of its stems.

    Attributes:
        voice, accompaniment: ``(2, 1024, frames)`` complex64 STFT frames (Spleeter's grid, bins
            0..11 kHz) of each stem; the mixture is their sum.
        f0_hz: ``(frames,)`` float32 vocal F0 at the frames, 0 = unvoiced.
    """

    voice: torch.Tensor
    accompaniment: torch.Tensor
    f0_hz: torch.Tensor

    @property
    def mixture(self) -> torch.Tensor:
        """``(2, 1024, frames)`` complex64: voice + accompaniment."""
        return self.voice + self.accompaniment


@dataclass(frozen=True)
class StemAugmentation:
    """Ranges of the random changes :func:`augment_stems` makes (each drawn per crop).

    Attributes:
        voice_gain_db: voice level against the accompaniment.
        loudness_db: level of the whole mixture.
        eq_db: largest boost or cut of each stem's random smooth equaliser.
        eq_probability: chance that a stem is equalised.
        band_limit_probability: chance that the crop is low-passed at a random cutoff in
            ``band_limit_hz`` (as lossy or narrow-band material is).
        swap_probability: chance that left and right are swapped.
    """

    voice_gain_db: tuple[float, float] = (-8.0, 6.0)
    loudness_db: tuple[float, float] = (-15.0, 5.0)
    eq_db: float = 8.0
    eq_probability: float = 0.7
    band_limit_probability: float = 0.25
    band_limit_hz: tuple[float, float] = (4000.0, 11000.0)
    swap_probability: float = 0.5


def smooth_equaliser(bins: int, rng: np.random.Generator, max_db: float, bin_hz: float) -> torch.Tensor:
    """A random gain curve ``(bins,)`` that is smooth on a log-frequency axis (4 cosines from 50 Hz to
    the top bin), within ``+-max_db`` dB."""
    frequency = np.maximum(np.arange(bins) * bin_hz, 50.0)
    position = np.log(frequency / 50.0) / np.log(frequency[-1] / 50.0) * np.pi
    curve = sum(rng.uniform(-1, 1) * np.cos(k * position + rng.uniform(0, np.pi)) for k in range(1, 5)) / 2
    return torch.from_numpy(10 ** (np.clip(curve, -1, 1) * max_db / 20)).float()


def augment_stems(
    crop: StemCrop, rng: np.random.Generator, options: StemAugmentation, *, bin_hz: float
) -> StemCrop:
    """Apply :class:`StemAugmentation`'s random changes to a crop (the F0 is unchanged)."""
    voice, accompaniment = crop.voice, crop.accompaniment
    bins = voice.shape[1]
    for_each = []
    for stem in (voice, accompaniment):
        if rng.random() < options.eq_probability:
            stem = stem * smooth_equaliser(bins, rng, options.eq_db, bin_hz)[:, None]
        for_each.append(stem)
    voice, accompaniment = for_each
    voice = voice * 10 ** (rng.uniform(*options.voice_gain_db) / 20)
    level = 10 ** (rng.uniform(*options.loudness_db) / 20)
    voice, accompaniment = voice * level, accompaniment * level
    if rng.random() < options.band_limit_probability:
        cutoff = int(rng.uniform(*options.band_limit_hz) / bin_hz)
        taper = torch.clamp(1 - (torch.arange(bins) - cutoff) / 8, 0, 1)[:, None]
        voice, accompaniment = voice * taper, accompaniment * taper
    if rng.random() < options.swap_probability:
        voice, accompaniment = voice.flip(0), accompaniment.flip(0)
    return StemCrop(voice, accompaniment, crop.f0_hz)
