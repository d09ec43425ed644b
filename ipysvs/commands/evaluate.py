"""``ipysvs evaluate DATA``: score the pretrained separator on a folder in the MIR-1K layout.

Every clip's mixture (``voice + acc``) is separated by :func:`ipysvs.separation.default_separator`,
which resamples it to 44.1 kHz, separates it as dual mono and resamples the vocals back to the clip's
rate. The unprocessed mixture is always scored as the baseline (system ``mixture``); with ``--oracle``
the ideal ratio mask (:func:`ipysvs.evaluation.ideal_ratio_mask`, computed at 44.1 kHz with the
model's STFT) is scored too. The summary table goes to stdout, one CSV row per clip and system to
``--out``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from tqdm import tqdm

from ..cli import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from ..datasets import read_clips
from ..evaluation import (
    System,
    blind_system,
    evaluate_clips,
    format_table,
    oracle_system,
    summarise,
    write_csv,
)
from ..separation import default_separator


def evaluate_command(args: argparse.Namespace, report: Callable[[str], None]) -> int:
    """Run ``ipysvs evaluate``.

    Args:
        args: ``data`` (folder), ``out`` (CSV path), ``singers`` (names or None for all), ``limit``
            (at most this many clips, or None), ``oracle`` and ``quiet`` flags.
        report: prints a one-line error.

    Returns:
        0 when every clip was scored, 1 when some (or all) were skipped, 2 on bad arguments.

    Raises:
        IpysvsError: the data folder is missing or malformed (the CLI prints it as one line).
    """
    if args.limit is not None and args.limit < 1:
        report(f"--limit must be at least 1, got {args.limit}")
        return EXIT_USAGE
    clips = read_clips(args.data, singers=args.singers or None)[: args.limit]
    systems: dict[str, System] = {"ipysvs": blind_system(default_separator().separate)}
    if args.oracle:
        systems["oracle"] = oracle_system
    items = clips if args.quiet else tqdm(clips, desc="evaluate", unit="clip")
    results = evaluate_clips(items, systems)
    write_csv(results, args.out)
    print(format_table(summarise(results)))
    print(f"per-clip scores: {args.out}")
    skipped = sorted({result.name for result in results if result.skipped})
    if skipped:
        report(
            f"{len(skipped)} of {len(clips)} clips could not be scored: see column 'skipped' of {args.out}"
        )
        return EXIT_SOME_FAILED
    return EXIT_OK
