"""Pitch and F0-conditioned separation on the MIR-1K validation singers (unit: song), and F0 on demo songs.

For each validation song (clips of one singer and song, concatenated):

* **F0 accuracy** (mir_eval.melody against the hand labels): our saliency network on the pretrained
  separator's vocals, and -- with ``--crepe`` -- torchcrepe 'full' (0.0.22, 20 ms hop, periodicity
  threshold 0.21) on the same separated vocals, the pipeline a user would otherwise assemble.
* **The frame grid's ceiling**: the hand labels themselves sampled on the model's STFT frames (23 ms
  hop), scored the same way -- what a perfect F0 on that grid would score.
* **Timing**: separation vs F0 estimation (saliency network + decoding) of the same song.
* **Vocal SDR** (BSS Eval v3): pretrained separator; F0->SVS with the estimated F0 (no edits); F0->SVS
  with the true F0 on every frame (oracle).

With ``--seeds 0-7`` also the demo songs of those seeds (30 s, 44.1 kHz stereo, full band; their
synthesised F0 is the truth; the refiner and saliency network never trained on seeds below 900): F0
accuracy of both trackers on the same separated (stereo, averaged to mono) vocals and the time per
second of audio. ``--skip-mir1k`` leaves MIR-1K out. ``--also`` scores the saliency networks of other
``pitch.safetensors`` files on the same separated vocals, side by side in the same run.

Usage:
    python benchmarks/bench_pitch.py [--data ../shared/data/mir1k] [--per-singer N] [--singers S ...]
        [--seeds 0-7] [--skip-mir1k] [--f0-only] [--crepe] [--weights pitch.safetensors]
        [--also pitch.safetensors ...] [--out CSV]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np

from ipysvs import audio as audio_io
from ipysvs.conditioned import ConditionedSeparator
from ipysvs.demo import demo_song
from ipysvs.f0 import Trajectory, frame_f0
from ipysvs.files import replace_atomically
from ipysvs.models.joint import JointModel, default_joint_model, load_joint_model
from ipysvs.pitch import salience_trajectory, song_salience
from ipysvs.research.benchmarking import use_weights
from ipysvs.research.datasets import VALIDATION_SINGERS, Labels, first_per_singer, group_songs, read_clips
from ipysvs.research.evaluation import MELODY_METRICS, melody_scores, score_mixture, score_separation
from ipysvs.separation import VocalFrames, default_separator
from ipysvs.spectral import frame_times

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "mir1k"
CREPE_RATE, CREPE_HOP, CREPE_THRESHOLD = 16_000, 320, 0.21
CREPE_CACHE = HERE / "_work" / "crepe"


def crepe_f0(vocals: np.ndarray, sr: int, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """torchcrepe 'full' on mono vocals: (times s, hz with 0 where periodicity < 0.21), cached in
    ``cache`` (it takes minutes per song on a CPU; the separated vocals it reads are deterministic)."""
    if cache.is_file():
        saved = np.load(cache)
        return saved["times"], saved["hz"]
    import torch
    import torchcrepe

    mono = audio_io.resample(vocals[np.newaxis], sr, CREPE_RATE)
    pitch, periodicity = torchcrepe.predict(
        torch.from_numpy(mono),
        CREPE_RATE,
        hop_length=CREPE_HOP,
        fmin=50.0,
        fmax=1100.0,
        model="full",
        return_periodicity=True,
        batch_size=512,
        device="cpu",
    )
    hz = np.where(periodicity[0].numpy() >= CREPE_THRESHOLD, pitch[0].numpy(), 0.0)
    times = np.arange(hz.size) * CREPE_HOP / CREPE_RATE
    cache.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(cache, lambda temporary: np.savez(temporary, times=times, hz=hz))  # never half written
    return times, hz


def precompute_crepe(song) -> None:
    """Only separate the song and run (and cache) torchcrepe on its vocals, unless its cache holds them."""
    track = song.load()
    cache = CREPE_CACHE / f"{track.name}.npz"
    if not cache.is_file():
        vocals = default_separator().separate_channels(track.mixture[np.newaxis], track.sr)[0]
        crepe_f0(vocals, track.sr, cache)


def frame_grid_scores(labels: Labels, n_frames: int) -> dict[str, float]:
    """Melody scores of the true F0 itself, sampled on the model's ``n_frames`` STFT frames (23 ms hop)
    as every estimate is: the best any trajectory on that grid can score (mir_eval reads it at the
    labels' times by linear interpolation, so a step between notes costs the labels in between)."""
    times = frame_times(n_frames).numpy()
    hz = frame_f0(times, labels.times, labels.f0_hz)
    return melody_scores(labels, Trajectory(times, hz))


def our_f0(model: JointModel, collector: VocalFrames) -> tuple[Trajectory, float]:
    """The F0 that ``model``'s saliency network reads off a separation's collected frames, and the
    seconds it took."""
    started = time.perf_counter()
    salience = song_salience(model.salience, collector.magnitude, collector.mixture_magnitude)
    return salience_trajectory(salience), time.perf_counter() - started


def score_others(row: dict, others: dict[str, JointModel], collector: VocalFrames, labels: Labels) -> None:
    """Add to ``row`` the melody scores of each other network on the same separation, keyed by its label."""
    for label, model in others.items():
        trajectory, _ = our_f0(model, collector)
        for key, value in melody_scores(labels, trajectory).items():
            row[f"{label}_{key}"] = value


def evaluate_song(song, *, crepe: bool, sdr: bool, others: dict[str, JointModel]) -> dict[str, float | str]:
    track = song.load()
    mixture, sr = track.mixture, track.sr
    separator, model = default_separator(), default_joint_model()
    row: dict[str, float | str] = {"domain": "mir1k", "name": track.name, "duration_s": track.duration_s}

    started = time.perf_counter()
    collector = VocalFrames()
    vocals = separator.separate_channels(mixture[np.newaxis], sr, collector=collector)[0]
    row["separation_s"] = time.perf_counter() - started
    trajectory, row["f0_s"] = our_f0(model, collector)

    labels = track.labels
    for key, value in melody_scores(labels, trajectory).items():
        row[f"ours_{key}"] = value
    score_others(row, others, collector, labels)
    for key, value in frame_grid_scores(labels, len(trajectory)).items():
        row[f"grid_{key}"] = value
    if crepe:
        started = time.perf_counter()
        times, hz = crepe_f0(vocals, sr, CREPE_CACHE / f"{track.name}.npz")
        row["crepe_s"] = time.perf_counter() - started
        for key, value in melody_scores(labels, Trajectory(times, hz)).items():
            row[f"crepe_{key}"] = value
    if not sdr:
        return row

    baseline = score_mixture(track.voice, track.accompaniment, sr, framewise=False)
    systems = {
        "pretrained": vocals,
        "f0svs_estimate": _conditioned(mixture, sr, trajectory.hz, trajectory.confidence),
    }
    oracle_hz = frame_f0(frame_times(len(trajectory)).numpy(), labels.times, labels.f0_hz)
    systems["f0svs_oracle"] = _conditioned(mixture, sr, oracle_hz, (oracle_hz > 0).astype(np.float32))
    for name, estimate in systems.items():
        scores = score_separation(
            track.voice,
            track.accompaniment,
            estimate,
            mixture - estimate,
            sr,
            mixture=baseline,
            framewise=False,
        )
        row[f"{name}_vocal_sdr"] = scores.vocals.sdr
    return row


def evaluate_demo(
    seed: int, seconds: float, *, crepe: bool, others: dict[str, JointModel]
) -> dict[str, float | str]:
    """F0 accuracy (ours and, with ``crepe``, torchcrepe 'full') and timing on one demo song."""
    song = demo_song(seconds=seconds, seed=seed)
    name = f"demo-{seed}"
    separator, model = default_separator(), default_joint_model()
    row: dict[str, float | str] = {"domain": "demo", "name": name, "duration_s": seconds}
    started = time.perf_counter()
    collector = VocalFrames()
    vocals = separator.separate_channels(song.mixture, song.sr, collector=collector)
    row["separation_s"] = time.perf_counter() - started
    trajectory, row["f0_s"] = our_f0(model, collector)
    labels = Labels(song.f0_times, song.f0_hz, song.f0_hz > 0)
    for key, value in melody_scores(labels, trajectory).items():
        row[f"ours_{key}"] = value
    score_others(row, others, collector, labels)
    for key, value in frame_grid_scores(labels, len(trajectory)).items():
        row[f"grid_{key}"] = value
    if crepe:
        started = time.perf_counter()
        times, hz = crepe_f0(vocals.mean(axis=0), song.sr, CREPE_CACHE / f"{name}-{seconds:g}s.npz")
        row["crepe_s"] = time.perf_counter() - started
        for key, value in melody_scores(labels, Trajectory(times, hz)).items():
            row[f"crepe_{key}"] = value
    return row


def _conditioned(mixture: np.ndarray, sr: int, hz: np.ndarray, weight: np.ndarray) -> np.ndarray:
    separator = ConditionedSeparator(default_joint_model(), hz, weight)
    return separator.separate_channels(mixture[np.newaxis], sr)[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-singer", type=int, help="only the first N songs of each validation singer")
    parser.add_argument(
        "--singers",
        nargs="+",
        choices=VALIDATION_SINGERS,
        default=list(VALIDATION_SINGERS),
        help="only these validation singers (e.g. to run --precompute-crepe in two processes)",
    )
    parser.add_argument("--crepe", action="store_true", help="also run torchcrepe 'full' (slow on a CPU)")
    parser.add_argument("--precompute-crepe", action="store_true", help="only run and cache torchcrepe")
    parser.add_argument("--seeds", type=_seed_range, default=(), help="demo seeds too, e.g. 0-7")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each demo song")
    parser.add_argument("--skip-mir1k", action="store_true")
    parser.add_argument(
        "--f0-only", action="store_true", help="MIR-1K: F0 scores and timing only, no F0->SVS separations"
    )
    parser.add_argument("--out", type=Path, default=HERE / "_work" / "pitch.csv")
    parser.add_argument(
        "--weights",
        type=Path,
        help="a pitch.safetensors to measure instead of the shipped one (a training run's export)",
    )
    parser.add_argument(
        "--also",
        type=Path,
        nargs="+",
        default=[],
        metavar="PITCH_SAFETENSORS",
        help="saliency networks of other pitch.safetensors, scored on the same separated vocals in this run",
    )
    args = parser.parse_args()
    if args.weights is not None:
        use_weights(args.weights)
    others = {f"also{index}": load_joint_model(path) for index, path in enumerate(args.also, 1)}
    songs = [] if args.skip_mir1k else group_songs(read_clips(args.data, singers=tuple(args.singers)))
    songs = first_per_singer(songs, args.per_singer)
    if args.precompute_crepe:
        for song in songs:
            precompute_crepe(song)
            print(f"crepe cached: {song.name}", flush=True)
        return
    jobs = [
        partial(evaluate_song, song, crepe=args.crepe, sdr=not args.f0_only, others=others) for song in songs
    ]
    jobs += [
        partial(evaluate_demo, seed, args.seconds, crepe=args.crepe, others=others) for seed in args.seeds
    ]
    rows = []
    for index, job in enumerate(jobs, 1):
        rows.append(job())
        print(f"[{index}/{len(jobs)}] {rows[-1]['name']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        fields = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    for domain in ("mir1k", "demo"):
        if any(row["domain"] == domain for row in rows):
            report([row for row in rows if row["domain"] == domain], args)


def _seed_range(text: str) -> tuple[int, ...]:
    """``"0-7"`` or ``"0,3,5"`` as seeds."""
    if "-" in text:
        first, last = (int(part) for part in text.split("-", 1))
        return tuple(range(first, last + 1))
    return tuple(int(part) for part in text.split(","))


def report(rows: list[dict], args: argparse.Namespace) -> None:
    def median(key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)

    def mean(key: str) -> float:
        return statistics.fmean(float(r[key]) for r in rows)

    minutes = sum(float(r["duration_s"]) for r in rows) / 60
    where = f"validation songs ({', '.join(args.singers)})" if rows[0]["domain"] == "mir1k" else "demo songs"
    print(f"\n{len(rows)} {where}, {minutes:.1f} min; {date.today()}")
    systems = {"ours": "ours"} | ({"crepe": "torchcrepe full"} if args.crepe else {})
    for index, path in enumerate(args.also, 1):
        systems[f"also{index}"] = f"ours, --also {index}"
        print(f"--also {index}: {path}")
    systems["grid"] = "true F0 on our frames"
    print("F0 (mean over songs, %):  " + "  ".join(f"{k[3:].upper():>5}" for k in MELODY_METRICS))
    for system, label in systems.items():
        print(f"  {label:<23}" + "  ".join(f"{100 * mean(f'{system}_{k}'):5.1f}" for k in MELODY_METRICS))
    print("  (the last row is the ceiling of any F0 on the model's 23 ms frames, scored the same way)")
    for index in range(1, len(args.also) + 1):
        counts = []
        for key in ("f0_rpa", "f0_oa"):
            metric = key[3:].upper()
            higher = sum(float(r[f"also{index}_{key}"]) > float(r[f"ours_{key}"]) for r in rows)
            lower = sum(float(r[f"also{index}_{key}"]) < float(r[f"ours_{key}"]) for r in rows)
            counts.append(f"{metric} higher on {higher}, lower on {lower}")
        print(f"  --also {index} against ours, of {len(rows)} songs: " + "; ".join(counts))
    separation_s, f0_s = (sum(float(r[k]) for r in rows) for k in ("separation_s", "f0_s"))
    per_second = 60 * minutes
    print(
        f"time: separation {separation_s:.1f} s, F0 {f0_s:.1f} s ({f0_s / per_second * 1e3:.1f} ms per s of "
        f"audio, {100 * f0_s / separation_s:.1f} % of the separation)"
    )
    if args.crepe:
        crepe_s = sum(float(r["crepe_s"]) for r in rows)
        cached = (
            " (read from its cache)"
            if crepe_s < 1
            else f" ({crepe_s / per_second * 1e3:.0f} ms per s of audio)"
        )
        print(f"      torchcrepe full {crepe_s:.1f} s{cached}")
    if rows[0]["domain"] != "mir1k" or args.f0_only:
        return
    base = median("pretrained_vocal_sdr")
    print(f"vocal SDR (median over songs): pretrained {base:.2f} dB")
    for name in ("f0svs_estimate", "f0svs_oracle"):
        deltas = [float(r[f"{name}_vocal_sdr"]) - float(r["pretrained_vocal_sdr"]) for r in rows]
        change = statistics.median(deltas)
        print(f"  {name:<16} {median(f'{name}_vocal_sdr'):.2f} dB (median change {change:+.2f} dB)")


if __name__ == "__main__":
    main()
