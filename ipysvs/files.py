"""Writing files so that a failure never leaves a half-written or mixed result behind.

Every file ipysvs writes for a user (stems, F0 and beat tables, edits, saved sessions, CSVs) is written
to a temporary sibling first and renamed over its target only when complete: on one file system the
rename is atomic, so the target is either the old file or the whole new one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import FileError

__all__ = ["atomic_target", "replace_atomically", "replace_folder_atomically", "write_text_atomically"]


@contextmanager
def atomic_target(path: str | Path, *, error: type[FileError] = FileError) -> Iterator[Path]:
    """Yield a temporary file beside ``path`` to write; when the block ends without an exception it is
    renamed to ``path``, otherwise removed.

    Raises:
        FileError (or the given subclass ``error``): the folder or file cannot be written (an
            ``OSError`` or ``RuntimeError`` inside the block); ``path`` is as it was and no temporary
            file is left. Other exceptions pass through, with the same clean-up.
    """
    path = Path(path)
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the target's own suffix last: some writers add theirs otherwise (np.savez appends .npz)
        handle, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=f".partial{path.suffix}"
        )
        os.close(handle)
        temporary = Path(name)
        yield temporary
        os.replace(temporary, path)
    except (OSError, RuntimeError) as failure:
        raise error(f"{path}: cannot write ({failure})") from None
    finally:
        if temporary is not None and temporary.exists():
            temporary.unlink()


def replace_atomically(
    path: str | Path, write: Callable[[Path], None], *, error: type[FileError] = FileError
) -> Path:
    """Call ``write(temporary)`` on a temporary file beside ``path``, then rename it to ``path``
    (:func:`atomic_target`).

    Raises:
        FileError (or the given subclass ``error``): the folder or file cannot be written; ``path``
            is as it was and no temporary file is left.
    """
    with atomic_target(path, error=error) as temporary:
        write(temporary)
    return Path(path)


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`replace_atomically`)."""
    return replace_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def replace_folder_atomically(folder: str | Path, fill: Callable[[Path], None]) -> Path:
    """Call ``fill(temporary_folder)`` on a new folder beside ``folder``, then put it in ``folder``'s
    place: the old folder (if any) is renamed aside, the new one renamed in, the old one removed. A
    failure before the swap leaves ``folder`` exactly as it was.

    Raises:
        FileError: the folder cannot be written (nothing changed).
    """
    folder = Path(folder)
    tag = uuid.uuid4().hex[:8]
    staging = folder.with_name(f".{folder.name}.{tag}.partial")
    retired = folder.with_name(f".{folder.name}.{tag}.old")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        fill(staging)
        if folder.exists():
            os.replace(folder, retired)
        os.replace(staging, folder)
    except (OSError, RuntimeError) as failure:
        if retired.exists() and not folder.exists():
            os.replace(retired, folder)  # put the old one back
        raise FileError(f"{folder}: cannot write ({failure})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(retired, ignore_errors=True)
    return folder
