"""The notebook app of a Session (``s.show()``, or a Session as the last expression of a cell): the F0
editor, the Bokeh views, audio players and a status line, all kept up to date through
``Session.observe``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets
import numpy as np

from .. import audio as audio_io
from .editor import F0Editor
from .fallback import with_fallback
from .views import SeparationViews

if TYPE_CHECKING:
    from ..interactive.session import Session

__all__ = ["PREVIEW_AFTER_S", "PREVIEW_RATE", "App", "build_app", "players_html", "status_line"]

PREVIEW_AFTER_S = 60.0  # longer songs get preview-quality players (mono, PREVIEW_RATE) to stay light
PREVIEW_RATE = 16000


class App(ipywidgets.VBox):
    """The composed app; ``editor`` and ``views`` are its parts, ``session`` the Session it shows."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.editor = F0Editor(session)
        self.views = SeparationViews(session)
        self.players = ipywidgets.HTML()
        self.status = ipywidgets.HTML()
        title = ipywidgets.HTML(f"<h3 style='margin:4px 0'>ipysvs — {html.escape(session.name)}</h3>")
        super().__init__([title, self.editor, self.views.widget, self.players, self.status])
        self.add_class("ipysvs-app")
        self._refresh("open")
        self._unsubscribe = session.observe(self._refresh)
        self.editor.observe(self._follow_zoom, names="time_range")

    def __repr__(self) -> str:
        return f"<ipysvs app of {self.session!r}>"

    def _repr_mimebundle_(self, **kwargs: object) -> dict | tuple:
        return with_fallback(super()._repr_mimebundle_(**kwargs), "app")

    def close(self) -> None:
        """Stop following the Session and close every part (once: later calls do nothing)."""
        if self.comm is None:
            return
        self._unsubscribe()
        self.views.unsubscribe()
        self.editor.close()
        super().close()  # the Bokeh model closes itself when collected (its close() may run once only)

    def _follow_zoom(self, change: dict) -> None:
        """The Bokeh views show the time range the editor shows."""
        if len(change["new"]) == 2:
            self.views.show_time_range(*change["new"])

    def _refresh(self, kind: str) -> None:
        if kind in ("open", "adapt"):
            self.players.value = players_html(self.session)
        self.status.value = f"<div data-testid='app-status'>{html.escape(status_line(self.session))}</div>"


def build_app(session: Session) -> App:
    """``Session.show()``: the editor, views, players and status line of ``session``."""
    return App(session)


def status_line(session: Session) -> str:
    """One line on the state of the session: edits, corrected frames, adaptations."""
    corrected = int(session.corrected.sum())
    share = corrected / max(session.frame_times.size, 1)
    line = (
        f"{session.name}: {session.duration_s:.1f} s, {len(session.edits)} edits, "
        f"{corrected} corrected frames ({share:.0%})"
    )
    if session.reports:
        last = session.reports[-1]
        line += (
            f"; adapted {len(session.reports)}x, last in {last.seconds:.1f} s, "
            f"{last.changed_frames} uncorrected frames re-estimated"
        )
    return line


def players_html(session: Session) -> str:
    """HTML audio players: mixture, vocals, accompaniment, and vocals before/after the last adaptation."""
    rows = [(which.capitalize(), session.stem(which)) for which in ("mixture", "vocals", "accompaniment")]
    if session.reports:
        rows += [
            ("Vocals before the last Update DNN", session.stem("vocals", before=True)),
            ("Vocals after it", session.stem("vocals")),
        ]
    note = ""
    if session.duration_s > PREVIEW_AFTER_S:
        note = (
            f"<div>Preview quality (mono, {PREVIEW_RATE} Hz); "
            "<code>s.audio('vocals')</code> plays the full quality.</div>"
        )
    cells = "".join(
        f"<div style='display:inline-block;margin:2px 8px'><div>{label}</div>"
        f"{_player(samples, session.sr)}</div>"
        for label, samples in rows
    )
    return f"<div data-testid='players'>{cells}{note}</div>"


def _player(samples: np.ndarray, sr: int) -> str:
    from IPython.display import Audio

    if samples.shape[1] / sr > PREVIEW_AFTER_S:
        samples = audio_io.resample(samples.mean(axis=0, keepdims=True), sr, PREVIEW_RATE)
        sr = PREVIEW_RATE
    return Audio(samples, rate=sr, normalize=False)._repr_html_()
