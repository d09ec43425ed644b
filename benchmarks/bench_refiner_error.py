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

``--training-singers N`` scores the first song of N singers the refiner trained on (MIR-1K has 11
besides the validation singers) instead of the validation songs: whether it fits its own training
songs better than unseen ones.

Usage:
    python benchmarks/bench_refiner_error.py [--data ../shared/data/mir1k] [--per-singer N]
        [--training-singers N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from ipysvs.f0 import frame_f0
from ipysvs.models.joint import JointModel, default_joint_model
from ipysvs.models.refiner import REFINED_BINS
from ipysvs.models.salience import BIN_HZ
from ipysvs.research.benchmarking import measured_on
from ipysvs.research.datasets import Track
from ipysvs.separation import PATCH_FRAMES, mixture_spectrum
from ipysvs.spectral import MODEL_BINS, frame_times

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
    magnitude = torch.nn.functional.pad(mixture.abs(), (0, 0, 0, padded - frames))[None]
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


def region_energies(model: JointModel, track: Track) -> dict[str, dict[str, float]]:
    """Per estimate (and ``"voice"``), the error energy (the voice's energy) summed over each region."""
    voice = mixture_spectrum(track.voice[np.newaxis], track.sr)
    accompaniment = mixture_spectrum(track.accompaniment[np.newaxis], track.sr)
    mixture = voice + accompaniment
    frames = mixture.shape[1]
    hz = frame_f0(frame_times(frames).numpy(), track.labels.times, track.labels.f0_hz)
    masks = song_masks(model, mixture, hz)
    masks["wiener"] = oracle_masks(voice, accompaniment)["wiener"]
    f0 = torch.from_numpy(hz.astype(np.float32))[:, None]
    bins_hz = torch.arange(MODEL_BINS) * BIN_HZ
    nearest = torch.round(bins_hz / f0.clamp_min(1)).clamp_min(1) * f0.clamp_min(1)
    on_harmonic = (nearest - bins_hz).abs() <= HARMONIC_BINS * BIN_HZ
    voiced = (f0 > 0).expand(-1, MODEL_BINS)
    band = (torch.arange(MODEL_BINS) < REFINED_BINS)[None].expand(frames, -1)
    regions = {
        "unvoiced": ~voiced & band,
        "harmonics": voiced & on_harmonic & band,
        "between": voiced & ~on_harmonic & band,
        "above": ~band,
    }
    energies = {"voice": voice.abs().square().sum(dim=0)}
    energies |= {name: (mask * mixture - voice).abs().square().sum(dim=0) for name, mask in masks.items()}
    return {name: {r: float(e[where].sum()) for r, where in regions.items()} for name, e in energies.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MIR-1K layout folder")
    parser.add_argument("--per-singer", type=int, help="validation songs per singer (default: all)")
    parser.add_argument(
        "--training-singers", type=int, help="the first song of this many training singers instead"
    )
    args = parser.parse_args()
    if not (args.data / "index.csv").is_file():
        print(f"no MIR-1K data at {args.data}: pass --data", file=sys.stderr)
        return 2
    model = default_joint_model()
    totals = {name: dict.fromkeys(REGIONS, 0.0) for name in ("voice", *ESTIMATES)}
    songs = 0
    for track in mir1k_tracks(args.data, args.per_singer, args.training_singers):
        for name, energies in region_energies(model, track).items():
            for region, value in energies.items():
                totals[name][region] += value
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
