"""The ``ipysvs`` command line: ``separate``, ``evaluate``, ``train``, ``simulate`` and ``cache``.

Each sub-command is a module of this package with the same two functions: ``add_arguments(parser)``
declares its arguments and ``run(args)`` runs it and returns the exit status
(:mod:`ipysvs.cli.common`). Only the module of the command being run is imported (``ipysvs
separate`` does not load the training code, and ``ipysvs --help`` loads no command at all). Every
failure a user can cause is reported as one line ``ipysvs: error: <file>: <what is wrong>`` and a
non-zero exit status; tracebacks are reserved for bugs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import IpysvsError
from .common import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, report_error

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "build_parser", "main"]

#: sub-command -> the one line ``ipysvs --help`` shows for it (its module is ``ipysvs.cli.<command>``)
COMMANDS = {
    "separate": "separate songs into vocals and accompaniment",
    "evaluate": "evaluate separation on a folder in the MIR-1K layout",
    "train": "pretrain the pitch models on a folder in the MIR-1K layout",
    "simulate": "the simulation experiment (simulated corrections)",
    "cache": "show the cache folder's size, or clear it (song analyses, converted weights)",
}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``ipysvs: error: ...`` line and exit status 2,
    like every other error of the command (``--help`` still prints the usage)."""

    def error(self, message: str) -> NoReturn:
        report_error(f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(EXIT_USAGE)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``ipysvs`` command for the arguments ``argv`` (default:
    ``sys.argv[1:]``): every sub-command is listed, and the one that ``argv`` names (its first word
    that is not an option) gets its arguments, from its module."""
    words = sys.argv[1:] if argv is None else argv
    chosen = next((word for word in words if not word.startswith("-")), None)
    parser = OneLineParser(prog="ipysvs", description="Interactive deep singing-voice separation.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        command = commands.add_parser(name, help=summary)
        if name == chosen:
            module = importlib.import_module(f".{name}", __name__)
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ipysvs`` console script; returns the exit status."""
    try:
        args = build_parser(argv).parse_args(argv)
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
