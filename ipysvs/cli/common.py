"""What every ``ipysvs`` sub-command shares: exit statuses and the one-line error report."""

from __future__ import annotations

import argparse
import math
import sys

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SOME_FAILED",
    "EXIT_USAGE",
    "add_cluster_options",
    "count",
    "fraction",
    "positive_number",
    "report_error",
]

EXIT_OK = 0
EXIT_SOME_FAILED = 1  # some inputs failed; the others were processed
EXIT_USAGE = 2  # bad arguments or input: nothing was processed
EXIT_INTERRUPTED = 130


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` / ``--scheduler ADDRESS``: run the command's tasks on Dask (:mod:`ipysvs.cluster`)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=count(1),
        help="run on a local Dask cluster of N single-threaded worker processes (needs the dask extra)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS, e.g. tcp://host:8786",
    )


def report_error(message: str) -> None:
    """Print ``ipysvs: error: <message>`` on stderr."""
    print(f"ipysvs: error: {message}", file=sys.stderr)


def count(minimum: int) -> type:
    """An argparse ``type``: a whole number of at least ``minimum`` (argparse prints the error and
    exits with status 2 otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"count >= {minimum}"
    return parse  # type: ignore[return-value]


def positive_number(text: str) -> float:
    """An argparse ``type``: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """An argparse ``type``: a number in ``[0, 1]``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return value
