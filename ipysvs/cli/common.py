"""What every ``ipysvs`` sub-command shares: exit statuses and the one-line error report."""

from __future__ import annotations

import sys

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "report_error"]

EXIT_OK = 0
EXIT_SOME_FAILED = 1  # some inputs failed; the others were processed
EXIT_USAGE = 2  # bad arguments or input: nothing was processed
EXIT_INTERRUPTED = 130


def report_error(message: str) -> None:
    """Print ``ipysvs: error: <message>`` on stderr."""
    print(f"ipysvs: error: {message}", file=sys.stderr)
