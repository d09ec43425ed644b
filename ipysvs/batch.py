"""Separation of many audio files, as ``ipysvs separate`` runs it.

Each input becomes ``<out>/<file stem>/{vocals,accompaniment}.<ext>``, with the vocal F0 (``f0.csv``:
``time_s,f0_hz``, 0 = unvoiced) and the beats (``beats.csv``: ``time_s``) beside the stems unless
``stems_only``. Two inputs with the same file stem go to ``<stem>/`` and ``<stem>-2/`` (and so on),
which is announced. The next file is decoded in a background thread while the current one is
separated (only one file is held ahead). A file that cannot be read or written is reported on one
line and skipped; the others still run. Each song's phases (beats, separation, pitch) get a
progress bar and each written song one line saying what was written where.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import audio as audio_io
from .errors import IpysvsError
from .files import write_text_atomically
from .progress import shown

if TYPE_CHECKING:
    from .analysis import SongAnalysis

__all__ = ["DEMO_NAME", "Reporter", "separate_files"]

Reporter = Callable[[str], None]
DEMO_NAME = "demo"


def separate_files(
    inputs: Sequence[Path],
    out: Path,
    *,
    demo: bool = False,
    file_format: str = "wav",
    bit_depth: int | None = None,
    stems_only: bool = False,
    show_progress: bool = True,
    report: Reporter,
    announce: Reporter | None = None,
) -> list[str]:
    """Separate every input (and the demo song if asked) and write the stems.

    Args:
        inputs: audio files.
        out: output folder; one sub-folder per input, named after the file's stem.
        demo: also separate the synthesised demo song into ``out/demo`` (with its mixture).
        file_format: ``"wav"`` (32-bit float) or ``"flac"`` (24-bit).
        bit_depth: the stems' bits per sample instead (16 or 24; 32 = float, wav only).
        stems_only: write only the stems (no F0, no beats).
        show_progress: draw a progress bar per phase of each song (tqdm, on stderr).
        report: called with a one-line message for each failure.
        announce: called with a one-line message for each song written (what, where) and for each
            input whose folder got a suffix because another input has the same file stem.

    Returns:
        The inputs that failed (empty when all succeeded).
    """
    from .analysis import analyse
    from .separation import default_separator

    audio_io.bit_depth_subtype(f".{file_format}", bit_depth)  # a bad depth fails before any work
    announce = announce or (lambda _message: None)
    jobs = _unique_job_names(inputs)
    for name, path in jobs:
        if name != _folder_name(path):
            taken = _folder_name(path)
            announce(f"{path}: another input is also named {taken!r}; its stems go to {out / name}/")
    readers: list[tuple[str, Path, Callable[[], tuple[np.ndarray, int]]]] = [
        (name, path, partial(audio_io.read, path)) for name, path in jobs
    ]
    if demo:
        readers.insert(0, (DEMO_NAME, Path(DEMO_NAME), _demo_mixture))
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(readers[0][2]) if readers else None
        separator = default_separator()
        for index, (name, path, _) in enumerate(readers):
            decoded = upcoming
            upcoming = reader.submit(readers[index + 1][2]) if index + 1 < len(readers) else None
            try:
                samples, sr = decoded.result()
                write = partial(
                    _write_stems,
                    out / name,
                    samples,
                    sr=sr,
                    file_format=file_format,
                    demo=name == DEMO_NAME,
                    bit_depth=bit_depth,
                )
                with shown(None, path.name, quiet=not show_progress) as tick:
                    if stems_only:  # written as they are separated: memory stays a few patches
                        vocals = separator.vocal_blocks(samples, sr, progress=tick)
                        written = write(vocals)
                    else:
                        analysis = analyse(samples, sr, separator=separator, progress=tick)
                if not stems_only:
                    vocals = audio_io.blocks(analysis.vocals)
                    written = write(vocals)
                    written += _write_pitch_and_beats(out / name, analysis)
                announce(f"{path}: wrote {', '.join(written)} to {out / name}/")
            except IpysvsError as error:
                report(str(error))
                failures.append(str(path))
    return failures


def _unique_job_names(inputs: Sequence[Path]) -> list[tuple[str, Path]]:
    """Pair each input with its output folder name: the file stem, suffixed when two stems collide; a
    stem of dots only (``...wav``, ``..wav``) becomes ``audio``, so no folder lies outside ``out``."""
    seen: dict[str, int] = {}
    jobs = []
    for path in inputs:
        stem = _folder_name(path)
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        jobs.append((stem if count == 0 else f"{stem}-{count + 1}", path))
    return jobs


def _folder_name(path: Path) -> str:
    """The output folder of an input: its file stem (``audio`` for a stem of dots only)."""
    return path.stem if path.stem.strip(".") else "audio"


def _demo_mixture() -> tuple[np.ndarray, int]:
    from .demo import demo_song

    song = demo_song()
    return song.mixture, song.sr


def _write_stems(
    folder: Path,
    mixture: np.ndarray,
    vocal_blocks: Iterable[np.ndarray],
    sr: int,
    file_format: str,
    *,
    demo: bool,
    bit_depth: int | None = None,
) -> list[str]:
    """Write the vocals, the accompaniment (mixture minus vocals) and for the demo the mixture, from
    consecutive ``(channels, n)`` vocal blocks, each file atomically (none appears if one fails);
    returns the names of the files written."""
    stems = ["vocals", "accompaniment"] + (["mixture"] if demo else [])
    with ExitStack() as files:
        put = {
            stem: files.enter_context(
                audio_io.open_writer(
                    folder / f"{stem}.{file_format}", sr, mixture.shape[0], bit_depth=bit_depth
                )
            )
            for stem in stems
        }
        done = 0
        for vocals in vocal_blocks:
            part = mixture[:, done : done + vocals.shape[1]]
            done += vocals.shape[1]
            put["vocals"](vocals)
            put["accompaniment"](part - vocals)
            if demo:
                put["mixture"](part)
    return [f"{stem}.{file_format}" for stem in stems]


def _write_pitch_and_beats(folder: Path, analysis: SongAnalysis) -> list[str]:
    """Write ``f0.csv`` and ``beats.csv``; returns their names."""
    analysis.f0.to_csv(folder / "f0.csv")
    write_text_atomically(folder / "beats.csv", "# time_s\n" + "".join(f"{t:.6f}\n" for t in analysis.beats))
    return ["f0.csv", "beats.csv"]
