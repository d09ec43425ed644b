"""Vocal F0: pitch scales, note names, saliency maps and trajectories.

A *saliency map* is ``(frames, 320)`` values in ``[0, 1]`` on a log-frequency axis of 20-cent bins
(60 per octave) from 55 Hz (A1) to 2.2 kHz -- the output of the F0 network and, Gaussian-blurred
around the true F0, its training target (Bittner's Deep Salience). A :class:`Trajectory` is what users
see and edit: one F0 in Hz per frame time in seconds, 0 Hz meaning unvoiced.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FileError, ParameterError
from .files import write_text_atomically

__all__ = [
    "BINS_PER_OCTAVE",
    "CENTS_PER_BIN",
    "FMIN_HZ",
    "N_PITCH_BINS",
    "TARGET_SIGMA_CENTS",
    "VOICING_THRESHOLD",
    "Trajectory",
    "bin_to_hz",
    "decode_salience",
    "frame_f0",
    "hz_to_bin",
    "hz_to_midi",
    "midi_to_hz",
    "note_grid",
    "note_name",
    "note_to_midi",
    "pitch_bin_frequencies",
    "pitch_grid",
    "salience_target",
]

FMIN_HZ = 55.0
BINS_PER_OCTAVE = 60
N_PITCH_BINS = 320
CENTS_PER_BIN = 1200 / BINS_PER_OCTAVE
VOICING_THRESHOLD = 0.1
TARGET_SIGMA_CENTS = 25.0


def pitch_grid() -> dict[str, float | int]:
    """The saliency grid as data, as the editor's front end receives it: bin 0 at ``fmin_hz`` Hz,
    ``bins_per_octave`` bins to the octave, ``n_bins`` bins."""
    return {"fmin_hz": FMIN_HZ, "bins_per_octave": BINS_PER_OCTAVE, "n_bins": N_PITCH_BINS}


_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_NOTE_PATTERN = re.compile(r"^([A-Ga-g])([#b]?)(-?\d+)$")


def pitch_bin_frequencies() -> np.ndarray:
    """Centre frequency of each saliency bin in Hz, ``(320,)``: 55 Hz * 2^(k/60)."""
    return FMIN_HZ * 2.0 ** (np.arange(N_PITCH_BINS) / BINS_PER_OCTAVE)


def _positive_hz(hz: object, name: str = "hz") -> np.ndarray:
    values = np.asarray(hz, dtype=np.float64)
    if not np.isfinite(values).all() or (values <= 0).any():
        raise ParameterError(f"{name} must be finite and > 0 Hz (0 Hz means unvoiced and has no pitch)")
    return values


def hz_to_midi(hz: object) -> np.ndarray:
    """MIDI note number (A4 = 440 Hz = 69, fractional) of positive frequencies in Hz."""
    return 69.0 + 12.0 * np.log2(_positive_hz(hz) / 440.0)


def midi_to_hz(midi: object) -> np.ndarray:
    """Frequency in Hz of (fractional) MIDI note numbers."""
    values = np.asarray(midi, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ParameterError("MIDI note numbers must be finite")
    return 440.0 * 2.0 ** ((values - 69.0) / 12.0)


def hz_to_bin(hz: object) -> np.ndarray:
    """Fractional saliency-bin index of positive frequencies in Hz (0 at 55 Hz, 60 per octave)."""
    return BINS_PER_OCTAVE * np.log2(_positive_hz(hz) / FMIN_HZ)


def bin_to_hz(index: object) -> np.ndarray:
    """Frequency in Hz of (fractional) saliency-bin indices."""
    return FMIN_HZ * 2.0 ** (np.asarray(index, dtype=np.float64) / BINS_PER_OCTAVE)


def note_name(midi: int) -> str:
    """Scientific pitch name of a MIDI note: 57 -> ``"A3"``, 60 -> ``"C4"``."""
    if int(midi) != midi:
        raise ParameterError(f"note_name needs a whole MIDI note number, got {midi}")
    return f"{_NOTE_NAMES[int(midi) % 12]}{int(midi) // 12 - 1}"


def note_to_midi(name: str) -> int:
    """MIDI number of a note name such as ``"C3"``, ``"A#4"`` or ``"Bb2"``."""
    match = _NOTE_PATTERN.match(name.strip()) if isinstance(name, str) else None
    if match is None:
        raise ParameterError(f"{name!r} is not a note name like 'C3', 'F#4' or 'Bb2'")
    letter, accidental, octave = match.groups()
    semitone = _NOTE_NAMES.index(letter.upper()) + {"": 0, "#": 1, "b": -1}[accidental]
    return 12 * (int(octave) + 1) + semitone


def note_grid(
    fmin_hz: float, fmax_hz: float, *, names: tuple[str, ...] = ("C", "A")
) -> list[tuple[float, str]]:
    """Grid lines for the notes named ``names`` (e.g. every C and A) between two frequencies.

    Returns:
        ``[(hz, "C3"), (hz, "A3"), ...]`` in ascending order.
    """
    low, high = hz_to_midi([fmin_hz, fmax_hz])
    if high <= low:
        raise ParameterError(f"note grid needs fmin < fmax, got {fmin_hz} and {fmax_hz} Hz")
    wanted = {_NOTE_NAMES.index(n) for n in names}
    notes = [m for m in range(int(np.ceil(low)), int(np.floor(high)) + 1) if m % 12 in wanted]
    return [(float(midi_to_hz(m)), note_name(m)) for m in notes]


def salience_target(hz: np.ndarray, *, sigma_cents: float = TARGET_SIGMA_CENTS) -> np.ndarray:
    """Gaussian-blurred one-hot saliency for a frame-wise F0, ``(frames, 320)`` float32.

    Args:
        hz: ``(frames,)`` F0 in Hz, 0 for unvoiced (an all-zero row). Frequencies outside the
            saliency range also give an all-zero row.
        sigma_cents: standard deviation of the Gaussian in cents.
    """
    hz = _validate_f0(hz)
    target = np.zeros((hz.size, N_PITCH_BINS), dtype=np.float32)
    voiced = hz > 0
    if voiced.any():
        centre = hz_to_bin(hz[voiced])[:, np.newaxis]
        distance = (np.arange(N_PITCH_BINS)[np.newaxis, :] - centre) * CENTS_PER_BIN
        target[voiced] = np.exp(-0.5 * (distance / sigma_cents) ** 2)
        in_range = (centre[:, 0] > -1) & (centre[:, 0] < N_PITCH_BINS)
        target[np.flatnonzero(voiced)[~in_range]] = 0
    return target


def decode_salience(
    salience: np.ndarray, *, threshold: float = VOICING_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Turn a saliency map into a frame-wise F0 (the paper's peak picking, refined below a bin).

    The peak bin of each frame gives the pitch, refined by the saliency-weighted mean of the bins
    within +-2 of the peak (in log frequency); frames whose peak is below ``threshold`` are unvoiced.

    Args:
        salience: ``(frames, 320)`` in ``[0, 1]``.

    Returns:
        ``(hz, confidence)``, each ``(frames,)``: F0 in Hz (0 = unvoiced) and the peak value.
    """
    salience = np.asarray(salience)
    if salience.dtype.kind not in "fiu":
        raise ParameterError(f"salience must be numeric, got dtype {salience.dtype}")
    if salience.ndim != 2 or salience.shape[1] != N_PITCH_BINS:
        raise ParameterError(f"salience must be (frames, {N_PITCH_BINS}), got shape {salience.shape}")
    if not np.isfinite(salience).all():
        raise ParameterError("salience contains NaN or infinite values")
    # peaks on the map as it is (no float64 copy of a song's saliency), arithmetic in float64
    peak = salience.argmax(axis=1)
    confidence = salience[np.arange(len(peak)), peak].astype(np.float64)
    offsets = np.arange(-2, 3)
    neighbours = np.clip(peak[:, np.newaxis] + offsets, 0, N_PITCH_BINS - 1)
    weights = np.take_along_axis(salience, neighbours, axis=1).astype(np.float64)
    refined = (weights * neighbours).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-12)
    hz = np.where(confidence >= threshold, bin_to_hz(refined), 0.0)
    return hz, confidence.astype(np.float32)


def frame_f0(frame_times: np.ndarray, label_times: np.ndarray, label_hz: np.ndarray) -> np.ndarray:
    """F0 labels resampled to frame times: linear in log frequency between two voiced labels, else the
    nearest label (so a frame is voiced only if the label nearest to it is).

    Args:
        frame_times: ``(frames,)`` seconds.
        label_times: ``(labels,)`` increasing seconds.
        label_hz: ``(labels,)`` Hz, 0 = unvoiced.

    Returns:
        ``(frames,)`` Hz.
    """
    label_times = _validate_times(label_times)
    label_hz = _validate_f0(label_hz, length=label_times.size)
    frame_times = np.asarray(frame_times, dtype=np.float64)
    right = np.clip(np.searchsorted(label_times, frame_times), 1, label_times.size - 1)
    left = right - 1
    nearest = np.where(
        np.abs(frame_times - label_times[left]) <= np.abs(label_times[right] - frame_times), left, right
    )
    out = label_hz[nearest].copy()
    both = (label_hz[left] > 0) & (label_hz[right] > 0) & (out > 0)
    span = label_times[right] - label_times[left]
    fraction = np.clip((frame_times - label_times[left]) / np.where(span > 0, span, 1), 0, 1)
    log_left = np.log2(np.where(both, label_hz[left], 1))
    log_right = np.log2(np.where(both, label_hz[right], 1))
    out[both] = 2.0 ** (log_left + fraction * (log_right - log_left))[both]
    return out


def _validate_times(times: object, name: str = "times") -> np.ndarray:
    values = np.asarray(times, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D array of seconds, got shape {values.shape}")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ParameterError(f"{name} must be finite and >= 0 seconds")
    if (np.diff(values) <= 0).any():
        raise ParameterError(f"{name} must be strictly increasing")
    return values


def _validate_f0(hz: object, *, length: int | None = None, name: str = "hz") -> np.ndarray:
    values = np.asarray(hz, dtype=np.float64)
    if values.ndim != 1:
        raise ParameterError(f"{name} must be a 1-D array of Hz, got shape {values.shape}")
    if length is not None and values.size != length:
        raise ParameterError(f"{name} has {values.size} values for {length} times")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ParameterError(
            f"{name} must be finite and >= 0 Hz (0 = unvoiced); got NaN, inf or negative values"
        )
    return values


@dataclass
class Trajectory:
    """A frame-wise vocal F0.

    Attributes:
        times: ``(frames,)`` strictly increasing frame times in seconds.
        hz: ``(frames,)`` F0 in Hz, 0 where nobody sings.
        confidence: ``(frames,)`` saliency peak in ``[0, 1]`` (1 for user-given values).
    """

    times: np.ndarray
    hz: np.ndarray
    confidence: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.times = _validate_times(self.times)
        self.hz = _validate_f0(self.hz, length=self.times.size)
        if self.confidence is None:
            self.confidence = (self.hz > 0).astype(np.float32)
        confidence = np.asarray(self.confidence, dtype=np.float32)
        if confidence.shape != self.times.shape or not np.isfinite(confidence).all():
            raise ParameterError("confidence must be finite, one value per frame")
        if (confidence < 0).any() or (confidence > 1).any():
            raise ParameterError("confidence must lie in [0, 1]")
        self.confidence = confidence

    @property
    def voiced(self) -> np.ndarray:
        """``(frames,)`` bool: frames with a pitch."""
        return self.hz > 0

    def __len__(self) -> int:
        return self.times.size

    def copy(self) -> Trajectory:
        """An independent copy."""
        return Trajectory(self.times.copy(), self.hz.copy(), self.confidence.copy())

    def to_csv(self, path: str | Path) -> Path:
        """Write ``time_s,f0_hz`` rows (0 for unvoiced) under a ``# time_s,f0_hz`` header line, so that
        ``mir_eval.io.load_time_series(path, delimiter=",")`` reads it as it is. Written atomically.

        Raises:
            FileError: the file cannot be written (nothing is left half-written).
        """
        rows = "".join(f"{t:.9f},{f:.4f}\n" for t, f in zip(self.times, self.hz, strict=True))
        return write_text_atomically(path, "# time_s,f0_hz\n" + rows)

    @classmethod
    def from_csv(cls, path: str | Path) -> Trajectory:
        """Read a ``time_s,f0_hz`` file (header optional) as written by :meth:`to_csv`."""
        path = Path(path)
        try:
            rows = [r for r in csv.reader(path.open()) if r and not r[0].strip().startswith("#")]
            if rows and not _is_number(rows[0][0]):
                rows = rows[1:]
            data = np.array([[float(r[0]), float(r[1])] for r in rows], dtype=np.float64)
        except (OSError, ValueError, IndexError) as error:
            raise FileError(f"{path}: not a time_s,f0_hz CSV file ({error})") from None
        if data.size == 0:
            raise FileError(f"{path}: no F0 rows")
        return cls(data[:, 0], data[:, 1])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
