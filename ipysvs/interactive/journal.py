"""Crash recovery: the edits of a Session are journaled on disk as they are made.

A session opened with :func:`ipysvs.open` (or :func:`ipysvs.load`) appends one JSON line to its journal
for every edit, undo, redo and save, in ``<cache>/journal/<audio hash>/`` (:func:`ipysvs.cache.cache_dir`):
appending keeps each write small however long the history grows. If the kernel dies or restarts
before :meth:`Session.save`, ``ipysvs.open(the same song, restore=True)`` replays the newest journal
holding unsaved edits; the adapted model comes back by calling ``adapt()`` again (adaptation is
seeded, so it learns the same).

Opening a song whose newest journal holds edits made after its last save warns with
:class:`UnsavedEditsWarning`. Each session writes its own file, so two sessions of one song never
overwrite each other's edits; the newest :data:`KEEP` journals of a song are kept, and every one
holding unsaved edits until it is restored or discarded (:func:`unsaved_journals`, :func:`discard`).

Lines: a header ``{"format", "name"}``, then ``{"op": "edit", "edit": {...}}``,
``{"op": "undo"}``, ``{"op": "redo"}``, ``{"op": "saved", "to": folder}`` or ``{"op": "state",
"edits": [...], "redo": [...]}`` (a whole history: what a restored or loaded session starts from).
"""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import cache_dir
from ..errors import ParameterError
from .edits import Edit

JOURNAL_FORMAT = "ipysvs-journal-2"
KEEP = 10
OPERATION_FIELDS = {"edit": ("edit",), "undo": (), "redo": (), "saved": ("to",), "state": ("edits", "redo")}


class UnsavedEditsWarning(UserWarning):
    """A song is opened while an earlier session's edits of it were never saved."""


@dataclass
class JournalEntry:
    """A journal replayed.

    Attributes:
        path: the file; ``name`` the song's name in the session that wrote it.
        written: local time of its last line, ``YYYY-MM-DD HH:MM:SS``.
        edits, redo: the edits and the redo stack as JSON records (:meth:`Edit.to_json`).
        saved_to: the folder of the last save when nothing changed after it, else None.
        damaged_at: the first line that could not be replayed (what came before it is kept; the
            lines after it are not replayed, since they may build on the lost one), else None.
    """

    path: Path
    name: str = ""
    written: str = ""
    edits: list = field(default_factory=list)
    redo: list = field(default_factory=list)
    saved_to: str | None = None
    damaged_at: int | None = None

    @property
    def unsaved(self) -> bool:
        """It holds edits (or undone ones) made after the last save."""
        return bool(self.edits or self.redo) and self.saved_to is None

    def apply(self, record: object) -> None:
        """Replay one journal line.

        Raises:
            ValueError: the line is not a journal operation, or undoes what is not there.
        """
        op = record.get("op") if isinstance(record, dict) else None
        if op is not None and not set(OPERATION_FIELDS.get(op, ())) <= set(record):
            raise ValueError(f"journal operation {op!r} lacks {OPERATION_FIELDS.get(op)}")
        if op == "edit" and isinstance(record["edit"], dict):
            self.edits.append(record["edit"])
            self.redo.clear()
        elif op == "undo" and self.edits:
            self.redo.append(self.edits.pop())
        elif op == "redo" and self.redo:
            self.edits.append(self.redo.pop())
        elif op == "state" and isinstance(record["edits"], list) and isinstance(record["redo"], list):
            self.edits, self.redo = list(record["edits"]), list(record["redo"])
        elif op == "saved":
            self.saved_to = str(record["to"])
            return
        else:
            raise ValueError(f"not a journal operation: {str(record)[:80]}")
        self.saved_to = None


def journal_folder(key: str) -> Path:
    """Where the journals of the song with :func:`~ipysvs.cache.audio_key` ``key`` live."""
    return cache_dir() / "journal" / key


class Journal:
    """The journal file of one session, in ``folder``.

    The file is created with the first change or save, so a session that changes nothing leaves no
    journal (and cannot hide an older, unsaved one). It starts from ``edits`` and ``redo`` (a restored
    or loaded session's history) and, for a loaded session, the folder it was ``saved_to``.
    """

    def __init__(
        self,
        folder: Path,
        name: str,
        edits: Sequence[Edit] = (),
        redo: Sequence[Edit] = (),
        saved_to: Path | None = None,
    ) -> None:
        self.path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.jsonl"
        self._opening: list[dict] = [{"format": JOURNAL_FORMAT, "name": name}]
        if edits or redo:
            self._opening.append(
                {"op": "state", "edits": [e.to_json() for e in edits], "redo": [e.to_json() for e in redo]}
            )
        if saved_to is not None:
            self._opening.append({"op": "saved", "to": str(saved_to)})
        self._failed = False

    def edit(self, edit: Edit) -> None:
        """Record a new edit (it clears the redo stack)."""
        self._append({"op": "edit", "edit": edit.to_json()})

    def undo(self) -> None:
        """Record an undo."""
        self._append({"op": "undo"})

    def redo(self) -> None:
        """Record a redo."""
        self._append({"op": "redo"})

    def saved(self, folder: Path) -> None:
        """Record that the session was saved to ``folder``."""
        self._append({"op": "saved", "to": str(folder)})

    def _append(self, record: dict) -> None:
        """Append a line (after the opening lines, the first time); a journal that cannot be written
        warns once and never makes an edit fail."""
        if self._failed:
            return
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        lines = [{**line, "at": now} if "op" in line else line for line in [*self._opening, record]]
        try:
            if self._opening:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write("".join(json.dumps(line) + "\n" for line in lines))
        except OSError as error:
            self._failed = True
            warnings.warn(
                f"ipysvs: cannot write the edit journal {self.path} ({error}); "
                "keep your edits with s.save(folder)",
                stacklevel=5,
            )
            return
        if self._opening:
            self._opening = []
            prune(self.path.parent)


def read(path: Path) -> JournalEntry:
    """Replay a journal file. A torn last line (a write cut short) is ignored; at a damaged line in
    the middle the replay stops, keeping every line before it (:attr:`JournalEntry.damaged_at`).

    Raises:
        OSError: unreadable. ValueError: not a journal (its header line is not one).
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0]) if lines else None
    if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
        raise ValueError(f"{path}: not an ipysvs journal")
    entry = JournalEntry(path, name=str(header.get("name", "")))
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except ValueError:
            if number < len(lines):  # not merely the last write cut short
                entry.damaged_at = number
            break
        try:
            entry.apply(record)
        except (ValueError, TypeError, KeyError):
            entry.damaged_at = number
            break
        entry.written = str(record.get("at", ""))
    return entry


def to_restore(folder: Path) -> JournalEntry | None:
    """What ``restore=True`` brings back: the newest journal in ``folder`` holding unsaved edits (a
    later session that saved, or changed nothing, does not hide a crashed one), else the newest."""
    entries = []
    for path in _by_age(folder):
        try:
            entries.append(read(path))
        except (OSError, ValueError):
            continue
    return next((entry for entry in entries if entry.unsaved), entries[0] if entries else None)


def prune(folder: Path, keep: int = KEEP) -> None:
    """Delete the journals of ``folder`` beyond the ``keep`` most recently written -- but never one
    that holds unsaved edits, or that cannot be read (it may still hold some): those stay until the
    user restores or discards them (:func:`discard`)."""
    for path in _by_age(folder)[keep:]:
        try:
            if read(path).unsaved:
                continue
        except (OSError, ValueError):
            continue
        path.unlink(missing_ok=True)


def unsaved_journals() -> list[JournalEntry]:
    """Every journal in the cache holding edits that were never saved, of any song, newest first
    (``ipysvs.unsaved_sessions()``). Restore one with ``ipysvs.open(its song, restore=entry)``, or
    drop it with :func:`discard`."""
    entries = []
    for path in _by_age(*_song_folders(cache_dir() / "journal")):
        try:
            entry = read(path)
        except (OSError, ValueError):
            continue
        if entry.unsaved:
            entries.append(entry)
    return entries


def discard(entry: JournalEntry | str | Path) -> None:
    """Delete a journal (``ipysvs.discard_unsaved``): its unsaved edits are gone for good.

    Raises:
        ParameterError: ``entry`` is not a journal in the cache's journal folder.
    """
    path = Path(entry.path if isinstance(entry, JournalEntry) else entry)
    root = (cache_dir() / "journal").resolve()
    if path.suffix != ".jsonl" or root not in path.resolve().parents:
        raise ParameterError(f"{path}: not a journal of {root}; see ipysvs.unsaved_sessions()")
    path.unlink(missing_ok=True)


def _by_age(*folders: Path) -> list[Path]:
    """The journal files of ``folders``, newest first."""
    files = []
    for path in (path for folder in folders for path in folder.glob("*.jsonl")):
        try:
            files.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue  # pruned by another session meanwhile
    return [path for _, path in sorted(files, reverse=True)]


def _song_folders(root: Path) -> list[Path]:
    """The per-song journal folders under ``root`` (none if it cannot be read)."""
    try:
        return [folder for folder in root.iterdir() if folder.is_dir()]
    except OSError:
        return []


__all__ = [
    "KEEP",
    "Journal",
    "JournalEntry",
    "UnsavedEditsWarning",
    "discard",
    "journal_folder",
    "prune",
    "read",
    "to_restore",
    "unsaved_journals",
]
