"""Giving freed memory back to the operating system between the phases of a long analysis.

madmom's beat tracker and the separation allocate and free hundreds of MB of mid-sized arrays. glibc's
allocator keeps such freed memory in the process heap, where it still counts as resident memory and is
reused only by later allocations that fit it: the next phase's outputs then come on top of it. Trimming
the heap between phases keeps the peak to what is really alive.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["return_freed_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def return_freed_memory() -> None:
    """Return the heap's freed memory to the operating system (a no-op without glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
