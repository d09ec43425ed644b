"""Whole-process separation speed and peak memory: ``ipysvs separate`` vs the straightforward reference.

Both run as fresh processes on the same song, interleaved (ours, reference, ours, ...) so that machine
noise hits both alike; we report the median wall time of each, the speed-up ratio, real-time factors
and peak resident memory (``ru_maxrss`` of the child). Memory against the song's length:
``bench_memory.py``.

Usage:
    python benchmarks/bench_speed.py [SONG] [--repeats 3]

SONG defaults to ../shared/data/real/lets_go_fishin.ogg (133 s, 44.1 kHz stereo).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import soundfile

from ipysvs.research.benchmarking import Measurement, measured_on, run_measured

HERE = Path(__file__).resolve().parent
DEFAULT_SONG = HERE.parents[1] / "shared" / "data" / "real" / "lets_go_fishin.ogg"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("song", nargs="?", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.song.is_file():
        raise SystemExit(f"{args.song} not found (needs ../shared/data)")
    duration = soundfile.info(str(args.song)).duration
    ipysvs = ipysvs_command(args.song)
    reference = [sys.executable, str(HERE / "reference_separator.py"), str(args.song)]
    results: dict[str, list[Measurement]] = {"ipysvs": [], "reference": []}
    with tempfile.TemporaryDirectory() as out:
        run_measured([*ipysvs, out])  # warm the page cache and byte-code caches for both
        for _ in range(args.repeats):
            results["ipysvs"].append(run_measured([*ipysvs, out]))
            results["reference"].append(run_measured([*reference, out]))
        full_job = run_measured([arg for arg in ipysvs if arg != "--stems-only"] + [out])
    wall = {name: statistics.median(run.wall_s for run in runs) for name, runs in results.items()}
    memory = {name: max(run.peak_mb for run in runs) for name, runs in results.items()}
    print(f"song: {args.song.name}, {duration:.1f} s; {args.repeats} interleaved runs each")
    for name in results:
        runs = ", ".join(f"{run.wall_s:.2f}" for run in results[name])
        print(
            f"{name:>10}: median {wall[name]:.2f} s ({duration / wall[name]:.1f}x real time), "
            f"peak RSS {memory[name]:.0f} MB; runs {runs}"
        )
    print(f"speed-up ipysvs vs reference: {wall['reference'] / wall['ipysvs']:.2f}x")
    full, full_memory = full_job.wall_s, full_job.peak_mb
    print(
        f"full job (stems + f0.csv + beats.csv, one run): {full:.2f} s "
        f"({duration / full:.1f}x real time), peak RSS {full_memory:.0f} MB"
    )
    print(measured_on())


def ipysvs_command(song: Path) -> list[str]:
    """``ipysvs separate --stems-only`` (the reference's job: no f0.csv, no beats.csv) up to ``--out``."""
    return [sys.executable, "-m", "ipysvs.cli", "separate", "--stems-only", "--quiet", str(song), "--out"]


if __name__ == "__main__":
    main()
