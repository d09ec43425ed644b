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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import audio as audio_io
from ..analysis import SongAnalysis
from ..errors import FileError, ParameterError
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
    """Write ``saved`` into ``folder`` (created if needed); a U-Net file another session left there is
    removed when this one has no such changes.

    Raises:
        FileError: the folder cannot be written.
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
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "arrays.npz", **arrays)
        save_file(saved.model_state, str(folder / "model.safetensors"))
        for file, changed in ((PLAIN_NETS_FILE, saved.plain_changes), (JOINT_NETS_FILE, saved.joint_changes)):
            if changed:
                save_file(changed, str(folder / file))
            else:
                (folder / file).unlink(missing_ok=True)  # never keep another session's file
        (folder / "session.json").write_text(json.dumps(state, indent=1))
    except OSError as error:
        raise FileError(f"{folder}: cannot save the session ({error})") from None


def read_session(folder: Path) -> SavedSession:
    """Read a folder written by :func:`write_session`.

    Raises:
        FileError: the folder is missing, not a saved session, of another format, or damaged.
    """
    try:
        return _read(folder)
    except FileError:
        raise
    except ParameterError as error:  # an edit that does not fit the song
        raise FileError(f"{folder}: damaged saved session ({error})") from None
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise FileError(f"{folder}: not a readable saved session ({error})") from None


def _read(folder: Path) -> SavedSession:
    from safetensors.torch import load_file

    state = json.loads((folder / "session.json").read_text())
    if state.get("format") != SESSION_FORMAT:
        raise FileError(f"{folder}: unsupported session format {state.get('format')!r}")
    with np.load(folder / "arrays.npz") as stored:
        arrays = {key: stored[key] for key in stored.files}
    samples, sr = arrays["samples"], int(state["sr"])
    stored_layout = state["layout"]
    layout = audio_io.Layout(
        int(stored_layout["ndim"]), bool(stored_layout["channels_first"]), np.dtype(stored_layout["dtype"])
    )
    duration_s = samples.shape[1] / sr

    def changes(file: str) -> dict[str, torch.Tensor]:
        return load_file(str(folder / file)) if (folder / file).is_file() else {}

    return SavedSession(
        name=str(state["name"]),
        sr=sr,
        layout=layout,
        samples=samples,
        analysis=analysis_from_arrays(arrays, samples),
        pretrained_vocals=arrays.get("pretrained_vocals"),
        before_vocals=arrays.get("before_vocals"),
        model_state=load_file(str(folder / "model.safetensors")),
        plain_changes=changes(PLAIN_NETS_FILE),
        joint_changes=changes(JOINT_NETS_FILE),
        edits=edits_from_json(state["edits"], duration_s),
        redo=edits_from_json(state["redo"], duration_s),
    )


def edits_from_json(records: object, duration_s: float) -> list[Edit]:
    """Validated edits from a JSON list, for a song of ``duration_s`` seconds.

    Raises:
        ParameterError: not a list, or an edit that is malformed or outside the song.
    """
    if not isinstance(records, list):
        raise ParameterError(f"edits must be a JSON list, got {type(records).__name__}")
    return [edit_from_json(record, duration_s=duration_s) for record in records]
