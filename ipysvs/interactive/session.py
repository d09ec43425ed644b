"""The Session: the single owner of one song's state, used the same way by scripts and widgets.

>>> s = ipysvs.open("song.ogg")          # doctest: +SKIP
>>> s.set_f0(12.0, 13.5, 220.0)          # doctest: +SKIP
>>> s.unvoice(20.0, 21.0)                # doctest: +SKIP
>>> report = s.adapt()                   # doctest: +SKIP
>>> s.audio("vocals")                    # doctest: +SKIP

A session holds the mixture, a per-song copy of the joint model, the initial analysis (separation,
F0 saliency, beats; cached on disk by content hash, so reopening a song is instant), the ordered list
of edits with its redo stack, and the current and previous outputs. Every edit is validated before
anything changes; a rejected edit leaves the session exactly as it was.
"""

from __future__ import annotations

import copy
import hashlib
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .. import audio as audio_io
from ..analysis import SongAnalysis, analyse
from ..cache import audio_key, cache_dir, write_atomically
from ..conditioned import ConditionedSeparator, RefinementSeparator
from ..errors import AudioFileError, IpysvsError, ParameterError, WeightsError
from ..f0 import Trajectory, bin_to_hz, hz_to_bin
from ..models.joint import SHIPPED_WEIGHTS, JointModel, default_joint_model
from ..models.joint import STEMS as SEPARATOR_STEMS
from ..models.unet import SeparationUNet
from ..pitch import salience_trajectory, song_salience
from ..separation import Separator, VocalFrames, default_separator, mixture_spectrum
from .adaptation import (
    SILENCE_WEIGHT,
    AdaptProgress,
    AdaptReport,
    AdaptTargets,
    Region,
    SongTensors,
    changed_frames,
    check_options,
    default_layers,
    default_steps,
    fine_tune,
    pitch_gate,
    runs_separator,
    training_frames,
)
from .edits import (
    Draw,
    Edit,
    MarkActivity,
    SetF0,
    ShiftOctave,
    Unvoice,
    activity,
    apply_edits,
    edit_from_json,
    validate_edit,
)
from .journal import Journal, JournalEntry, UnsavedEditsWarning, journal_folder, newest
from .song_remix import SongRemix

ANALYSIS_VERSION = "1"
SESSION_FORMAT = "ipysvs-session-1"
STEMS = ("vocals", "accompaniment", "mixture")
SNAP_SEARCH_BINS = 5  # +-100 cents around the current pitch
PLAIN_NETS_FILE = "separator.safetensors"  # the U-Nets SVS->F0 adapted, only the changed tensors
JOINT_NETS_FILE = "joint-separator.safetensors"  # the joint model's U-Nets, if an activity loss adapted them


DisplayFactory = Callable[["Session"], object]
_display: DisplayFactory | None = None  # what Session.show() builds; registered by ipysvs.widgets


def register_display(factory: DisplayFactory) -> None:
    """Make ``factory(session)`` what :meth:`Session.show` returns (the notebook app); the widgets
    register theirs, so that the Session knows nothing of screens."""
    global _display
    _display = factory


class OlderSessionWarning(UserWarning):
    """A saved session was made with older weights: it loads without its adapted model."""


class Session:
    """One song being separated, corrected and adapted. Create it with :func:`ipysvs.open`.

    Attributes:
        sr: the song's sample rate in Hz.
        name: a label for the song (its file stem, or "song").
        model: the per-song copy of the joint model (replaced by :meth:`adapt`).
    """

    def __init__(
        self, samples: np.ndarray, sr: int, layout: audio_io.Layout, analysis: SongAnalysis, *, name: str
    ) -> None:
        self._samples = samples
        self.sr = sr
        self._layout = layout
        self.name = name
        self.model: JointModel = copy.deepcopy(default_joint_model())
        self._analysis = analysis
        self._estimate = analysis.f0
        self._salience = analysis.salience
        self._edits: list[Edit] = []
        self._redo: list[Edit] = []
        self._outputs = (analysis.vocals, analysis.accompaniment)
        self._before: tuple[np.ndarray, np.ndarray] | None = None
        self._salience_before: np.ndarray | None = None
        self._edited_cache: tuple[tuple, tuple[np.ndarray, np.ndarray]] | None = None
        self.reports: list[AdaptReport] = []
        self._listeners: list[Callable[[str], None]] = []
        self._plain: tuple[SeparationUNet, SeparationUNet] | None = None  # adapted by SVS->F0
        self._journal: Journal | None = None  # crash recovery of the edits (ipysvs.interactive.journal)

    # ----------------------------------------------------------------- observers
    def observe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(kind)`` after every change: kind is "edit", "undo", "redo" or "adapt".

        Widgets use this to redraw when a script changes the session. Returns a function that stops
        the notifications.
        """
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _notify(self, kind: str) -> None:
        if self._journal is not None:
            self._record(self._journal, kind)
        for callback in list(self._listeners):
            callback(kind)

    def _record(self, journal: Journal, kind: str) -> None:
        """Journal the change ``kind`` that just happened."""
        if kind == "edit":
            journal.edit(self._edits[-1])
        elif kind == "undo":
            journal.undo()
        elif kind == "redo":
            journal.redo()

    # ----------------------------------------------------------------- state
    @property
    def duration_s(self) -> float:
        """Length of the song in seconds."""
        return self._samples.shape[1] / self.sr

    @property
    def mixture(self) -> np.ndarray:
        """The mixture, in the layout it was given."""
        return self._layout.restore(self._samples)

    @property
    def vocals(self) -> np.ndarray:
        """The current vocals, shaped like :attr:`mixture`, at :attr:`sr`."""
        return self._layout.restore(self._outputs[0])

    @property
    def accompaniment(self) -> np.ndarray:
        """The current accompaniment, shaped like :attr:`mixture`, at :attr:`sr`."""
        return self._layout.restore(self._outputs[1])

    @property
    def beats(self) -> np.ndarray:
        """Beat times in seconds."""
        return self._analysis.beats

    @property
    def salience(self) -> np.ndarray:
        """``(frames, 320)`` the current model's F0 saliency at :attr:`frame_times`."""
        return self._salience

    def salience_before(self) -> np.ndarray:
        """``(frames, 320)`` the saliency before the last adaptation (the current one if none)."""
        return self._salience if self._salience_before is None else self._salience_before

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` has an edit to take back."""
        return bool(self._edits)

    @property
    def can_redo(self) -> bool:
        """Whether :meth:`redo` has an undone edit to bring back (saved sessions keep their redo stack)."""
        return bool(self._redo)

    @property
    def frame_times(self) -> np.ndarray:
        """``(frames,)`` the trajectory's frame times in seconds."""
        return self._estimate.times

    @property
    def edits(self) -> tuple[Edit, ...]:
        """The edits in the order they were made (undone ones excluded)."""
        return tuple(self._edits)

    @property
    def f0(self) -> Trajectory:
        """The vocal F0: the model's estimate with every edit applied (confidence 1 where corrected)."""
        hz, corrected = self._edited()
        confidence = np.where(corrected, 1.0, self._estimate.confidence).astype(np.float32)
        return Trajectory(self.frame_times, hz.copy(), confidence)

    @property
    def estimate(self) -> Trajectory:
        """The model's own F0 estimate, without edits."""
        return self._estimate.copy()

    @property
    def corrected(self) -> np.ndarray:
        """``(frames,)`` bool: frames whose F0 the user fixed."""
        return self._edited()[1].copy()

    def _edited(self) -> tuple[np.ndarray, np.ndarray]:
        """``(hz, corrected)`` of the estimate with the edits replayed, remembered until the estimate
        or the list of edits changes (the editor asks for both after every edit)."""
        key = (self._estimate, *self._edits)  # the objects themselves: compared by identity
        cached = self._edited_cache
        fresh = cached is not None and len(cached[0]) == len(key)
        if not (fresh and all(a is b for a, b in zip(cached[0], key, strict=True))):
            cached = self._edited_cache = (key, apply_edits(self.frame_times, self._estimate.hz, self._edits))
        return cached[1]

    @property
    def activity(self) -> np.ndarray:
        """``(frames,)`` int8: 1 marked singing, -1 marked silent, 0 unmarked."""
        return activity(self.frame_times, self._edits)

    # ----------------------------------------------------------------- edits
    def set_f0(self, t0: float, t1: float, hz: float | np.ndarray) -> None:
        """Set the F0 of frames in ``[t0, t1)`` s to ``hz`` (a constant, or one value per frame there)."""
        values = np.asarray(hz, dtype=np.float64)
        if values.ndim > 1:
            raise ParameterError(f"hz must be a number or a 1-D array, got shape {values.shape}")
        if values.ndim == 1:
            self._push(SetF0(float(t0), float(t1), tuple(float(v) for v in values)), check_frames=True)
        else:
            self._push(SetF0(float(t0), float(t1), float(values)))

    def draw(self, times: np.ndarray, hz: np.ndarray) -> None:
        """A free-hand stroke: frames between its first and last point follow ``(times s, hz)``."""
        times, hz = np.asarray(times, dtype=np.float64), np.asarray(hz, dtype=np.float64)
        if times.ndim != 1 or times.size < 2:
            raise ParameterError("a stroke needs at least two points (times and hz as 1-D arrays)")
        self._push(Draw(float(times[0]), float(times[-1]), tuple(times.tolist()), tuple(hz.tolist())))

    def unvoice(self, t0: float, t1: float) -> None:
        """Nobody sings in ``[t0, t1)`` s: delete the F0 there."""
        self._push(Unvoice(float(t0), float(t1)))

    def shift_octave(self, t0: float, t1: float, octaves: int) -> None:
        """Move the voiced F0 in ``[t0, t1)`` s up (+1) or down (-1) an octave."""
        self._push(ShiftOctave(float(t0), float(t1), octaves))

    def snap(self, t0: float, t1: float) -> None:
        """Move the F0 in ``[t0, t1)`` s onto the nearest saliency ridge (within +-1 semitone of the
        current pitch; the strongest peak for unvoiced frames), recorded as a stroke in Hz."""
        validate_edit(Unvoice(float(t0), float(t1)), duration_s=self.duration_s)
        covered = np.flatnonzero((self.frame_times >= t0) & (self.frame_times < t1))
        if covered.size < 2:
            raise ParameterError(f"[{t0}, {t1}) s covers {covered.size} frame(s); snap needs at least two")
        current = self.f0.hz[covered]
        snapped = np.array([self._ridge(frame, hz) for frame, hz in zip(covered, current, strict=True)])
        self._push(
            Draw(
                float(self.frame_times[covered[0]]),
                float(self.frame_times[covered[-1]]),
                tuple(self.frame_times[covered].tolist()),
                tuple(snapped.tolist()),
            )
        )

    def mark_activity(self, t0: float, t1: float, *, vocal: bool = True) -> None:
        """Mark the voice active (``vocal=True``) or silent in ``[t0, t1)`` s (Cantisani's annotations)."""
        self._push(MarkActivity(float(t0), float(t1), vocal))

    def undo(self) -> bool:
        """Undo the last edit; returns False when there is nothing to undo."""
        if not self._edits:
            return False
        self._redo.append(self._edits.pop())
        self._notify("undo")
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; returns False when there is nothing to redo."""
        if not self._redo:
            return False
        self._edits.append(self._redo.pop())
        self._notify("redo")
        return True

    def apply_edit(self, edit: Edit) -> None:
        """Add an already built :class:`~ipysvs.interactive.edits.Edit` (as the widget does), validated
        first."""
        self._push(edit, check_frames=isinstance(edit, SetF0))

    def _push(self, edit: Edit, *, check_frames: bool = False) -> None:
        validate_edit(edit, duration_s=self.duration_s)
        if check_frames:
            apply_edits(self.frame_times, self._estimate.hz, [edit])  # raises if the count is wrong
        self._edits.append(edit)
        self._redo.clear()
        self._notify("edit")

    def _ridge(self, frame: int, hz: float) -> float:
        row = self._salience[frame]
        if hz <= 0:
            peak = int(np.argmax(row))
        else:
            centre = int(np.clip(round(float(hz_to_bin(hz))), 0, row.size - 1))
            lo, hi = max(centre - SNAP_SEARCH_BINS, 0), min(centre + SNAP_SEARCH_BINS + 1, row.size)
            peak = lo + int(np.argmax(row[lo:hi]))
        neighbours = np.arange(max(peak - 1, 0), min(peak + 2, row.size))
        weights = row[neighbours] + 1e-9
        return float(bin_to_hz(np.sum(neighbours * weights) / np.sum(weights)))

    # ----------------------------------------------------------------- adaptation
    def adapt(
        self,
        *,
        variant: str = "f0-svs",
        layers: str | None = None,
        steps: int | None = None,
        region: Region = "up-to-last",
        learning_rate: float = 3e-4,
        silence_weight: float = SILENCE_WEIGHT,
        learn_accompaniment: bool = False,
        progress: AdaptProgress | None = None,
    ) -> AdaptReport:
        """Fine-tune the per-song model on the corrections, re-estimate the F0, re-separate.

        Transactional: copies of the networks are trained and swapped in only when everything
        succeeded; an exception or KeyboardInterrupt leaves model, trajectory and outputs exactly as
        before.

        Args:
            variant: ``"f0-svs"`` (Nakano's F0->SVS: the saliency network learns the corrected F0 and
                the separator is conditioned on the F0; with no corrections this only re-separates with
                the estimated F0) or ``"svs-f0"`` (the pitch loss trains the separator through the
                saliency network reading its output).
            layers: which separator layers the activity loss (and, in SVS->F0, the pitch loss) trains:
                ``"none"``, ``"decoder"``, ``"all"`` or ``"from:K"`` (encoder blocks K..5). Default:
                ``"none"`` for F0->SVS (the separator is never retrained), ``"from:3"`` for SVS->F0.
            steps: optimisation steps (default 15 for F0->SVS, 8 when the separator trains).
            region: frames the F0 loss sees: ``"up-to-last"`` (the paper: every frame up to the
                last corrected one), ``"corrected"`` (only corrected frames) or spans
                ``[(t0, t1), ...]`` in seconds (every frame in them counts as checked).
            learning_rate: Adam's learning rate of the saliency network (separator layers: a tenth).
            silence_weight: Cantisani's lambda on the vocals where nobody sings (0 = reconstruction
                only).
            learn_accompaniment: F0->SVS: where the edits show that nobody sings (deletions, silent
                marks, long unvoiced runs of corrected F0), also train the refiner on remixes of this
                song's own accompaniment and corrected voice (:mod:`ipysvs.interactive.song_remix`). Off by
                default: it did not pay in our measurements and doubles the training time
                (``benchmarks/RESULTS.md``, section 7).
            progress: ``progress(phase, fraction)`` with phase "train", "estimate", "separate".

        Returns:
            An :class:`~ipysvs.interactive.adaptation.AdaptReport`.

        Raises:
            ParameterError: bad arguments, or SVS->F0 with nothing corrected.
        """
        started = time.perf_counter()
        layers = default_layers(variant) if layers is None and variant in ("f0-svs", "svs-f0") else layers
        check_options(
            variant=variant,
            layers=layers,
            steps=steps,
            learning_rate=learning_rate,
            silence_weight=silence_weight,
            learn_accompaniment=learn_accompaniment,
        )
        edited_hz, corrected = self._edited()
        targets = AdaptTargets(edited_hz, training_frames(corrected, region, self.frame_times), self.activity)
        if targets.empty and variant == "svs-f0":
            raise ParameterError("SVS->F0 learns only from corrections: correct part of the F0 first")
        model = copy.deepcopy(self.model)
        plain = copy.deepcopy(self._plain_nets()) if variant == "svs-f0" else None
        losses, epochs, taken = [], 0.0, 0
        if not targets.empty:
            uses_separator = runs_separator(variant, layers, targets)
            taken = steps or default_steps(uses_separator=uses_separator)
            losses, epochs = fine_tune(
                model,
                plain,
                self._training_song(
                    model,
                    edited_hz,
                    corrected,
                    uses_separator,
                    remix=bool(learn_accompaniment) and variant == "f0-svs",
                ),
                targets,
                variant=variant,
                layers=layers,
                steps=taken,
                learning_rate=learning_rate,
                silence_weight=silence_weight,
                progress=progress,
            )
        vocals, salience, estimate = self._reseparate(
            model,
            plain,
            progress,
            separator_trained=bool(_changed_tensors((model.vocals, model.accompaniment))),
        )
        report = AdaptReport(
            variant=variant,
            layers=layers,
            losses=losses,
            steps=taken,
            epochs=epochs,
            changed_frames=changed_frames(self._estimate.hz, estimate.hz, ~corrected),
            before=self._outputs,
            after=(vocals, self._samples - vocals),
        )
        # commit: nothing above touched the session
        self._salience_before = self._salience
        self.model, self._estimate, self._salience = model, estimate, salience
        if plain is not None:
            self._plain = plain
        self._before, self._outputs = self._outputs, report.after
        report.seconds = time.perf_counter() - started
        self.reports.append(report)
        self._notify("adapt")
        return report

    @property
    def joint_separator_adapted(self) -> bool:
        """Whether an activity loss (``layers`` other than ``"none"``) adapted the joint model's U-Nets
        to this song, so that F0->SVS separates from scratch instead of refining the pretrained
        separation."""
        return bool(_changed_tensors((self.model.vocals, self.model.accompaniment)))

    def _plain_nets(self) -> tuple[SeparationUNet, SeparationUNet]:
        """The unconditioned U-Nets SVS->F0 adapts (the pretrained ones until then)."""
        if self._plain is None:
            separator = default_separator()
            return separator.vocals_net, separator.accompaniment_net
        return self._plain

    def _training_song(
        self,
        model: JointModel,
        edited_hz: np.ndarray,
        corrected: np.ndarray,
        needs_mixture: bool,
        *,
        remix: bool,
    ) -> SongTensors:
        """The song as the training loop reads it (the mixture only when needed)."""
        hz, gate = self._conditioning(edited_hz, corrected, self._estimate, corrections=bool(corrected.any()))
        spectrum = mixture_spectrum(self._samples, self.sr) if needs_mixture or remix else None
        song_remix = None
        if remix and spectrum is not None:
            ratio = self._pretrained_ratio(spectrum.abs())
            song_remix = SongRemix.prepare(model, spectrum, ratio, edited_hz, corrected, self.activity)
        return SongTensors(
            vocal_magnitude=self._analysis.vocal_magnitude,
            mixture_magnitude=spectrum.abs() if needs_mixture and spectrum is not None else None,
            comb_hz=torch.from_numpy(hz.astype(np.float32)),
            comb_weight=torch.from_numpy(gate.astype(np.float32)),
            remix=song_remix,
        )

    def _pretrained_ratio(self, magnitude: torch.Tensor) -> torch.Tensor:
        """``(2, frames, 1024)`` the pretrained separator's vocal ratio of every frame, from the vocal
        magnitudes of the first separation and the mixture ``magnitude``."""
        return (self._analysis.vocal_magnitude / magnitude.clamp_min(1e-8)).clamp(0, 1)

    def _conditioning(
        self, edited_hz: np.ndarray, corrected: np.ndarray, estimate: Trajectory, *, corrections: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """The F0 and gate of the refiner (see :func:`~ipysvs.interactive.adaptation.pitch_gate`)."""
        silent = self.activity < 0
        return pitch_gate(edited_hz, corrected | silent, estimate, corrections=corrections)

    def _reseparate(
        self,
        model: JointModel,
        plain: tuple[SeparationUNet, SeparationUNet] | None,
        progress: AdaptProgress | None,
        *,
        separator_trained: bool,
    ) -> tuple[np.ndarray, np.ndarray, Trajectory]:
        """Vocals ``(channels, samples)``, saliency ``(frames, 320)`` and F0 estimate of the adapted
        networks."""
        report_progress = None if progress is None else lambda done, total: progress("separate", done / total)
        if plain is not None:  # SVS->F0: separate, then read the F0 off the adapted vocals
            collector = VocalFrames()
            separator = Separator(*plain)
            vocals = separator.separate_channels(
                self._samples, self.sr, progress=report_progress, collector=collector
            )
            salience = song_salience(model.salience, collector.magnitude)
            return vocals, salience, salience_trajectory(salience)
        salience = song_salience(model.salience, self._analysis.vocal_magnitude)
        estimate = salience_trajectory(salience)
        if progress is not None:
            progress("estimate", 1.0)
        edited_hz, corrected = apply_edits(self.frame_times, estimate.hz, self._edits)
        hz, gate = self._conditioning(edited_hz, corrected, estimate, corrections=bool(corrected.any()))
        if separator_trained:  # the song's own U-Nets (Cantisani's option): separate from scratch
            separator = ConditionedSeparator(model, hz, gate)
            return (
                separator.separate_channels(self._samples, self.sr, progress=report_progress),
                salience,
                estimate,
            )
        # the pretrained separation stays; only what the pitch adds is separated
        refinement = RefinementSeparator(model, self._analysis.vocal_magnitude, hz, gate)
        vocals = self._analysis.vocals
        if refinement.has_change():
            vocals = vocals + refinement.separate_channels(self._samples, self.sr, progress=report_progress)
        return vocals, salience, estimate

    # ----------------------------------------------------------------- outputs
    def stem(self, which: str, *, before: bool = False) -> np.ndarray:
        """``"vocals"``, ``"accompaniment"`` or ``"mixture"`` as ``(channels, samples)``; ``before=True``
        gives the output before the last adaptation."""
        if which not in STEMS:
            raise ParameterError(f"choose one of {STEMS}, got {which!r}")
        if which == "mixture":
            return self._samples
        outputs = self._outputs
        if before:
            if self._before is None:
                raise ParameterError("there is no 'before': the session has not been adapted yet")
            outputs = self._before
        return outputs[0] if which == "vocals" else outputs[1]

    def audio(self, which: str = "vocals", *, before: bool = False):
        """An ``IPython.display.Audio`` player of a stem (see :meth:`stem`)."""
        from IPython.display import Audio

        return Audio(self.stem(which, before=before), rate=self.sr, normalize=False)

    def export(self, folder: str | Path, *, file_format: str = "wav") -> Path:
        """Write the stems (wav or flac), ``f0.csv`` and ``edits.json`` into ``folder``."""
        import json

        folder = Path(folder)
        for which in ("vocals", "accompaniment"):
            audio_io.write(folder / f"{which}.{file_format}", self.stem(which), self.sr)
        self.f0.to_csv(folder / "f0.csv")
        (folder / "edits.json").write_text(json.dumps([e.to_json() for e in self._edits], indent=1))
        return folder

    def save(self, path: str | Path) -> Path:
        """Save the whole session -- audio, analysis, adapted model, edits with the redo stack, outputs
        -- into the folder ``path`` (JSON, npz and safetensors; never pickle). Reopen with :func:`load`."""
        import json

        from safetensors.torch import save_file

        folder = Path(path)
        layout = self._layout
        state = {
            "format": SESSION_FORMAT,
            "name": self.name,
            "sr": self.sr,
            "layout": {
                "ndim": layout.ndim,
                "channels_first": layout.channels_first,
                "dtype": layout.dtype.str,
            },
            "edits": [e.to_json() for e in self._edits],
            "redo": [e.to_json() for e in self._redo],
        }
        current = replace(
            self._analysis,
            vocals=self._outputs[0],
            accompaniment=self._outputs[1],
            salience=self._salience,
            f0=self._estimate,
        )
        # the pretrained vocals too: F0->SVS adds what the pitch changes to them, not to an adapted output
        arrays = {
            "samples": self._samples,
            **_analysis_arrays(current),
            "pretrained_vocals": self._analysis.vocals,
        }
        if self._before is not None:
            arrays["before_vocals"] = self._before[0]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            np.savez(folder / "arrays.npz", **arrays)
            save_file(self.model.shipped_state(), str(folder / "model.safetensors"))
            for file, nets in (
                (PLAIN_NETS_FILE, self._plain),
                (JOINT_NETS_FILE, (self.model.vocals, self.model.accompaniment)),
            ):
                changed = _changed_tensors(nets) if nets is not None else {}
                if changed:
                    save_file(changed, str(folder / file))
                else:
                    (folder / file).unlink(missing_ok=True)  # never keep another session's file
            (folder / "session.json").write_text(json.dumps(state, indent=1))
        except OSError as error:
            raise AudioFileError(f"{folder}: cannot save the session ({error})") from None
        if self._journal is not None:
            self._journal.saved(folder.resolve())
        return folder

    # ----------------------------------------------------------------- display
    def show(self) -> object:
        """The notebook app: F0 editor, spectrogram views, players and a status line (an ipywidget).

        Raises:
            IpysvsError: no notebook display is registered (``import ipysvs`` registers the widgets').
        """
        if _display is None:
            raise IpysvsError("no notebook display is registered: import ipysvs.widgets first")
        return _display(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.show())

    def __repr__(self) -> str:
        return (
            f"<ipysvs.Session {self.name!r}: {self.duration_s:.1f} s at {self.sr} Hz, "
            f"{_count(len(self._edits), 'edit')}, {_count(int(self.corrected.sum()), 'corrected frame')}>"
        )


def _count(number: int, noun: str) -> str:
    """``"1 edit"``, ``"3 edits"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def open(
    source: str | Path | np.ndarray,
    sr: int | None = None,
    *,
    name: str | None = None,
    restore: bool = False,
    journal: bool = True,
) -> Session:
    """Open a song (a file path, or an array with its sample rate) as a :class:`Session`.

    The initial analysis (separation, F0, beats) is cached on disk by the audio's content hash:
    opening the same song again is instant.

    Args:
        restore: replay the edits of this song's newest journal (an earlier session that was never
            saved, e.g. before a kernel restart; :mod:`ipysvs.interactive.journal`).
        journal: journal the edits of this session (scripts that open many throwaway sessions turn
            it off). Without ``restore``, a song whose newest journal holds unsaved edits warns
            with :class:`~ipysvs.interactive.journal.UnsavedEditsWarning`.

    Raises:
        AudioFileError: the file is missing or unreadable.
        ParameterError: the array or sample rate is invalid, or the journal to restore is damaged.
    """
    if isinstance(source, (str, Path)):
        if sr is not None:
            raise ParameterError("sr is read from the file; pass sr only with an array")
        samples, sr = audio_io.read(source)
        layout = audio_io.Layout(2, True, np.dtype(np.float32))
        name = name or Path(source).stem
    else:
        if sr is None:
            raise ParameterError("give the sample rate of the array: ipysvs.open(array, sr)")
        samples, layout = audio_io.as_channels_first(source)
        sr = audio_io.validate_sample_rate(sr)
    key = audio_key(samples, sr)
    session = Session(samples, sr, layout, cached_analysis(samples, sr, key), name=name or "song")
    return _journaled(session, key, restore=restore, journal=journal)


def _journaled(
    session: Session, key: str, *, restore: bool, journal: bool, saved_to: Path | None = None
) -> Session:
    """Restore the newest journal's edits into ``session`` (``restore``) or warn that it holds unsaved
    ones, then attach a new journal (``journal``) starting from the session's history (see :func:`open`;
    ``saved_to``: the folder a loaded session came from)."""
    folder = journal_folder(key)
    entry = newest(folder) if (restore or journal) else None
    if restore and entry is None:
        warnings.warn("ipysvs: no journal of this song to restore; it opens without edits", stacklevel=3)
    elif restore and entry is not None:
        _replay(session, entry)
    elif journal and entry is not None and entry.unsaved:
        warnings.warn(
            UnsavedEditsWarning(
                f"ipysvs: {len(entry.edits)} edit(s) of this song from {entry.written} were never saved; "
                "open it with restore=True to bring them back (or s.save(folder) to keep the new ones)"
            ),
            stacklevel=3,
        )
    if journal:
        saved = saved_to.resolve() if saved_to is not None else None
        session._journal = Journal(folder, session.name, session._edits, session._redo, saved)
    return session


def _replay(session: Session, entry: JournalEntry) -> None:
    """Give ``session`` the edits and redo stack of a journal.

    Raises:
        ParameterError: the journal holds an edit that does not fit this song.
    """
    try:
        session._edits = _edits_from_json(entry.edits, session.duration_s)
        session._redo = _edits_from_json(entry.redo, session.duration_s)
    except ParameterError as error:
        raise ParameterError(f"{entry.path}: cannot restore this journal ({error})") from None


def load(path: str | Path, *, journal: bool = True) -> Session:
    """Reopen a session saved by :meth:`Session.save`, with its adapted model and undo history.

    Args:
        journal: journal the edits made from here on (as :func:`open` does).

    Raises:
        ParameterError: the folder is not a saved session or is damaged.
    """
    folder = Path(path)
    try:
        session = _load(folder)
        key = audio_key(session._samples, session.sr)
        return _journaled(session, key, restore=False, journal=journal, saved_to=folder)
    except ParameterError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise ParameterError(f"{folder}: not a readable saved session ({error})") from None


def _load(folder: Path) -> Session:
    import json

    from safetensors.torch import load_file

    state = json.loads((folder / "session.json").read_text())
    if state.get("format") != SESSION_FORMAT:
        raise ParameterError(f"{folder}: unsupported session format {state.get('format')!r}")
    with np.load(folder / "arrays.npz") as saved:
        arrays = {key: saved[key] for key in saved.files}
    samples, sr = arrays["samples"], int(state["sr"])
    analysis = _analysis_from_arrays(arrays, samples)
    saved_layout = state["layout"]
    layout = audio_io.Layout(
        int(saved_layout["ndim"]), bool(saved_layout["channels_first"]), np.dtype(saved_layout["dtype"])
    )
    session = Session(samples, sr, layout, analysis, name=str(state["name"]))
    try:
        session.model.load_shipped_state(load_file(str(folder / "model.safetensors")), source=str(folder))
    except WeightsError as error:
        if "older ipysvs" not in str(error):
            raise
        warnings.warn(
            f"{folder} was saved by an older ipysvs: its edits and separation are restored, its adapted "
            "model is not (that model's separator was retrained). Call adapt() to adapt again.",
            OlderSessionWarning,
            stacklevel=3,
        )
    if (folder / PLAIN_NETS_FILE).is_file():
        session._plain = _plain_nets_with(load_file(str(folder / PLAIN_NETS_FILE)), source=str(folder))
    if (folder / JOINT_NETS_FILE).is_file():
        joint = _plain_nets_with(load_file(str(folder / JOINT_NETS_FILE)), source=str(folder))
        session.model.vocals, session.model.accompaniment = joint
    duration = samples.shape[1] / sr
    session._edits = _edits_from_json(state["edits"], duration)
    session._redo = _edits_from_json(state["redo"], duration)
    if "before_vocals" in arrays:
        session._before = (arrays["before_vocals"], samples - arrays["before_vocals"])
    pretrained = arrays.get("pretrained_vocals")
    if pretrained is None and session._before is not None:  # saved before the pretrained vocals were
        pretrained = default_separator().separate_channels(samples, sr)
    if pretrained is not None:
        session._analysis = replace(analysis, vocals=pretrained, accompaniment=samples - pretrained)
    return session


def _edits_from_json(records: object, duration_s: float) -> list[Edit]:
    """Validated edits from a JSON list.

    Raises:
        ParameterError: not a list, or an edit that is malformed or outside the song.
    """
    if not isinstance(records, list):
        raise ParameterError(f"edits must be a JSON list, got {type(records).__name__}")
    return [edit_from_json(record, duration_s=duration_s) for record in records]


def _changed_tensors(nets: tuple[SeparationUNet, SeparationUNet]) -> dict[str, torch.Tensor]:
    """The tensors of SVS->F0-adapted U-Nets that differ from the pretrained ones, as
    ``{"vocals.<name>" | "accompaniment.<name>": tensor}``."""
    pretrained = default_separator()
    changed = {}
    for stem, net, original in zip(
        SEPARATOR_STEMS, nets, (pretrained.vocals_net, pretrained.accompaniment_net), strict=True
    ):
        reference = original.state_dict()
        for name, value in net.state_dict().items():
            if not torch.equal(value, reference[name]):
                changed[f"{stem}.{name}"] = value.detach().contiguous().clone()
    return changed


def _plain_nets_with(
    changed: Mapping[str, torch.Tensor], *, source: str
) -> tuple[SeparationUNet, SeparationUNet]:
    """Copies of the pretrained U-Nets with the saved ``changed`` tensors put back."""
    pretrained = default_separator()
    nets = (copy.deepcopy(pretrained.vocals_net), copy.deepcopy(pretrained.accompaniment_net))
    states = {stem: net.state_dict() for stem, net in zip(SEPARATOR_STEMS, nets, strict=True)}
    with torch.no_grad():
        for key, value in changed.items():
            stem, _, name = key.partition(".")
            target = states.get(stem, {}).get(name)
            if target is None or target.shape != value.shape:
                raise ParameterError(f"{source}: {PLAIN_NETS_FILE} holds an unexpected tensor {key!r}")
            target.copy_(value)
    return nets


def content_key(samples: np.ndarray, sr: int, audio: str | None = None) -> str:
    """A hash of the audio (its :func:`~ipysvs.cache.audio_key`, computed unless given), the analysis
    version and the weights."""
    audio = audio or audio_key(samples, sr)
    weights = SHIPPED_WEIGHTS.stat().st_size if SHIPPED_WEIGHTS.is_file() else 0
    return hashlib.sha256(f"{ANALYSIS_VERSION}:{weights}:{audio}".encode()).hexdigest()[:32]


def cached_analysis(samples: np.ndarray, sr: int, audio: str | None = None) -> SongAnalysis:
    """:func:`~ipysvs.analysis.analyse`, from the on-disk cache when this audio was analysed before
    (``audio``: the audio's :func:`~ipysvs.cache.audio_key`, if already computed)."""
    path = cache_dir() / "analysis" / f"{content_key(samples, sr, audio)}.npz"
    if path.is_file():
        try:
            with np.load(path) as saved:
                return _analysis_from_arrays(saved, samples)
        except (OSError, KeyError, ValueError):
            pass  # a damaged cache entry is recomputed
    arrays = _analysis_arrays(analyse(samples, sr))
    write_atomically(path, lambda temporary: np.savez(temporary, **arrays))
    # what the cache holds, not the fresh analysis: a song opened now and reopened later (or restored
    # after a crash) adapts to the same model and the same vocals
    return _analysis_from_arrays(arrays, samples)


def _analysis_arrays(analysis: SongAnalysis) -> dict[str, np.ndarray]:
    """The arrays that store an analysis (the accompaniment is derived from the mixture on reading)."""
    return {
        "vocals": analysis.vocals,
        "vocal_magnitude": analysis.vocal_magnitude.numpy().astype(np.float16),
        "salience": analysis.salience.astype(np.float16),
        "f0_times": analysis.f0.times,
        "f0_hz": analysis.f0.hz,
        "f0_confidence": analysis.f0.confidence,
        "beats": analysis.beats,
    }


def _analysis_from_arrays(arrays: Mapping[str, np.ndarray], samples: np.ndarray) -> SongAnalysis:
    """Rebuild what :func:`_analysis_arrays` stored, for the mixture ``samples``."""
    return SongAnalysis(
        vocals=arrays["vocals"],
        accompaniment=samples - arrays["vocals"],
        vocal_magnitude=torch.from_numpy(arrays["vocal_magnitude"].astype(np.float32)),
        salience=arrays["salience"].astype(np.float32),
        f0=Trajectory(arrays["f0_times"], arrays["f0_hz"], arrays["f0_confidence"]),
        beats=arrays["beats"],
    )
