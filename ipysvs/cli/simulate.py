"""``ipysvs simulate DATA``: the simulation experiment on a folder in the MIR-1K layout.

For every song (``--unit song``: the clips of one singer and song joined in clip order) or clip, every
variant and every ratio, the first ratio % of the ground truth is given as corrections, the session adapts,
and separation and F0 are scored (:mod:`~ipysvs.research.experiments`). Rows are appended to ``--out`` as
they are finished, so an interrupted run resumes where it stopped; the median table is printed and a PNG
plot like Nakano et al.'s Figure 4 is written beside the CSV.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..research import require_extra
from ..research.datasets import first_per_singer, group_songs, read_clips
from ..research.experiments import (
    RATIOS,
    SIMULATION_VARIANTS,
    format_condition_table,
    median_table,
    parse_ratios,
    parse_variants,
    plot,
    read_rows,
    simulate_tracks,
)
from .common import EXIT_OK, EXIT_SOME_FAILED, add_cluster_options, count, report_error

__all__ = ["add_arguments", "run"]


def add_arguments(simulate: argparse.ArgumentParser) -> None:
    """The arguments of ``ipysvs simulate``."""
    simulate.add_argument("--data", type=Path, required=True, help="folder with index.csv and clips/")
    simulate.add_argument("--unit", choices=("song", "clip"), default="song", help="what one track is")
    simulate.add_argument(
        "--ratios", default=",".join(map(str, RATIOS)), help="corrected percentages, e.g. 0,25,50,75,100"
    )
    simulate.add_argument(
        "--variants",
        default=",".join(SIMULATION_VARIANTS),
        help=f"comma-separated, from {', '.join(SIMULATION_VARIANTS)}",
    )
    simulate.add_argument("--singers", nargs="*", help="only these singers (default: all)")
    simulate.add_argument("--limit", type=count(1), help="at most this many tracks")
    simulate.add_argument("--per-singer", type=count(1), help="at most this many tracks of each singer")
    simulate.add_argument("--steps", type=count(1), help="adaptation steps (default: adapt()'s)")
    simulate.add_argument("--layers", default=None, help="separator layer plan (default: adapt()'s)")
    simulate.add_argument("--out", type=Path, default=Path("simulation.csv"), help="results CSV")
    simulate.add_argument("--plot", type=Path, help="PNG path (default: the CSV's path with .png)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    add_cluster_options(simulate)


def run(args: argparse.Namespace) -> int:
    """Run ``ipysvs simulate``; returns the exit status.

    Raises:
        IpysvsError: bad ratios, variants or data folder (printed by the CLI as one line).
    """
    from ..cluster import connect
    from ..interactive.adaptation import check_plan

    require_extra()
    ratios, variants = parse_ratios(args.ratios), parse_variants(args.variants)
    layers = args.layers
    check_plan(layers=layers or "none", steps=args.steps)
    clips = read_clips(args.data.absolute(), singers=args.singers or None)
    tracks = group_songs(clips) if args.unit == "song" else clips
    tracks = first_per_singer(tracks, args.per_singer)
    tracks = tracks[: args.limit] if args.limit else tracks
    with connect(args.workers, args.scheduler) as client:
        failed = simulate_tracks(
            tracks,
            args.out,
            ratios=ratios,
            variants=variants,
            steps=args.steps,
            layers=layers,
            client=client,
            progress=not args.quiet,
            report=report_error,
        )
    names = {item.name for item in tracks}
    rows = [row for row in read_rows(args.out) if row.name in names and row.variant in variants]
    summaries = median_table([row for row in rows if row.ratio in ratios])
    print(format_condition_table(summaries))
    picture = plot(summaries, args.plot or args.out.with_suffix(".png"))
    print(f"per-{args.unit} rows: {args.out}\nplot: {picture}")
    return EXIT_SOME_FAILED if failed else EXIT_OK
