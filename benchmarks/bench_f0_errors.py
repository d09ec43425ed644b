"""What is wrong with the F0 the user did not correct, before and after adapting on the rest.

For each MIR-1K validation song (unit: song) the true F0 of the first ``--ratio`` % is given as
corrections (as in ``ipysvs simulate``); the F0 of the remaining part is sorted, frame by labelled
frame, into correct / unvoiced / near (50-100 cents) / octave / far
(:func:`ipysvs.research.evaluation.pitch_errors`), once for the pretrained estimate and once after
``Session.adapt()``. ``at_edges`` is the share of the wrong frames within 70 ms of a voicing change,
``offset_cents`` the median signed error of the frames within 100 cents (a tuning bias).

Usage:
    python benchmarks/bench_f0_errors.py [--data ../shared/data/mir1k] [--per-singer N] [--ratio 50]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from ipysvs.interactive.session import open as open_session
from ipysvs.research.datasets import VALIDATION_SINGERS, Track, first_per_singer, group_songs, read_clips
from ipysvs.research.evaluation import PITCH_ERRORS, pitch_errors
from ipysvs.research.experiments import give_true_f0

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "mir1k"
COLUMNS = (*PITCH_ERRORS, "at_edges", "offset_cents")


def song_errors(track: Track, ratio: int) -> tuple[dict[str, float], dict[str, float]]:
    """Error classes (fractions) of the uncorrected part's F0: (before, after) adaptation."""
    session = open_session(track.mixture, track.sr, name=track.name, journal=False, quiet=True)
    cut_s = track.duration_s * ratio / 100
    labels = track.labels.since(cut_s)
    before = pitch_errors(labels, session.f0)
    give_true_f0(session, track.labels, cut_s)
    session.adapt(variant="f0-svs", quiet=True)
    return before, pitch_errors(labels, session.f0)


def shown(column: str, value: float) -> str:
    """A table cell: fractions as percentages, the offset in cents."""
    return f"{value if column == 'offset_cents' else 100 * value:>9.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-singer", type=int, default=3)
    parser.add_argument("--ratio", type=int, default=50, help="corrected percentage")
    args = parser.parse_args()
    songs = group_songs(read_clips(args.data, singers=VALIDATION_SINGERS))
    chosen = first_per_singer(songs, args.per_singer)
    header = " ".join(f"{c:>9}" for c in COLUMNS)
    print(f"{'song':<10}{'when':<8}{header}   (% of the uncorrected part's voiced labels; offset in cents)")
    rows: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for song in chosen:
        track = song.load()
        for when, errors in zip(rows, song_errors(track, args.ratio), strict=True):
            rows[when].append(errors)
            print(f"{track.name:<10}{when:<8}" + " ".join(shown(c, errors[c]) for c in COLUMNS))
    for when, found in rows.items():
        medians = [shown(c, statistics.median(e[c] for e in found)) for c in COLUMNS]
        print(f"{'median':<10}{when:<8}" + " ".join(medians))


if __name__ == "__main__":
    main()
