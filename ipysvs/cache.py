"""The on-disk cache folder: converted weights and per-song analyses live here.

``$IPYSVS_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/ipysvs``, else ``~/.cache/ipysvs``. Everything in it
can be deleted at any time and is rebuilt on demand -- except ``journal/``, which holds the edits of
sessions that were never saved (:mod:`~ipysvs.interactive.journal`). Writes are atomic (temporary file +
rename) and a cache that cannot be written is silently skipped: caching never makes an operation fail.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import FileError
from .files import replace_atomically

__all__ = ["HASH_BLOCK", "audio_key", "cache_dir", "write_atomically"]

HASH_BLOCK = 1 << 20  # samples hashed at a time


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
