"""Crash recovery: the edits of a Session are journaled on disk as they are made.

After every edit, undo and redo, a session opened with :func:`ipysvs.open` rewrites its journal -- a
small JSON file holding its edits and redo stack -- atomically, in ``<cache>/journal/<audio hash>/``
(:func:`ipysvs.cache.cache_dir`). If the kernel dies or restarts before :meth:`Session.save`,
``ipysvs.open(the same song, restore=True)`` replays the newest journal's edits; the adapted model
comes back by calling ``adapt()`` again (adaptation is seeded, so it learns the same).

Opening a song whose newest journal holds edits that were never saved warns with
:class:`UnsavedEditsWarning`. Each session writes its own file, so two sessions of one song never
overwrite each other's edits; the newest :data:`KEEP` journals of a song are kept.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import cache_dir, write_atomically
from .edits import Edit

JOURNAL_FORMAT = "ipysvs-journal-1"
KEEP = 10


class UnsavedEditsWarning(UserWarning):
    """A song is opened while an earlier session's edits of it were never saved."""


@dataclass(frozen=True)
class JournalEntry:
    """One journal as read back.

    Attributes:
        path: the JSON file.
        written: local time of the last write, ``YYYY-MM-DD HH:MM:SS``.
        edits, redo: the edits and the redo stack as JSON records (:meth:`Edit.to_json`).
        saved_to: the folder the session was last saved to with no edit since, else None.
    """

    path: Path
    written: str
    edits: list
    redo: list
    saved_to: str | None


def audio_key(samples: np.ndarray, sr: int) -> str:
    """A hash of the audio and its rate alone: a song's journals outlive analysis or weight updates."""
    digest = hashlib.sha256(f"{sr}:{samples.shape}:{samples.dtype.str}:".encode())
    digest.update(np.ascontiguousarray(samples).tobytes())
    return digest.hexdigest()[:32]


def journal_folder(key: str) -> Path:
    """Where the journals of the song with :func:`audio_key` ``key`` live."""
    return cache_dir() / "journal" / key


class Journal:
    """The journal file of one session, in ``folder`` (created on the first write)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
        self._warned = False

    def write(
        self, name: str, edits: Sequence[Edit], redo: Sequence[Edit], saved_to: str | None = None
    ) -> None:
        """Replace the journal with this state (atomically). A journal that cannot be written warns
        once and never makes an edit fail."""
        record = {
            "format": JOURNAL_FORMAT,
            "name": name,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
            "saved_to": saved_to,
            "edits": [e.to_json() for e in edits],
            "redo": [e.to_json() for e in redo],
        }
        if write_atomically(self.path, lambda temporary: temporary.write_text(json.dumps(record))):
            prune(self.path.parent)
        elif not self._warned:
            self._warned = True
            warnings.warn(
                f"ipysvs: cannot write the edit journal {self.path}; keep your edits with s.save(folder)",
                stacklevel=4,
            )


def newest(folder: Path) -> JournalEntry | None:
    """The most recently written readable journal in ``folder`` that holds edits or redos, or None."""
    for path in _by_age(folder):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a file being replaced or damaged: an older one may still serve
        if not isinstance(record, dict) or record.get("format") != JOURNAL_FORMAT:
            continue
        edits, redo = record.get("edits"), record.get("redo")
        if isinstance(edits, list) and isinstance(redo, list) and (edits or redo):
            saved_to = record.get("saved_to")
            return JournalEntry(path, str(record.get("written", "")), edits, redo, saved_to and str(saved_to))
    return None


def prune(folder: Path, keep: int = KEEP) -> None:
    """Delete all but the ``keep`` most recently written journals in ``folder``."""
    for path in _by_age(folder)[keep:]:
        path.unlink(missing_ok=True)


def _by_age(folder: Path) -> list[Path]:
    """The journal files of ``folder``, newest first."""
    files = []
    for path in folder.glob("*.json"):
        try:
            files.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue  # pruned by another session meanwhile
    return [path for _, path in sorted(files, reverse=True)]


__all__ = ["KEEP", "Journal", "JournalEntry", "UnsavedEditsWarning", "audio_key", "journal_folder", "newest"]
