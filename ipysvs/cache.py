"""The on-disk cache folder: converted weights and per-song analyses live here.

``$IPYSVS_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/ipysvs``, else ``~/.cache/ipysvs``. Everything in it
can be deleted at any time and is rebuilt on demand -- except ``journal/``, which holds the edits of
sessions that were never saved (:mod:`~ipysvs.interactive.journal`). Writes are atomic (temporary file +
rename) and a cache that cannot be written is silently skipped: caching never makes an operation fail.

Song analyses (about 0.4 MB per second of stereo audio: the vocals and their magnitudes) are kept
within ``$IPYSVS_CACHE_LIMIT_MB`` (default :data:`DEFAULT_LIMIT_MB`): after each new one, the least
recently used are removed. ``ipysvs cache`` shows what the cache holds and ``ipysvs cache --clear``
empties the rebuildable parts (:func:`usage`, :func:`clear`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import FileError
from .files import replace_atomically

__all__ = [
    "DEFAULT_LIMIT_MB",
    "HASH_BLOCK",
    "KEPT",
    "REBUILDABLE",
    "audio_key",
    "cache_dir",
    "clear",
    "evict",
    "limit_bytes",
    "touch",
    "usage",
    "write_atomically",
]

HASH_BLOCK = 1 << 20  # samples hashed at a time
DEFAULT_LIMIT_MB = 2000  # song analyses kept, in MB (about 80 three-minute songs)
#: the cache's parts that are rebuilt on demand: what clear() removes
REBUILDABLE = ("analysis", "weights")
#: the part that holds the user's unsaved edits: never cleared here (ipysvs.discard_unsaved drops them)
KEPT = ("journal",)


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    if os.environ.get("IPYSVS_CACHE_DIR"):
        return Path(os.environ["IPYSVS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ipysvs"


def write_atomically(path: Path, write: Callable[[Path], None]) -> bool:
    """Call ``write(temporary_path)`` and move the result to ``path``
    (:func:`~ipysvs.files.replace_atomically`); return False if that failed: caching never fails an
    operation."""
    try:
        replace_atomically(path, write)
    except FileError:
        return False
    return True


def audio_key(samples: np.ndarray, sr: int) -> str:
    """A hash of ``(channels, samples)`` audio and its rate alone: the analysis cache adds its version and
    weights to it; journals use it as it is, so they outlive analysis or weight updates."""
    digest = hashlib.sha256(f"{sr}:{samples.shape}:{samples.dtype.str}:".encode())
    flat = np.ascontiguousarray(samples).reshape(-1)
    for start in range(0, flat.size, HASH_BLOCK):  # the same digest as the whole buffer, without a copy
        digest.update(memoryview(flat[start : start + HASH_BLOCK]))
    return digest.hexdigest()[:32]


def limit_bytes() -> int:
    """The analysis cache's size limit in bytes (``$IPYSVS_CACHE_LIMIT_MB``, default
    :data:`DEFAULT_LIMIT_MB`).

    Raises:
        ParameterError: the variable is not a number of MB >= 0.
    """
    from .errors import ParameterError

    raw = os.environ.get("IPYSVS_CACHE_LIMIT_MB", "")
    try:
        megabytes = float(raw) if raw.strip() else float(DEFAULT_LIMIT_MB)
    except ValueError:
        megabytes = -1.0
    if not (np.isfinite(megabytes) and megabytes >= 0):
        raise ParameterError(f"IPYSVS_CACHE_LIMIT_MB must be a number of megabytes >= 0, got {raw!r:.40}")
    return int(megabytes * 1e6)


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []


def usage() -> dict[str, tuple[int, int]]:
    """What the cache holds: ``{part: (files, bytes)}`` for every part of :data:`REBUILDABLE` and
    :data:`KEPT` (parts that do not exist count zero)."""
    result = {}
    for part in (*REBUILDABLE, *KEPT):
        files = _files(cache_dir() / part)
        result[part] = (len(files), sum(path.stat().st_size for path in files))
    return result


def clear() -> int:
    """Remove the rebuildable parts of the cache (:data:`REBUILDABLE`), never the journals of unsaved
    edits; returns the bytes freed. Files that cannot be removed are left."""
    return sum(_remove(path) for part in REBUILDABLE for path in _files(cache_dir() / part))


def _remove(path: Path) -> int:
    """Delete a cache file; its size in bytes, or 0 when it could not be removed."""
    try:
        size = path.stat().st_size
        path.unlink()
    except OSError:
        return 0
    return size


def touch(path: Path) -> None:
    """Mark a cache entry as just used (its modification time), for :func:`evict`."""
    with contextlib.suppress(OSError):
        os.utime(path)


def evict(folder: Path, limit: int, *, keep: Path | None = None) -> int:
    """Remove the least recently used files of ``folder`` (by modification time, see :func:`touch`)
    until the folder holds at most ``limit`` bytes, never ``keep``; returns the bytes freed."""
    stats = [(path.stat(), path) for path in _files(folder)]
    total = sum(stat.st_size for stat, _ in stats)
    freed = 0
    for _, path in sorted(stats, key=lambda entry: entry[0].st_mtime_ns):
        if total - freed <= limit:
            break
        if path != keep:
            freed += _remove(path)
    return freed
