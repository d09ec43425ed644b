"""Latency of ``Session.adapt()`` after correcting 30 s of a 3-minute song, against one separation.

The song is ``../shared/data/real/lets_go_fishin.ogg`` tiled to 3 minutes. The "correction" redraws
the first 30 s of the F0 exactly as estimated: what is measured is the time adaptation takes for 30 s
of corrected frames, not what they contain. Both timings run in this one
process, after a warm-up, so they share the machine's state.

Usage:
    python benchmarks/bench_adapt.py [--seconds 180] [--corrected 30] [--steps 30]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np

import ipysvs
from ipysvs import audio as audio_io
from ipysvs.separation import default_separator

SONG = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "lets_go_fishin.ogg"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--corrected", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    samples, sr = audio_io.read(SONG)
    length = int(args.seconds * sr)
    song = np.tile(samples, (1, -(-length // samples.shape[1])))[:, :length]

    session = ipysvs.open(song, sr)
    started = time.perf_counter()
    default_separator().separate_channels(song, sr)
    separation = time.perf_counter() - started

    inside = session.frame_times < args.corrected
    session.draw(session.frame_times[inside], session.f0.hz[inside])
    report = session.adapt(steps=args.steps)
    print(f"{args.seconds:.0f} s song, {args.corrected:.0f} s corrected, {args.steps} steps; {date.today()}")
    print(f"one separation: {separation:.2f} s")
    print(f"adapt(): {report.seconds:.2f} s ({report.seconds / separation:.2f}x one separation)")


if __name__ == "__main__":
    main()
