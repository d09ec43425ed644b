"""The simulation experiment: a simulated user corrects the first p % of each song, the model adapts.

Nakano et al.'s protocol (their Figure 4): for every song and every ratio p, the ground-truth F0 of the
first p % of the song is given as corrections, the per-song model is adapted, and the separation and
the F0 of the part the user did not touch are scored. Conditions ("variants"):

* ``svs`` -- the pretrained separator alone, no F0 and no adaptation: the anchor.
* ``f0-svs`` -- :meth:`Session.adapt` with ``variant="f0-svs"`` (at 0 % it only re-separates with the
  estimated F0).
* ``svs-f0`` -- ``variant="svs-f0"`` (at 0 % nothing can be learned: the anchor).
* ``activity`` / ``activity-recon`` -- Cantisani et al.'s comparison: instead of F0, the labelled
  singing-voice activity of the first p % is marked, and the separator adapts with their loss
  (reconstruction + lambda x silent vocals) or with the reconstruction term alone.

One :class:`SimulationRow` per song and condition; :func:`median_table` and :func:`plot` summarise.
"""

from __future__ import annotations

import csv
import hashlib
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FileError, IpysvsError, ParameterError
from ..f0 import Trajectory, frame_f0
from ..interactive.adaptation import SEPARATOR_LAYERS, SILENCE_WEIGHT
from ..interactive.session import Session
from ..interactive.session import open as open_session
from .datasets import Clip, Labels, Song, Track
from .evaluation import SeparationScores, melody_scores, score_mixture, score_separation

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "RATIOS",
    "SIMULATION_VARIANTS",
    "ConditionSummary",
    "SimulationRow",
    "SimulationTask",
    "append_rows",
    "format_condition_table",
    "give_true_f0",
    "mark_true_activity",
    "median_table",
    "parse_ratios",
    "parse_variants",
    "plot",
    "read_rows",
    "run_simulation_task",
    "simulate_track",
    "simulate_tracks",
]

SIMULATION_VARIANTS = ("svs", "svs-f0", "f0-svs", "activity", "activity-recon")
RATIOS = (0, 25, 50, 75, 100)


@dataclass
class SimulationRow:
    """The scores of one song under one condition.

    Attributes:
        name: the song (or clip).
        variant: one of :data:`SIMULATION_VARIANTS`.
        ratio: percentage of the song given as corrections (from its start).
        vocal_sdr, acc_sdr: BSS Eval v3 SDR of the whole song in dB.
        f0_rpa_uncorrected, f0_oa_uncorrected: raw pitch and overall accuracy (fractions) of the F0 on
            the part after the corrections (NaN at 100 %).
        corrected_s: seconds given as corrections.
        adapt_s: wall time of the adaptation (0 without one).
        steps: optimisation steps taken.
    """

    name: str
    variant: str
    ratio: int
    vocal_sdr: float
    acc_sdr: float
    f0_rpa_uncorrected: float
    f0_oa_uncorrected: float
    corrected_s: float
    adapt_s: float
    steps: int


def parse_ratios(text: str) -> tuple[int, ...]:
    """``"0,25,50"`` -> ``(0, 25, 50)``; each a whole percentage in 0..100."""
    try:
        ratios = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ParameterError(f"ratios must be whole percentages separated by commas, got {text!r}") from None
    if not ratios or any(not 0 <= r <= 100 for r in ratios):
        raise ParameterError(f"ratios must lie in 0..100, got {text!r}")
    return tuple(sorted(set(ratios)))


def parse_variants(text: str) -> tuple[str, ...]:
    """``"svs,f0-svs"`` -> ``("svs", "f0-svs")``, each one of :data:`SIMULATION_VARIANTS`."""
    variants = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    unknown = [v for v in variants if v not in SIMULATION_VARIANTS]
    if unknown or not variants:
        raise ParameterError(f"unknown variant(s) {unknown}; choose from {', '.join(SIMULATION_VARIANTS)}")
    return variants


def simulate_track(
    track: Track,
    *,
    ratios: Sequence[int] = RATIOS,
    variants: Sequence[str] = SIMULATION_VARIANTS,
    steps: int | None = None,
    layers: str | None = None,
    skip: Callable[[str, int], bool] = lambda variant, ratio: False,
) -> Iterable[SimulationRow]:
    """Yield the rows of one song: every ``variant`` at every ``ratio`` (unless ``skip(variant, ratio)``).

    Every condition starts from a fresh session (the initial analysis comes from the on-disk cache).
    """
    baseline = score_mixture(track.voice, track.accompaniment, track.sr, framewise=False)
    scored: dict[str, SeparationScores] = {}  # identical outputs (the anchor's) are scored once
    for variant in variants:
        for ratio in ratios:
            if skip(variant, ratio):
                continue
            session = open_session(track.mixture, track.sr, name=track.name, journal=False, quiet=True)
            cut_s = track.duration_s * ratio / 100
            report = _simulate_condition(session, track.labels, variant, cut_s, steps=steps, layers=layers)
            key = hashlib.sha1(session.vocals.tobytes()).hexdigest()
            if key not in scored:
                scored[key] = score_separation(
                    track.voice,
                    track.accompaniment,
                    session.vocals,
                    session.accompaniment,
                    track.sr,
                    mixture=baseline,
                    framewise=False,
                )
            scores = scored[key]
            pitch = _uncorrected_pitch(track.labels, session.f0, cut_s)
            yield SimulationRow(
                name=track.name,
                variant=variant,
                ratio=ratio,
                vocal_sdr=scores.vocals.sdr,
                acc_sdr=scores.accompaniment.sdr,
                f0_rpa_uncorrected=pitch["f0_rpa"],
                f0_oa_uncorrected=pitch["f0_oa"],
                corrected_s=cut_s,
                adapt_s=report[0],
                steps=report[1],
            )


@dataclass(frozen=True)
class SimulationTask:
    """The conditions of one song still to run: what a Dask worker is sent (the song's paths, never
    its audio). ``done`` holds the ``(variant, ratio)`` pairs already in the results CSV."""

    track: Clip | Song
    ratios: tuple[int, ...]
    variants: tuple[str, ...]
    steps: int | None = None
    layers: str | None = None
    done: frozenset[tuple[str, int]] = frozenset()

    @property
    def name(self) -> str:
        return self.track.name

    def rows(self) -> Iterator[SimulationRow]:
        """Load the song and yield its rows as each condition finishes (:func:`simulate_track`)."""
        return simulate_track(
            self.track.load(),
            ratios=self.ratios,
            variants=self.variants,
            steps=self.steps,
            layers=self.layers,
            skip=lambda variant, ratio: (variant, ratio) in self.done,
        )


def run_simulation_task(task: SimulationTask) -> list[SimulationRow]:
    """All rows of one task (what a worker runs)."""
    return list(task.rows())


def simulate_tracks(
    tracks: Sequence[Clip | Song],
    out: Path,
    *,
    ratios: Sequence[int] = RATIOS,
    variants: Sequence[str] = SIMULATION_VARIANTS,
    steps: int | None = None,
    layers: str | None = None,
    client: Client | None = None,
    progress: bool = True,
    report: Callable[[str], None],
) -> list[str]:
    """Run the experiment on every track, appending the rows to the CSV ``out`` as they finish.

    Resumable: conditions whose rows ``out`` holds already are not run again, and a row is never
    written twice (not even when a task is retried after its worker died). Without a client the
    tracks run here one after the other and each row is written as its condition ends; with one
    (:mod:`ipysvs.cluster`) one task per track runs on the cluster's workers and its rows are written
    when it ends. A track that fails (a silent voice: BSS Eval is undefined; an unreadable file) is
    reported and the others go on.

    Returns:
        The names of the tracks that failed.

    Raises:
        FileError: ``out`` cannot be read as such a CSV or cannot be written.
    """
    done = {(row.name, row.variant, row.ratio) for row in read_rows(out)}
    append_rows(out, [])  # an unwritable out is reported now, not after the first song
    tasks = [
        SimulationTask(
            track,
            tuple(ratios),
            tuple(variants),
            steps,
            layers,
            frozenset((v, r) for name, v, r in done if name == track.name),
        )
        for track in tracks
        if not all((track.name, v, r) in done for v in variants for r in ratios)
    ]
    failed: list[str] = []

    def write(rows: Iterable[SimulationRow]) -> None:
        fresh = []
        for row in rows:
            key = (row.name, row.variant, row.ratio)
            if key not in done:
                done.add(key)
                fresh.append(row)
        append_rows(out, fresh)

    def fail(name: str, reason: str) -> None:
        report(f"{name}: skipped ({reason})")
        failed.append(name)

    if client is None:
        from tqdm.auto import tqdm

        for task in tqdm(tasks, desc="simulate", unit="track", disable=not progress):
            try:
                for row in task.rows():
                    write([row])
            except FileError:
                raise  # out became unwritable: the run cannot go on
            except IpysvsError as error:
                fail(task.name, str(error))
        return failed
    from ..cluster import run_tasks

    run_tasks(
        run_simulation_task,
        tasks,
        client=client,
        on_result=lambda _task, rows: write(rows),
        on_failure=lambda failure: fail(failure.name, failure.reason),
        name=lambda task: task.name,
        progress=progress,
        desc="simulate",
        unit="track",
    )
    return failed


def _simulate_condition(
    session: Session, labels: Labels, variant: str, cut_s: float, *, steps: int | None, layers: str | None
) -> tuple[float, int]:
    """Give the corrections of ``variant`` up to ``cut_s`` and adapt; returns (seconds, steps)."""
    if variant == "svs":
        give_true_f0(session, labels, cut_s)  # scored for its F0; the separation stays the anchor's
        return 0.0, 0
    if variant in ("f0-svs", "svs-f0"):
        give_true_f0(session, labels, cut_s)
        if variant == "svs-f0" and not session.corrected.any():
            return 0.0, 0  # nothing to learn from: the anchor
        report = session.adapt(variant=variant, steps=steps, layers=layers, quiet=True)
        return report.seconds, report.steps
    mark_true_activity(session, labels, cut_s)
    silence = SILENCE_WEIGHT if variant == "activity" else 0.0
    # Cantisani's comparison trains separator layers: the plan given, or SVS->F0's
    plan = layers or SEPARATOR_LAYERS
    report = session.adapt(variant="f0-svs", steps=steps, layers=plan, silence_weight=silence, quiet=True)
    return report.seconds, report.steps


def give_true_f0(session: Session, labels: Labels, cut_s: float) -> None:
    """Correct every trajectory frame before ``cut_s`` seconds to the labelled F0 (one stroke)."""
    times = session.frame_times[session.frame_times < cut_s]
    if times.size >= 2:
        session.draw(times, frame_f0(times, labels.times, labels.f0_hz))


def mark_true_activity(session: Session, labels: Labels, cut_s: float) -> None:
    """Mark the labelled singing-voice activity before ``cut_s`` seconds, one mark per run."""
    inside = labels.times < min(cut_s, session.duration_s)
    times, vocal = labels.times[inside], labels.vocal[inside]
    if times.size < 2:
        return
    boundaries = np.flatnonzero(np.diff(vocal.astype(np.int8))) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [times.size]])
    step = float(np.median(np.diff(times)))
    for start, end in zip(starts, ends, strict=True):
        t0 = max(times[start] - step / 2, 0.0)
        t1 = min(times[end - 1] + step / 2, cut_s, session.duration_s)
        if t1 > t0:
            session.mark_activity(t0, t1, vocal=bool(vocal[start]))


def _uncorrected_pitch(labels: Labels, f0: Trajectory, cut_s: float) -> dict[str, float]:
    """Melody scores of ``f0`` on the labelled frames from ``cut_s`` on (NaN when there are none)."""
    uncorrected = labels.since(cut_s)
    if not (uncorrected.f0_hz > 0).any():
        return {"f0_rpa": math.nan, "f0_oa": math.nan}
    return melody_scores(uncorrected, f0)


# ----------------------------------------------------------------------------- results
def read_rows(path: Path) -> list[SimulationRow]:
    """Rows of a results CSV written by :func:`append_rows` (an absent file has none).

    Raises:
        FileError: the file cannot be read or is not such a CSV.
    """
    if not path.exists():
        return []
    types = {f.name: f.type for f in fields(SimulationRow)}
    convert = {"str": str, "int": int, "float": float}
    try:
        with path.open(newline="") as handle:
            return [
                SimulationRow(**{k: convert[types[k]](v) for k, v in row.items() if k in types})
                for row in csv.DictReader(handle)
            ]
    except (OSError, UnicodeDecodeError, csv.Error, TypeError, ValueError) as error:
        raise FileError(f"{path}: not a readable simulation CSV ({error}); pass another --out") from None


def append_rows(path: Path, rows: Iterable[SimulationRow]) -> None:
    """Append rows to a results CSV, writing the header when the file is new (flushed per row, so an
    interrupted run keeps what it finished).

    Raises:
        FileError: the file cannot be written.
    """
    names = [f.name for f in fields(SimulationRow)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.is_file() or path.stat().st_size == 0
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=names)
            if new:
                writer.writeheader()
            for row in rows:
                writer.writerow(asdict(row))
                handle.flush()
    except OSError as error:
        raise FileError(f"{path}: cannot write ({error.strerror or error})") from None


@dataclass(frozen=True)
class ConditionSummary:
    """Medians over songs of one condition. ``vocal_gain`` is the median per-song change of vocal SDR
    (dB) over the same variant at 0 %, ``anchor_gain`` over the pretrained separator (the ``svs`` row
    at 0 %); ``rpa_gain`` the median per-song change of the uncorrected
    part's raw pitch accuracy (fraction) over the unadapted estimate (the ``svs`` row of the same
    ratio). NaN without those rows."""

    variant: str
    ratio: int
    songs: int
    vocal_sdr: float
    acc_sdr: float
    f0_rpa_uncorrected: float
    vocal_gain: float
    anchor_gain: float
    rpa_gain: float


def median_table(rows: Sequence[SimulationRow]) -> list[ConditionSummary]:
    """One :class:`ConditionSummary` per (variant, ratio), variants in first-seen order, ratios ascending."""
    zero = {(r.name, r.variant): r.vocal_sdr for r in rows if r.ratio == 0}
    anchor = {name: sdr for (name, variant), sdr in zero.items() if variant == "svs"}
    unadapted = {(r.name, r.ratio): r.f0_rpa_uncorrected for r in rows if r.variant == "svs"}
    conditions = sorted({(r.variant, r.ratio) for r in rows}, key=lambda c: (_first_seen(rows, c[0]), c[1]))
    summaries = []
    for variant, ratio in conditions:
        chosen = [r for r in rows if (r.variant, r.ratio) == (variant, ratio)]
        gains = [r.vocal_sdr - zero[(r.name, variant)] for r in chosen if (r.name, variant) in zero]
        anchor_gains = [r.vocal_sdr - anchor[r.name] for r in chosen if r.name in anchor]
        rpa_gains = [
            r.f0_rpa_uncorrected - unadapted[(r.name, ratio)]
            for r in chosen
            if variant != "svs" and (r.name, ratio) in unadapted
        ]
        summaries.append(
            ConditionSummary(
                variant,
                ratio,
                len(chosen),
                _median([r.vocal_sdr for r in chosen]),
                _median([r.acc_sdr for r in chosen]),
                _median([r.f0_rpa_uncorrected for r in chosen]),
                _median(gains),
                _median(anchor_gains),
                _median(rpa_gains),
            )
        )
    return summaries


def _first_seen(rows: Sequence[SimulationRow], variant: str) -> int:
    return next(i for i, r in enumerate(rows) if r.variant == variant)


def _median(values: Sequence[float]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN
        return float(np.nanmedian(values)) if len(values) else math.nan


def format_condition_table(summaries: Sequence[ConditionSummary]) -> str:
    """The median table as aligned text."""
    lines = [
        f"{'variant':<16}{'ratio':>6}{'songs':>7}{'vocal SDR':>11}{'gain vs 0%':>12}{'vs svs':>8}"
        f"{'acc SDR':>9}{'RPA uncorr.':>13}{'RPA gain':>10}"
    ]
    for s in summaries:
        rpa = "-" if math.isnan(s.f0_rpa_uncorrected) else f"{100 * s.f0_rpa_uncorrected:.1f}"
        gain = "-" if math.isnan(s.vocal_gain) else f"{s.vocal_gain:+.2f}"
        anchor_gain = "-" if math.isnan(s.anchor_gain) else f"{s.anchor_gain:+.2f}"
        rpa_gain = "-" if math.isnan(s.rpa_gain) else f"{100 * s.rpa_gain:+.1f}"
        lines.append(
            f"{s.variant:<16}{s.ratio:>5}%{s.songs:>7}{s.vocal_sdr:>11.2f}{gain:>12}{anchor_gain:>8}"
            f"{s.acc_sdr:>9.2f}{rpa:>13}"
            f"{rpa_gain:>10}"
        )
    return "\n".join(lines)


def plot(summaries: Sequence[ConditionSummary], path: Path) -> Path:
    """A PNG like Nakano et al.'s Figure 4: median vocal SDR (left) and raw pitch accuracy on the
    uncorrected part (right) against the corrected ratio, one line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (sdr_axis, rpa_axis) = pyplot.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    styles = zip("osD^v", ("-", "--", "-", ":", "-."), strict=True)
    for variant, (marker, line) in zip(dict.fromkeys(s.variant for s in summaries), styles, strict=False):
        chosen = [s for s in summaries if s.variant == variant]
        ratios = [s.ratio for s in chosen]
        style = {"marker": marker, "linestyle": line, "label": variant, "alpha": 0.85}
        sdr_axis.plot(ratios, [s.vocal_sdr for s in chosen], **style)
        rpa_axis.plot(ratios, [100 * s.f0_rpa_uncorrected for s in chosen], **style)
    sdr_axis.set(xlabel="corrected (% of the song)", ylabel="median vocal SDR (dB)", title="Separation")
    rpa_axis.set(
        xlabel="corrected (% of the song)", ylabel="raw pitch accuracy (%)", title="F0, uncorrected part"
    )
    for axis in (sdr_axis, rpa_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise FileError(f"{path}: cannot write the plot ({error.strerror or error})") from None
    finally:
        pyplot.close(figure)
    return path
