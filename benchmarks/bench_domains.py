"""Update DNN across domains: vocal SDR of the pretrained separator and of ``adapt()``, per song.

Two domains, each song opened as a user opens it (``ipysvs.open``) and scored against its true stems:

* **mir1k** -- the MIR-1K validation songs (singers leon, stool, Ani, yifen; the clips of one singer
  and song joined; 16 kHz mono karaoke);
* **demo** -- demo songs of ``--seeds`` (``ipysvs.demo.demo_song``, 30 s, 44.1 kHz stereo, exact stems and
  F0). The refiner trains on seeds 1000 and above (``ipysvs.research.training.TRAINING_DEMO_SEEDS``);
  evaluate on seeds below 1000.

``--training-singers N`` scores the first song of N of the singers the refiner trained on instead of
the MIR-1K validation songs: how much better it does on songs it learnt from.

Conditions: ``pretrained`` (what ``ipysvs.open`` gives), ``adapt-0`` (``adapt()`` with no corrections),
``adapt-50`` and ``adapt-100`` (the true F0 of the first 50 % / of every frame given as one stroke,
then ``adapt()`` with its defaults). Scores: BSS Eval v3 vocal SDR of the whole song (channel average)
and museval's median over 1 s frames (stereo images), both in dB. The table reports, per domain and
condition, medians over songs and the median and worst per-song change against ``pretrained``.

Usage:
    python benchmarks/bench_domains.py [--data ../shared/data/mir1k] [--seeds 0-7]
        [--per-singer N | --training-singers N] [--out benchmarks/results/domains.csv]
        [--skip-mir1k] [--skip-demo] [--conditions ...]
        [--learn-accompaniment] [--trust-uncorrected X] [--trust-corrected Y]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import ipysvs
from ipysvs.demo import demo_song
from ipysvs.interactive import adaptation
from ipysvs.research.benchmarking import measured_on, use_weights
from ipysvs.research.datasets import VALIDATION_SINGERS, Labels, Track, group_songs, read_clips
from ipysvs.research.evaluation import vocal_sdr
from ipysvs.research.experiments import give_true_f0

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "mir1k"
CONDITIONS = {"pretrained": None, "adapt-0": 0, "adapt-50": 50, "adapt-100": 100}
COLUMNS = ("domain", "name", "condition", "vocal_sdr_v3", "vocal_sdr_museval", "adapt_s")


@dataclass(frozen=True)
class Song:
    """A song with its true stems: ``(channels, samples)`` float32 at ``sr`` Hz, and its F0 labels."""

    domain: str
    name: str
    voice: np.ndarray
    accompaniment: np.ndarray
    sr: int
    labels: Labels


def demo_songs(seeds: list[int], seconds: float) -> Iterator[Song]:
    for seed in seeds:
        song = demo_song(seconds=seconds, seed=seed)
        labels = Labels(song.f0_times, song.f0_hz, song.f0_hz > 0)
        yield Song("demo", f"demo-{seed}", song.vocals, song.accompaniment, song.sr, labels)


def mir1k_tracks(data: Path, per_singer: int | None, training_singers: int | None = None) -> Iterator[Track]:
    """The validation songs (``per_singer`` of each singer, default all), or with ``training_singers``
    the first song of that many singers outside the validation split (MIR-1K has 11)."""
    counts: dict[str, int] = {}
    for song in group_songs(read_clips(data)):
        if (song.singer in VALIDATION_SINGERS) == (training_singers is not None):
            continue
        counts[song.singer] = counts.get(song.singer, 0) + 1
        limit = 1 if training_singers is not None else per_singer
        if limit is not None and counts[song.singer] > limit:
            continue
        if training_singers is not None and len(counts) > training_singers:
            return
        yield song.load()


def mir1k_songs(data: Path, per_singer: int | None, training_singers: int | None = None) -> Iterator[Song]:
    for track in mir1k_tracks(data, per_singer, training_singers):
        yield Song("mir1k", track.name, track.voice[None], track.accompaniment[None], track.sr, track.labels)


def score_song(song: Song, conditions: list[str], options: dict[str, object]) -> Iterator[dict[str, object]]:
    """One row per condition: the song opened afresh, corrected, adapted (with ``options``) and scored."""
    mixture = song.voice + song.accompaniment
    duration = mixture.shape[1] / song.sr
    for condition in conditions:
        ratio = CONDITIONS[condition]
        session = ipysvs.open(mixture, song.sr, name=song.name, journal=False, quiet=True)
        seconds = 0.0
        if ratio is not None:
            give_true_f0(session, song.labels, duration * ratio / 100)
            seconds = session.adapt(**options, quiet=True).seconds
        v3, museval_sdr = vocal_sdr(song.voice, song.accompaniment, session.vocals, song.sr)
        yield {
            "domain": song.domain,
            "name": song.name,
            "condition": condition,
            "vocal_sdr_v3": round(v3, 4),
            "vocal_sdr_museval": round(museval_sdr, 4),
            "adapt_s": round(seconds, 2),
        }


def summary(rows: list[dict[str, object]]) -> str:
    """Markdown: per domain and condition, medians over songs and per-song changes vs ``pretrained``."""
    lines = [
        "| domain | condition | songs | museval SDR | change: median | change: worst "
        "| v3 SDR | v3 change: median | v3 change: worst |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for domain in dict.fromkeys(r["domain"] for r in rows):
        mine = [r for r in rows if r["domain"] == domain]
        base = {r["name"]: r for r in mine if r["condition"] == "pretrained"}
        for condition in CONDITIONS:
            chosen = [r for r in mine if r["condition"] == condition and r["name"] in base]
            if not chosen:
                continue
            cells = [domain, condition, str(len(chosen))]
            for metric in ("vocal_sdr_museval", "vocal_sdr_v3"):
                values = [float(r[metric]) for r in chosen]
                changes = [float(r[metric]) - float(base[r["name"]][metric]) for r in chosen]
                cells += [
                    f"{statistics.median(values):.2f}",
                    f"{statistics.median(changes):+.2f}",
                    f"{min(changes):+.2f}",
                ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_seeds(text: str) -> list[int]:
    """``"0-7"`` or ``"0,3,5"``."""
    if "-" in text:
        first, last = (int(part) for part in text.split("-"))
        return list(range(first, last + 1))
    return [int(part) for part in text.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MIR-1K layout folder")
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(8)), help="demo seeds, e.g. 0-7")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each demo song")
    parser.add_argument("--per-singer", type=int, help="MIR-1K songs per validation singer (default: all)")
    parser.add_argument(
        "--training-singers",
        type=int,
        help="the first MIR-1K song of this many training singers instead of the validation songs",
    )
    parser.add_argument("--skip-mir1k", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "domains.csv")
    parser.add_argument(
        "--conditions",
        type=lambda text: text.split(","),
        default=list(CONDITIONS),
        help="e.g. pretrained,adapt-100",
    )
    parser.add_argument("--learn-accompaniment", action="store_true", help="adapt(learn_accompaniment=True)")
    parser.add_argument("--trust-uncorrected", type=float, help="override ESTIMATE_TRUST['uncorrected']")
    parser.add_argument("--trust-corrected", type=float, help="override ESTIMATE_TRUST['corrected']")
    parser.add_argument(
        "--weights",
        type=Path,
        help="a pitch.safetensors to measure instead of the shipped one (e.g. a training run's export); "
        "analyses are then cached in a fresh temporary folder",
    )
    args = parser.parse_args()
    unknown = [c for c in args.conditions if c not in CONDITIONS]
    if unknown or "pretrained" not in args.conditions:
        print(f"--conditions: choose from {', '.join(CONDITIONS)}, pretrained included", file=sys.stderr)
        return 2
    for key, value in (("uncorrected", args.trust_uncorrected), ("corrected", args.trust_corrected)):
        if value is not None:
            adaptation.ESTIMATE_TRUST[key] = value
    if args.weights is not None:
        use_weights(args.weights)
    options = {"learn_accompaniment": args.learn_accompaniment}
    if not args.skip_mir1k and not (args.data / "index.csv").is_file():
        print(f"no MIR-1K data at {args.data}: pass --data or --skip-mir1k", file=sys.stderr)
        return 2
    songs: list[Iterator[Song]] = []
    if not args.skip_demo:
        songs.append(demo_songs(args.seeds, args.seconds))
    if not args.skip_mir1k:
        songs.append(mir1k_songs(args.data, args.per_singer, args.training_singers))
    rows: list[dict[str, object]] = []
    started = time.time()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for source in songs:
            for song in source:
                for row in score_song(song, args.conditions, options):
                    rows.append(row)
                    writer.writerow(row)
                    handle.flush()
                print(f"{song.name}: done ({time.time() - started:.0f} s)", file=sys.stderr)
    weights = args.weights or "shipped weights"
    settings = f"{weights}, ESTIMATE_TRUST={adaptation.ESTIMATE_TRUST}, {options}"
    print(f"bench_domains, {measured_on()}, {time.time() - started:.0f} s, {settings}, rows in {args.out}\n")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
