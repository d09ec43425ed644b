"""The saved-session format: a folder of JSON, npz and safetensors files (never pickle).

* ``session.json``: format, name, sample rate, the caller's array layout, edits and redo stack;
* ``arrays.npz``: the mixture, the current analysis
  (:func:`~ipysvs.interactive.analysis_cache.analysis_arrays`), the pretrained vocals and the vocals
  before the last adaptation;
* ``model.safetensors``: the joint model's own networks
  (:meth:`~ipysvs.models.joint.JointModel.shipped_state`);
* ``separator.safetensors`` / ``joint-separator.safetensors``: only the U-Net tensors that an
  adaptation changed (SVS->F0's plain U-Nets / the joint model's, after an activity loss), absent when
  none did.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import audio as audio_io
from ..analysis import SongAnalysis
from ..errors import FileError, ParameterError
from ..files import replace_folder_atomically
from .analysis_cache import analysis_arrays, analysis_from_arrays
from .edits import Edit, edit_from_json

__all__ = [
    "JOINT_NETS_FILE",
    "PLAIN_NETS_FILE",
    "SESSION_FORMAT",
    "SavedSession",
    "edits_from_json",
    "read_session",
    "write_session",
]

SESSION_FORMAT = "ipysvs-session-1"
PLAIN_NETS_FILE = "separator.safetensors"  # the U-Nets SVS->F0 adapted, only the changed tensors
JOINT_NETS_FILE = "joint-separator.safetensors"  # the joint model's U-Nets, if an activity loss adapted them


@dataclass
class SavedSession:
    """Everything a saved session holds.

    Attributes:
        name, sr: the song's label and sample rate (Hz); ``layout`` the caller's array layout.
        samples: ``(channels, samples)`` the mixture.
        analysis: the current analysis: outputs, saliency and F0 estimate of the adapted model.
        pretrained_vocals: ``(channels, samples)`` the pretrained separator's vocals (None in sessions
            saved before they were kept).
        before_vocals: the vocals before the last adaptation (None if never adapted).
        model_state: the joint model's own tensors.
        plain_changes, joint_changes: changed U-Net tensors
            (:func:`~ipysvs.interactive.reseparation.changed_tensors`).
        edits, redo: the edit history and the redo stack.
    """

    name: str
    sr: int
    layout: audio_io.Layout
    samples: np.ndarray
    analysis: SongAnalysis
    pretrained_vocals: np.ndarray | None
    before_vocals: np.ndarray | None
    model_state: dict[str, torch.Tensor]
    plain_changes: dict[str, torch.Tensor]
    joint_changes: dict[str, torch.Tensor]
    edits: list[Edit]
    redo: list[Edit]


def write_session(folder: Path, saved: SavedSession) -> None:
    """Write ``saved`` as the folder ``folder``, atomically: the whole session is written beside it
    and then put in its place (:func:`~ipysvs.files.replace_folder_atomically`), so a failure leaves the
    folder as it was and nothing of another session saved there before survives.

    Raises:
        FileError: the folder cannot be written, or it exists and holds something other than a saved
            session (it is never replaced then).
    """
    from safetensors.torch import save_file

    layout = saved.layout
    state = {
        "format": SESSION_FORMAT,
        "name": saved.name,
        "sr": saved.sr,
        "layout": {"ndim": layout.ndim, "channels_first": layout.channels_first, "dtype": layout.dtype.str},
        "edits": [edit.to_json() for edit in saved.edits],
        "redo": [edit.to_json() for edit in saved.redo],
    }
    arrays = {"samples": saved.samples, **analysis_arrays(saved.analysis)}
    if saved.pretrained_vocals is not None:
        arrays["pretrained_vocals"] = saved.pretrained_vocals
    if saved.before_vocals is not None:
        arrays["before_vocals"] = saved.before_vocals
    if _holds_other_things(folder):
        raise FileError(f"{folder}: exists and is not a saved session; save into a new or empty folder")

    def fill(staging: Path) -> None:
        np.savez(staging / "arrays.npz", **arrays)
        save_file(saved.model_state, str(staging / "model.safetensors"))
        for file, changed in ((PLAIN_NETS_FILE, saved.plain_changes), (JOINT_NETS_FILE, saved.joint_changes)):
            if changed:
                save_file(changed, str(staging / file))
        (staging / "session.json").write_text(json.dumps(state, indent=1))

    try:
        replace_folder_atomically(folder, fill)
    except FileError as error:
        raise FileError(f"cannot save the session: {error}") from None


def _holds_other_things(folder: Path) -> bool:
    """Whether ``folder`` is a file, or a folder with something in it that is not a saved session."""
    try:
        if folder.is_dir():
            return not (folder / "session.json").is_file() and any(folder.iterdir())
        return folder.exists()
    except OSError as error:
        raise FileError(f"{folder}: cannot be read ({error})") from None


def read_session(folder: Path) -> SavedSession:
    """Read a folder written by :func:`write_session`.

    Raises:
        FileError: the folder is missing, not a saved session, of another format, or damaged.
    """
    from safetensors import SafetensorError

    unreadable = (OSError, KeyError, ValueError, TypeError, AttributeError, EOFError, zipfile.BadZipFile)
    try:
        return _read(folder)
    except FileError:
        raise
    except ParameterError as error:  # an edit that does not fit the song
        raise FileError(f"{folder}: damaged saved session ({error})") from None
    except (*unreadable, SafetensorError) as error:
        raise FileError(f"{folder}: not a readable saved session ({error})") from None


def _read(folder: Path) -> SavedSession:
    from safetensors.torch import load_file

    state = json.loads((folder / "session.json").read_text())
    if not isinstance(state, dict) or state.get("format") != SESSION_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise FileError(f"{folder}: unsupported session format {found!r:.60}")
    with np.load(folder / "arrays.npz", allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    samples, sr = arrays["samples"], audio_io.validate_sample_rate(state["sr"])
    if samples.dtype != np.float32 or samples.ndim != 2 or not 1 <= samples.shape[0] <= 64:
        raise ValueError(
            f"the mixture must be (channels, samples) float32, got {samples.dtype} {samples.shape}"
        )
    if not audio_io.all_finite(samples):
        raise ValueError("the mixture holds NaN or infinity")
    stored_layout = state["layout"]
    if not isinstance(stored_layout.get("ndim"), int) or stored_layout["ndim"] not in (1, 2):
        raise ValueError(f"layout ndim must be 1 or 2, got {stored_layout.get('ndim')!r:.40}")
    dtype = np.dtype(stored_layout["dtype"])
    if dtype.kind != "f":
        raise ValueError(f"layout dtype must be a float type, got {dtype}")
    layout = audio_io.Layout(stored_layout["ndim"], bool(stored_layout["channels_first"]), dtype)
    duration_s = samples.shape[1] / sr

    def changes(file: str) -> dict[str, torch.Tensor]:
        return load_file(str(folder / file)) if (folder / file).is_file() else {}

    return SavedSession(
        name=str(state["name"]),
        sr=sr,
        layout=layout,
        samples=samples,
        analysis=analysis_from_arrays(arrays, samples, sr),
        pretrained_vocals=_optional_vocals(arrays, "pretrained_vocals", samples),
        before_vocals=_optional_vocals(arrays, "before_vocals", samples),
        model_state=load_file(str(folder / "model.safetensors")),
        plain_changes=changes(PLAIN_NETS_FILE),
        joint_changes=changes(JOINT_NETS_FILE),
        edits=edits_from_json(state["edits"], duration_s),
        redo=edits_from_json(state["redo"], duration_s),
    )


def _optional_vocals(arrays: dict[str, np.ndarray], name: str, samples: np.ndarray) -> np.ndarray | None:
    """``arrays[name]`` if stored, checked to be finite float32 vocals of the mixture's shape.

    Raises:
        ValueError: they are not.
    """
    vocals = arrays.get(name)
    if vocals is None:
        return None
    if vocals.dtype != np.float32 or vocals.shape != samples.shape or not audio_io.all_finite(vocals):
        raise ValueError(f"{name} must be finite float32 {samples.shape}, got {vocals.dtype} {vocals.shape}")
    return vocals


def edits_from_json(records: object, duration_s: float) -> list[Edit]:
    """Validated edits from a JSON list, for a song of ``duration_s`` seconds.

    Raises:
        ParameterError: not a list, or an edit that is malformed or outside the song.
    """
    if not isinstance(records, list):
        raise ParameterError(f"edits must be a JSON list, got {type(records).__name__}")
    return [edit_from_json(record, duration_s=duration_s) for record in records]
