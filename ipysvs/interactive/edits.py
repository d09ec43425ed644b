"""User corrections of the vocal F0 and of the vocal activity, in seconds and Hz.

Edits never refer to frames: they are replayed onto whatever frame grid the model uses
(:func:`apply_edits`), so a trajectory can be re-estimated, or the model's resolution changed, without
losing a correction. Each edit is a small frozen dataclass that converts to and from JSON.

Kinds (``kind`` in JSON):

* ``set_f0`` -- frames in ``[t0, t1)`` get ``hz`` (one value, or one value per frame).
* ``draw`` -- a free-hand stroke ``(times, hz)``: frames between its first and last point follow it
  (linear in log frequency between points; a 0 Hz point makes its neighbourhood unvoiced).
* ``snap`` -- a stretch moved onto the saliency's ridge: stored and replayed as the stroke
  ``(times, hz)`` of the pitch it snapped to, like ``draw``.
* ``unvoice`` -- nobody sings in ``[t0, t1)`` (the paper's right-button delete).
* ``shift_octave`` -- voiced frames in ``[t0, t1)`` move by ``octaves`` (+1 or -1).
* ``activity`` -- Cantisani's temporal annotation: the voice is active (``vocal=True``) or silent
  in ``[t0, t1)``; it does not change the F0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import ClassVar

import numpy as np

from ..errors import ParameterError

__all__ = [
    "EDIT_KINDS",
    "MAX_HZ",
    "MIN_HZ",
    "Draw",
    "Edit",
    "MarkActivity",
    "SetF0",
    "ShiftOctave",
    "Snap",
    "Unvoice",
    "activity",
    "apply_edits",
    "edit_from_json",
    "validate_edit",
]

MIN_HZ, MAX_HZ = 20.0, 5000.0


@dataclass(frozen=True)
class Edit:
    """Base class: an edit over the time span ``[t0, t1)`` in seconds."""

    kind: ClassVar[str] = ""
    t0: float
    t1: float

    def frames(self, times: np.ndarray) -> np.ndarray:
        """Boolean mask of the frame ``times`` this edit covers."""
        return (times >= self.t0) & (times < self.t1)

    def apply(self, times: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """The trajectory ``hz`` at frame ``times`` after this edit (a new array)."""
        raise NotImplementedError

    @property
    def changes_f0(self) -> bool:
        """Whether the edit fixes the F0 of the frames it covers."""
        return True

    def to_json(self) -> dict:
        """A JSON-ready dict with the edit's ``kind``."""
        record = {"kind": self.kind, **asdict(self)}
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in record.items()}


@dataclass(frozen=True)
class SetF0(Edit):
    """Frames in ``[t0, t1)`` get ``hz``: a constant, or a tuple with one value per covered frame."""

    kind: ClassVar[str] = "set_f0"
    hz: float | tuple[float, ...]

    def apply(self, times: np.ndarray, hz: np.ndarray) -> np.ndarray:
        covered = self.frames(times)
        values = np.asarray(self.hz, dtype=np.float64)
        if values.ndim == 1 and values.size != covered.sum():
            raise ParameterError(
                f"set_f0 got {values.size} Hz values for the {int(covered.sum())} frames in "
                f"[{self.t0}, {self.t1}) s; give one value per frame or a constant"
            )
        out = hz.copy()
        out[covered] = values
        return out


@dataclass(frozen=True)
class Draw(Edit):
    """A free-hand stroke: ``times`` (s, increasing) and ``hz`` (0 = unvoiced) of its points."""

    kind: ClassVar[str] = "draw"
    times: tuple[float, ...]
    hz: tuple[float, ...]

    def frames(self, times: np.ndarray) -> np.ndarray:
        return (times >= self.t0) & (times <= self.t1)

    def apply(self, times: np.ndarray, hz: np.ndarray) -> np.ndarray:
        covered = self.frames(times)
        stroke_t, stroke_hz = np.asarray(self.times), np.asarray(self.hz)
        sung = stroke_hz > 0
        out = hz.copy()
        out[covered] = 0.0
        if sung.any():
            voiced = np.interp(times[covered], stroke_t, sung.astype(float)) >= 0.5
            log_hz = np.interp(times[covered], stroke_t[sung], np.log2(stroke_hz[sung]))
            out[covered] = np.where(voiced, 2.0**log_hz, 0.0)
        return out


@dataclass(frozen=True)
class Snap(Draw):
    """A stretch moved onto the saliency's ridge (``Session.snap``): replayed as the stroke of the
    snapped pitch it produced, so later changes of the saliency do not move it again."""

    kind: ClassVar[str] = "snap"


@dataclass(frozen=True)
class Unvoice(Edit):
    """Nobody sings in ``[t0, t1)``."""

    kind: ClassVar[str] = "unvoice"

    def apply(self, times: np.ndarray, hz: np.ndarray) -> np.ndarray:
        out = hz.copy()
        out[self.frames(times)] = 0.0
        return out


@dataclass(frozen=True)
class ShiftOctave(Edit):
    """Voiced frames in ``[t0, t1)`` move by ``octaves`` octaves."""

    kind: ClassVar[str] = "shift_octave"
    octaves: int

    def apply(self, times: np.ndarray, hz: np.ndarray) -> np.ndarray:
        out = hz.copy()
        covered = self.frames(times)
        out[covered] = hz[covered] * 2.0**self.octaves
        return out


@dataclass(frozen=True)
class MarkActivity(Edit):
    """The voice is active (``vocal=True``) or silent in ``[t0, t1)``; the F0 is untouched."""

    kind: ClassVar[str] = "activity"
    vocal: bool

    @property
    def changes_f0(self) -> bool:
        return False

    def apply(self, times: np.ndarray, hz: np.ndarray) -> np.ndarray:
        return hz


EDIT_KINDS: dict[str, type[Edit]] = {
    k.kind: k for k in (SetF0, Draw, Snap, Unvoice, ShiftOctave, MarkActivity)
}


def edit_from_json(record: object, *, duration_s: float) -> Edit:
    """Build and validate an edit from a JSON dict (see :meth:`Edit.to_json`).

    Raises:
        ParameterError: unknown kind, missing or extra fields, or invalid values.
    """
    if not isinstance(record, dict) or record.get("kind") not in EDIT_KINDS:
        raise ParameterError(
            f"an edit must be a dict with 'kind' one of {sorted(EDIT_KINDS)}, got {record!r:.80}"
        )
    cls = EDIT_KINDS[record["kind"]]
    fields = {k: v for k, v in record.items() if k != "kind"}
    try:
        edit = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
    except TypeError as error:
        raise ParameterError(f"bad {record['kind']} edit: {error}") from None
    return validate_edit(edit, duration_s=duration_s)


def validate_edit(edit: Edit, *, duration_s: float) -> Edit:
    """Check an edit's span, Hz values and fields against a song of ``duration_s`` seconds, by type and
    shape as well as value, and return it in canonical form (Python floats, ints, bools and tuples),
    so that what is stored and journaled is what was checked.

    Raises:
        ParameterError: with what is wrong and what is allowed.
    """
    t0, t1 = _seconds(edit.t0, edit.kind, "t0"), _seconds(edit.t1, edit.kind, "t1")
    if t1 <= t0:
        raise ParameterError(f"{edit.kind}: t1 ({t1} s) must be after t0 ({t0} s)")
    if t0 < 0 or t1 > duration_s + 1e-6:
        raise ParameterError(f"{edit.kind}: [{t0}, {t1}) s lies outside the song (0..{duration_s:.3f} s)")
    changes: dict[str, object] = {"t0": t0, "t1": t1}
    if isinstance(edit, SetF0):
        values = _numbers(edit.hz, "set_f0", "hz")
        _check_hz(values, "set_f0", allow_zero=False)
        changes["hz"] = float(values[0]) if np.ndim(edit.hz) == 0 else tuple(values.tolist())
    elif isinstance(edit, Draw):
        times, hz = _numbers(edit.times, edit.kind, "times"), _numbers(edit.hz, edit.kind, "hz")
        if np.ndim(edit.times) != 1 or np.ndim(edit.hz) != 1 or times.size < 2 or times.size != hz.size:
            raise ParameterError("draw: times and hz must be 1-D and of one length (at least two points)")
        if not np.isfinite(times).all() or (np.diff(times) <= 0).any():
            raise ParameterError("draw: stroke times must be finite and strictly increasing")
        _check_hz(hz, edit.kind, allow_zero=True)
        changes.update(times=tuple(times.tolist()), hz=tuple(hz.tolist()))
    elif isinstance(edit, ShiftOctave):
        octaves = edit.octaves
        whole = isinstance(octaves, (int, np.integer)) and not isinstance(octaves, (bool, np.bool_))
        if not whole or int(octaves) not in (-2, -1, 1, 2):
            raise ParameterError(
                f"shift_octave: octaves must be the whole number +-1 or +-2, got {octaves!r}"
            )
        changes["octaves"] = int(octaves)
    elif isinstance(edit, MarkActivity):
        if not isinstance(edit.vocal, (bool, np.bool_)):
            raise ParameterError(f"activity: vocal must be True or False, got {edit.vocal!r}")
        changes["vocal"] = bool(edit.vocal)
    return replace(edit, **changes)


def _seconds(value: object, kind: str, name: str) -> float:
    """A finite number of seconds as a float (no bools, strings or arrays)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{kind}: {name} must be a number of seconds, got {value!r:.60}")
    try:
        seconds = float(value)
    except OverflowError:
        raise ParameterError(f"{kind}: {name} is too large a number of seconds") from None
    if not np.isfinite(seconds):
        raise ParameterError(f"{kind}: times must be finite, got {name}={value}")
    return seconds


def _numbers(value: object, kind: str, name: str) -> np.ndarray:
    """A number or a 1-D sequence of numbers as a float64 array (at least 1-D); strings, bools, nested
    sequences and arrays of more than one dimension are refused."""
    array = np.asarray(value) if not isinstance(value, str) else np.asarray([value])
    if array.ndim > 1:
        raise ParameterError(f"{kind}: {name} must be a number or a 1-D sequence, got shape {array.shape}")
    if array.dtype.kind not in "iuf":  # bools, strings, objects (None, huge ints), complex numbers
        raise ParameterError(f"{kind}: {name} must hold numbers, got {value!r:.60}")
    with np.errstate(over="ignore"):
        return np.atleast_1d(array.astype(np.float64))


def _check_hz(values: np.ndarray, kind: str, *, allow_zero: bool) -> None:
    if values.size == 0 or not np.isfinite(values).all():
        raise ParameterError(f"{kind}: Hz values must be finite numbers (got NaN/inf or nothing)")
    voiced = values[values > 0] if allow_zero else values
    if (values < 0).any() or (not allow_zero and (values == 0).any()):
        raise ParameterError(f"{kind}: Hz values must be > 0 (use unvoice to delete the F0)")
    if ((voiced < MIN_HZ) | (voiced > MAX_HZ)).any():
        raise ParameterError(f"{kind}: Hz values must lie in {MIN_HZ:.0f}..{MAX_HZ:.0f} Hz")


def apply_edits(
    times: np.ndarray, estimate_hz: np.ndarray, edits: list[Edit]
) -> tuple[np.ndarray, np.ndarray]:
    """Replay ``edits`` in order on an estimated trajectory.

    Args:
        times: ``(frames,)`` frame times in seconds.
        estimate_hz: ``(frames,)`` the model's F0 estimate in Hz.
        edits: the edits, oldest first.

    Returns:
        ``(hz, corrected)``: the edited F0 and the ``(frames,)`` bool mask of frames the user fixed.
    """
    hz = np.asarray(estimate_hz, dtype=np.float64).copy()
    corrected = np.zeros(hz.shape, dtype=bool)
    for edit in edits:
        hz = edit.apply(times, hz)
        if edit.changes_f0:
            corrected |= edit.frames(times)
    return hz, corrected


def activity(times: np.ndarray, edits: list[Edit]) -> np.ndarray:
    """``(frames,)`` int8: 1 where marked active, -1 where marked silent, 0 where unmarked (last wins).

    An :class:`Unvoice` deletion ("nobody sings here") marks its frames silent.
    """
    marks = np.zeros(times.shape, dtype=np.int8)
    for edit in edits:
        if isinstance(edit, MarkActivity):
            marks[edit.frames(times)] = 1 if edit.vocal else -1
        elif isinstance(edit, Unvoice):
            marks[edit.frames(times)] = -1
    return marks
