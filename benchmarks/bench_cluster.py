"""Scale-out: ``ipysvs separate`` and ``ipysvs simulate`` with ``--workers N`` against the sequential run.

Each command runs as a fresh process, sequential first and then on a local Dask cluster, with a fresh
cache folder each (so both compute every song's first analysis); the script reports the wall times,
their ratio, the peak memory, how many cores each run kept busy (CPU seconds of the process and its
workers over wall seconds), whether the results agree (stems to 1e-4, the same CSV rows), and the
figures of a costed model of a corpus run on a cluster: the time of one task on one single-threaded
worker, the scheduler's overhead per task (a round trip of empty tasks) and songs per hour per worker.

* ``separate``: ``--songs`` demo songs (seeds 0.., ``--seconds`` long, 44.1 kHz stereo) written as wav.
* ``simulate``: the first ``--per-singer`` songs of each MIR-1K validation singer (``--unit song``), the
  ``--ratios`` and ``--variants`` given (fewer than ``ipysvs simulate``'s defaults, to keep the run short).

Usage:
    python benchmarks/bench_cluster.py [--workers 2] [--songs 8] [--seconds 30]
        [--data ../shared/data/mir1k] [--per-singer 2] [--ratios 0,50,100] [--variants svs,f0-svs]
        [--skip-separate] [--skip-simulate]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from ipysvs import cluster
from ipysvs.demo import demo_song
from ipysvs.research.benchmarking import measured_on, run_measured
from ipysvs.research.datasets import VALIDATION_SINGERS

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "mir1k"
IPYSVS = [sys.executable, "-m", "ipysvs.cli"]
OVERHEAD_TASKS = 400


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--songs", type=int, default=8, help="demo songs to separate")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each demo song")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-singer", type=int, default=2)
    parser.add_argument("--ratios", default="0,50,100")
    parser.add_argument("--variants", default="svs,f0-svs")
    parser.add_argument("--skip-separate", action="store_true")
    parser.add_argument("--skip-simulate", action="store_true")
    args = parser.parse_args()
    cluster.require_dask()
    print(f"# {measured_on()}; --workers {args.workers}")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if not args.skip_separate:
            bench_separate(work, args)
        if not args.skip_simulate:
            if (args.data / "index.csv").is_file():
                bench_simulate(work, args)
            else:
                print(f"simulate: skipped, {args.data} not found (needs ../shared/data)")
    overhead = scheduler_overhead(args.workers)
    print(f"scheduler overhead: {overhead * 1e3:.1f} ms per task ({OVERHEAD_TASKS} empty tasks)")


def bench_separate(work: Path, args: argparse.Namespace) -> None:
    inputs = []
    for seed in range(args.songs):
        song = demo_song(seconds=args.seconds, seed=seed)
        path = work / f"song{seed}.wav"
        soundfile.write(str(path), song.mixture.T, song.sr)
        inputs.append(str(path))
    command = [*IPYSVS, "separate", *inputs, "--quiet", "--out"]
    runs = {}
    for name, extra in (("sequential", []), (f"--workers {args.workers}", ["--workers", str(args.workers)])):
        out = work / f"separated-{len(runs)}"
        runs[name] = (run_measured([*command, str(out), *extra], env=fresh_cache(work, name)), out)
    (_, seq_out), (_, par_out) = runs.values()
    worst = max(
        float(np.max(np.abs(read(seq_out / f"song{s}" / stem) - read(par_out / f"song{s}" / stem))))
        for s in range(args.songs)
        for stem in ("vocals.wav", "accompaniment.wav")
    )
    report("separate", args, runs, args.songs, args.songs * args.seconds)
    print(f"separate: largest stem difference, cluster against sequential: {worst:.2e}")


def bench_simulate(work: Path, args: argparse.Namespace) -> None:
    command = [*IPYSVS, "simulate", "--data", str(args.data), "--unit", "song", "--quiet"]
    command += ["--singers", *VALIDATION_SINGERS, "--per-singer", str(args.per_singer)]
    command += ["--ratios", args.ratios, "--variants", args.variants]
    runs = {}
    for name, extra in (("sequential", []), (f"--workers {args.workers}", ["--workers", str(args.workers)])):
        out = work / f"simulation-{len(runs)}.csv"
        runs[name] = (run_measured([*command, "--out", str(out), *extra], env=fresh_cache(work, name)), out)
    (_, seq_csv), (_, par_csv) = runs.values()
    ours, theirs = rows(seq_csv), rows(par_csv)
    worst = max(
        abs(float(ours[key][column]) - float(theirs[key][column]))
        for key in ours
        for column in ("vocal_sdr", "acc_sdr", "f0_rpa_uncorrected")
        if key in theirs and not math.isnan(float(ours[key][column]))
    )
    songs = len({key[0] for key in ours})
    report("simulate", args, runs, songs, None)
    print(
        f"simulate: {len(ours)} rows sequential, {len(theirs)} on the cluster, same keys: "
        f"{set(ours) == set(theirs)}; largest difference of a score: {worst:.2e} dB or fraction"
    )


def report(kind: str, args: argparse.Namespace, runs: dict, tasks: int, audio_s: float | None) -> None:
    """Print the side-by-side row, how many cores each run kept busy (CPU seconds over wall seconds: what
    the sequential run leaves idle is all that more processes can win), and the per-task figures of the
    costed model; the cluster's start (processes, imports, the models loaded once per worker) is
    measured apart and taken out."""
    (seq, _), (par, _) = runs.values()
    start = cluster_start(args.workers)
    per_task = (par.wall_s - start) * args.workers / tasks  # one task on one single-threaded worker
    print(
        f"| {kind} | tasks | sequential s | --workers {args.workers} s | speed-up | peak MB seq / cluster "
        "| cores busy seq / cluster |"
    )
    print(
        f"| {kind} | {tasks} | {seq.wall_s:.1f} | {par.wall_s:.1f} | {seq.wall_s / par.wall_s:.2f}x "
        f"| {seq.peak_mb:.0f} / {par.peak_mb:.0f} "
        f"| {seq.cpu_s / seq.wall_s:.2f} / {par.cpu_s / par.wall_s:.2f} |"
    )
    songs = f" ({audio_s / tasks:.0f} s songs)" if audio_s else ""
    print(
        f"{kind}: cluster start {start:.1f} s; about {per_task:.1f} s per task on a single-threaded worker"
        f"{songs} = {3600 / per_task:.0f} songs per hour per worker; CPU seconds sequential "
        f"{seq.cpu_s:.1f}, cluster {par.cpu_s:.1f}"
    )


def cluster_start(workers: int) -> float:
    """Seconds from nothing to a local cluster of ``workers`` set-up workers (models loaded)."""
    start = time.perf_counter()
    with cluster.connect(workers=workers) as client:
        client.wait_for_workers(workers)
        client.run(lambda: None)  # every worker has run its setup
        return time.perf_counter() - start


def scheduler_overhead(workers: int) -> float:
    """Seconds per empty task through a local cluster (submit, run, gather), after a warm-up."""
    with cluster.connect(workers=workers) as client:
        client.gather(client.map(abs, range(-20, 0), pure=False))
        start = time.perf_counter()
        client.gather(client.map(abs, range(-OVERHEAD_TASKS, 0), pure=False))
        return (time.perf_counter() - start) / OVERHEAD_TASKS


def fresh_cache(work: Path, name: str) -> dict[str, str]:
    folder = work / f"cache-{name.replace(' ', '').replace('-', '')}"
    return {**os.environ, "IPYSVS_CACHE_DIR": str(folder)}


def read(path: Path) -> np.ndarray:
    return soundfile.read(str(path), dtype="float32")[0]


def rows(path: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    with path.open() as handle:
        return {(r["name"], r["variant"], r["ratio"]): r for r in csv.DictReader(handle)}


if __name__ == "__main__":
    main()
