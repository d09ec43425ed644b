"""The embedded demo song: a short synthesised pop song with known stems, vocal F0 and beats.

:func:`demo_song` needs no download and no data folder, so the package can show its main job anywhere
(``ipysvs separate --demo``, the notebooks, the tests). Everything is drawn from one seeded random
generator, so a seed always gives the same song.

The song, at a fixed tempo of 100..120 bpm in a random major key:

* **form** -- a two-beat pickup of accompaniment, then two-bar vocal phrases separated by rests over a
  four-chord progression (one chord per bar);
* **vocals** -- a source-filter singing voice: a Rosenberg glottal pulse (flow spectrum falling about
  12 dB per octave) whose F0 glides between notes with overshoot, scoops into phrases, carries a
  5.5 Hz vibrato that fades in over each note, and wanders with drift and jitter; shimmer, pulse-
  synchronous aspiration noise, time-varying formants (F1..F5 of the vowels a, e, i, o, u, one per
  syllable), noise-burst consonants (s, sh, f, t, k, h) before syllables and quiet inhales in the rests;
  identical in both channels;
* **accompaniment** -- kick, snare and hi-hats from noise and swept sines, a plucked bass line and
  plucked chords, panned across the stereo field;
* **mix** -- vocals 1.5 dB above the accompaniment in RMS, peak at -1 dBFS.

The ground truth (stems, F0 every 10 ms with 0 where nobody sings, beats, notes) is what was synthesised,
not an estimate.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import signal

from .audio import validate_sample_rate
from .errors import ParameterError

__all__ = [
    "ASPIRATION_PEAK",
    "ATTACK",
    "BASS_LOWEST",
    "BASS_PATTERNS",
    "BEATS_PER_BAR",
    "BREATHINESS",
    "BUS_LEVELS_DB",
    "CHORD_LOWEST",
    "CHORD_PANS",
    "COARTICULATION",
    "COMPING_PATTERNS",
    "CONSONANTS",
    "CONTROL_RATE",
    "DRIFT_CENTS",
    "EIGHTHS_PER_BAR",
    "END_MARGIN",
    "F0_HOP",
    "F1_ABOVE_F0",
    "FADE_OUT",
    "FORMANT_BANDWIDTHS",
    "GAP_BEFORE_CONSONANT",
    "GLIDE_DAMPING",
    "GLIDE_HZ",
    "INHALE_PEAK",
    "INHALE_SECONDS",
    "JITTER_CENTS",
    "KICK_PATTERNS",
    "LEGATO_FLOOR",
    "MAJOR_SCALE",
    "MAX_HARMONICS",
    "MAX_SECONDS",
    "MELODY_CENTRE",
    "MELODY_RANGE",
    "MIN_NOTE",
    "MIN_SECONDS",
    "NO_CONSONANT_PROBABILITY",
    "OPEN_HAT_PROBABILITY",
    "OPEN_QUOTIENT",
    "PEAK",
    "PHRASE_BEATS",
    "PHRASE_RELEASE",
    "PHRASE_RHYTHMS",
    "PICKUP_BEATS",
    "PROGRESSIONS",
    "RELEASE",
    "SCOOP_LEAD",
    "SCOOP_SEMITONES",
    "SHIMMER",
    "SNARE_PATTERN",
    "SPEED_QUOTIENT",
    "SUSTAIN_DECAY",
    "TEMPO_RANGE",
    "VIBRATO_CENTS",
    "VIBRATO_DELAY",
    "VIBRATO_FADE",
    "VIBRATO_HZ",
    "VOCAL_TO_ACCOMPANIMENT_DB",
    "VOWELS",
    "VOWEL_FORMANTS",
    "DemoSong",
    "demo_song",
]

MIN_SECONDS = 3.0
MAX_SECONDS = 600.0
F0_HOP = 0.01  # s between ground-truth F0 frames
CONTROL_RATE = 1000  # Hz, rate of the pitch and loudness controls

# form and harmony
TEMPO_RANGE = (100, 120)  # bpm, inclusive
BEATS_PER_BAR = 4
EIGHTHS_PER_BAR = 8
PHRASE_BEATS = 8
PICKUP_BEATS = 2
MELODY_RANGE = (57, 76)  # MIDI, A3..E5
MELODY_CENTRE = 66
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
# chords as (semitones above the tonic, semitones from root to third)
PROGRESSIONS = (
    ((0, 4), (7, 4), (9, 3), (5, 4)),  # I V vi IV
    ((9, 3), (5, 4), (0, 4), (7, 4)),  # vi IV I V
    ((0, 4), (9, 3), (5, 4), (7, 4)),  # I vi IV V
    ((0, 4), (5, 4), (9, 3), (7, 4)),  # I IV vi V
)
# note lengths in beats; the rest of each 8-beat phrase is a rest
PHRASE_RHYTHMS = (
    (1, 1, 1, 1, 2),
    (0.5, 0.5, 1, 1, 1, 2.5),
    (1.5, 0.5, 1, 1, 3),
    (1, 0.5, 0.5, 1, 1, 1, 1.5),
    (2, 1, 1, 2.5),
)
END_MARGIN = 0.15  # s of silence kept after the last sung note
MIN_NOTE = 0.15  # s, shortest note kept when the song's end cuts a phrase
PHRASE_RELEASE = 0.1  # beats the voice stops before the end of a phrase's last note

# voice
VOWELS = "aeiou"
VOWEL_FORMANTS = {  # F1..F5 in Hz (adult female, Peterson & Barney style)
    "a": (850.0, 1220.0, 2810.0, 3900.0, 4950.0),
    "e": (610.0, 2330.0, 2990.0, 4000.0, 4950.0),
    "i": (310.0, 2790.0, 3310.0, 4200.0, 5000.0),
    "o": (500.0, 900.0, 2700.0, 3900.0, 4950.0),
    "u": (370.0, 950.0, 2670.0, 3900.0, 4950.0),
}
FORMANT_BANDWIDTHS = (90.0, 110.0, 170.0, 250.0, 300.0)  # Hz
F1_ABOVE_F0 = 1.1  # formant tuning: F1 is raised to at least this multiple of F0
COARTICULATION = 0.03  # s the vowel's formants are anticipated before its consonant


class _Consonant(NamedTuple):
    """A syllable-initial consonant: ``duration`` s before the vowel, noise band (Hz) and peak gain.

    ``band`` is None for an aspirated "h", which is breath noise through the vowel's formants.
    """

    duration: float
    band: tuple[float, float] | None
    gain: float


CONSONANTS = {
    "": _Consonant(0.0, None, 0.0),
    "s": _Consonant(0.09, (4500.0, 11000.0), 0.25),
    "sh": _Consonant(0.09, (2000.0, 6000.0), 0.25),
    "f": _Consonant(0.07, (1500.0, 12000.0), 0.1),
    "t": _Consonant(0.03, (3000.0, 8000.0), 0.35),
    "k": _Consonant(0.035, (1500.0, 4000.0), 0.35),
    "h": _Consonant(0.08, None, 0.0),
}
NO_CONSONANT_PROBABILITY = 0.4
GAP_BEFORE_CONSONANT = 0.02  # s of silence between a note's release and the next consonant

OPEN_QUOTIENT = 0.65  # fraction of the glottal cycle the glottis is open
SPEED_QUOTIENT = 2.0  # opening time / closing time
GLIDE_HZ, GLIDE_DAMPING = 9.0, 0.55  # pitch glides between notes, with a slight overshoot
SCOOP_SEMITONES, SCOOP_LEAD = 0.8, 0.1  # phrases start from below, approached this long before
VIBRATO_HZ, VIBRATO_CENTS = 5.5, (30.0, 50.0)  # rate and range of per-note depth
VIBRATO_DELAY, VIBRATO_FADE = 0.15, 0.35  # s after a note's onset: vibrato starts, then reaches depth
DRIFT_CENTS, JITTER_CENTS, SHIMMER = 6.0, 4.0, 0.06
ATTACK, RELEASE = 0.04, 0.06  # s
LEGATO_FLOOR = 0.45  # loudness at the boundary of two syllables sung legato
SUSTAIN_DECAY = 0.15  # fraction of loudness lost over a note
BREATHINESS = 0.12  # aspiration noise relative to the glottal pulse during voicing
ASPIRATION_PEAK, INHALE_PEAK, INHALE_SECONDS = 0.8, 0.12, 0.3

# accompaniment
KICK_PATTERNS = ((0, 4), (0, 3, 4), (0, 4, 5), (0, 4, 7))  # eighth-note positions in a bar
SNARE_PATTERN = (2, 6)
OPEN_HAT_PROBABILITY = 0.25
# (eighth position, semitones above the chord root, length in eighths)
BASS_PATTERNS = (
    ((0, 0, 2), (2, 0, 1), (3, 7, 1), (4, 0, 2), (6, 7, 2)),
    ((0, 0, 3), (3, 0, 1), (4, 12, 2), (6, 7, 2)),
    ((0, 0, 1), (1, 0, 1), (2, 0, 1), (3, 0, 1), (4, 0, 1), (5, 0, 1), (6, 7, 1), (7, 12, 1)),
)
MAX_HARMONICS = 16  # of the plucked bass and chord tones
BASS_LOWEST = 36  # MIDI C2
COMPING_PATTERNS = ((0, 3, 6), (0, 2, 4, 6), (1, 3, 5, 7), (0, 3, 5))  # chord hits, eighth positions
CHORD_LOWEST = 53  # MIDI F3: chord tones are voiced in the octave above
CHORD_PANS = (-0.5, 0.1, 0.6)  # pan of the lowest, middle and highest chord tone
BUS_LEVELS_DB = {"drums": 0.0, "bass": -3.0, "chords": -4.0}
VOCAL_TO_ACCOMPANIMENT_DB = 1.5
PEAK = 0.89  # -1 dBFS
FADE_OUT = 0.05  # s


@dataclass(frozen=True, eq=False)
class DemoSong:
    """A synthesised song and its ground truth.

    Attributes:
        mixture: ``(2, samples)`` float32 stereo mixture, exactly ``vocals + accompaniment``, peak < 1.
        vocals: ``(2, samples)`` float32 vocals (the same in both channels).
        accompaniment: ``(2, samples)`` float32 drums, bass and chords.
        sr: sample rate in Hz.
        f0_times: ``(frames,)`` float64 frame times in s, every 10 ms from 0.
        f0_hz: ``(frames,)`` float64 vocal F0 in Hz at those times; 0 where the voice is unvoiced
            (rests, breaths and consonants).
        beats: ``(beats,)`` float64 beat times in s, ``60 / tempo_bpm`` apart from 0.
        tempo_bpm: tempo in beats per minute.
        notes: sung notes as ``(onset s, offset s, MIDI number)`` of their voicing, in time order; the
            F0 is non-zero exactly inside them.
    """

    mixture: np.ndarray
    vocals: np.ndarray
    accompaniment: np.ndarray
    sr: int
    f0_times: np.ndarray
    f0_hz: np.ndarray
    beats: np.ndarray
    tempo_bpm: float
    notes: list[tuple[float, float, int]]

    @property
    def seconds(self) -> float:
        """Duration in s."""
        return self.mixture.shape[1] / self.sr


@dataclass(frozen=True)
class _Chord:
    """One bar's chord: ``root`` pitch class (0 = C) and the ``third`` above it in semitones."""

    root: int
    third: int

    def pitch_classes(self) -> tuple[int, int, int]:
        return self.root, (self.root + self.third) % 12, (self.root + 7) % 12


@dataclass(frozen=True)
class _Syllable:
    """One sung note: voicing from ``onset`` to ``offset`` (s), its consonant sits just before onset."""

    onset: float
    offset: float
    midi: int
    vowel: str
    consonant: str
    accent: float
    phrase_start: bool

    @property
    def vowel_start(self) -> float:
        """When the syllable starts to be articulated (s): its consonant, or its onset."""
        return self.onset - CONSONANTS[self.consonant].duration


@dataclass(frozen=True)
class _Score:
    """What is played: tempo, one chord per bar and the sung syllables."""

    tempo_bpm: float
    chords: tuple[_Chord, ...]
    syllables: tuple[_Syllable, ...]

    @property
    def beat(self) -> float:
        """Beat period in s."""
        return 60.0 / self.tempo_bpm


def demo_song(*, seconds: float = 20.0, sr: int = 44100, seed: int = 0) -> DemoSong:
    """Synthesise the demo song with its stems, vocal F0, beats and notes.

    Args:
        seconds: duration in s, 3..600.
        sr: sample rate in Hz, 8000..192000.
        seed: non-negative integer; the same seed gives the same song.

    Returns:
        A :class:`DemoSong` of ``round(seconds * sr)`` samples per channel.

    Raises:
        ParameterError: an argument is out of range or of the wrong type.

    Example:
        >>> from ipysvs.demo import demo_song
        >>> song = demo_song(seconds=5.0, sr=22050)
        >>> song.mixture.shape, song.sr
        ((2, 110250), 22050)
    """
    seconds, sr, seed = _validate(seconds, sr, seed)
    rng = np.random.default_rng(seed)
    score = _compose(seconds, rng)
    n_samples = round(seconds * sr)
    control_times = np.arange(int(np.ceil(seconds * CONTROL_RATE)) + 1) / CONTROL_RATE
    pitch = _pitch_contour(score.syllables, control_times, rng)
    vocals = _vocals(score.syllables, pitch, control_times, n_samples, sr, rng)
    accompaniment = _accompaniment(score, n_samples, sr, rng)
    mixture, vocals, accompaniment = _mix(vocals, accompaniment)
    f0_times, f0_hz = _f0_truth(score.syllables, pitch, control_times, seconds)
    return DemoSong(
        mixture=mixture,
        vocals=vocals,
        accompaniment=accompaniment,
        sr=sr,
        f0_times=f0_times,
        f0_hz=f0_hz,
        beats=np.arange(int(np.ceil(seconds / score.beat))) * score.beat,
        tempo_bpm=score.tempo_bpm,
        notes=[(s.onset, s.offset, s.midi) for s in score.syllables],
    )


def _validate(seconds: object, sr: object, seed: object) -> tuple[float, int, int]:
    """Check :func:`demo_song`'s arguments and return them as ``(float, int, int)``."""
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise ParameterError(f"seconds must be a number of seconds, got {type(seconds).__name__}")
    if not MIN_SECONDS <= float(seconds) <= MAX_SECONDS:  # also rejects NaN
        raise ParameterError(
            f"seconds must be between {MIN_SECONDS:g} and {MAX_SECONDS:g} s, got {float(seconds)!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return float(seconds), validate_sample_rate(sr), int(seed)


def _midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    """Frequency in Hz of (fractional) MIDI note numbers."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


# --------------------------------------------------------------------------- score


def _compose(seconds: float, rng: np.random.Generator) -> _Score:
    """Choose tempo, key and progression, and write the melody."""
    tempo = float(rng.integers(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1))
    tonic = int(rng.integers(12))
    progression = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    n_bars = int(np.ceil(seconds * tempo / 60.0 / BEATS_PER_BAR))
    chords = tuple(
        _Chord((tonic + step) % 12, third)
        for step, third in (progression[bar % len(progression)] for bar in range(n_bars))
    )
    return _Score(tempo, chords, _melody(seconds, 60.0 / tempo, chords, tonic, rng))


def _melody(
    seconds: float, beat: float, chords: tuple[_Chord, ...], tonic: int, rng: np.random.Generator
) -> tuple[_Syllable, ...]:
    """Sung syllables over ``chords`` (one per bar, ``beat`` s per beat): one rhythm per phrase,
    pitches on the scale of ``tonic`` major following the chords."""
    scale = np.array(
        [p for p in range(MELODY_RANGE[0], MELODY_RANGE[1] + 1) if (p - tonic) % 12 in MAJOR_SCALE]
    )
    notes = []  # (start s, end s, midi, first of its phrase)
    pitch = MELODY_CENTRE
    phrase = PICKUP_BEATS
    while phrase * beat < seconds:
        position = float(phrase)
        for index, length in enumerate(PHRASE_RHYTHMS[rng.integers(len(PHRASE_RHYTHMS))]):
            chord = chords[min(int(position // BEATS_PER_BAR), len(chords) - 1)]
            pitch = _next_pitch(pitch, scale, chord, on_beat=position.is_integer(), rng=rng)
            notes.append((position * beat, (position + length) * beat, pitch, index == 0))
            position += length
        phrase += PHRASE_BEATS
    return _syllables(notes, seconds, beat, rng)


def _next_pitch(
    previous: int, scale: np.ndarray, chord: _Chord, *, on_beat: bool, rng: np.random.Generator
) -> int:
    """A melody pitch near ``previous``: a chord tone on the beat, a scale step off it."""
    if on_beat:
        candidates = scale[np.isin(scale % 12, chord.pitch_classes()) & (np.abs(scale - previous) <= 7)]
    else:
        candidates = scale[(np.abs(scale - previous) <= 4) & (scale != previous)]
    weights = np.exp(-np.abs(candidates - previous) / 3.0 - np.abs(candidates - MELODY_CENTRE) / 8.0)
    return int(rng.choice(candidates, p=weights / weights.sum()))


def _syllables(
    notes: list[tuple[float, float, int, bool]], seconds: float, beat: float, rng: np.random.Generator
) -> tuple[_Syllable, ...]:
    """Give ``(start s, end s, midi, first of phrase)`` notes vowels and consonants, and end each note's
    voicing where the next syllable begins.

    Notes that would not end ``END_MARGIN`` s before the song's end are shortened or dropped.
    """
    consonant_names = [name for name in CONSONANTS if name]
    consonants = [
        "" if rng.random() < NO_CONSONANT_PROBABILITY else consonant_names[rng.integers(len(consonant_names))]
        for _ in notes
    ]
    last_offset = seconds - END_MARGIN
    syllables = []
    for index, (start, end, midi, phrase_start) in enumerate(notes):
        following = notes[index + 1] if index + 1 < len(notes) else None
        if following is not None and not following[3]:
            gap = CONSONANTS[consonants[index + 1]].duration
            offset = following[0] - gap - (GAP_BEFORE_CONSONANT if gap else 0.0)
        else:
            offset = end - PHRASE_RELEASE * beat
        if start + MIN_NOTE > last_offset:
            break
        vowel = VOWELS[rng.integers(len(VOWELS))]
        accent = float(rng.uniform(0.8, 1.0))
        syllables.append(
            _Syllable(start, min(offset, last_offset), midi, vowel, consonants[index], accent, phrase_start)
        )
    return tuple(syllables)


# --------------------------------------------------------------------------- voice controls


def _glide(values: np.ndarray, rate: float, natural_hz: float, damping: float) -> np.ndarray:
    """Second-order low-pass (mass-spring-damper) of ``values`` along axis 0, at rest at ``values[0]``.

    Args:
        values: ``(n, ...)`` samples at ``rate`` Hz.
        natural_hz: natural frequency in Hz; damping below 1 overshoots steps.

    Returns:
        ``(n, ...)`` smoothed values.
    """
    omega = 2.0 * np.pi * natural_hz
    b, a = signal.bilinear([omega**2], [1.0, 2.0 * damping * omega, omega**2], fs=rate)
    initial = np.multiply.outer(signal.lfilter_zi(b, a), values[0])
    return signal.lfilter(b, a, values, axis=0, zi=initial)[0]


def _wander(rng: np.random.Generator, n: int, rate: float, natural_hz: float) -> np.ndarray:
    """``(n,)`` unit-RMS Gaussian noise low-passed at about ``natural_hz`` (sampled at ``rate`` Hz)."""
    noise = _glide(rng.standard_normal(n), rate, natural_hz, 0.7)
    return noise / np.sqrt(np.mean(noise**2))


def _raised_cosine(x: np.ndarray) -> np.ndarray:
    """0 for ``x <= 0``, 1 for ``x >= 1``, a half cosine in between."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def _span(times: np.ndarray, start: float, end: float) -> slice:
    """The slice of sorted ``times`` in ``[start, end)``."""
    first, last = np.searchsorted(times, [start, end])
    return slice(int(first), int(last))


def _add_bump(curve: np.ndarray, times: np.ndarray, start: float, end: float, peak: float) -> None:
    """Add a Hann-shaped bump of height ``peak`` over ``[start, end)`` s to ``curve`` (in place)."""
    span = _span(times, start, end)
    curve[span] += peak * np.sin(np.pi * (times[span] - start) / (end - start)) ** 2


def _pitch_contour(
    syllables: tuple[_Syllable, ...], times: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Sung pitch (fractional MIDI) at ``times`` s: glides with overshoot, scoops, vibrato and drift.

    This is the F0 ground truth; the voice adds a little faster jitter on top.
    """
    change_times, targets = [], []
    for syllable in syllables:
        if syllable.phrase_start:
            change_times.append(syllable.onset - SCOOP_LEAD)
            targets.append(syllable.midi - SCOOP_SEMITONES)
        change_times.append(syllable.onset)
        targets.append(syllable.midi)
    current = np.clip(np.searchsorted(change_times, times, side="right") - 1, 0, None)
    glided = _glide(np.asarray(targets, dtype=float)[current], CONTROL_RATE, GLIDE_HZ, GLIDE_DAMPING)
    drift = DRIFT_CENTS / 100.0 * _wander(rng, len(times), CONTROL_RATE, 2.0)
    return glided + _vibrato(syllables, times, rng) + drift


def _vibrato(syllables: tuple[_Syllable, ...], times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vibrato in semitones at ``times`` s: about 5.5 Hz, 30..50 cents, fading in over each note."""
    depth = np.zeros_like(times)
    for syllable in syllables:
        span = _span(times, syllable.onset, syllable.offset)
        fade = np.clip((times[span] - syllable.onset - VIBRATO_DELAY) / VIBRATO_FADE, 0.0, 1.0)
        depth[span] = rng.uniform(*VIBRATO_CENTS) / 100.0 * fade
    rate = VIBRATO_HZ + rng.uniform(-0.3, 0.3) + 0.15 * _wander(rng, len(times), CONTROL_RATE, 1.0)
    phase = 2.0 * np.pi * np.cumsum(rate) / CONTROL_RATE
    return _glide(depth, CONTROL_RATE, 15.0, 1.0) * np.sin(phase)


def _loudness(syllables: tuple[_Syllable, ...], times: np.ndarray) -> np.ndarray:
    """Voicing amplitude (0..1) at ``times`` s: an attack, a slowly decaying sustain and a release per
    syllable, dipping to ``LEGATO_FLOOR`` between syllables sung legato and to 0 elsewhere."""
    loudness = np.zeros_like(times)
    for index, syllable in enumerate(syllables):
        previous = syllables[index - 1] if index else None
        following = syllables[index + 1] if index + 1 < len(syllables) else None
        floor_in = LEGATO_FLOOR if previous is not None and previous.offset == syllable.onset else 0.0
        floor_out = LEGATO_FLOOR if following is not None and following.onset == syllable.offset else 0.0
        span = _span(times, syllable.onset, syllable.offset)
        elapsed = times[span] - syllable.onset
        length = syllable.offset - syllable.onset
        rise = _raised_cosine(elapsed / ATTACK)
        fall = _raised_cosine((length - elapsed) / RELEASE)
        sustain = syllable.accent * (1.0 - SUSTAIN_DECAY * elapsed / length)
        loudness[span] = sustain * rise * fall + floor_in * (1.0 - rise) + floor_out * (1.0 - fall)
    return loudness


def _breath(syllables: tuple[_Syllable, ...], times: np.ndarray) -> np.ndarray:
    """Unvoiced aspiration gain at ``times`` s: "h" consonants and an inhale before every phrase."""
    breath = np.zeros_like(times)
    for syllable in syllables:
        if syllable.consonant == "h":
            _add_bump(breath, times, syllable.vowel_start, syllable.onset + ATTACK, ASPIRATION_PEAK)
        if syllable.phrase_start:
            end = syllable.vowel_start - 0.1
            _add_bump(breath, times, max(end - INHALE_SECONDS, 0.0), end, INHALE_PEAK)
    return breath


def _f0_truth(
    syllables: tuple[_Syllable, ...], pitch: np.ndarray, times: np.ndarray, seconds: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth F0 every ``F0_HOP`` s: ``(frame times in s, Hz)``, 0 outside the voiced notes."""
    frame_times = np.arange(int(np.ceil(seconds / F0_HOP))) * F0_HOP
    onsets = np.array([s.onset for s in syllables])
    offsets = np.array([s.offset for s in syllables])
    current = np.searchsorted(onsets, frame_times, side="right") - 1
    voiced = (current >= 0) & (frame_times < offsets[np.clip(current, 0, None)])
    return frame_times, np.where(voiced, _midi_to_hz(np.interp(frame_times, times, pitch)), 0.0)


# --------------------------------------------------------------------------- voice sound


def _glottal_pulse(phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rosenberg glottal flow (0..1) and its derivative per cycle at ``phase`` (in cycles).

    The derivative (the flow as radiated from the lips) jumps back to 0 when the glottis closes, which
    makes the flow's harmonics fall about 12 dB per octave.
    """
    cycle = phase % 1.0
    opening = OPEN_QUOTIENT * SPEED_QUOTIENT / (1.0 + SPEED_QUOTIENT)
    closing = OPEN_QUOTIENT - opening
    rising = cycle < opening
    falling = ~rising & (cycle < OPEN_QUOTIENT)
    up = np.pi * cycle / opening
    down = 0.5 * np.pi * (cycle - opening) / closing
    flow = np.where(rising, 0.5 - 0.5 * np.cos(up), np.where(falling, np.cos(down), 0.0))
    slope = np.where(
        rising,
        0.5 * np.pi / opening * np.sin(up),
        np.where(falling, -0.5 * np.pi / closing * np.sin(down), 0.0),
    )
    return flow, slope


def _resonances(frequencies: np.ndarray, centres: np.ndarray, bandwidths: np.ndarray, sr: int) -> np.ndarray:
    """Complex response of cascaded two-pole resonators (Klatt's, unit gain at 0 Hz).

    Args:
        frequencies: ``(bins,)`` Hz where the response is evaluated.
        centres: ``(frames, resonators)`` resonance frequencies in Hz.
        bandwidths: ``(resonators,)`` bandwidths in Hz.

    Returns:
        ``(bins, frames)`` complex response.
    """
    z1 = np.exp(-2j * np.pi * frequencies / sr)[:, np.newaxis]
    response = np.ones((len(frequencies), len(centres)), dtype=complex)
    for centre, bandwidth in zip(centres.T, bandwidths, strict=True):
        c = -np.exp(-2.0 * np.pi * bandwidth / sr)
        b = 2.0 * np.exp(-np.pi * bandwidth / sr) * np.cos(2.0 * np.pi * centre / sr)
        response *= (1.0 - b - c) / (1.0 - b * z1 - c * z1**2)
    return response


def _formant_tracks(
    syllables: tuple[_Syllable, ...], times: np.ndarray, rate: float, f0_hz: np.ndarray, sr: int
) -> np.ndarray:
    """``(frames, 5)`` formant frequencies in Hz at ``times`` (frames at ``rate`` Hz).

    Each syllable's vowel is anticipated slightly before its consonant and approached smoothly; F1 is
    raised above F0 on high notes (as sopranos do) and every formant stays below Nyquist.
    """
    starts = [s.vowel_start - COARTICULATION for s in syllables]
    current = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, None)
    targets = np.array([VOWEL_FORMANTS[s.vowel] for s in syllables])[current]
    formants = _glide(targets, rate, 8.0, 1.0)
    formants[:, 0] = np.maximum(formants[:, 0], F1_ABOVE_F0 * f0_hz)
    return np.minimum(formants, 0.45 * sr)


def _filter_formants(
    source: np.ndarray,
    syllables: tuple[_Syllable, ...],
    pitch: np.ndarray,
    control_times: np.ndarray,
    sr: int,
) -> np.ndarray:
    """Filter the ``(samples,)`` glottal source through time-varying vowel formants (STFT domain)."""
    n_fft = 2 ** round(np.log2(0.025 * sr))
    stft = signal.ShortTimeFFT(signal.windows.hann(n_fft, sym=False), n_fft // 4, fs=sr)
    frame_times = stft.t(len(source))
    f0_hz = _midi_to_hz(np.interp(frame_times, control_times, pitch))
    formants = _formant_tracks(syllables, frame_times, sr / stft.hop, f0_hz, sr)
    response = _resonances(stft.f, formants, np.array(FORMANT_BANDWIDTHS), sr)
    return stft.istft(stft.stft(source) * response, k1=len(source))


def _consonants(
    syllables: tuple[_Syllable, ...], n_samples: int, sr: int, rng: np.random.Generator
) -> np.ndarray:
    """``(samples,)`` noise bursts of the fricatives and plosives, each just before its syllable."""
    track = np.zeros(n_samples)
    for syllable in syllables:
        consonant = CONSONANTS[syllable.consonant]
        if consonant.band is None:
            continue
        length = round(consonant.duration * sr)
        burst = _band_noise(rng, length, *consonant.band, sr) * np.hanning(length) * consonant.gain
        _place(track, burst, [syllable.vowel_start], [1.0], sr)
    return track


def _vocals(
    syllables: tuple[_Syllable, ...],
    pitch: np.ndarray,
    control_times: np.ndarray,
    n_samples: int,
    sr: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(samples,)`` mono singing voice with the F0 ``pitch`` (MIDI at ``control_times`` s), RMS 1
    while voiced."""
    times = np.arange(n_samples) / sr
    jitter = JITTER_CENTS / 100.0 * _wander(rng, len(control_times), CONTROL_RATE, 150.0)
    f0_hz = _midi_to_hz(np.interp(times, control_times, pitch + jitter))
    flow, slope = _glottal_pulse(np.cumsum(f0_hz) / sr)
    loudness = _loudness(syllables, control_times)
    loudness *= 1.0 + SHIMMER * _wander(rng, len(control_times), CONTROL_RATE, 40.0)
    voicing = np.interp(times, control_times, loudness)
    breath = np.interp(times, control_times, _breath(syllables, control_times))
    aspiration = rng.standard_normal(n_samples) * (BREATHINESS * voicing * (0.4 + flow) + breath)
    voice = _filter_formants(voicing * slope + aspiration, syllables, pitch, control_times, sr)
    voice /= np.sqrt(np.mean(voice[voicing > 0.5] ** 2))
    return voice + _consonants(syllables, n_samples, sr, rng)


# --------------------------------------------------------------------------- accompaniment


def _band_noise(rng: np.random.Generator, n: int, low: float, high: float, sr: int) -> np.ndarray:
    """``(n,)`` unit-RMS Gaussian noise band-passed to ``low..high`` Hz (kept below Nyquist)."""
    high = min(high, 0.45 * sr)
    low = min(low, 0.5 * high)
    sos = signal.butter(2, [low, high], btype="bandpass", fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(n))
    return noise / np.sqrt(np.mean(noise**2))


def _noise_hit(
    rng: np.random.Generator, sr: int, band: tuple[float, float], decay: float, seconds: float
) -> np.ndarray:
    """A band of noise decaying exponentially with time constant ``decay`` s, ``seconds`` long."""
    times = np.arange(round(seconds * sr)) / sr
    return _band_noise(rng, len(times), *band, sr) * np.exp(-times / decay)


def _kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A kick drum: a sine sweeping down from about 150 Hz to 48 Hz, plus a click."""
    times = np.arange(round(0.35 * sr)) / sr
    frequency = 48.0 + 100.0 * np.exp(-times / 0.035)
    body = np.sin(2.0 * np.pi * np.cumsum(frequency) / sr) * np.exp(-times / 0.2)
    return body + 0.3 * _noise_hit(rng, sr, (1000.0, 6000.0), 0.004, 0.35)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A snare drum: two decaying drum-head tones and a burst of bright noise."""
    times = np.arange(round(0.3 * sr)) / sr
    head = (np.sin(2.0 * np.pi * 185.0 * times) + 0.5 * np.sin(2.0 * np.pi * 330.0 * times)) * np.exp(
        -times / 0.05
    )
    return 0.5 * head + _noise_hit(rng, sr, (1500.0, 10000.0), 0.1, 0.3)


def _hat(sr: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    """A hi-hat, closed or open depending on its ``decay`` time constant in s."""
    return 0.4 * _noise_hit(rng, sr, (7000.0, 16000.0), decay, 6.0 * decay)


def _place(
    track: np.ndarray, sound: np.ndarray, onsets: list[float], gains: list[float], sr: int
) -> np.ndarray:
    """Add ``sound`` to the ``(samples,)`` ``track`` at each onset (s) with its gain; return ``track``."""
    for onset, gain in zip(onsets, gains, strict=True):
        start = round(onset * sr)
        stop = min(len(track), start + len(sound))
        if start < stop:
            track[start:stop] += gain * sound[: stop - start]
    return track


def _pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of a ``(samples,)`` track to ``(2, samples)``; ``position`` -1 (left)..1."""
    angle = (position + 1.0) * np.pi / 4.0
    return np.stack([np.cos(angle) * mono, np.sin(angle) * mono])


def _eighth(score: _Score, bar: int, position: float) -> float:
    """Time in s of eighth note ``position`` of ``bar``."""
    return (bar * EIGHTHS_PER_BAR + position) * score.beat / 2.0


def _drums(score: _Score, n_samples: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``(2, samples)`` drum kit: kick on 1 and 3 (with variations), snare on 2 and 4, eighth hi-hats."""
    kit = {
        "kick": (_kick(sr, rng), 0.0),
        "snare": (_snare(sr, rng), 0.1),
        "hat": (_hat(sr, rng, 0.035), 0.35),
        "open hat": (_hat(sr, rng, 0.25), 0.35),
    }
    hits: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in kit}

    def hit(name: str, bar: int, position: int, gain: float) -> None:
        hits[name][0].append(_eighth(score, bar, position))
        hits[name][1].append(gain * rng.uniform(0.85, 1.0))

    for bar in range(len(score.chords)):
        for position in KICK_PATTERNS[rng.integers(len(KICK_PATTERNS))]:
            hit("kick", bar, position, 1.0)
        for position in SNARE_PATTERN:
            hit("snare", bar, position, 0.8)
        open_hat = rng.random() < OPEN_HAT_PROBABILITY
        for position in range(EIGHTHS_PER_BAR):
            last = position == EIGHTHS_PER_BAR - 1
            hit("open hat" if open_hat and last else "hat", bar, position, 1.0 if position % 2 == 0 else 0.6)
    return sum(
        _pan(_place(np.zeros(n_samples), sound, *hits[name], sr), pan) for name, (sound, pan) in kit.items()
    )


def _plucked(midi: int, n_samples: int, sr: int, *, tilt: float, damping: float, decay: float) -> np.ndarray:
    """A plucked-string tone of ``n_samples`` samples: harmonics falling as ``k ** -tilt`` whose upper
    partials die out faster (``damping`` per harmonic per s) than the whole note (``decay`` s)."""
    frequency = float(_midi_to_hz(midi))
    times = np.arange(n_samples) / sr
    step = np.exp((2j * np.pi * frequency - damping) * times)  # one harmonic up: pitch and damping
    partial = np.exp(-times / decay) * step
    tone = np.zeros(n_samples)
    for harmonic in range(1, min(MAX_HARMONICS, int(0.45 * sr / frequency)) + 1):
        tone += harmonic**-tilt * partial.imag
        partial *= step
    return tone * _raised_cosine(times / 0.003) * _raised_cosine((times[-1] - times) / 0.01)


def _play(notes: list[tuple[float, float, int]], n_samples: int, sr: int, **timbre: float) -> np.ndarray:
    """``(samples,)`` track of plucked ``(onset s, duration s, midi)`` notes (each tone rendered once)."""
    track = np.zeros(n_samples)
    tones: dict[tuple[int, int], np.ndarray] = {}
    for onset, duration, midi in notes:
        key = (midi, max(round(duration * sr), 2))
        if key not in tones:
            tones[key] = _plucked(midi, key[1], sr, **timbre)
        _place(track, tones[key], [onset], [1.0], sr)
    return track


def _bass(score: _Score, n_samples: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``(samples,)`` bass line on the chord roots (and fifths and octaves), one pattern per bar."""
    notes = []
    for bar, chord in enumerate(score.chords):
        root = BASS_LOWEST + (chord.root - BASS_LOWEST) % 12
        for position, interval, length in BASS_PATTERNS[rng.integers(len(BASS_PATTERNS))]:
            duration = 0.9 * length * score.beat / 2.0
            notes.append((_eighth(score, bar, position), duration, root + interval))
    return _play(notes, n_samples, sr, tilt=1.0, damping=1.5, decay=0.8)


def _chords(score: _Score, n_samples: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``(2, samples)`` plucked chords, a comping rhythm per bar, tones spread across the stereo field."""
    voices: list[list[tuple[float, float, int]]] = [[] for _ in CHORD_PANS]
    for bar, chord in enumerate(score.chords):
        tones = sorted(CHORD_LOWEST + (pc - CHORD_LOWEST) % 12 for pc in chord.pitch_classes())
        pattern = COMPING_PATTERNS[rng.integers(len(COMPING_PATTERNS))]
        for position, following in zip(pattern, (*pattern[1:], EIGHTHS_PER_BAR), strict=True):
            duration = 0.95 * (following - position) * score.beat / 2.0
            for voice, tone in zip(voices, tones, strict=True):
                voice.append((_eighth(score, bar, position), duration, tone))
    return sum(
        _pan(_play(voice, n_samples, sr, tilt=1.3, damping=2.5, decay=0.6), pan)
        for voice, pan in zip(voices, CHORD_PANS, strict=True)
    )


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio**2)))


def _accompaniment(score: _Score, n_samples: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``(2, samples)`` drums, bass and chords at their ``BUS_LEVELS_DB``, faded out at the end."""
    buses = {
        "drums": _drums(score, n_samples, sr, rng),
        "bass": _pan(_bass(score, n_samples, sr, rng), 0.0),
        "chords": _chords(score, n_samples, sr, rng),
    }
    mix = sum(bus / _rms(bus) * 10.0 ** (BUS_LEVELS_DB[name] / 20.0) for name, bus in buses.items())
    fade = round(FADE_OUT * sr)
    mix[:, -fade:] *= np.linspace(1.0, 0.0, fade)
    return mix


def _mix(vocals: np.ndarray, accompaniment: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balance ``(samples,)`` vocals against ``(2, samples)`` accompaniment and scale to ``PEAK``.

    Returns:
        float32 ``(mixture, vocals, accompaniment)``, each ``(2, samples)``, with the mixture computed as
        the float32 sum of the two stems.
    """
    stereo_vocals = np.stack([vocals, vocals])
    stereo_vocals *= _rms(accompaniment) / _rms(stereo_vocals) * 10.0 ** (VOCAL_TO_ACCOMPANIMENT_DB / 20.0)
    peak = max(
        np.abs(stereo_vocals).max(), np.abs(accompaniment).max(), np.abs(stereo_vocals + accompaniment).max()
    )
    stereo_vocals = (stereo_vocals * (PEAK / peak)).astype(np.float32)
    accompaniment = (accompaniment * (PEAK / peak)).astype(np.float32)
    return stereo_vocals + accompaniment, stereo_vocals, accompaniment
