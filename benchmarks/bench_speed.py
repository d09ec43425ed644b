"""Whole-process separation speed and peak memory: ``ipysvs separate`` vs the straightforward reference.

Both run as fresh processes on the same song, interleaved (ours, reference, ours, ...) so that machine
noise hits both alike; we report the median wall time of each, the speed-up ratio, real-time factors
and peak resident memory (``ru_maxrss`` of the child).

Usage:
    python benchmarks/bench_speed.py [SONG] [--repeats 3]

SONG defaults to ../shared/data/real/lets_go_fishin.ogg (133 s, 44.1 kHz stereo).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import soundfile

HERE = Path(__file__).resolve().parent
DEFAULT_SONG = HERE.parents[1] / "shared" / "data" / "real" / "lets_go_fishin.ogg"


def run_process(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return (wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("song", nargs="?", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--long-minutes",
        type=float,
        default=10.0,
        help="also measure memory on the song tiled to this length",
    )
    args = parser.parse_args()
    if not args.song.is_file():
        raise SystemExit(f"{args.song} not found (needs ../shared/data)")
    duration = soundfile.info(str(args.song)).duration
    ipysvs = ipysvs_command(args.song)
    reference = [sys.executable, str(HERE / "reference_separator.py"), str(args.song)]
    results: dict[str, list[tuple[float, float]]] = {"ipysvs": [], "reference": []}
    with tempfile.TemporaryDirectory() as out:
        run_process([*ipysvs, out])  # warm the page cache and byte-code caches for both
        for _ in range(args.repeats):
            results["ipysvs"].append(run_process([*ipysvs, out]))
            results["reference"].append(run_process([*reference, out]))
        full_job = run_process([arg for arg in ipysvs if arg != "--stems-only"] + [out])
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in results.items()}
    memory = {name: max(m for _, m in runs) for name, runs in results.items()}
    print(f"song: {args.song.name}, {duration:.1f} s; {args.repeats} interleaved runs each")
    for name in results:
        runs = ", ".join(f"{w:.2f}" for w, _ in results[name])
        print(
            f"{name:>10}: median {wall[name]:.2f} s ({duration / wall[name]:.1f}x real time), "
            f"peak RSS {memory[name]:.0f} MB; runs {runs}"
        )
    print(f"speed-up ipysvs vs reference: {wall['reference'] / wall['ipysvs']:.2f}x")
    full, full_memory = full_job
    print(
        f"full job (stems + f0.csv + beats.csv, one run): {full:.2f} s "
        f"({duration / full:.1f}x real time), peak RSS {full_memory:.0f} MB"
    )
    if args.long_minutes:
        measure_long_song(args.song, args.long_minutes)
    print(f"date {date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores")


def ipysvs_command(song: Path) -> list[str]:
    """``ipysvs separate --stems-only`` (the reference's job: no f0.csv, no beats.csv) up to ``--out``."""
    return [sys.executable, "-m", "ipysvs.cli", "separate", "--stems-only", "--quiet", str(song), "--out"]


def measure_long_song(song: Path, minutes: float) -> None:
    """Peak memory of ``ipysvs separate`` on ``song`` tiled to ``minutes``, beyond its decoded audio."""
    import numpy as np

    samples, sr = soundfile.read(str(song), dtype="float32", always_2d=True)
    tiled = np.tile(samples, (int(np.ceil(minutes * 60 * sr / len(samples))), 1))[: int(minutes * 60 * sr)]
    audio_mb = tiled.nbytes / 1e6
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.wav"
        soundfile.write(str(path), tiled, sr, subtype="FLOAT")
        del tiled, samples
        wall, peak = run_process([*ipysvs_command(path), folder])
    print(
        f"{minutes:.0f}-minute song: {wall:.1f} s, peak RSS {peak:.0f} MB = decoded audio {audio_mb:.0f} MB "
        f"+ {peak - audio_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
