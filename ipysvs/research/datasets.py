"""Reading evaluation data stored in the MIR-1K layout.

A data folder holds ``index.csv`` (columns ``name, singer, gender, song, clip, duration_s``) and a
``clips/`` folder with, for every ``name``:

- ``clips/<name>.voice.<ext>`` -- the isolated singing voice,
- ``clips/<name>.acc.<ext>`` -- the accompaniment (the mixture is ``voice + acc``),
- ``clips/<name>.labels.csv`` -- columns ``time_s, f0_hz, vocal``: the vocal F0 in Hz (0 = unvoiced)
  and the singing-voice activity (1/0), one row per 20 ms frame.

``<ext>`` is any extension soundfile (or, failing that, librosa) can decode. The layout is mono; a file
with several channels is averaged to mono. Clips of one ``(singer, song)`` are consecutive parts of one
performance: :func:`group_songs` and :func:`load_song` join them, in clip order, into a song.

Everything is validated when the folder is opened (:func:`read_clips`): a missing ``index.csv``,
missing columns, malformed values or missing clip files raise an error naming the file, before any
audio is decoded.

Example:
    >>> clips = read_clips("../shared/data/mir1k", singers=VALIDATION_SINGERS)  # doctest: +SKIP
    >>> track = clips[0].load()                                                  # doctest: +SKIP
    >>> track.mixture.shape, track.sr                                            # doctest: +SKIP
    ((140800,), 16000)
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np

from .. import audio as audio_io
from ..errors import AudioFileError, FileError, ParameterError

__all__ = [
    "ACCOMPANIMENT_SUFFIX",
    "CLIPS_FOLDER",
    "INDEX_COLUMNS",
    "INDEX_FILE",
    "LABELS_SUFFIX",
    "LABEL_COLUMNS",
    "VALIDATION_SINGERS",
    "VOICE_SUFFIX",
    "Clip",
    "Labels",
    "Song",
    "SungTrack",
    "Track",
    "first_per_singer",
    "group_songs",
    "load_song",
    "read_clips",
    "read_labels",
    "select_singers",
]

INDEX_FILE = "index.csv"
CLIPS_FOLDER = "clips"
INDEX_COLUMNS = ("name", "singer", "gender", "song", "clip", "duration_s")
LABEL_COLUMNS = ("time_s", "f0_hz", "vocal")
VOICE_SUFFIX = ".voice"
ACCOMPANIMENT_SUFFIX = ".acc"
LABELS_SUFFIX = ".labels.csv"

#: The validation split of MIR-1K's development set: two male and two female singers.
VALIDATION_SINGERS = ("leon", "stool", "Ani", "yifen")


@dataclass(frozen=True)
class Labels:
    """Frame-wise vocal annotations.

    Attributes:
        times: ``(frames,)`` float64 frame times in seconds.
        f0_hz: ``(frames,)`` float64 vocal F0 in Hz, 0 where unvoiced.
        vocal: ``(frames,)`` bool singing-voice activity.
    """

    times: np.ndarray
    f0_hz: np.ndarray
    vocal: np.ndarray

    def since(self, start_s: float) -> Labels:
        """The labels at ``start_s`` seconds and later."""
        after = self.times >= start_s
        return Labels(self.times[after], self.f0_hz[after], self.vocal[after])

    def shifted(self, offset_s: float) -> Labels:
        """The same labels with every time moved ``offset_s`` seconds later."""
        return Labels(self.times + offset_s, self.f0_hz, self.vocal)

    @staticmethod
    def concatenate(parts: Sequence[Labels]) -> Labels:
        """Join labels that are already on one timeline (see :meth:`shifted`)."""
        return Labels(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("times", "f0_hz", "vocal")))


@dataclass(frozen=True)
class Track:
    """Decoded audio and labels of a clip or a song.

    Attributes:
        name: clip name, or ``<singer>_<song>`` for a song.
        singer: singer id.
        song: song id.
        voice: ``(samples,)`` float32 isolated voice.
        accompaniment: ``(samples,)`` float32 accompaniment.
        sr: sample rate in Hz.
        labels: frame-wise F0 and activity, times from the start of the track.
    """

    name: str
    singer: str
    song: str
    voice: np.ndarray
    accompaniment: np.ndarray
    sr: int
    labels: Labels

    @cached_property
    def mixture(self) -> np.ndarray:
        """``(samples,)`` float32 ``voice + accompaniment``."""
        return self.voice + self.accompaniment

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.voice.shape[0] / self.sr


@dataclass(frozen=True)
class Clip:
    """One row of ``index.csv`` and the paths of its files.

    Attributes:
        name: ``<singer>_<song>_<clip>``.
        singer: singer id.
        gender: as in the index (``M``/``F`` in MIR-1K).
        song: song id.
        clip: position of the clip in its song (clips are joined in increasing order).
        duration_s: duration in seconds as stated by the index.
        voice_path, accompaniment_path, labels_path: the clip's files.
    """

    name: str
    singer: str
    gender: str
    song: str
    clip: int
    duration_s: float
    voice_path: Path
    accompaniment_path: Path
    labels_path: Path

    def load_voice(self) -> tuple[np.ndarray, int]:
        """The isolated voice as ``(samples,)`` float32 and its sample rate in Hz."""
        return _read_mono(self.voice_path)

    def load_accompaniment(self) -> tuple[np.ndarray, int]:
        """The accompaniment as ``(samples,)`` float32 and its sample rate in Hz."""
        return _read_mono(self.accompaniment_path)

    def load_mixture(self) -> tuple[np.ndarray, int]:
        """``voice + accompaniment`` as ``(samples,)`` float32 and its sample rate in Hz."""
        voice, accompaniment, sr = self._load_sources()
        return voice + accompaniment, sr

    def load_labels(self) -> Labels:
        """The frame-wise F0 (Hz) and vocal activity, times in seconds from the clip's start."""
        return read_labels(self.labels_path)

    def load(self) -> Track:
        """Voice, accompaniment and labels.

        Raises:
            AudioFileError: a file is unreadable, or voice and accompaniment differ in rate or length.
            ParameterError: the labels file is malformed.
        """
        voice, accompaniment, sr = self._load_sources()
        return Track(self.name, self.singer, self.song, voice, accompaniment, sr, self.load_labels())

    def _load_sources(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Voice and accompaniment, checked to share their rate and length, and the rate in Hz."""
        voice, sr = self.load_voice()
        accompaniment, acc_sr = self.load_accompaniment()
        if (acc_sr, accompaniment.shape[0]) != (sr, voice.shape[0]):
            raise AudioFileError(
                f"{self.accompaniment_path}: {accompaniment.shape[0]} samples at {acc_sr} Hz, but the "
                f"voice {self.voice_path.name} has {voice.shape[0]} samples at {sr} Hz"
            )
        return voice, accompaniment, sr


@dataclass(frozen=True)
class Song:
    """The clips of one ``(singer, song)``, in clip order.

    Attributes:
        singer: singer id.
        gender: the singer's gender as in the index.
        song: song id.
        clips: the clips, sorted by :attr:`Clip.clip`.
    """

    singer: str
    gender: str
    song: str
    clips: tuple[Clip, ...]

    @property
    def name(self) -> str:
        """``<singer>_<song>``."""
        return f"{self.singer}_{self.song}"

    @property
    def duration_s(self) -> float:
        """Total duration in seconds as stated by the index."""
        return sum(clip.duration_s for clip in self.clips)

    def load(self) -> Track:
        """The clips' audio and labels joined into one track (see :func:`load_song`)."""
        return load_song(self.clips)


def read_clips(folder: str | Path, *, singers: Iterable[str] | None = None) -> list[Clip]:
    """Open a data folder in the MIR-1K layout and list its clips in index order.

    Args:
        folder: the folder holding ``index.csv`` and ``clips/``.
        singers: keep only these singers (default: all).

    Returns:
        The clips, each checked to have its voice, accompaniment and labels files.

    Raises:
        ParameterError: ``index.csv`` is missing or malformed, or a requested singer is not in it.
        AudioFileError: a clip's file is missing or ambiguous.
    """
    folder = Path(folder)
    index = folder / INDEX_FILE
    if not index.is_file():
        raise FileError(f"{index}: no such file; a data folder needs {INDEX_FILE} and {CLIPS_FOLDER}/")
    rows = _read_csv(index, INDEX_COLUMNS)
    if not rows:
        raise FileError(f"{index}: lists no clips")
    files = _list_files(folder / CLIPS_FOLDER)
    clips = [_clip_from_row(index, line, row, files) for line, row in rows]
    _check_unique_names(index, clips)
    return clips if singers is None else select_singers(clips, singers)


def select_singers(clips: Sequence[Clip], singers: Iterable[str]) -> list[Clip]:
    """The clips sung by ``singers``, in their original order.

    Raises:
        ParameterError: a singer has no clips.
    """
    wanted = list(singers)
    known = {clip.singer for clip in clips}
    unknown = [singer for singer in wanted if singer not in known]
    if unknown:
        raise ParameterError(f"unknown singer(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [clip for clip in clips if clip.singer in wanted]


def group_songs(clips: Iterable[Clip]) -> list[Song]:
    """Group clips by ``(singer, song)`` in order of first appearance, each song's clips in clip order."""
    groups: dict[tuple[str, str], list[Clip]] = defaultdict(list)
    for clip in clips:
        groups[clip.singer, clip.song].append(clip)
    return [
        Song(singer, members[0].gender, song, tuple(sorted(members, key=lambda c: c.clip)))
        for (singer, song), members in groups.items()
    ]


SungTrack = TypeVar("SungTrack", Clip, Song)


def first_per_singer(tracks: Sequence[SungTrack], count: int | None) -> list[SungTrack]:
    """The first ``count`` tracks of each singer, in the given order (all of them for None)."""
    if count is None:
        return list(tracks)
    seen: dict[str, int] = defaultdict(int)
    chosen = []
    for track in tracks:
        seen[track.singer] += 1
        if seen[track.singer] <= count:
            chosen.append(track)
    return chosen


def load_song(clips: Sequence[Clip]) -> Track:
    """Concatenate the clips of one song, in clip order, into one track.

    Each clip's labels are shifted by the duration (in samples / sr) of the clips before it, so label
    times stay aligned with the joined audio.

    Raises:
        ParameterError: ``clips`` is empty or mixes songs.
        AudioFileError: the clips differ in sample rate (or a file is unreadable).
    """
    if not clips:
        raise ParameterError("load_song needs at least one clip")
    songs = {(clip.singer, clip.song) for clip in clips}
    if len(songs) > 1:
        raise ParameterError(f"load_song got clips of {len(songs)} songs; group them with group_songs()")
    tracks = [clip.load() for clip in sorted(clips, key=lambda c: c.clip)]
    sr = tracks[0].sr
    for track in tracks:
        if track.sr != sr:
            raise AudioFileError(f"{track.name}: sample rate {track.sr} Hz differs from {sr} Hz of its song")
    starts = np.cumsum([0] + [track.voice.shape[0] for track in tracks[:-1]]) / sr
    first = tracks[0]
    return Track(
        name=f"{first.singer}_{first.song}",
        singer=first.singer,
        song=first.song,
        voice=np.concatenate([track.voice for track in tracks]),
        accompaniment=np.concatenate([track.accompaniment for track in tracks]),
        sr=sr,
        labels=Labels.concatenate(
            [track.labels.shifted(start) for track, start in zip(tracks, starts, strict=True)]
        ),
    )


def read_labels(path: Path) -> Labels:
    """Read a ``time_s, f0_hz, vocal`` labels file.

    Raises:
        ParameterError: missing columns, or a value that is not a finite number (F0 must be >= 0 Hz).
    """
    values = np.array([_label_row(path, line, row) for line, row in _read_csv(path, LABEL_COLUMNS)])
    values = values.reshape(-1, len(LABEL_COLUMNS))
    return Labels(values[:, 0], values[:, 1], values[:, 2] != 0)


def _label_row(path: Path, line: int, row: dict[str, str]) -> list[float]:
    try:
        values = [float(row[column]) for column in LABEL_COLUMNS]
    except (TypeError, ValueError):
        values = [np.nan]
    if not np.isfinite(values).all() or values[1] < 0:
        raise FileError(
            f"{path} line {line}: expected finite numbers {', '.join(LABEL_COLUMNS)} with F0 >= 0 Hz, "
            f"got {', '.join(repr(row.get(column)) for column in LABEL_COLUMNS)}"
        )
    return values


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    samples, sr = audio_io.read(path)
    return (samples[0] if samples.shape[0] == 1 else samples.mean(axis=0)), sr


def _read_csv(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with their line numbers, after checking that ``columns`` are present."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream, skipinitialspace=True)
            missing = [column for column in columns if column not in (reader.fieldnames or [])]
            if missing:
                raise FileError(
                    f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}"
                )
            return [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise FileError(f"{path}: cannot read ({error})") from None


def _list_files(clips_folder: Path) -> dict[str, list[Path]]:
    """The folder's files keyed by their name without the last extension (``a.voice.ogg`` -> ``a.voice``)."""
    if not clips_folder.is_dir():
        raise FileError(f"{clips_folder}: no such folder")
    files: dict[str, list[Path]] = defaultdict(list)
    for path in clips_folder.iterdir():
        files[path.name.rsplit(".", 1)[0]].append(path)
    return files


def _clip_from_row(index: Path, line: int, row: dict[str, str], files: dict[str, list[Path]]) -> Clip:
    name, singer, song = ((row[column] or "").strip() for column in ("name", "singer", "song"))
    if not (name and singer and song):
        raise FileError(f"{index} line {line}: name, singer and song must not be empty")
    try:
        clip, duration_s = int(row["clip"]), float(row["duration_s"])
    except (TypeError, ValueError):
        raise FileError(
            f"{index} line {line}: clip must be a whole number and duration_s a number of seconds, "
            f"got {row['clip']!r} and {row['duration_s']!r}"
        ) from None
    folder = index.parent / CLIPS_FOLDER
    labels = folder / f"{name}{LABELS_SUFFIX}"
    if not labels.is_file():
        raise FileError(f"{labels}: no such file (the labels of clip {name})")
    return Clip(
        name=name,
        singer=singer,
        gender=(row["gender"] or "").strip(),
        song=song,
        clip=clip,
        duration_s=duration_s,
        voice_path=_audio_file(folder, f"{name}{VOICE_SUFFIX}", files),
        accompaniment_path=_audio_file(folder, f"{name}{ACCOMPANIMENT_SUFFIX}", files),
        labels_path=labels,
    )


def _audio_file(folder: Path, stem: str, files: dict[str, list[Path]]) -> Path:
    """The single file ``<folder>/<stem>.<ext>``."""
    candidates = files.get(stem, [])
    if len(candidates) != 1:
        problem = "no such file" if not candidates else f"{len(candidates)} candidates, expected one"
        raise AudioFileError(f"{folder / stem}.<ext>: {problem}")
    return candidates[0]


def _check_unique_names(index: Path, clips: Sequence[Clip]) -> None:
    seen: set[str] = set()
    for clip in clips:
        if clip.name in seen:
            raise FileError(f"{index}: clip {clip.name} is listed twice")
        seen.add(clip.name)
