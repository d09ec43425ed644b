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

__all__ = ["audio_key", "cache_dir", "write_atomically"]


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
    digest.update(np.ascontiguousarray(samples).tobytes())
    return digest.hexdigest()[:32]
