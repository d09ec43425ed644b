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
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import audio as audio_io
from ..analysis import SongAnalysis
from ..cache import audio_key
from ..errors import FileError, IpysvsError, ParameterError, WeightsError
from ..f0 import Trajectory
from ..files import write_text_atomically
from ..listening import Player
from ..models.joint import JointModel, default_joint_model
from ..models.precision import reduced_precision
from ..models.unet import SeparationUNet
from ..pitch import snap_to_ridge
from ..progress import Progress, shown
from ..separation import default_separator
from ..stems import STEMS, TRACKS
from .adaptation import (
    AdaptOptions,
    AdaptReport,
    AdaptTargets,
    Region,
    changed_frames,
    default_steps,
    fine_tune,
    runs_separator,
    training_frames,
    vocal_change,
)
from .analysis_cache import cached_analysis
from .edits import (
    Draw,
    Edit,
    MarkActivity,
    SetF0,
    ShiftOctave,
    Snap,
    Unvoice,
    activity,
    apply_edits,
    validate_edit,
)
from .journal import Journal, JournalEntry, UnsavedEditsWarning, journal_folder, to_restore
from .journal import read as read_journal
from .reseparation import changed_tensors, nets_with_changes, reseparate, training_song
from .store import (
    JOINT_NETS_FILE,
    PLAIN_NETS_FILE,
    SavedSession,
    edits_from_json,
    read_session,
    write_session,
)

__all__ = ["OlderSessionWarning", "Session", "load", "open", "register_display"]


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
        # the current vocals and those before the last adaptation, (channels, samples); the
        # accompaniment is always the mixture minus the vocals, derived when asked for
        self._vocals = analysis.vocals
        self._vocals_before: np.ndarray | None = None
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
        return self._layout.restore(self._vocals)

    @property
    def accompaniment(self) -> np.ndarray:
        """The current accompaniment, shaped like :attr:`mixture`, at :attr:`sr`."""
        return self._layout.restore(self._samples - self._vocals)

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
        self._push(SetF0(t0, t1, hz), check_frames=True)

    def draw(self, times: np.ndarray, hz: np.ndarray) -> None:
        """A free-hand stroke: frames between its first and last point follow ``(times s, hz)``, two
        1-D sequences of one length (at least two points)."""
        if np.ndim(times) != 1 or len(times) < 2:
            raise ParameterError("a stroke needs at least two points (times and hz as 1-D sequences)")
        self._push(Draw(times[0], times[-1], times, hz))

    def unvoice(self, t0: float, t1: float) -> None:
        """Nobody sings in ``[t0, t1)`` s: delete the F0 there."""
        self._push(Unvoice(t0, t1))

    def shift_octave(self, t0: float, t1: float, octaves: int) -> None:
        """Move the voiced F0 in ``[t0, t1)`` s up (+1) or down (-1) an octave."""
        self._push(ShiftOctave(t0, t1, octaves))

    def snap(self, t0: float, t1: float) -> None:
        """Move the F0 in ``[t0, t1)`` s onto the nearest saliency ridge (within +-1 semitone of the
        current pitch; the strongest peak for unvoiced frames), recorded as a stroke in Hz."""
        span = validate_edit(Unvoice(t0, t1), duration_s=self.duration_s)
        t0, t1 = span.t0, span.t1
        covered = np.flatnonzero((self.frame_times >= t0) & (self.frame_times < t1))
        if covered.size < 2:
            raise ParameterError(f"[{t0}, {t1}) s covers {covered.size} frame(s); snap needs at least two")
        snapped = snap_to_ridge(self._salience[covered], self.f0.hz[covered])
        self._push(
            Snap(
                float(self.frame_times[covered[0]]),
                float(self.frame_times[covered[-1]]),
                tuple(self.frame_times[covered].tolist()),
                tuple(snapped.tolist()),
            )
        )

    def mark_activity(self, t0: float, t1: float, *, vocal: bool = True) -> None:
        """Mark the voice active (``vocal=True``) or silent in ``[t0, t1)`` s (Cantisani's annotations)."""
        self._push(MarkActivity(t0, t1, vocal))

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
        edit = validate_edit(edit, duration_s=self.duration_s)  # canonical: what is stored is checked
        if check_frames:
            apply_edits(self.frame_times, self._estimate.hz, [edit])  # raises if the count is wrong
        self._edits.append(edit)
        self._redo.clear()
        self._notify("edit")

    # ----------------------------------------------------------------- adaptation
    def adapt(
        self,
        options: AdaptOptions | None = None,
        *,
        variant: str | None = None,
        layers: str | None = None,
        steps: int | None = None,
        region: Region | None = None,
        learning_rate: float | None = None,
        silence_weight: float | None = None,
        learn_accompaniment: bool | None = None,
        progress: Progress | None = None,
        quiet: bool = False,
    ) -> AdaptReport:
        """Fine-tune the per-song model on the corrections, re-estimate the F0, re-separate.

        Transactional: copies of the networks are trained and swapped in only when everything
        succeeded; an exception or KeyboardInterrupt leaves model, trajectory and outputs exactly as
        before.

        Args:
            options: an :class:`~ipysvs.interactive.adaptation.AdaptOptions` (default: its defaults);
                the keyword arguments below, where given, override its fields of the same names --
                see there what each means.
            progress: called as ``progress(phase, done, total)`` (:mod:`ipysvs.progress`) with phases
                "train" (steps), "estimate" and "separate" (patches); without it, progress bars are
                drawn (a notebook widget, or text on stderr) unless ``quiet``.

        Returns:
            An :class:`~ipysvs.interactive.adaptation.AdaptReport`.

        Raises:
            ParameterError: bad options, a bad ``$IPYSVS_PRECISION``, or SVS->F0 with nothing corrected.
        """
        started = time.perf_counter()
        if options is not None and not isinstance(options, AdaptOptions):
            raise ParameterError(f"options must be an ipysvs AdaptOptions, got {type(options).__name__}")
        reduced_precision()  # a bad $IPYSVS_PRECISION is refused here, before any training
        given = {
            "variant": variant,
            "layers": layers,
            "steps": steps,
            "region": region,
            "learning_rate": learning_rate,
            "silence_weight": silence_weight,
            "learn_accompaniment": learn_accompaniment,
        }
        options = replace(options or AdaptOptions(), **{k: v for k, v in given.items() if v is not None})
        with shown(progress, f"adapt {self.name}", quiet=quiet) as reporter:
            return self._adapt(options, reporter, started)

    def _adapt(self, options: AdaptOptions, progress: Progress | None, started: float) -> AdaptReport:
        """:meth:`adapt` with checked ``options`` (``started``: its ``time.perf_counter()`` at the call)."""
        variant, layers, steps = options.variant, options.layer_plan, options.steps
        edited_hz, corrected = self._edited()
        frames = training_frames(corrected, options.region, self.frame_times)
        targets = AdaptTargets(edited_hz, frames, self.activity)
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
                training_song(
                    model,
                    self._samples,
                    self.sr,
                    self._analysis,
                    edited_hz,
                    corrected,
                    self.activity,
                    needs_mixture=uses_separator,
                    remix=bool(options.learn_accompaniment) and variant == "f0-svs",
                ),
                targets,
                variant=variant,
                layers=layers,
                steps=taken,
                learning_rate=options.learning_rate,
                silence_weight=options.silence_weight,
                progress=progress,
            )
        vocals, salience, estimate = reseparate(
            model,
            plain,
            self._samples,
            self.sr,
            self._analysis,
            self._edits,
            self.activity,
            progress,
            separator_trained=bool(changed_tensors((model.vocals, model.accompaniment))),
        )
        report = AdaptReport(
            variant=variant,
            layers=layers,
            losses=losses,
            steps=taken,
            epochs=epochs,
            changed_frames=changed_frames(self._estimate.hz, estimate.hz, ~corrected),
            vocal_change=vocal_change(vocals, self._vocals),
        )
        # commit: nothing above touched the session
        self._salience_before = self._salience
        self.model, self._estimate, self._salience = model, estimate, salience
        if plain is not None:
            self._plain = plain
        self._vocals_before, self._vocals = self._vocals, vocals
        report.seconds = time.perf_counter() - started
        self.reports.append(report)
        self._notify("adapt")
        return report

    @property
    def joint_separator_adapted(self) -> bool:
        """Whether an activity loss (``layers`` other than ``"none"``) adapted the joint model's U-Nets
        to this song, so that F0->SVS separates from scratch instead of refining the pretrained
        separation."""
        return bool(changed_tensors((self.model.vocals, self.model.accompaniment)))

    def _plain_nets(self) -> tuple[SeparationUNet, SeparationUNet]:
        """The unconditioned U-Nets SVS->F0 adapts (the pretrained ones until then)."""
        if self._plain is None:
            separator = default_separator()
            return separator.vocals_net, separator.accompaniment_net
        return self._plain

    # ----------------------------------------------------------------- outputs
    def stem(self, which: str, *, before: bool = False) -> np.ndarray:
        """``"vocals"``, ``"accompaniment"`` or ``"mixture"`` as ``(channels, samples)``; ``before=True``
        gives the output before the last adaptation."""
        if which not in TRACKS:
            raise ParameterError(f"choose one of {TRACKS}, got {which!r}")
        if which == "mixture":
            return self._samples
        vocals = self._vocals
        if before:
            if self._vocals_before is None:
                raise ParameterError("there is no 'before': the session has not been adapted yet")
            vocals = self._vocals_before
        return vocals if which == "vocals" else self._samples - vocals

    def audio(self, which: str = "vocals", *, before: bool = False, file_format: str = "ogg") -> Player:
        """A player of a stem (see :meth:`stem`) at the song's sample rate and channels, as a notebook
        shows it: Ogg Vorbis by default (a 133 s stereo song is about 3 MB), ``file_format="wav"`` for
        16-bit PCM (lossless, ten times the size). :meth:`export` writes the stems losslessly.

        Raises:
            ParameterError: an unknown stem or format.
        """
        return Player.of(self.stem(which, before=before), self.sr, file_format)

    def export(self, folder: str | Path, *, file_format: str = "wav", bit_depth: int | None = None) -> Path:
        """Write the stems, ``f0.csv`` and ``edits.json`` into ``folder``, each file atomically.

        Args:
            file_format: ``"wav"`` or ``"flac"``.
            bit_depth: bits per sample of the stems: 16, 24 or (wav only) 32-bit float; by default
                32-bit float wav (about 10.6 MB per stereo minute at 44.1 kHz) and 24-bit flac.

        Raises:
            ParameterError: an unknown file format or bit depth (nothing is written).
            FileError: a file cannot be written (no file is left half-written).
        """
        import json

        formats = [suffix.lstrip(".") for suffix in audio_io.WRITABLE_FORMATS]
        if not isinstance(file_format, str) or file_format not in formats:
            raise ParameterError(f"file_format must be one of {formats}, got {file_format!r:.40}")
        audio_io.bit_depth_subtype(f".{file_format}", bit_depth)
        folder = Path(folder)
        for which in STEMS:
            audio_io.write(folder / f"{which}.{file_format}", self.stem(which), self.sr, bit_depth=bit_depth)
        self.f0.to_csv(folder / "f0.csv")
        write_text_atomically(folder / "edits.json", json.dumps([e.to_json() for e in self._edits], indent=1))
        return folder

    def save(self, path: str | Path) -> Path:
        """Save the whole session -- audio, analysis, adapted model, edits with the redo stack, outputs
        -- into the folder ``path`` (:mod:`~ipysvs.interactive.store`). Reopen with :func:`load`.

        Raises:
            FileError: the folder cannot be written.
        """
        folder = Path(path)
        current = replace(
            self._analysis,
            vocals=self._vocals,
            salience=self._salience,
            f0=self._estimate,
        )
        write_session(
            folder,
            SavedSession(
                name=self.name,
                sr=self.sr,
                layout=self._layout,
                samples=self._samples,
                analysis=current,
                # F0->SVS adds what the pitch changes to the pretrained vocals, not to an adapted output
                pretrained_vocals=self._analysis.vocals,
                before_vocals=self._vocals_before,
                model_state=self.model.shipped_state(),
                plain_changes={} if self._plain is None else changed_tensors(self._plain),
                joint_changes=changed_tensors((self.model.vocals, self.model.accompaniment)),
                edits=list(self._edits),
                redo=list(self._redo),
            ),
        )
        if self._journal is not None:
            self._journal.saved(folder.resolve())
        return folder

    @classmethod
    def _from_saved(cls, saved: SavedSession, *, source: str) -> Session:
        """The session a :class:`~ipysvs.interactive.store.SavedSession` describes (``source``: where it
        was read, for messages)."""
        samples, analysis = saved.samples, saved.analysis
        session = cls(samples, saved.sr, saved.layout, analysis, name=saved.name)
        try:
            session.model.load_shipped_state(saved.model_state, source=source)
        except WeightsError as error:
            if "older ipysvs" not in str(error):
                raise
            warnings.warn(
                f"{source} was saved by an older ipysvs: its edits and separation are restored, its "
                "adapted model is not (it does not fit this release's networks). Call adapt() to adapt "
                "again.",
                OlderSessionWarning,
                stacklevel=4,
            )
        if saved.plain_changes:
            session._plain = nets_with_changes(saved.plain_changes, source=f"{source}/{PLAIN_NETS_FILE}")
        if saved.joint_changes:
            joint = nets_with_changes(saved.joint_changes, source=f"{source}/{JOINT_NETS_FILE}")
            session.model.vocals, session.model.accompaniment = joint
        session._edits, session._redo = list(saved.edits), list(saved.redo)
        if saved.before_vocals is not None:
            session._vocals_before = saved.before_vocals
        pretrained = saved.pretrained_vocals
        # a session saved before the pretrained vocals were stored: separate them again
        if pretrained is None and session._vocals_before is not None:
            pretrained = default_separator().separate_channels(samples, saved.sr)
        if pretrained is not None:
            session._analysis = replace(analysis, vocals=pretrained)
        return session

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
    restore: bool | str | Path | JournalEntry = False,
    journal: bool = True,
    progress: Progress | None = None,
    quiet: bool = False,
) -> Session:
    """Open a song (a file path, or an array with its sample rate) as a :class:`Session`.

    The initial analysis (separation, F0, beats) is cached on disk by the audio's content hash:
    opening the same song again is instant. While it runs, progress bars are drawn (a notebook
    widget, or text on stderr), unless ``quiet`` or ``progress`` is given.

    Args:
        restore: ``True`` replays the edits of this song's newest journal holding unsaved edits (an
            earlier session that was never saved, e.g. before a kernel restart;
            :mod:`ipysvs.interactive.journal`); a journal entry (from ``ipysvs.unsaved_sessions()``)
            or its path replays that one.
        journal: journal the edits of this session (scripts that open many throwaway sessions turn
            it off). Without ``restore``, a song whose newest journal holds unsaved edits warns
            with :class:`~ipysvs.interactive.journal.UnsavedEditsWarning`.
        progress: called as ``progress(phase, done, total)`` (:mod:`ipysvs.progress`) with the
            analysis's phases "beats", "separate" (patches) and "pitch", when the song is analysed.
        quiet: draw no progress bars.

    Raises:
        AudioFileError: the file is missing or unreadable.
        ParameterError: the array or sample rate is invalid, or the journal to restore belongs to
            another song.
        FileError: the journal to restore cannot be read or does not fit the song.
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
    name = name or "song"
    with shown(progress, f"open {name}", quiet=quiet) as reporter:
        analysis = cached_analysis(samples, sr, key, progress=reporter)
    session = Session(samples, sr, layout, analysis, name=name)
    return _journaled(session, key, restore=restore, journal=journal)


def _journaled(
    session: Session,
    key: str,
    *,
    restore: bool | str | Path | JournalEntry,
    journal: bool,
    saved_to: Path | None = None,
) -> Session:
    """Restore the newest journal's edits into ``session`` (``restore``) or warn that it holds unsaved
    ones, then attach a new journal (``journal``) starting from the session's history (see :func:`open`;
    ``saved_to``: the folder a loaded session came from)."""
    folder = journal_folder(key)
    if isinstance(restore, bool | np.bool_):
        entry = to_restore(folder) if (restore or journal) else None
    else:
        entry = _chosen_journal(restore, folder)
    if restore and entry is None:
        warnings.warn("ipysvs: no journal of this song to restore; it opens without edits", stacklevel=3)
    elif restore and entry is not None:
        _replay(session, entry)
        if entry.damaged_at is not None:
            warnings.warn(
                f"ipysvs: {entry.path} is damaged at line {entry.damaged_at}: the {len(entry.edits)} edit(s) "
                "journaled before it are restored, later ones could not be",
                stacklevel=3,
            )
    elif journal and entry is not None and entry.unsaved:
        warnings.warn(
            UnsavedEditsWarning(
                f"ipysvs: {len(entry.edits)} edit(s) of this song from {entry.written} were never saved; "
                "open it with restore=True to bring them back (ipysvs.unsaved_sessions() lists every "
                "unsaved session; s.save(folder) keeps the new ones)"
            ),
            stacklevel=3,
        )
    if journal:
        saved = saved_to.resolve() if saved_to is not None else None
        session._journal = Journal(folder, session.name, session._edits, session._redo, saved)
    return session


def _chosen_journal(choice: object, folder: Path) -> JournalEntry:
    """The journal ``restore=`` names (an entry or a path), checked to belong to this song.

    Raises:
        ParameterError: not an entry or path, or a journal of another song.
        FileError: the journal cannot be read.
    """
    if not isinstance(choice, JournalEntry | str | Path):
        raise ParameterError(
            f"restore must be True, False, or a journal from ipysvs.unsaved_sessions(), got {choice!r:.60}"
        )
    path = Path(choice.path if isinstance(choice, JournalEntry) else choice)
    if path.resolve().parent != folder.resolve():
        raise ParameterError(f"{path}: that journal belongs to another song (or is not a journal)")
    try:
        return read_journal(path)
    except (OSError, ValueError) as error:
        raise FileError(f"{path}: cannot read this journal ({error})") from None


def _replay(session: Session, entry: JournalEntry) -> None:
    """Give ``session`` the edits and redo stack of a journal.

    Raises:
        ParameterError: the journal holds an edit that does not fit this song.
    """
    try:
        session._edits = edits_from_json(entry.edits, session.duration_s)
        session._redo = edits_from_json(entry.redo, session.duration_s)
    except ParameterError as error:
        raise FileError(f"{entry.path}: cannot restore this journal ({error})") from None


def load(path: str | Path, *, journal: bool = True) -> Session:
    """Reopen a session saved by :meth:`Session.save`, with its adapted model and undo history.

    Args:
        journal: journal the edits made from here on (as :func:`open` does).

    Raises:
        FileError: the folder is missing, not a saved session, or damaged.
    """
    folder = Path(path)
    try:
        session = Session._from_saved(read_session(folder), source=str(folder))
    except (ParameterError, WeightsError) as error:
        raise FileError(f"{folder}: damaged saved session ({error})") from None
    key = audio_key(session._samples, session.sr)
    return _journaled(session, key, restore=False, journal=journal, saved_to=folder)
