"""Peak memory against a song's length: ``ipysvs separate --stems-only`` and ``ipysvs.open``.

Each measurement is a fresh process (``ru_maxrss`` of the child) on the 133 s song tiled to 10, 30 and
120 minutes (written as a 16-bit wav; decoded, ipysvs holds it as float32, which is the "decoded
audio" figure). ``ipysvs.open`` runs with an empty cache folder, as a song's first open does.
Targets (issue 13): beyond the decoded audio, at most 1.5 GB for ``separate --stems-only`` at any
length up to 2 hours and at most 2 GB for ``ipysvs.open`` of 30 minutes.

Usage:
    python benchmarks/bench_memory.py [SONG] [--minutes 10,30,120] [--jobs separate,open]
        [--csv benchmarks/results/memory.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

from ipysvs.research.benchmarking import measured_on, run_measured, write_tiled

HERE = Path(__file__).resolve().parent
DEFAULT_SONG = HERE.parents[1] / "shared" / "data" / "real" / "lets_go_fishin.ogg"
JOBS = ("separate", "open")
OPEN_SCRIPT = "import sys, ipysvs; ipysvs.open(sys.argv[1], journal=False, quiet=True)"


def job_command(job: str, song: Path, out: Path) -> list[str]:
    """The child process measuring ``job`` on ``song`` (outputs into ``out``)."""
    if job == "separate":
        return [
            sys.executable,
            "-m",
            "ipysvs.cli",
            "separate",
            "--stems-only",
            "--quiet",
            str(song),
            "--out",
            str(out),
        ]
    return [sys.executable, "-c", OPEN_SCRIPT, str(song)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("song", nargs="?", type=Path, default=DEFAULT_SONG)
    parser.add_argument("--minutes", default="10,30,120", help="comma-separated lengths in minutes")
    parser.add_argument("--jobs", default=",".join(JOBS), help=f"comma-separated, of {', '.join(JOBS)}")
    parser.add_argument("--csv", type=Path, help="append one row per measurement to this CSV")
    args = parser.parse_args()
    if not args.song.is_file():
        raise SystemExit(f"{args.song} not found (needs ../shared/data)")
    minutes = [float(value) for value in args.minutes.split(",")]
    jobs = args.jobs.split(",")
    if unknown := set(jobs) - set(JOBS):
        raise SystemExit(f"unknown job(s) {', '.join(sorted(unknown))}: choose from {', '.join(JOBS)}")
    print(f"| job | minutes | wall time | peak RSS | decoded audio | beyond the audio |  ({measured_on()})")
    for length in minutes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"tiled-{length:g}min.wav"
            channels, samples = write_tiled(args.song, length, path)
            audio_mb = channels * samples * 4 / 1e6
            for job in jobs:
                env = {**os.environ, "IPYSVS_CACHE_DIR": str(Path(folder) / f"cache-{job}")}
                wall, peak, _ = run_measured(job_command(job, path, Path(folder) / "out"), env=env)
                row = {
                    "job": job,
                    "minutes": length,
                    "wall_s": round(wall, 1),
                    "peak_mb": round(peak),
                    "audio_mb": round(audio_mb),
                    "beyond_audio_mb": round(peak - audio_mb),
                    "measured_on": measured_on(),
                }
                print(
                    f"| {job} | {length:g} | {wall:.1f} s | {peak:.0f} MB | {audio_mb:.0f} MB | "
                    f"{peak - audio_mb:.0f} MB |",
                    flush=True,
                )
                if args.csv:
                    append_row(args.csv, row)


def append_row(path: Path, row: dict[str, object]) -> None:
    """Append ``row`` to the CSV at ``path`` (with a header if the file is new)."""
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


if __name__ == "__main__":
    main()
