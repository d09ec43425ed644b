"""Validation of the messages the F0 editor's front end sends to the kernel.

Every custom message from the browser is untrusted input: it passes :func:`parse_request` before the
Session sees it. A message is ``{"id": int, "action": str, ...fields}`` plus binary buffers. Anything
else -- an unknown action, a missing or extra field, a value of the wrong type, NaN or infinity, a
time outside the song, a buffer of the wrong size or one larger than the song has frames -- raises
:class:`MessageError` and nothing happens to the Session.

Actions and their fields:

=============== ================================= ==========================================
action          fields                            buffers
=============== ================================= ==========================================
``draw``        ``points`` (int, 2..2 x frames)   times float64 s, Hz float32 (0 = unvoiced)
``unvoice``     ``t0``, ``t1`` (s)
``shift_octave`` ``t0``, ``t1``, ``octaves`` (int)
``snap``        ``t0``, ``t1``
``activity``    ``t0``, ``t1``, ``vocal`` (bool)
``undo``,
``redo``,
``adapt``
``audio``       ``stem`` (mixture, vocals, accompaniment)
=============== ================================= ==========================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..stems import TRACKS

__all__ = [
    "BUFFER_DTYPES",
    "FIELDS",
    "MAX_ID",
    "MAX_POINTS_PER_FRAME",
    "MessageError",
    "Request",
    "parse_request",
]

MAX_ID = 2**53  # JavaScript's largest safe integer
FIELDS: dict[str, dict[str, type]] = {
    "draw": {"points": int},
    "unvoice": {"t0": float, "t1": float},
    "shift_octave": {"t0": float, "t1": float, "octaves": int},
    "snap": {"t0": float, "t1": float},
    "activity": {"t0": float, "t1": float, "vocal": bool},
    "undo": {},
    "redo": {},
    "adapt": {},
    "audio": {"stem": str},
}
BUFFER_DTYPES: dict[str, tuple[np.dtype, ...]] = {"draw": (np.dtype("<f8"), np.dtype("<f4"))}
MAX_POINTS_PER_FRAME = 2


class MessageError(ValueError):
    """A message from the front end was malformed or hostile; it was ignored."""


@dataclass(frozen=True)
class Request:
    """A validated request: its ``id`` (echoed in the acknowledgement), ``action`` and arguments.

    ``args`` holds the action's fields (seconds as float, ``octaves`` int, ``vocal`` bool, ``stem``
    str) and, for ``draw``, ``times`` ``(points,)`` float64 s and ``hz`` ``(points,)`` float64 Hz.
    """

    id: int
    action: str
    args: dict = field(default_factory=dict)


def parse_request(content: object, buffers: Sequence, *, duration_s: float, n_frames: int) -> Request:
    """Check a message from the editor against the song (``duration_s`` seconds, ``n_frames`` F0 frames).

    Raises:
        MessageError: saying what is wrong.
    """
    if not isinstance(content, dict):
        raise MessageError(f"a message must be a JSON object, got {type(content).__name__}")
    request_id = _whole_number(content.get("id"), "id", 0, MAX_ID)
    action = content.get("action")
    if not isinstance(action, str) or action not in FIELDS:
        raise MessageError(f"unknown action {action!r:.40}; expected one of {sorted(FIELDS)}")
    expected = FIELDS[action]
    given = set(content) - {"id", "action"}
    if given != set(expected):
        raise MessageError(f"{action}: fields must be {sorted(expected)}, got {sorted(given)[:10]}")
    args = {name: _field(content[name], name, kind, action, duration_s) for name, kind in expected.items()}
    if "t0" in args and args["t1"] <= args["t0"]:
        raise MessageError(f"{action}: t1 ({args['t1']} s) must be after t0 ({args['t0']} s)")
    dtypes = BUFFER_DTYPES.get(action, ())
    if len(buffers) != len(dtypes):
        raise MessageError(f"{action}: expected {len(dtypes)} binary buffers, got {len(buffers)}")
    if action == "draw":
        args.update(_stroke(args.pop("points"), buffers, dtypes, duration_s, n_frames))
    return Request(request_id, action, args)


def _whole_number(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MessageError(f"{name} must be a whole number in {low}..{high}, got {value!r:.40}")
    return value


def _field(value: object, name: str, kind: type, action: str, duration_s: float) -> object:
    if kind is float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(_as_float(value)):
            raise MessageError(f"{action}: {name} must be a finite number of seconds, got {value!r:.40}")
        if not 0.0 <= value <= duration_s + 1e-6:
            raise MessageError(f"{action}: {name}={value} s lies outside the song (0..{duration_s:.3f} s)")
        return float(value)
    if kind is int:
        return _whole_number(value, f"{action}: {name}", -(2**31), 2**31)
    if kind is bool:
        if not isinstance(value, bool):
            raise MessageError(f"{action}: {name} must be true or false, got {value!r:.40}")
        return value
    if not isinstance(value, str) or value not in TRACKS:
        raise MessageError(f"{action}: {name} must be one of {TRACKS}, got {value!r:.40}")
    return value


def _as_float(value: int | float) -> float:
    """``float(value)``, infinity for integers too large for a float (JSON can carry any integer)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _stroke(
    points: int, buffers: Sequence, dtypes: tuple[np.dtype, ...], duration_s: float, n_frames: int
) -> dict[str, np.ndarray]:
    """The stroke's ``times`` and ``hz`` from its two buffers, sizes checked before anything is read."""
    if not 2 <= points <= MAX_POINTS_PER_FRAME * n_frames:
        raise MessageError(f"draw: a stroke has 2..{MAX_POINTS_PER_FRAME * n_frames} points, got {points}")
    arrays = []
    for buffer, dtype in zip(buffers, dtypes, strict=True):
        try:
            view = memoryview(buffer)
        except TypeError:
            raise MessageError(f"draw: buffers must be binary, got {type(buffer).__name__}") from None
        if view.nbytes != points * dtype.itemsize:
            raise MessageError(f"draw: a buffer of {view.nbytes} bytes for {points} {dtype.name} values")
        arrays.append(np.frombuffer(view.cast("B"), dtype=dtype).astype(np.float64))
    times, hz = arrays
    if not (np.isfinite(times).all() and np.isfinite(hz).all()):
        raise MessageError("draw: times and Hz must be finite (NaN or infinity received)")
    if times[0] < 0 or times[-1] > duration_s + 1e-6 or (np.diff(times) <= 0).any():
        raise MessageError(f"draw: times must increase strictly within the song (0..{duration_s:.3f} s)")
    if (hz < 0).any():
        raise MessageError("draw: Hz must be >= 0 (0 = unvoiced)")
    return {"times": times, "hz": hz}
