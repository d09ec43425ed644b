"""The one progress-callback protocol of ipysvs: ``progress(phase, done, total)``.

Every long operation takes ``progress=`` and calls it as work finishes: separation with phase
``"separate"`` in patches, ``Session.adapt`` with ``"train"`` (steps), ``"estimate"`` and
``"separate"``, training with its stage name (steps, plus the step's ``loss=`` as a detail).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress"]


class Progress(Protocol):
    """``progress(phase, done, total)``: ``done`` of the ``total`` units of ``phase`` are finished
    (``0 < done <= total``); some phases add details as keyword arguments (training: ``loss``)."""

    def __call__(self, phase: str, done: int, total: int, /, **details: float) -> None: ...
