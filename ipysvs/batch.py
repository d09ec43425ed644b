"""Separation of many audio files, as ``ipysvs separate`` runs it.

Each input becomes ``<out>/<file stem>/{vocals,accompaniment}.<ext>``, with the vocal F0 (``f0.csv``:
``time_s,f0_hz``, 0 = unvoiced) and the beats (``beats.csv``: ``time_s``) beside the stems unless
``stems_only``. Two inputs with the same file stem go to ``<stem>/`` and ``<stem>-2/`` (and so on),
which is announced. The next file is decoded in a background thread while the current one is
separated (only one file is held ahead). A file that cannot be read or written is reported on one
line and skipped; the others still run. Each song's phases (beats, separation, pitch) get a
progress bar and each written song one line saying what was written where. Given a Dask client
(:mod:`ipysvs.cluster`), the songs are separated on its workers instead, one task per song, with one
progress bar over all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import audio as audio_io
from .cluster import Failure, run_tasks
from .errors import IpysvsError
from .files import write_text_atomically
from .progress import Progress, shown

if TYPE_CHECKING:
    from distributed import Client

    from .analysis import SongAnalysis

__all__ = ["DEMO_NAME", "Reporter", "SeparationJob", "separate_files", "separate_job"]

Reporter = Callable[[str], None]
DEMO_NAME = "demo"


@dataclass(frozen=True)
class SeparationJob:
    """One song of :func:`separate_files`: where it comes from, where its files go and how.

    ``path`` is the input file (``Path("demo")`` with ``demo=True`` for the synthesised demo song); the
    files go to ``out/name/``. A job is what a Dask worker is sent: paths and options, never audio.
    """

    name: str
    path: Path
    out: Path
    file_format: str = "wav"
    bit_depth: int | None = None
    stems_only: bool = False
    demo: bool = False

    @property
    def folder(self) -> Path:
        return self.out / self.name

    def read(self) -> tuple[np.ndarray, int]:
        """The song's ``(channels, samples)`` float32 audio and its rate in Hz."""
        return _demo_mixture() if self.demo else audio_io.read(self.path)


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
    client: Client | None = None,
) -> list[str]:
    """Separate every input (and the demo song if asked) and write the stems.

    Args:
        inputs: audio files.
        out: output folder; one sub-folder per input, named after the file's stem.
        demo: also separate the synthesised demo song into ``out/demo`` (with its mixture).
        file_format: ``"wav"`` (32-bit float) or ``"flac"`` (24-bit).
        bit_depth: the stems' bits per sample instead (16 or 24; 32 = float, wav only).
        stems_only: write only the stems (no F0, no beats).
        show_progress: draw a progress bar per phase of each song (tqdm, on stderr); with a client
            one bar over all songs.
        report: called with a one-line message for each failure.
        announce: called with a one-line message for each song written (what, where) and for each
            input whose folder got a suffix because another input has the same file stem.
        client: a ``distributed.Client`` (:func:`ipysvs.cluster.connect`, or a user's own): the songs
            are separated on its workers, which must see ``inputs`` and ``out`` at the same paths
            (one machine, or a shared file system); without one, here, one after the other.

    Returns:
        The inputs that failed (empty when all succeeded).
    """
    audio_io.bit_depth_subtype(f".{file_format}", bit_depth)  # a bad depth fails before any work
    announce = announce or (lambda _message: None)
    options = {"file_format": file_format, "bit_depth": bit_depth, "stems_only": stems_only}
    jobs = [SeparationJob(name, path, out, **options) for name, path in _unique_job_names(inputs)]
    for job in jobs:
        if job.name != _folder_name(job.path):
            taken = _folder_name(job.path)
            announce(f"{job.path}: another input is also named {taken!r}; its stems go to {job.folder}/")
    if demo:
        jobs.insert(0, SeparationJob(DEMO_NAME, Path(DEMO_NAME), out, **options, demo=True))
    failures: list[str] = []

    def written(job: SeparationJob, files: list[str]) -> None:
        announce(f"{job.path}: wrote {', '.join(files)} to {job.folder}/")

    def failed(job: SeparationJob, message: str) -> None:
        report(message)
        failures.append(str(job.path))

    if client is None:
        _separate_here(jobs, show_progress=show_progress, written=written, failed=failed)
        return failures
    by_path = {str(job.path): job for job in jobs}
    run_tasks(
        separate_job,
        jobs,
        client=client,
        on_result=written,
        on_failure=lambda failure: failed(by_path[failure.name], _naming(failure)),
        name=lambda job: str(job.path),
        progress=show_progress,
        desc="separate",
        unit="song",
    )
    return failures


def separate_job(job: SeparationJob, *, progress: Progress | None = None) -> list[str]:
    """Read, separate and write one song (what a worker runs); returns the names of the files written.

    Raises:
        IpysvsError: the input cannot be read or the output cannot be written.
    """
    samples, sr = job.read()
    return _separate_decoded(job, samples, sr, progress=progress)


def _separate_here(
    jobs: Sequence[SeparationJob],
    *,
    show_progress: bool,
    written: Callable[[SeparationJob, list[str]], None],
    failed: Callable[[SeparationJob, str], None],
) -> None:
    """Separate the jobs in this process, in order, the next one decoded while this one separates
    (and the first one while the models load)."""
    from .separation import default_separator

    with ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(jobs[0].read) if jobs else None
        default_separator()
        for index, job in enumerate(jobs):
            decoded = upcoming
            upcoming = reader.submit(jobs[index + 1].read) if index + 1 < len(jobs) else None
            try:
                samples, sr = decoded.result()
                with shown(None, job.path.name, quiet=not show_progress) as tick:
                    files = _separate_decoded(job, samples, sr, progress=tick)
            except IpysvsError as error:
                failed(job, str(error))
            else:
                written(job, files)


def _separate_decoded(
    job: SeparationJob, samples: np.ndarray, sr: int, *, progress: Progress | None
) -> list[str]:
    """Separate decoded audio and write the job's files; returns their names."""
    from .analysis import analyse
    from .separation import default_separator

    separator = default_separator()
    write = partial(
        _write_stems,
        job.folder,
        samples,
        sr=sr,
        file_format=job.file_format,
        demo=job.demo,
        bit_depth=job.bit_depth,
    )
    if job.stems_only:  # written as they are separated: memory stays a few patches
        return write(separator.vocal_blocks(samples, sr, progress=progress))
    analysis = analyse(samples, sr, separator=separator, progress=progress)
    return write(audio_io.blocks(analysis.vocals)) + _write_pitch_and_beats(job.folder, analysis)


def _naming(failure: Failure) -> str:
    """A failure's reason, prefixed with its input unless the reason names it already."""
    return failure.reason if failure.name in failure.reason else f"{failure.name}: {failure.reason}"


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
