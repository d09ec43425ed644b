"""``ipysvs evaluate DATA``: score separation and vocal F0 on a folder in the MIR-1K layout.

Every clip's mixture (``voice + acc``) is analysed by :func:`ipysvs.analysis.analyse`: the pretrained
separator (44.1 kHz dual mono inside, vocals resampled back to the clip's rate) and the saliency network's
vocal F0. It is scored with BSS Eval and with mir_eval's melody metrics against the clip's F0 labels. The
unprocessed mixture is always scored as the baseline (system ``mixture``); with ``--oracle`` the ideal ratio
mask (:func:`~ipysvs.research.evaluation.ideal_ratio_mask`, computed at 44.1 kHz with the model's STFT) is
scored too. The summary table goes to stdout, one CSV row per clip and system to ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..analysis import analyse
from ..f0 import Trajectory
from ..research import require_extra
from ..research.datasets import Track, read_clips
from ..research.evaluation import (
    System,
    evaluate_clips,
    format_system_table,
    oracle_system,
    summarise,
    write_csv,
)
from .common import EXIT_OK, EXIT_SOME_FAILED, add_cluster_options, count, report_error

__all__ = ["add_arguments", "analysed_system", "run"]


def analysed_system(track: Track) -> tuple[np.ndarray, np.ndarray, Trajectory]:
    """Separation and vocal F0 of a mono track, as scored by ``ipysvs evaluate``."""
    analysis = analyse(track.mixture[np.newaxis], track.sr, beats=False)
    vocals = analysis.vocals[0]
    return vocals, track.mixture - vocals, analysis.f0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``ipysvs evaluate``."""
    parser.add_argument("data", type=Path, help="folder with index.csv and clips/")
    parser.add_argument("--out", type=Path, default=Path("evaluation.csv"), help="per-clip CSV")
    parser.add_argument("--singers", nargs="*", help="only these singers (default: all)")
    parser.add_argument("--limit", type=count(1), help="at most this many clips")
    parser.add_argument("--oracle", action="store_true", help="also score the ideal ratio mask")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_cluster_options(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``ipysvs evaluate``.

    Args:
        args: ``data`` (folder), ``out`` (CSV path), ``singers`` (names or None for all), ``limit``
            (at most this many clips, or None), ``oracle`` and ``quiet`` flags, ``workers`` / ``scheduler``
            (a Dask cluster, :mod:`ipysvs.cluster`, or None for both: here, one clip after the other).

    Returns:
        0 when every clip was scored, 1 when some (or all) were skipped, 2 on bad arguments.

    Raises:
        IpysvsError: the data folder is missing or malformed (the CLI prints it as one line).
    """
    from ..cluster import connect

    require_extra()
    clips = read_clips(args.data.absolute(), singers=args.singers or None)[: args.limit]
    systems: dict[str, System] = {"ipysvs": analysed_system}
    if args.oracle:
        systems["oracle"] = oracle_system
    with connect(args.workers, args.scheduler) as client:
        if client is None:
            items = clips if args.quiet else tqdm(clips, desc="evaluate", unit="clip")
            results = evaluate_clips(items, systems)
        else:
            results = evaluate_clips(clips, systems, client=client, progress=not args.quiet)
    write_csv(results, args.out)
    print(format_system_table(summarise(results)))
    print(f"per-clip scores: {args.out}")
    skipped = sorted({result.name for result in results if result.skipped})
    if skipped:
        report_error(
            f"{len(skipped)} of {len(clips)} clips could not be scored: see column 'skipped' of {args.out}"
        )
        return EXIT_SOME_FAILED
    return EXIT_OK
