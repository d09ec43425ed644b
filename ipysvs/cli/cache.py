"""``ipysvs cache``: what the cache folder holds, and ``--clear`` to empty its rebuildable parts."""

from __future__ import annotations

import argparse

from .common import EXIT_OK

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``ipysvs cache``."""
    parser.add_argument(
        "--clear",
        action="store_true",
        help="remove the song analyses and converted weights (rebuilt when needed); journals of "
        "unsaved edits are kept",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``ipysvs cache``; returns the exit status."""
    from ..cache import KEPT, cache_dir, clear, limit_bytes, usage

    if args.clear:
        print(f"freed {clear() / 1e6:.1f} MB in {cache_dir()} (journals of unsaved edits kept)")
    print(f"{cache_dir()}  (song analyses kept within {limit_bytes() / 1e6:.0f} MB: $IPYSVS_CACHE_LIMIT_MB)")
    for part, (files, size) in usage().items():
        note = "  edits never saved: ipysvs.unsaved_sessions() / discard_unsaved()" if part in KEPT else ""
        print(f"  {part + '/':<10} {files:>6} files {size / 1e6:>10.1f} MB{note}")
    return EXIT_OK
