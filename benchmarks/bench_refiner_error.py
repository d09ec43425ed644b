"""Where the refiner's error lies: the vocals' error energy per region of the spectrogram, on MIR-1K.

For each song the mixture ``X = V + A`` is taken to the separator's STFT grid (4096-sample window, hop
1024, 44.1 kHz) and three vocal masks are applied to it: Spleeter's pretrained ratio mask, the refiner's
mask with the true F0 on every frame (both gates 1, as ``adapt()`` gives it after a correction of every
frame; the song in 512-frame patches without cross-fades) and the Wiener oracle of
``bench_oracle.py``. The error energy ``|mask * X - V|^2`` is summed per region and reported relative
to the voice's whole energy (dB: ``-10`` = a tenth of the voice's energy):

* ``unvoiced`` -- frames whose true F0 is 0 (silence, consonants, breaths), inside the refined band;
* ``harmonics`` -- voiced frames, bins within 1.5 bins (16 Hz) of a harmonic of the true F0;
* ``between`` -- voiced frames, the other bins of the refined band;
* ``above`` -- bins above the refined band (``REFINED_BINS``: the pretrained mask there).

``--checks`` also prints :func:`residual_checks`: whether the mixture's phase, the voice's harmonic
coordinates or a long context per bin tell how much of an on-harmonic bin is voice.

``--training-singers N`` scores the first song of N singers the refiner trained on (MIR-1K has 11
besides the validation singers) instead of the validation songs: whether it fits its own training
songs better than unseen ones.

Usage:
    python benchmarks/bench_refiner_error.py [--data ../shared/data/mir1k] [--per-singer N]
        [--training-singers N] [--checks]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from ipysvs.f0 import frame_f0
from ipysvs.models.joint import JointModel, default_joint_model
from ipysvs.models.refiner import REFINED_BINS
from ipysvs.models.salience import BIN_HZ, render_harmonics
from ipysvs.research.benchmarking import measured_on
from ipysvs.research.datasets import Track
from ipysvs.separation import PATCH_FRAMES, mixture_spectrum
from ipysvs.spectral import HOP, MODEL_BINS, N_FFT, frame_times

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_domains import DEFAULT_DATA, mir1k_tracks
from bench_oracle import oracle_masks

REGIONS = ("unvoiced", "harmonics", "between", "above")
ESTIMATES = ("pretrained", "refiner", "wiener")
HARMONIC_BINS = 1.5  # a bin within this many bins of a harmonic of the F0 counts as on the harmonic


def song_masks(model: JointModel, mixture: torch.Tensor, hz: np.ndarray) -> dict[str, torch.Tensor]:
    """The pretrained and the refined vocal masks ``(2, frames, 1024)`` of the mixture STFT
    ``(2, frames, 1024)`` with the F0 ``hz`` ``(frames,)`` (Hz) on every frame."""
    frames = mixture.shape[1]
    padded = -(-frames // PATCH_FRAMES) * PATCH_FRAMES
    magnitude = functional.pad(mixture.abs(), (0, 0, 0, padded - frames))[None]
    f0 = torch.from_numpy(np.pad(hz, (0, padded - frames)).astype(np.float32))[None]
    pretrained, refined = [], []
    with torch.inference_mode():
        for start in range(0, padded, PATCH_FRAMES):
            patch = magnitude[:, :, start : start + PATCH_FRAMES]
            ratio = model.pretrained_ratio(patch)
            gate = torch.ones(1, PATCH_FRAMES)
            pretrained.append(ratio)
            hz_patch = f0[:, start : start + PATCH_FRAMES]
            refined.append(ratio + model.refiner(patch, ratio, hz_patch, gate, gate))
    return {
        "pretrained": torch.cat(pretrained, dim=2)[0, :, :frames],
        "refiner": torch.cat(refined, dim=2)[0, :, :frames],
    }


@dataclass(frozen=True)
class SongView:
    """One song on the separator's grid: complex STFTs ``(2, frames, 1024)`` of voice, accompaniment
    and mixture, the true F0 ``(frames,)`` (Hz) and the three masks (``ESTIMATES``), same shape."""

    voice: torch.Tensor
    accompaniment: torch.Tensor
    mixture: torch.Tensor
    hz: np.ndarray
    masks: dict[str, torch.Tensor]

    @classmethod
    def of(cls, model: JointModel, track: Track) -> SongView:
        voice = mixture_spectrum(track.voice[np.newaxis], track.sr)
        accompaniment = mixture_spectrum(track.accompaniment[np.newaxis], track.sr)
        mixture = voice + accompaniment
        hz = frame_f0(frame_times(mixture.shape[1]).numpy(), track.labels.times, track.labels.f0_hz)
        masks = song_masks(model, mixture, hz) | {"wiener": oracle_masks(voice, accompaniment)["wiener"]}
        return cls(voice, accompaniment, mixture, hz, masks)

    def on_harmonic(self) -> torch.Tensor:
        """``(frames, 1024)`` bool: voiced frames' bins within :data:`HARMONIC_BINS` of a harmonic, in
        the refined band (where the F0's comb, :func:`render_harmonics`, is at least its height there)."""
        hz = torch.from_numpy(self.hz.astype(np.float32))[None]
        comb = render_harmonics(hz, torch.ones_like(hz))[0, 0]
        band = torch.arange(MODEL_BINS) < REFINED_BINS
        return (comb >= np.exp(-0.5 * HARMONIC_BINS**2)) & band

    def regions(self) -> dict[str, torch.Tensor]:
        """The ``(frames, 1024)`` bool masks of :data:`REGIONS`."""
        frames = self.mixture.shape[1]
        voiced = torch.from_numpy(self.hz > 0)[:, None].expand(-1, MODEL_BINS)
        band = (torch.arange(MODEL_BINS) < REFINED_BINS)[None].expand(frames, -1)
        harmonics = self.on_harmonic()
        return {
            "unvoiced": ~voiced & band,
            "harmonics": harmonics,
            "between": voiced & ~harmonics & band,
            "above": ~band,
        }


def region_energies(song: SongView) -> dict[str, dict[str, float]]:
    """Per estimate (and ``"voice"``), the error energy (the voice's energy) summed over each region."""
    energies = {"voice": song.voice.abs().square().sum(dim=0)}
    energies |= {
        name: (mask * song.mixture - song.voice).abs().square().sum(dim=0)
        for name, mask in song.masks.items()
    }
    regions = song.regions()
    return {name: {r: float(e[where].sum()) for r, where in regions.items()} for name, e in energies.items()}


#: cos(2 pi IF / f0) buckets of the phase check; the last holds the bins whose frequency is a harmonic's
MATCH_EDGES = (-1.01, 0.0, 0.5, 0.8, 0.95, 1.01)
FLOOR_FRAMES = (21, 87, 173)  # the per-bin floor's half-widths: about 0.5, 2 and 4 s
HARMONICS_FOLLOWED = 20  # harmonics 1..20 in the coordinates check


def residual_checks(song: SongView) -> dict[str, float]:
    """What might tell the refiner how much of an on-harmonic bin is voice, one song (means of the
    stereo pair's masks; ``--checks``):

    * ``match>0.95 bins``, ``oracle@match k``, ``gap@match>0.95``: the phase vocoder's instantaneous
      frequency of the mixture's mid channel against the F0's harmonics, ``cos(2 pi IF / f0)``, on the
      on-harmonic bins: the share of bins matching above 0.95, the oracle's mean mask in each bucket of
      :data:`MATCH_EDGES`, and the share of the refiner's squared gap to the oracle (weighted by the
      mixture's energy) in the top bucket;
    * ``persistence along harmonic`` / ``along bin``: the oracle mask at the bin of harmonic k (k up to
      :data:`HARMONICS_FOLLOWED`) correlated with its value a frame later at the bin of harmonic k then,
      or at the same bin; ``oracle~refiner``, ``oracle~pretrained`` at those bins;
    * ``floor r (W frames)``: the correlation of the refiner's gap to the oracle on the harmonics with
      each bin's floor over +-W frames (the minimum of 5-frame means) against its level now, in log.
    """
    wiener, refined, pretrained = (
        song.masks[k].mean(dim=0).numpy() for k in ("wiener", "refiner", "pretrained")
    )
    frames = wiener.shape[0]
    near = song.on_harmonic().numpy()
    near[0] = False  # the first frame has no instantaneous frequency
    results: dict[str, float] = {}
    # the mixture's phase
    mid = (song.mixture[0] + song.mixture[1]).numpy()
    bins = np.arange(MODEL_BINS)
    advance = np.angle(mid[1:]) - np.angle(mid[:-1]) - 2 * np.pi * bins * HOP / N_FFT
    advance = (advance + np.pi) % (2 * np.pi) - np.pi
    frequency = np.zeros(mid.shape)
    frequency[1:] = (bins + advance * N_FFT / (2 * np.pi * HOP)) * BIN_HZ
    match = np.cos(2 * np.pi * frequency / np.maximum(song.hz, 1)[:, None])
    energy = np.abs(mid) ** 2
    gap = energy * (refined - wiener) ** 2
    top = near & (match >= MATCH_EDGES[-2])
    results["match>0.95 bins"] = float(top.sum() / near.sum())
    for index, (lo, hi) in enumerate(itertools.pairwise(MATCH_EDGES)):
        bucket = near & (match >= lo) & (match < hi)
        results[f"oracle@match {index}"] = float(wiener[bucket].mean()) if bucket.any() else float("nan")
    results["gap@match>0.95"] = float(gap[top].sum() / gap[near].sum())
    # harmonic coordinates
    harmonic = np.rint(np.outer(song.hz, np.arange(1, HARMONICS_FOLLOWED + 1)) / BIN_HZ).astype(int)
    inside = (song.hz[:, None] > 0) & (harmonic > 0) & (harmonic < REFINED_BINS)
    rows = np.arange(frames)[:, None]
    at = np.clip(harmonic, 0, MODEL_BINS - 1)
    now, later_followed, later_same = wiener[rows, at][:-1], wiener[rows, at][1:], wiener[rows[1:], at[:-1]]
    followed = inside[:-1] & inside[1:]
    results["persistence along harmonic"] = float(np.corrcoef(now[followed], later_followed[followed])[0, 1])
    results["persistence along bin"] = float(np.corrcoef(now[inside[:-1]], later_same[inside[:-1]])[0, 1])
    results["oracle~refiner"] = float(np.corrcoef(wiener[rows, at][inside], refined[rows, at][inside])[0, 1])
    results["oracle~pretrained"] = float(
        np.corrcoef(wiener[rows, at][inside], pretrained[rows, at][inside])[0, 1]
    )
    # a long time context per bin
    level = song.mixture.abs().mean(dim=0)
    smooth = functional.avg_pool1d(level.T[None], 5, 1, 2, count_include_pad=False)[0].T
    for half in FLOOR_FRAMES:
        floor = -functional.max_pool1d(-smooth.T[None], 2 * half + 1, 1, half)[0].T
        feature = torch.log((floor + 1e-6) / (level + 1e-6)).numpy()
        results[f"floor r ({half} frames)"] = float(
            np.corrcoef((wiener - refined)[near], feature[near])[0, 1]
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MIR-1K layout folder")
    parser.add_argument("--per-singer", type=int, help="validation songs per singer (default: all)")
    parser.add_argument(
        "--training-singers", type=int, help="the first song of this many training singers instead"
    )
    parser.add_argument("--checks", action="store_true", help="also the checks of residual_checks()")
    args = parser.parse_args()
    if not (args.data / "index.csv").is_file():
        print(f"no MIR-1K data at {args.data}: pass --data", file=sys.stderr)
        return 2
    model = default_joint_model()
    totals = {name: dict.fromkeys(REGIONS, 0.0) for name in ("voice", *ESTIMATES)}
    songs = 0
    checks: dict[str, list[float]] = {}
    for track in mir1k_tracks(args.data, args.per_singer, args.training_singers):
        song = SongView.of(model, track)
        for name, energies in region_energies(song).items():
            for region, value in energies.items():
                totals[name][region] += value
        if args.checks:
            for name, value in residual_checks(song).items():
                checks.setdefault(name, []).append(value)
        songs += 1
        print(f"{track.name}: done", file=sys.stderr, flush=True)
    voice = sum(totals["voice"].values())
    which = f"{songs} validation songs"
    if args.training_singers:
        which = f"the first songs of {songs} training singers"
    print(f"bench_refiner_error, {measured_on()}, MIR-1K {which}\n")
    print("| error energy, dB of the voice's energy | " + " | ".join(REGIONS) + " | all |")
    print("| --- |" + " ---: |" * (len(REGIONS) + 1))
    for name in ESTIMATES:
        cells = [f"{10 * np.log10(totals[name][r] / voice):.1f}" for r in REGIONS]
        cells.append(f"{10 * np.log10(sum(totals[name].values()) / voice):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    shares = [f"{100 * totals['voice'][r] / voice:.1f} %" for r in REGIONS]
    print("| the voice's energy there | " + " | ".join(shares) + " | 100 % |")
    if checks:
        print("\n| check (residual_checks) | mean over songs | per song |\n| --- | ---: | --- |")
        for name, values in checks.items():
            print(f"| {name} | {np.nanmean(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
