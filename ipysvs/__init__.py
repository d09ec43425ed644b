"""ipysvs: interactive deep singing-voice separation in Jupyter.

Open a song, read its separation and vocal F0, correct the F0, adapt the model to the song, listen,
export. The package has three layers; each imports only the ones above it in this list.

Signal path (flat: one module per concern)
    :mod:`~ipysvs.audio`         reading, writing, resampling and validating audio
    :mod:`~ipysvs.spectral`      the STFT of the pretrained separator (44.1 kHz, 4096/1024)
    :mod:`~ipysvs.stems`         the names of a song's parts (``STEMS``, ``TRACKS``)
    :mod:`~ipysvs.f0`            pitch scales, :class:`~ipysvs.f0.Trajectory`, saliency decoding
    :mod:`~ipysvs.pitch`         whole-song saliency and F0, snapping onto a saliency ridge
    :mod:`~ipysvs.beats`         beat tracking
    :mod:`~ipysvs.models`        the networks: Spleeter's U-Nets, saliency network, F0 refiner
    :mod:`~ipysvs.separation`    :class:`Separator`, :func:`separate`: chunked whole-song separation
    :mod:`~ipysvs.conditioned`   separation refined by an F0 (the F0->SVS path)
    :mod:`~ipysvs.analysis`      one pass of separation, F0 and beats
    :mod:`~ipysvs.batch`         separating many files (``ipysvs separate``)
    :mod:`~ipysvs.demo`          the synthesised demo song with exact stems, F0 and beats
    :mod:`~ipysvs.progress`      the progress-callback protocol; :mod:`~ipysvs.errors` the errors;
    :mod:`~ipysvs.cache`         the on-disk cache folder

Interactive layer (:mod:`ipysvs.interactive`)
    :class:`Session` (:func:`open`, :func:`load`), its edits, crash-recovery journal
    (:func:`unsaved_sessions`, :func:`discard_unsaved`), adaptation
    (:class:`AdaptOptions`, :class:`AdaptReport`), re-separation, saved-session store, analysis cache.

Research layer (:mod:`ipysvs.research`, extra ``research``)
    MIR-1K datasets, evaluation metrics, the simulation experiment, training and augmentation.

Front ends
    :mod:`ipysvs.widgets` (the notebook app, registered as a Session's display) and
    :mod:`ipysvs.cli` (the ``ipysvs`` command).

Importing ``ipysvs`` is cheap: the names below, and the sub-modules as attributes
(``ipysvs.demo``), are imported when first used (PEP 562), so that the ``ipysvs`` command and a Dask
client that only hands out tasks do not import torch. Asking for a name of the interactive layer
also imports :mod:`ipysvs.widgets`, which registers a Session's notebook display.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import AudioFileError, FileError, IpysvsError, ParameterError, WeightsError
    from .f0 import Trajectory
    from .interactive.adaptation import AdaptOptions, AdaptReport
    from .interactive.journal import discard as discard_unsaved
    from .interactive.journal import unsaved_journals as unsaved_sessions
    from .interactive.session import Session, load, open
    from .separation import Separator, separate

__version__ = "0.1.0"

#: public name -> (module, attribute): what ``ipysvs.<name>`` is
_EXPORTS = {
    "AdaptOptions": (".interactive.adaptation", "AdaptOptions"),
    "AdaptReport": (".interactive.adaptation", "AdaptReport"),
    "AudioFileError": (".errors", "AudioFileError"),
    "FileError": (".errors", "FileError"),
    "IpysvsError": (".errors", "IpysvsError"),
    "ParameterError": (".errors", "ParameterError"),
    "Separator": (".separation", "Separator"),
    "Session": (".interactive.session", "Session"),
    "Trajectory": (".f0", "Trajectory"),
    "WeightsError": (".errors", "WeightsError"),
    "discard_unsaved": (".interactive.journal", "discard"),
    "load": (".interactive.session", "load"),
    "open": (".interactive.session", "open"),
    "separate": (".separation", "separate"),
    "unsaved_sessions": (".interactive.journal", "unsaved_journals"),
}

__all__ = [
    "AdaptOptions",
    "AdaptReport",
    "AudioFileError",
    "FileError",
    "IpysvsError",
    "ParameterError",
    "Separator",
    "Session",
    "Trajectory",
    "WeightsError",
    "discard_unsaved",
    "load",
    "open",
    "separate",
    "unsaved_sessions",
]


def __getattr__(name: str) -> Any:
    """``ipysvs.<name>``: a public name or a sub-module, imported on first use."""
    if name in _EXPORTS:
        module_name, attribute = _EXPORTS[name]
        if module_name.startswith(".interactive"):
            importlib.import_module(".widgets", __name__)  # registers the notebook display
        value = getattr(importlib.import_module(module_name, __name__), attribute)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
