"""The F0 editor: an anywidget view of a Session's vocal F0 over the song's spectrogram.

The front end (``js/src``, built into ``static/editor.js``) draws the log-frequency spectrogram with
saliency shading, beat and note grids, the F0 trajectory (corrected frames in their own colour) and a
playhead, and turns mouse and keyboard gestures into requests. This class answers them with the
Session's own methods -- exactly what a script would call -- after :mod:`.messages` has validated
them, then acknowledges each request by its id. Arrays travel as binary (traitlets ``Bytes``, message
buffers), never as JSON lists. Changes made from code reach the editor through ``Session.observe``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import anywidget
import numpy as np
import traitlets

from ..errors import IpysvsError
from ..f0 import pitch_grid
from ..listening import Player
from .fallback import with_fallback
from .images import log_spectrogram, to_decibel_image, to_uint8
from .messages import MessageError, Request, parse_request

if TYPE_CHECKING:
    from ..interactive.session import Session

__all__ = ["PHASES", "PROGRESS_STEP", "SLACK_S", "STATIC", "F0Editor"]

logger = logging.getLogger("ipysvs.widgets")
STATIC = Path(__file__).parent / "static"
PHASES = {"train": (0.0, 0.7), "estimate": (0.7, 0.75), "separate": (0.75, 1.0)}  # share of the bar
PROGRESS_STEP = 0.01  # smallest progress change sent to the browser


SLACK_S = 0.1  # a time range from the browser may pass the song's ends by this much (rounding)


def _bytes(values: np.ndarray, dtype: str) -> bytes:
    return np.ascontiguousarray(values, dtype=dtype).tobytes()


class F0Editor(anywidget.AnyWidget):
    """Edit a :class:`~ipysvs.Session`'s vocal F0 with the mouse (see the help overlay, key ``?``).

    Synced state (binary unless noted): ``frame_times`` float64 s ``(frames,)``; ``spectrogram`` and
    ``salience`` uint8 ``(frames, 320)`` on the saliency's 20-cent grid from 55 Hz; ``hz`` float32,
    ``corrected`` uint8, ``confidence`` uint8 (0..255), ``activity`` int8, each ``(frames,)``;
    ``beats`` float64 s; and as JSON ``duration`` (s), ``revision`` (bumped with every trajectory
    change), ``outputs_revision`` (bumped by each adaptation), ``can_undo``, ``can_redo``, ``busy``,
    ``progress`` (0..1), ``phase`` and ``error`` (the last refused request, "" when fine); and from
    the browser ``time_range``, ``[t0, t1]`` s the editor shows (empty until it first zooms or pans;
    the app's Bokeh views follow it).
    """

    _esm = STATIC / "editor.js"
    _css = STATIC / "editor.css"

    # the synced model; its JavaScript side is typed once, in js/src/protocol.js (SYNCED_MODEL)
    pitch_grid = traitlets.Dict().tag(sync=True)
    frame_times = traitlets.Bytes().tag(sync=True)
    spectrogram = traitlets.Bytes().tag(sync=True)
    salience = traitlets.Bytes().tag(sync=True)
    beats = traitlets.Bytes().tag(sync=True)
    duration = traitlets.Float().tag(sync=True)
    hz = traitlets.Bytes().tag(sync=True)
    corrected = traitlets.Bytes().tag(sync=True)
    confidence = traitlets.Bytes().tag(sync=True)
    activity = traitlets.Bytes().tag(sync=True)
    revision = traitlets.Int(0).tag(sync=True)
    outputs_revision = traitlets.Int(0).tag(sync=True)
    can_undo = traitlets.Bool(False).tag(sync=True)
    can_redo = traitlets.Bool(False).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    phase = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    time_range = traitlets.List(default_value=[]).tag(sync=True)  # checked by _check_time_range

    def __init__(self, session: Session, **kwargs: object) -> None:
        times = session.frame_times
        magnitude = log_spectrogram(session.stem("mixture"), session.sr, times)
        super().__init__(
            pitch_grid=pitch_grid(),
            frame_times=_bytes(times, "<f8"),
            spectrogram=to_uint8(to_decibel_image(magnitude)).tobytes(),
            beats=_bytes(session.beats, "<f8"),
            duration=session.duration_s,
            **kwargs,
        )
        self.session = session
        self._push_trajectory()
        self._push_salience()
        self._unsubscribe = session.observe(self._on_session_change)
        self.on_msg(self._on_message)

    def __repr__(self) -> str:
        return f"<ipysvs F0Editor of {self.session.name!r}>"

    def _repr_mimebundle_(self, **kwargs: object) -> dict | tuple:
        return with_fallback(super()._repr_mimebundle_(**kwargs), "F0 editor")

    def close(self) -> None:
        """Stop following the Session and close the widget."""
        self._unsubscribe()
        super().close()

    # ------------------------------------------------------------------ kernel -> browser
    def _push_trajectory(self) -> None:
        session = self.session
        f0 = session.f0
        with self.hold_sync():
            self.hz = _bytes(f0.hz, "<f4")
            self.corrected = _bytes(session.corrected, "u1")
            self.confidence = to_uint8(f0.confidence).tobytes()
            self.activity = _bytes(session.activity, "i1")
            self.can_undo = session.can_undo
            self.can_redo = session.can_redo
            self.revision += 1

    def _push_salience(self) -> None:
        self.salience = to_uint8(self.session.salience).tobytes()

    def _on_session_change(self, kind: str) -> None:
        if kind == "adapt":
            self._push_salience()
            self.outputs_revision += 1
        self._push_trajectory()

    # ------------------------------------------------------------------ browser -> kernel
    @traitlets.validate("time_range")
    def _check_time_range(self, proposal: traitlets.Bunch) -> list[float]:
        """A time range from the browser is ``[t0, t1]`` s with ``0 <= t0 < t1 <= duration`` (rounding
        slack of a frame); anything else is refused (shown as ``error``) and the range stays as it was."""
        value = proposal["value"]
        numbers = len(value) == 2 and all(type(t) in (int, float) for t in value)
        start, stop = (float(t) for t in value) if numbers else (np.nan, np.nan)
        inside = -SLACK_S <= start < stop <= self.duration + SLACK_S  # False for NaN and infinities
        if not inside:
            self.error = f"refused: a time range must be [t0, t1] s inside the song, got {value!r:.80}"
            logger.error("ipysvs editor: %s", self.error)
            return list(self.time_range)
        return [max(start, 0.0), min(stop, self.duration)]

    def _on_message(self, _widget: object, content: object, buffers: list) -> None:
        request_id = content.get("id") if isinstance(content, dict) else None
        try:
            request = parse_request(
                content, buffers, duration_s=self.session.duration_s, n_frames=self.session.frame_times.size
            )
            self._perform(request)
        except (MessageError, IpysvsError) as error:
            self._refuse(request_id, error)
            return
        except KeyboardInterrupt:  # the user interrupted the kernel (e.g. during Update DNN)
            self._refuse(request_id, "interrupted")
            raise
        except Exception as error:  # a bug: still answer, so the front end never waits forever
            logger.exception("ipysvs editor: request failed")
            self._refuse(request_id, f"unexpected error (please report it): {type(error).__name__}: {error}")
            return
        self.error = ""
        self.send({"kind": "ack", "id": request.id, "ok": True})

    def _refuse(self, request_id: object, error: Exception | str) -> None:
        logger.error("ipysvs editor: request refused: %s", error)
        self.error = f"refused: {error}"
        self.send(
            {
                "kind": "ack",
                "id": request_id if isinstance(request_id, int) else None,
                "ok": False,
                "error": str(error),
            }
        )

    def _perform(self, request: Request) -> None:
        """Run a validated request with the Session's public methods."""
        session, args = self.session, request.args
        match request.action:
            case "draw":
                session.draw(args["times"], args["hz"])
            case "unvoice":
                session.unvoice(args["t0"], args["t1"])
            case "shift_octave":
                session.shift_octave(args["t0"], args["t1"], args["octaves"])
            case "snap":
                session.snap(args["t0"], args["t1"])
            case "activity":
                session.mark_activity(args["t0"], args["t1"], vocal=args["vocal"])
            case "undo":
                session.undo()
            case "redo":
                session.redo()
            case "adapt":
                self.adapt()
            case "audio":
                player = self._listening_file(args["stem"])
                content = {"kind": "audio", "id": request.id, "stem": args["stem"]}
                self.send({**content, "mimetype": player.mimetype}, [player.data])

    # ------------------------------------------------------------------ adaptation and audio
    def adapt(self) -> None:
        """Run ``Session.adapt`` with the progress bar (what the Update DNN button does)."""
        self.busy, self.progress, self.phase = True, 0.0, "train"
        try:
            self.session.adapt(progress=self._progress)
        finally:
            with self.hold_sync():
                self.busy, self.phase = False, ""
                self.progress = 1.0

    def _progress(self, phase: str, done: int, total: int, /, **details: float) -> None:
        start, stop = PHASES.get(phase, (0.0, 1.0))
        value = start + (stop - start) * min(max(done / max(total, 1), 0.0), 1.0)
        if phase != self.phase or value - self.progress >= PROGRESS_STEP:
            with self.hold_sync():
                self.phase, self.progress = phase, value

    def _listening_file(self, stem: str) -> Player:
        """What the play button plays: a stem at the song's rate and channels, as Ogg Vorbis."""
        return Player.of(self.session.stem(stem), self.session.sr)
