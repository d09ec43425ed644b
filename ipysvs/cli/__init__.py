"""The ``ipysvs`` command line: ``separate``, ``evaluate``, ``train``, ``simulate`` and ``cache``.

Each sub-command is a module of this package with the same two functions: ``add_parser(commands)``
registers its arguments and ``run(args)`` runs it and returns the exit status
(:mod:`ipysvs.cli.common`). Every failure a user can cause is reported as one line
``ipysvs: error: <file>: <what is wrong>`` and a non-zero exit status; tracebacks are reserved for bugs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from ..errors import IpysvsError
from . import cache, evaluate, separate, simulate, train
from .common import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, report_error

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "build_parser", "main"]

COMMANDS = (separate, evaluate, train, simulate, cache)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``ipysvs: error: ...`` line and exit status 2,
    like every other error of the command (``--help`` still prints the usage)."""

    def error(self, message: str) -> NoReturn:
        report_error(f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ipysvs`` command and its sub-commands."""
    parser = OneLineParser(prog="ipysvs", description="Interactive deep singing-voice separation.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands).set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ipysvs`` console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already reported
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        return args.run(args)
    except IpysvsError as error:
        report_error(str(error))
        return EXIT_USAGE
    except OSError as error:  # a file or folder problem the command did not name itself
        report_error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        report_error("interrupted")
        return EXIT_INTERRUPTED
