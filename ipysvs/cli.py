"""The ``ipysvs`` command line: ``separate``, ``evaluate``, ``train`` and ``simulate``.

Every failure a user can cause is reported as one line ``ipysvs: error: <file>: <what is wrong>`` and a
non-zero exit status; tracebacks are reserved for bugs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import IpysvsError

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ipysvs`` command and its sub-commands."""
    parser = argparse.ArgumentParser(prog="ipysvs", description="Interactive deep singing-voice separation.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    separate = commands.add_parser("separate", help="separate songs into vocals and accompaniment")
    separate.add_argument("inputs", nargs="*", type=Path, metavar="INPUT", help="audio files")
    separate.add_argument("--out", type=Path, default=Path("separated"), help="output folder")
    separate.add_argument(
        "--demo", action="store_true", help="also separate the built-in synthesised demo song"
    )
    separate.add_argument("--format", choices=("wav", "flac"), default="wav", help="stem file format")
    separate.add_argument(
        "--stems-only", action="store_true", help="write only the stems (skip f0.csv and beats.csv)"
    )
    separate.add_argument("--quiet", action="store_true", help="no progress bar")
    separate.set_defaults(run=_run_separate)

    evaluate = commands.add_parser("evaluate", help="evaluate separation on a folder in the MIR-1K layout")
    evaluate.add_argument("data", type=Path, help="folder with index.csv and clips/")
    evaluate.add_argument("--out", type=Path, default=Path("evaluation.csv"), help="per-clip CSV")
    evaluate.add_argument("--singers", nargs="*", help="only these singers (default: all)")
    evaluate.add_argument("--limit", type=int, help="at most this many clips")
    evaluate.add_argument("--oracle", action="store_true", help="also score the ideal ratio mask")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(run=_run_evaluate)

    from .commands.train import add_train_parser

    add_train_parser(commands)
    from .commands.simulate import add_simulate_parser

    add_simulate_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ipysvs`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except IpysvsError as error:
        _error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _error(message: str) -> None:
    print(f"ipysvs: error: {message}", file=sys.stderr)


def _run_separate(args: argparse.Namespace) -> int:
    from .commands.separate import separate_files

    if not args.inputs and not args.demo:
        _error("give at least one INPUT audio file (or --demo)")
        return EXIT_USAGE
    failures = separate_files(
        args.inputs,
        args.out,
        demo=args.demo,
        file_format=args.format,
        stems_only=args.stems_only,
        show_progress=not args.quiet,
        report=_error,
    )
    return EXIT_SOME_FAILED if failures else EXIT_OK


def _run_evaluate(args: argparse.Namespace) -> int:
    from .commands.evaluate import evaluate_command

    return evaluate_command(args, report=_error)


if __name__ == "__main__":
    sys.exit(main())
