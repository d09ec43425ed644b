"""Separation metrics: BSS Eval v3 (mir_eval), NSDR/GNSDR, and museval's frame-wise medians.

Conventions:

- **SDR, SIR, SAR** (dB) come from ``mir_eval.separation.bss_eval_sources`` over the whole signal, with
  references ``[voice, accompaniment]`` and estimates ``[vocals, accompaniment]`` in that order
  (``compute_permutation=False``), as in Jansson et al. (2017).
- **NSDR** (dB) of a source is the SDR of its estimate minus the SDR of the unprocessed mixture used
  as the estimate of the same source. **GNSDR** is the mean NSDR over tracks weighted by their length.
- **museval** columns follow SiSEC 2018 / Prétet et al. (2019): ``museval.evaluate`` (BSS Eval v4)
  over 1 s windows with 1 s hops, then the median over the windows, ignoring the NaN of silent ones.

All signals are mono ``(samples,)`` arrays at one sample rate. ``mir_eval`` cannot score an all-zero
reference or estimate; :func:`score_separation` raises :class:`SilentSourceError` for them and
:func:`evaluate_clips` records such a track as skipped, with the reason, instead of failing.

Example:
    >>> from ipysvs.research import datasets, evaluation# doctest: +SKIP
    >>> clips = datasets.read_clips("../shared/data/mir1k", singers=["Ani"])           # doctest: +SKIP
    >>> systems = {"oracle": evaluation.oracle_system}                                 # doctest: +SKIP
    >>> print(evaluation.format_system_table(evaluation.summarise(
    ...     evaluation.evaluate_clips(clips, systems))))                               # doctest: +SKIP
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from .. import audio as audio_io
from ..errors import FileError, IpysvsError, ParameterError
from ..f0 import Trajectory, frame_f0
from ..separation import RATIO_EPS
from ..spectral import SAMPLE_RATE, OverlapAdd, frame_count, hann_window, stft_frames
from ..stems import STEMS
from .datasets import Labels, Track

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "FRAME_SECONDS",
    "MELODY_METRICS",
    "MIXTURE",
    "OCTAVE_CENTS",
    "PITCH_ERRORS",
    "RESULT_COLUMNS",
    "SCORE_COLUMNS",
    "TABLE_ROWS",
    "ClipResult",
    "Evaluable",
    "SeparationScores",
    "SilentSourceError",
    "SourceScores",
    "System",
    "SystemSummary",
    "blind_system",
    "check_bss_inputs",
    "evaluate_clips",
    "evaluate_track",
    "format_system_table",
    "gnsdr",
    "ideal_ratio_mask",
    "melody_scores",
    "oracle_system",
    "pitch_errors",
    "score_mixture",
    "score_separation",
    "summarise",
    "vocal_sdr",
    "write_csv",
]

MIXTURE = "mixture"
FRAME_SECONDS = 1.0
RESULT_COLUMNS = ("name", "singer", "song", "system", "duration_s")

#: A system under evaluation: maps a track to ``(vocals, accompaniment)`` estimates, each
#: ``(samples,)`` at ``track.sr``. Blind systems must only use ``track.mixture`` (see :func:`blind_system`).
System = Callable[[Track], tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, Trajectory]]
"""A separator under test: ``track -> (vocals, accompaniment)``, optionally with its vocal F0."""
MELODY_METRICS = {
    "f0_rpa": "Raw Pitch Accuracy",
    "f0_rca": "Raw Chroma Accuracy",
    "f0_oa": "Overall Accuracy",
    "f0_vr": "Voicing Recall",
    "f0_vfa": "Voicing False Alarm",
}


class SilentSourceError(ParameterError):
    """A reference or estimate is all zeros, which BSS Eval cannot score."""


class Evaluable(Protocol):
    """Anything :func:`evaluate_clips` can score: a :class:`~ipysvs.research.datasets.Clip` or a ``Song``."""

    def load(self) -> Track:
        """The track's sources, rate and labels."""
        ...


@dataclass(frozen=True)
class SourceScores:
    """Scores of one estimated source, all in dB.

    Attributes:
        sdr, sir, sar: BSS Eval v3 over the whole signal.
        nsdr: ``sdr`` minus the SDR of the mixture as the estimate of this source.
        museval_sdr, museval_sir, museval_sar: BSS Eval v4 median over 1 s frames (NaN when not
            computed, or when every frame is silent).
    """

    sdr: float
    sir: float
    sar: float
    nsdr: float
    museval_sdr: float = math.nan
    museval_sir: float = math.nan
    museval_sar: float = math.nan


#: the metric columns of :meth:`SeparationScores.as_dict`, e.g. ``vocals_sdr``, ``accompaniment_museval_sar``
SCORE_COLUMNS = tuple(f"{source}_{field.name}" for source in STEMS for field in fields(SourceScores))


@dataclass(frozen=True)
class SeparationScores:
    """Scores of a ``(vocals, accompaniment)`` separation."""

    vocals: SourceScores
    accompaniment: SourceScores

    def as_dict(self) -> dict[str, float]:
        """Flat ``{"vocals_sdr": ..., "accompaniment_museval_sar": ...}``, keys :data:`SCORE_COLUMNS`."""
        values = [value for source in STEMS for value in astuple(getattr(self, source))]
        return dict(zip(SCORE_COLUMNS, values, strict=True))


@dataclass(frozen=True)
class ClipResult:
    """The scores of one system on one clip (or song).

    Attributes:
        name, singer, song: what was scored.
        system: the system's name (``"mixture"`` for the unprocessed baseline).
        duration_s: length in seconds (the GNSDR weight).
        metrics: flat metric columns (see :meth:`SeparationScores.as_dict`); empty when skipped.
        skipped: why the track could not be scored, ``""`` otherwise.
    """

    name: str
    singer: str
    song: str
    system: str
    duration_s: float
    metrics: dict[str, float]
    skipped: str = ""


@dataclass(frozen=True)
class SystemSummary:
    """One system's scores over a set of tracks.

    Attributes:
        system: the system's name.
        scored: tracks scored.
        skipped: tracks that could not be scored.
        medians: median over scored tracks of every metric column.
        gnsdr: per source, the length-weighted mean NSDR in dB.
    """

    system: str
    scored: int
    skipped: int
    medians: dict[str, float]
    gnsdr: dict[str, float]


def check_bss_inputs(references: np.ndarray, estimates: np.ndarray) -> None:
    """Check ``(sources, samples)`` references and estimates before BSS Eval, like ``mir_eval``.

    Raises:
        ParameterError: shapes differ or are not ``(2, samples)``, signals are empty or not finite.
        SilentSourceError: a reference or estimate is all zeros.
    """
    if references.shape != estimates.shape:
        raise ParameterError(
            f"references {references.shape} and estimates {estimates.shape} must have the same shape"
        )
    if references.ndim != 2 or references.shape[0] != len(STEMS):
        raise ParameterError(f"expected mono signals, got sources of shape {references.shape[1:]}")
    if references.shape[1] == 0:
        raise ParameterError("cannot score empty signals (0 samples)")
    for kind, signals in (("reference", references), ("estimate", estimates)):
        if not np.isfinite(signals).all():
            raise ParameterError(f"the {kind} signals contain NaN or infinite samples")
        for source, signal in zip(STEMS, signals, strict=True):
            if not signal.any():
                raise SilentSourceError(f"the {source} {kind} is silent (all zeros): BSS Eval is undefined")


def score_mixture(
    voice: np.ndarray, accompaniment: np.ndarray, sr: int, *, framewise: bool = True
) -> SeparationScores:
    """Scores of the unprocessed mixture ``voice + accompaniment`` used as the estimate of both sources.

    Its NSDR is 0 by definition. Pass the result as ``mixture`` to :func:`score_separation` to score
    several estimates of the same track without recomputing this baseline.

    Args:
        voice, accompaniment: ``(samples,)`` reference sources.
        sr: sample rate in Hz.
        framewise: also compute the museval columns (slower).

    Raises:
        ParameterError: invalid signals (see :func:`check_bss_inputs`).
        SilentSourceError: the voice or the accompaniment is all zeros.
    """
    references = _stack(voice, accompaniment)
    estimates = np.repeat(references.sum(axis=0, keepdims=True), len(STEMS), axis=0)
    check_bss_inputs(references, estimates)
    return _scores(references, estimates, sr, baseline_sdr=None, framewise=framewise)


def score_separation(
    voice: np.ndarray,
    accompaniment: np.ndarray,
    vocals_estimate: np.ndarray,
    accompaniment_estimate: np.ndarray,
    sr: int,
    *,
    mixture: SeparationScores | None = None,
    framewise: bool = True,
) -> SeparationScores:
    """BSS Eval scores of a separation.

    Args:
        voice, accompaniment: ``(samples,)`` reference sources.
        vocals_estimate, accompaniment_estimate: ``(samples,)`` estimates.
        sr: sample rate in Hz (sets the museval frame length, 1 s).
        mixture: :func:`score_mixture` of the same references, the NSDR baseline; computed when
            omitted.
        framewise: also compute the museval columns (slower).

    Raises:
        ParameterError: invalid signals (see :func:`check_bss_inputs`).
        SilentSourceError: a reference or estimate is all zeros.
    """
    references = _stack(voice, accompaniment)
    estimates = _stack(vocals_estimate, accompaniment_estimate)
    check_bss_inputs(references, estimates)
    if mixture is None:
        mixture = score_mixture(voice, accompaniment, sr, framewise=False)
    baseline_sdr = np.array([mixture.vocals.sdr, mixture.accompaniment.sdr])
    return _scores(references, estimates, sr, baseline_sdr=baseline_sdr, framewise=framewise)


def _scores(
    references: np.ndarray,
    estimates: np.ndarray,
    sr: int,
    *,
    baseline_sdr: np.ndarray | None,
    framewise: bool,
) -> SeparationScores:
    """Scores of validated ``(2, samples)`` estimates; ``baseline_sdr=None``: they are the baseline."""
    sdr, sir, sar = _bss_eval(references, estimates)
    nsdr = sdr - (sdr if baseline_sdr is None else baseline_sdr)
    frames = _museval_medians(references, estimates, sr) if framewise else np.full((3, 2), np.nan)
    return SeparationScores(
        *(
            SourceScores(*(float(value) for value in (sdr[i], sir[i], sar[i], nsdr[i], *frames[:, i])))
            for i in range(len(STEMS))
        )
    )


def _stack(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two signals as a ``(2, samples)`` float64 array, or a :class:`ParameterError`."""
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if first.shape != second.shape or first.ndim != 1:
        raise ParameterError(
            f"expected two mono (samples,) signals of equal length, got shapes {first.shape} and "
            f"{second.shape}"
        )
    return np.stack([first, second])


def _bss_eval(references: np.ndarray, estimates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SDR, SIR, SAR, each ``(2,)`` dB, of ``mir_eval.separation.bss_eval_sources`` (v3)."""
    import mir_eval

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in mir_eval 0.8, still the v3 reference
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(
            references, estimates, compute_permutation=False
        )
    return sdr, sir, sar


def _museval_medians(references: np.ndarray, estimates: np.ndarray, sr: int) -> np.ndarray:
    """``(3, 2)`` medians over 1 s frames of museval's SDR, SIR, SAR per source (NaN if no frame)."""
    window = round(FRAME_SECONDS * sr)
    if references.shape[1] < window:
        return np.full((3, 2), np.nan)
    import museval

    sdr, _isr, sir, sar = museval.evaluate(
        references[..., np.newaxis], estimates[..., np.newaxis], win=window, hop=window
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all frames silent: the median is NaN
        return np.stack([np.nanmedian(metric, axis=1) for metric in (sdr, sir, sar)])


def vocal_sdr(
    voice: np.ndarray, accompaniment: np.ndarray, vocals_estimate: np.ndarray, sr: int
) -> tuple[float, float]:
    """Vocal SDR of a separation of mono or multi-channel audio, in dB: ``(BSS Eval v3, museval)``.

    The v3 figure (``mir_eval``) scores the channel average of the sources; the museval figure (BSS
    Eval v4) scores the multi-channel images themselves and is the median over 1 s frames (NaN when
    shorter than a frame). The accompaniment estimate is the mixture minus ``vocals_estimate``.

    Args:
        voice, accompaniment, vocals_estimate: ``(samples,)`` or ``(channels, samples)``, one shape.
        sr: sample rate in Hz.

    Raises:
        ParameterError: shapes differ, or signals are empty, silent or not finite.
    """
    voice, accompaniment, vocals_estimate = (
        np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (voice, accompaniment, vocals_estimate)
    )
    if not (voice.shape == accompaniment.shape == vocals_estimate.shape) or voice.ndim != 2:
        raise ParameterError(
            f"voice {voice.shape}, accompaniment {accompaniment.shape} and estimate "
            f"{vocals_estimate.shape} must share one (channels, samples) shape"
        )
    references = np.stack([voice, accompaniment])  # (sources, channels, samples)
    estimates = np.stack([vocals_estimate, voice + accompaniment - vocals_estimate])
    check_bss_inputs(references.mean(axis=1), estimates.mean(axis=1))
    sdr, _, _ = _bss_eval(references.mean(axis=1), estimates.mean(axis=1))
    window = round(FRAME_SECONDS * sr)
    if voice.shape[1] < window:
        return float(sdr[0]), math.nan
    import museval

    frames, _, _, _ = museval.evaluate(
        references.transpose(0, 2, 1), estimates.transpose(0, 2, 1), win=window, hop=window
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all frames silent: the median is NaN
        return float(sdr[0]), float(np.nanmedian(frames[0]))


def ideal_ratio_mask(voice: np.ndarray, accompaniment: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The oracle separation by the ideal ratio mask, in the model's own spectral domain.

    Voice and accompaniment are resampled to 44.1 kHz (soxr, as the separator does) and transformed
    with the separator's STFT (:mod:`ipysvs.spectral`: Hann 4096, hop 1024). The vocal mask is
    ``|V|^2 / (|V|^2 + |A|^2)`` on all 2049 bins -- the form in which Spleeter combines its two
    U-Nets, with the networks' estimates replaced by the true magnitudes. It is applied to the
    mixture spectrum, inverted, and resampled back to ``sr``; the accompaniment is the rest of the
    mixture, as for the separator.

    Args:
        voice, accompaniment: ``(samples,)`` reference sources.
        sr: their sample rate in Hz.

    Returns:
        ``(vocals, accompaniment)`` float32 estimates, each ``(samples,)`` at ``sr``.
    """
    sources = _stack(voice, accompaniment).astype(np.float32)
    resampled = torch.from_numpy(audio_io.resample(sources, sr, SAMPLE_RATE))
    spectra = stft_frames(resampled, 0, frame_count(resampled.shape[1]), hann_window())
    power = spectra.abs() ** 2
    ratio = (power[0] + RATIO_EPS / 2) / (power.sum(dim=0) + RATIO_EPS)
    output = OverlapAdd(1, resampled.shape[1])
    output.add((spectra.sum(dim=0) * ratio)[np.newaxis], 0)
    vocals = audio_io.resample(output.result().numpy(), SAMPLE_RATE, sr)
    vocals = audio_io.fit_length(vocals, sources.shape[1])[0]
    return vocals, sources.sum(axis=0) - vocals


def blind_system(separate: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]) -> System:
    """A :data:`System` from a ``separate(mixture (samples,), sr) -> (vocals, accompaniment)`` function.

    Example:
        >>> from ipysvs.separation import default_separator                    # doctest: +SKIP
        >>> systems = {"ipysvs": blind_system(default_separator().separate)}   # doctest: +SKIP
    """

    def system(track: Track) -> tuple[np.ndarray, np.ndarray]:
        return separate(track.mixture, track.sr)

    return system


def oracle_system(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """The :func:`ideal_ratio_mask` oracle as a :data:`System` (it reads the true sources)."""
    return ideal_ratio_mask(track.voice, track.accompaniment, track.sr)


def evaluate_clips(
    items: Iterable[Evaluable],
    systems: Mapping[str, System],
    *,
    framewise: bool = True,
    client: Client | None = None,
    progress: bool = False,
) -> list[ClipResult]:
    """Score the mixture baseline and every system on every clip (or song).

    Each track is loaded once; the mixture is scored first (system ``"mixture"``) and is the NSDR
    baseline of the others. A track that cannot be read, whose voice or accompaniment is silent, or
    a system whose estimate is silent, is recorded as skipped with the reason; the others go on.

    Args:
        items: clips or songs (anything with ``load() -> Track``); wrap them in
            ``tqdm(...)`` for a progress bar (without a client).
        systems: name -> :data:`System`; ``"mixture"`` is reserved. With a client the systems must
            pickle (module-level functions do).
        framewise: also compute the museval columns.
        client: a ``distributed.Client``: one task per track on its workers (:mod:`ipysvs.cluster`),
            the results in the items' order as without one; a track whose task failed is recorded as
            skipped with the reason.
        progress: with a client, one progress bar over the tracks.

    Returns:
        One result per track and system, the mixture's first.
    """
    if MIXTURE in systems:
        raise ParameterError(f"the system name {MIXTURE!r} is reserved for the unprocessed baseline")
    score = partial(evaluate_track, systems=systems, framewise=framewise)
    if client is None:
        return [result for item in items for result in score(item)]
    from ..cluster import run_tasks

    tracks = list(items)
    scored: dict[int, list[ClipResult]] = {}
    reasons: dict[str, str] = {}
    run_tasks(
        score,
        tracks,
        client=client,
        on_result=lambda item, results: scored.__setitem__(id(item), results),
        on_failure=lambda failure: reasons.__setitem__(failure.name, failure.reason),
        name=_track_name,
        progress=progress,
        desc="evaluate",
        unit="track",
    )
    return [
        result
        for item in tracks
        for result in scored.get(id(item))
        or _unscored(item, systems, f"its task failed: {reasons.get(_track_name(item), '?')}")
    ]


def evaluate_track(item: Evaluable, *, systems: Mapping[str, System], framewise: bool) -> list[ClipResult]:
    """:func:`evaluate_clips` of one clip or song: its results, the mixture's first."""
    try:
        track = item.load()
    except IpysvsError as error:  # a corrupt or missing file: reported in the CSV, the others go on
        return _unscored(item, systems, f"cannot read: {error}")
    try:
        mixture = score_mixture(track.voice, track.accompaniment, track.sr, framewise=framewise)
    except SilentSourceError as error:
        return [_result(track, name, None, str(error)) for name in [MIXTURE, *systems]]
    results = [_result(track, MIXTURE, mixture)]
    for name, system in systems.items():
        results.append(_score_system(track, name, system, mixture, framewise))
    return results


def _track_name(item: Evaluable) -> str:
    return str(getattr(item, "name", "?"))


def _unscored(item: Evaluable, systems: Mapping[str, System], reason: str) -> list[ClipResult]:
    """The skipped results of a track that gave no scores at all."""
    unread = ClipResult(
        _track_name(item),
        str(getattr(item, "singer", "")),
        str(getattr(item, "song", "")),
        MIXTURE,
        float(getattr(item, "duration_s", math.nan)),
        {},
        reason,
    )
    return [replace(unread, system=name) for name in [MIXTURE, *systems]]


def melody_scores(labels: Labels, trajectory: Trajectory) -> dict[str, float]:
    """mir_eval melody metrics (fractions in [0, 1]) of an estimated F0 against the labels:
    ``f0_rpa``, ``f0_rca``, ``f0_oa``, ``f0_vr`` (voicing recall), ``f0_vfa`` (voicing false alarm)."""
    import mir_eval

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # mir_eval warns on all-unvoiced references
        scores = mir_eval.melody.evaluate(labels.times, labels.f0_hz, trajectory.times, trajectory.hz)
    return {key: float(scores[name]) for key, name in MELODY_METRICS.items()}


PITCH_ERRORS = ("correct", "unvoiced", "near", "octave", "far")
OCTAVE_CENTS = 1200.0


def pitch_errors(labels: Labels, trajectory: Trajectory, *, edge_s: float = 0.07) -> dict[str, float]:
    """Where an F0 estimate goes wrong on the labelled voiced frames (mir_eval's 50-cent tolerance).

    The trajectory is read at the label times (:func:`~ipysvs.f0.frame_f0`). Each voiced label falls
    in one class: ``correct`` (within 50 cents: raw pitch accuracy), ``unvoiced`` (the estimate has
    no pitch there), ``near`` (50-100 cents off), ``octave`` (an octave +-50 cents off) or ``far``.

    Returns:
        the fractions of the voiced labels in each class of :data:`PITCH_ERRORS` (they sum to 1);
        ``at_edges``: the fraction of the wrong ones within ``edge_s`` seconds of a voicing change
        in the labels; ``offset_cents``: the median signed error (estimate minus label) of the
        labels estimated within 100 cents, a tuning bias. NaN where undefined.
    """
    estimate = frame_f0(labels.times, trajectory.times, trajectory.hz)
    voiced = labels.f0_hz > 0
    if not voiced.any():
        return dict.fromkeys((*PITCH_ERRORS, "at_edges", "offset_cents"), math.nan)
    reference, estimate = labels.f0_hz[voiced], estimate[voiced]
    signed = np.full(reference.shape, np.inf)
    sounding = estimate > 0
    signed[sounding] = 1200 * np.log2(estimate[sounding] / reference[sounding])
    cents = np.abs(signed)
    classes = {
        "correct": cents <= 50,
        "unvoiced": ~sounding,
        "near": (cents > 50) & (cents <= 100),
        "octave": np.abs(cents - OCTAVE_CENTS) <= 50,
    }
    classes["far"] = sounding & ~(classes["correct"] | classes["near"] | classes["octave"])
    wrong = ~classes["correct"]
    edges = labels.times[np.flatnonzero(np.diff(labels.f0_hz > 0)) + 1]
    near_edge = np.zeros(wrong.shape, dtype=bool)
    if edges.size:
        index = np.clip(np.searchsorted(edges, labels.times[voiced]), 1, edges.size) - 1
        gaps = np.minimum(
            np.abs(labels.times[voiced] - edges[index]),
            np.abs(labels.times[voiced] - edges[np.minimum(index + 1, edges.size - 1)]),
        )
        near_edge = gaps <= edge_s
    fractions = {name: float(mask.mean()) for name, mask in classes.items()}
    fractions["at_edges"] = float((wrong & near_edge).sum() / wrong.sum()) if wrong.any() else math.nan
    close = cents <= 100
    fractions["offset_cents"] = float(np.median(signed[close])) if close.any() else math.nan
    return fractions


def _score_system(
    track: Track, name: str, system: System, mixture: SeparationScores, framewise: bool
) -> ClipResult:
    vocals, accompaniment, *f0 = system(track)
    try:
        scores = score_separation(
            track.voice,
            track.accompaniment,
            vocals,
            accompaniment,
            track.sr,
            mixture=mixture,
            framewise=framewise,
        )
    except SilentSourceError as error:
        return _result(track, name, None, str(error))
    result = _result(track, name, scores)
    if f0:
        result.metrics.update(melody_scores(track.labels, f0[0]))
    return result


def _result(track: Track, system: str, scores: SeparationScores | None, skipped: str = "") -> ClipResult:
    metrics = {} if scores is None else scores.as_dict()
    return ClipResult(track.name, track.singer, track.song, system, track.duration_s, metrics, skipped)


def summarise(results: Sequence[ClipResult]) -> list[SystemSummary]:
    """Per system, in order of first appearance: medians of every metric and the GNSDR per source."""
    by_system: dict[str, list[ClipResult]] = {}
    for result in results:
        by_system.setdefault(result.system, []).append(result)
    return [_summary(system, rows) for system, rows in by_system.items()]


def _summary(system: str, rows: list[ClipResult]) -> SystemSummary:
    scored = [row for row in rows if not row.skipped]
    columns = list(dict.fromkeys(column for row in scored for column in row.metrics))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column that is NaN on every track
        medians = {c: float(np.nanmedian([row.metrics.get(c, np.nan) for row in scored])) for c in columns}
    durations = [row.duration_s for row in scored]
    weighted = {
        source: gnsdr([row.metrics[f"{source}_nsdr"] for row in scored], durations) for source in STEMS
    }
    return SystemSummary(system, len(scored), len(rows) - len(scored), medians, weighted)


def gnsdr(nsdr: Sequence[float], durations_s: Sequence[float]) -> float:
    """Length-weighted mean NSDR in dB (NaN when there is no track).

    Args:
        nsdr: NSDR of each track in dB.
        durations_s: the tracks' lengths in seconds (or any proportional weight).
    """
    if len(nsdr) != len(durations_s):
        raise ParameterError(f"got {len(nsdr)} NSDR values for {len(durations_s)} durations")
    if not nsdr:
        return math.nan
    return float(np.average(nsdr, weights=durations_s))


def write_csv(results: Sequence[ClipResult], path: str | Path) -> Path:
    """Write one row per track and system: identity columns, metric columns, then ``skipped``.

    The metric columns are :data:`SCORE_COLUMNS` (empty cells for skipped tracks and NaN) followed by
    any other metric the results carry.

    Raises:
        ParameterError: the file cannot be written.
    """
    path = Path(path)
    metrics = list(
        dict.fromkeys([*SCORE_COLUMNS, *(column for result in results for column in result.metrics)])
    )
    header = [*RESULT_COLUMNS, *metrics, "skipped"]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            for result in results:
                identity = [getattr(result, column) for column in RESULT_COLUMNS]
                values = [_format_value(result.metrics.get(column, math.nan)) for column in metrics]
                writer.writerow([*identity, *values, result.skipped])
    except OSError as error:
        raise FileError(f"{path}: cannot write ({error.strerror or error})") from None
    return path


def _format_value(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.4f}"


# (label, SystemSummary attribute, key) of each row of format_system_table
TABLE_ROWS: tuple[tuple[str, str, str], ...] = (
    *(
        (f"{source} {metric.upper()} median", "medians", f"{source}_{metric}")
        for source in STEMS
        for metric in ("sdr", "sir", "sar", "nsdr")
    ),
    *((f"{source} GNSDR", "gnsdr", source) for source in STEMS),
    *((f"{source} SDR museval", "medians", f"{source}_museval_sdr") for source in STEMS),
    *((f"F0 {key[3:].upper()} median (%)", "medians", key) for key in MELODY_METRICS),
)


def format_system_table(summaries: Sequence[SystemSummary]) -> str:
    """A fixed-width text table: one column per system, one row per metric (dB, 2 decimals).

    The first rows count the tracks scored and skipped; "museval" rows are medians over tracks of
    each track's median over 1 s frames.
    """
    label_width = max(len(label) for label, _, _ in TABLE_ROWS)
    width = max([9, *(len(summary.system) + 2 for summary in summaries)])
    lines = [" " * label_width + "".join(f"{s.system:>{width}}" for s in summaries)]
    lines.append(f"{'tracks scored':<{label_width}}" + "".join(f"{s.scored:>{width}d}" for s in summaries))
    if any(s.skipped for s in summaries):
        lines.append(
            f"{'tracks skipped':<{label_width}}" + "".join(f"{s.skipped:>{width}d}" for s in summaries)
        )
    for label, attribute, key in TABLE_ROWS:
        if key in MELODY_METRICS and not any(key in summary.medians for summary in summaries):
            continue
        scale = 100 if key in MELODY_METRICS else 1
        values = (scale * getattr(summary, attribute).get(key, math.nan) for summary in summaries)
        lines.append(f"{label:<{label_width}}" + "".join(f"{value:>{width}.2f}" for value in values))
    return "\n".join(lines)
