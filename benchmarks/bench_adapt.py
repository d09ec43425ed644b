"""Latency of ``Session.adapt()`` after correcting 30 s of a 3-minute song, against one separation.

The song is ``../shared/data/real/lets_go_fishin.ogg`` tiled to 3 minutes. The "correction" redraws
the first 30 s of the F0 exactly as estimated: what is measured is the time adaptation takes for 30 s
of corrected frames, not what they contain. Both timings run in this one
process, after a warm-up, so they share the machine's state.

Usage:
    python benchmarks/bench_adapt.py [--seconds 180] [--corrected 30] [--steps N] [--learn-accompaniment]
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
    parser.add_argument("--steps", type=int, default=None, help="default: adapt()'s")
    parser.add_argument("--learn-accompaniment", action="store_true", help="adapt(learn_accompaniment=True)")
    args = parser.parse_args()
    samples, sr = audio_io.read(SONG)
    length = int(args.seconds * sr)
    song = np.tile(samples, (1, -(-length // samples.shape[1])))[:, :length]

    session = ipysvs.open(song, sr, quiet=True)
    started = time.perf_counter()
    default_separator().separate_channels(song, sr)
    separation = time.perf_counter() - started

    inside = session.frame_times < args.corrected
    session.draw(session.frame_times[inside], session.f0.hz[inside])
    phases = PhaseClock()
    report = session.adapt(steps=args.steps, learn_accompaniment=args.learn_accompaniment, progress=phases)
    print(f"{args.seconds:.0f} s song, {args.corrected:.0f} s corrected; {date.today()}")
    print(f"one separation: {separation:.2f} s")
    ratio = report.seconds / separation
    print(f"adapt() from F0 corrections: {report.seconds:.2f} s ({ratio:.2f}x one separation)")
    print(f"  {report.steps} steps; {phases.summary(report.seconds)}")
    session.undo()
    session.unvoice(0.0, args.corrected / 4)
    session.draw(session.frame_times[inside], session.f0.hz[inside])
    phases = PhaseClock()
    report = session.adapt(steps=args.steps, learn_accompaniment=args.learn_accompaniment, progress=phases)
    print(
        f"adapt() from F0 corrections + {args.corrected / 4:.1f} s deleted (layers {report.layers}): "
        f"{report.seconds:.2f} s ({report.seconds / separation:.2f}x one separation)"
    )
    print(f"  {report.steps} steps; {phases.summary(report.seconds)}")


class PhaseClock:
    """A progress callback remembering when each phase of ``adapt()`` ended."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.ends: dict[str, float] = {}

    def __call__(self, phase: str, done: int, total: int, /, **details: float) -> None:
        self.ends[phase] = time.perf_counter() - self.started

    def summary(self, total: float) -> str:
        """``train 1.2 s, estimate 0.4 s, separate 3.1 s`` (durations of the phases)."""
        parts, previous = [], 0.0
        for phase, end in self.ends.items():
            parts.append(f"{phase} {end - previous:.2f} s")
            previous = end
        return ", ".join(parts) + f" (setup and hand-over {total - previous:.2f} s)"


if __name__ == "__main__":
    main()
