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

from tqdm import tqdm

from ..errors import FileError, IpysvsError
from ..research import require_extra
from ..research.datasets import first_per_singer, group_songs, read_clips
from ..research.experiments import (
    RATIOS,
    SIMULATION_VARIANTS,
    append_rows,
    format_condition_table,
    median_table,
    parse_ratios,
    parse_variants,
    plot,
    read_rows,
    simulate_track,
)
from .common import EXIT_OK, EXIT_SOME_FAILED, count, report_error

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``ipysvs simulate``."""
    simulate = commands.add_parser("simulate", help="the simulation experiment (simulated corrections)")
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
    return simulate


def run(args: argparse.Namespace) -> int:
    """Run ``ipysvs simulate``; returns the exit status.

    Raises:
        IpysvsError: bad ratios, variants or data folder (printed by the CLI as one line).
    """
    from ..interactive.adaptation import check_plan

    require_extra()
    ratios, variants = parse_ratios(args.ratios), parse_variants(args.variants)
    layers = args.layers
    check_plan(layers=layers or "none", steps=args.steps)
    clips = read_clips(args.data, singers=args.singers or None)
    tracks = group_songs(clips) if args.unit == "song" else clips
    tracks = first_per_singer(tracks, args.per_singer)
    tracks = tracks[: args.limit] if args.limit else tracks
    done = {(row.name, row.variant, row.ratio) for row in read_rows(args.out)}
    append_rows(args.out, [])  # an unwritable --out is reported now, not after the first song
    items = tracks if args.quiet else tqdm(tracks, desc="simulate", unit=args.unit)
    failed = []
    for item in items:
        if all((item.name, v, r) in done for v in variants for r in ratios):
            continue
        rows = simulate_track(
            item.load(),
            ratios=ratios,
            variants=variants,
            steps=args.steps,
            layers=layers,
            skip=lambda variant, ratio, name=item.name: (name, variant, ratio) in done,
        )
        try:
            append_rows(args.out, rows)
        except FileError:
            raise  # --out became unwritable: the run cannot go on
        except IpysvsError as error:  # e.g. a silent voice: BSS Eval is undefined; the others go on
            report_error(f"{item.name}: skipped ({error})")
            failed.append(item.name)
    names = {item.name for item in tracks}
    rows = [row for row in read_rows(args.out) if row.name in names and row.variant in variants]
    summaries = median_table([row for row in rows if row.ratio in ratios])
    print(format_condition_table(summaries))
    picture = plot(summaries, args.plot or args.out.with_suffix(".png"))
    print(f"per-{args.unit} rows: {args.out}\nplot: {picture}")
    return EXIT_SOME_FAILED if failed else EXIT_OK
