"""The notebook app of a Session (``s.show()``, or a Session as the last expression of a cell): the F0
editor, the Bokeh views, audio players and a status line, all kept up to date through
``Session.observe``.

The players play the stems at the song's own sample rate and channels, as Ogg Vorbis
(:mod:`ipysvs.listening`); they are encoded in a background thread (about a second per stem of a
3-minute song), so opening and adapting never wait for them.
"""

from __future__ import annotations

import html
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import ipywidgets

from ..listening import Player
from .editor import F0Editor
from .fallback import with_fallback
from .views import SeparationViews

if TYPE_CHECKING:
    from ..interactive.session import Session

__all__ = ["PENDING_PLAYERS", "App", "build_app", "players_html", "status_line"]

PENDING_PLAYERS = "<div data-testid='players-pending'>Preparing the players…</div>"


class App(ipywidgets.VBox):
    """The composed app; ``editor`` and ``views`` are its parts, ``session`` the Session it shows."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.editor = F0Editor(session)
        self.views = SeparationViews(session)
        self.players = ipywidgets.HTML()
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ipysvs-players")
        self._players_job: Future | None = None
        self._players_lock = threading.Lock()
        self._generation: object | None = None
        self._players_cache: dict[str, tuple[object, str]] = {}  # stem -> (its samples, player HTML)
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
        self._encoder.shutdown(wait=False, cancel_futures=True)
        self.views.unsubscribe()
        self.editor.close()
        super().close()  # the Bokeh model closes itself when collected (its close() may run once only)

    def _follow_zoom(self, change: dict) -> None:
        """The Bokeh views show the time range the editor shows."""
        if len(change["new"]) == 2:
            self.views.show_time_range(*change["new"])

    def wait_for_players(self, timeout_s: float | None = None) -> None:
        """Return once the players of the latest separation are shown (scripts and tests)."""
        job = self._players_job
        if job is not None:
            job.result(timeout=timeout_s)

    def _refresh(self, kind: str) -> None:
        if kind in ("open", "adapt"):
            self._prepare_players()
        self.status.value = f"<div data-testid='app-status'>{html.escape(status_line(self.session))}</div>"

    def _prepare_players(self) -> None:
        """Encode the players in the background; only the latest request's players are shown."""
        with self._players_lock:
            self.players.value = PENDING_PLAYERS
            generation = object()
            self._generation = generation

            def encode() -> None:
                try:
                    players = players_html(self.session, self._players_cache)
                except Exception as error:  # shown, never left "preparing" forever
                    reason = html.escape(f"{type(error).__name__}: {error}")
                    players = (
                        f"<div data-testid='players-error'>The players could not be prepared: {reason}</div>"
                    )
                with self._players_lock:
                    if self._generation is generation:
                        self.players.value = players

            self._players_job = self._encoder.submit(encode)


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


def players_html(session: Session, cache: dict[str, tuple[object, str]] | None = None) -> str:
    """HTML audio players: mixture, vocals, accompaniment, and vocals before/after the last adaptation,
    each at the song's rate and channels (:class:`~ipysvs.listening.Player`). ``cache`` (stem ->
    (samples, HTML)) keeps the players of stems that did not change since the last call."""
    cache = {} if cache is None else cache

    def player(stem: str, *, before: bool = False) -> str:
        samples = session.stem(stem, before=before)
        key = f"{stem}-before" if before else stem
        if key not in cache or cache[key][0] is not samples:
            cache[key] = (samples, Player.of(samples, session.sr)._repr_html_())
        return cache[key][1]

    rows = [(stem.capitalize(), player(stem)) for stem in ("mixture", "vocals", "accompaniment")]
    if session.reports:
        before = player("vocals", before=True)
        rows += [("Vocals before the last Update DNN", before), ("Vocals after it", rows[1][1])]
    cells = "".join(
        f"<div style='display:inline-block;margin:2px 8px'><div>{label}</div>{html_player}</div>"
        for label, html_player in rows
    )
    return f"<div data-testid='players'>{cells}</div>"
