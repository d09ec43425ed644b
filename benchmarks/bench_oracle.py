"""What a ratio mask on the separator's STFT could give at best: oracle masks on the MIR-1K validation songs.

The refiner changes Spleeter's vocal ratio mask on its STFT grid (4096-sample window, hop 1024, at
44.1 kHz), and the vocals are that mask times the mixture's STFT. This script scores the masks computed
from the true stems ``V`` and ``A`` (mixture ``X = V + A``) on the same grid, against the pretrained
separation, per song:

* ``irm`` -- ``|V| / (|V| + |A|)``;
* ``wiener`` -- ``|V|^2 / (|V|^2 + |A|^2)``: the best a magnitude-only mask can be expected to reach;
* ``psm`` -- the phase-sensitive mask ``Re(V conj(X)) / |X|^2`` clipped to ``[0, 1]``: the best ratio in
  ``[0, 1]`` for the vocals' error energy per bin.

Scores as in ``bench_domains.py`` (museval's median of 1 s frames and BSS Eval v3, in dB).

Usage:
    python benchmarks/bench_oracle.py [--data ../shared/data/mir1k] [--per-singer N] [--out CSV]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

import ipysvs
from ipysvs import audio as audio_io
from ipysvs.research.benchmarking import measured_on
from ipysvs.research.evaluation import vocal_sdr
from ipysvs.spectral import HOP, N_FFT, SAMPLE_RATE

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_domains import DEFAULT_DATA, HERE, mir1k_songs

MASKS = ("irm", "wiener", "psm")
EPS = 1e-10


def oracle_masks(voice: torch.Tensor, accompaniment: torch.Tensor) -> dict[str, torch.Tensor]:
    """The oracle masks of complex STFTs ``voice`` and ``accompaniment`` (same shape), same shape."""
    mixture = voice + accompaniment
    return {
        "irm": voice.abs() / (voice.abs() + accompaniment.abs() + EPS),
        "wiener": voice.abs() ** 2 / (voice.abs() ** 2 + accompaniment.abs() ** 2 + EPS),
        "psm": ((voice * mixture.conj()).real / (mixture.abs() ** 2 + EPS)).clamp(0, 1),
    }


def score_song(voice: np.ndarray, accompaniment: np.ndarray, sr: int, name: str) -> list[dict[str, object]]:
    """Rows for the pretrained separation and each oracle mask of one song (``(channels, samples)``)."""
    window = torch.hann_window(N_FFT)

    def stft(samples: np.ndarray) -> torch.Tensor:
        resampled = torch.from_numpy(np.ascontiguousarray(audio_io.resample(samples, sr, SAMPLE_RATE)))
        return torch.stft(resampled, N_FFT, HOP, window=window, return_complex=True)

    voice_stft, accompaniment_stft = stft(voice), stft(accompaniment)
    length = audio_io.resampled_length(voice.shape[1], sr, SAMPLE_RATE)
    session = ipysvs.open(voice + accompaniment, sr, name=name, journal=False, quiet=True)
    estimates = {"pretrained": session.vocals}
    for mask_name, mask in oracle_masks(voice_stft, accompaniment_stft).items():
        masked = mask * (voice_stft + accompaniment_stft)
        vocals = torch.istft(masked, N_FFT, HOP, window=window, length=length).numpy().astype(np.float32)
        estimates[mask_name] = audio_io.fit_length(audio_io.resample(vocals, SAMPLE_RATE, sr), voice.shape[1])
    rows = []
    for estimate_name, estimate in estimates.items():
        v3, museval_sdr = vocal_sdr(voice, accompaniment, estimate, sr)
        rows.append(
            {
                "name": name,
                "estimate": estimate_name,
                "vocal_sdr_v3": round(v3, 4),
                "vocal_sdr_museval": round(museval_sdr, 4),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MIR-1K layout folder")
    parser.add_argument("--per-singer", type=int, help="MIR-1K songs per validation singer (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "oracle_masks_mir1k.csv")
    args = parser.parse_args()
    if not (args.data / "index.csv").is_file():
        print(f"no MIR-1K data at {args.data}: pass --data", file=sys.stderr)
        return 2
    rows: list[dict[str, object]] = []
    for song in mir1k_songs(args.data, args.per_singer):
        rows += score_song(song.voice, song.accompaniment, song.sr, song.name)
        print(f"{song.name}: done", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"bench_oracle, {measured_on()}, rows in {args.out}\n")
    base = {r["name"]: r for r in rows if r["estimate"] == "pretrained"}
    print("| estimate | museval SDR | change: median | change: worst | v3 SDR | v3 change: median |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for estimate in ("pretrained", *MASKS):
        chosen = [r for r in rows if r["estimate"] == estimate]
        cells = [estimate]
        for metric, worst in (("vocal_sdr_museval", True), ("vocal_sdr_v3", False)):
            changes = [float(r[metric]) - float(base[r["name"]][metric]) for r in chosen]
            cells += [
                f"{statistics.median(float(r[metric]) for r in chosen):.2f}",
                f"{statistics.median(changes):+.2f}",
            ]
            if worst:
                cells.append(f"{min(changes):+.2f}")
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
