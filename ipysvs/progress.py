"""The one progress-callback protocol of ipysvs: ``progress(phase, done, total)``, and bars that show it.

Every long operation takes ``progress=`` and calls it as work finishes: opening a song with phases
``"beats"``, ``"separate"`` (patches) and ``"pitch"``; ``Session.adapt`` with ``"train"`` (steps),
``"estimate"`` and ``"separate"``; training with its stage name (steps, plus the step's ``loss=``
as a detail). Without a callback, :func:`ipysvs.open` and ``Session.adapt`` draw
:class:`ProgressBars` unless told ``quiet=True``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["UNITS", "Progress", "ProgressBars", "shown"]

#: what a phase counts, for the bars
UNITS = {"separate": "patch", "train": "step", "estimate": "patch"}


class Progress(Protocol):
    """``progress(phase, done, total)``: ``done`` of the ``total`` units of ``phase`` are finished
    (``0 <= done <= total``; a phase may announce its start with ``done = 0``); some phases add
    details as keyword arguments (training: ``loss``)."""

    def __call__(self, phase: str, done: int, total: int, /, **details: float) -> None: ...


class ProgressBars:
    """A :class:`Progress` drawing one tqdm bar per phase, labelled ``"<label>: <phase>"``:
    ``tqdm.auto``'s widget in a notebook, text on stderr in a terminal. Each bar goes when its phase
    ends; use it as a context manager so that the last one goes even after an error."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._phase: str | None = None
        self._bar = None

    def __call__(self, phase: str, done: int, total: int, /, **details: float) -> None:
        if self._bar is None or phase != self._phase:
            from tqdm.auto import tqdm

            self.close()
            self._phase = phase
            unit = UNITS.get(phase, "step")
            self._bar = tqdm(total=total, desc=f"{self.label}: {phase}", unit=unit, leave=False)
        bar = self._bar
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if details:
            bar.set_postfix(details, refresh=False)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Remove the current bar (if any)."""
        if self._bar is not None:
            self._bar.close()
        self._bar, self._phase = None, None

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()


@contextmanager
def shown(progress: Progress | None, label: str, *, quiet: bool = False) -> Iterator[Progress | None]:
    """The callback an operation reports to: the caller's ``progress`` if given, else
    :class:`ProgressBars` labelled ``label`` (closed on the way out), or none when ``quiet``."""
    if progress is not None or quiet:
        yield progress
        return
    with ProgressBars(label) as bars:
        yield bars
