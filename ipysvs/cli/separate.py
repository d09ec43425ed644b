"""``ipysvs separate INPUT... --out DIR``: stems, F0 and beats of audio files (:mod:`ipysvs.batch`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, add_cluster_options, report_error

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``ipysvs separate``."""
    parser.add_argument("inputs", nargs="*", type=Path, metavar="INPUT", help="audio files")
    parser.add_argument("--out", type=Path, default=Path("separated"), help="output folder")
    parser.add_argument(
        "--demo", action="store_true", help="also separate the built-in synthesised demo song"
    )
    parser.add_argument("--format", choices=("wav", "flac"), default="wav", help="stem file format")
    parser.add_argument(
        "--bit-depth",
        type=int,
        choices=(16, 24, 32),
        help="bits per stem sample: 16 or 24 (integer), 32 (float, wav only); default: 32 wav, 24 flac",
    )
    parser.add_argument(
        "--stems-only", action="store_true", help="write only the stems (skip f0.csv and beats.csv)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars and no summary (errors are still reported)"
    )
    add_cluster_options(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``ipysvs separate``; returns the exit status (1 when some inputs failed)."""
    from ..batch import separate_files
    from ..cluster import connect

    if not args.inputs and not args.demo:
        report_error("give at least one INPUT audio file (or --demo)")
        return EXIT_USAGE
    with connect(args.workers, args.scheduler) as client:
        failures = separate_files(
            [path.absolute() for path in args.inputs] if client else args.inputs,
            args.out.absolute() if client else args.out,
            demo=args.demo,
            file_format=args.format,
            bit_depth=args.bit_depth,
            stems_only=args.stems_only,
            show_progress=not args.quiet,
            report=report_error,
            announce=None if args.quiet else print,
            client=client,
        )
    return EXIT_SOME_FAILED if failures else EXIT_OK
