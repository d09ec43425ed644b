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
"""

from . import widgets  # noqa: F401  (registers the notebook display of a Session)
from .errors import AudioFileError, FileError, IpysvsError, ParameterError, WeightsError
from .f0 import Trajectory
from .interactive.adaptation import AdaptOptions, AdaptReport
from .interactive.journal import discard as discard_unsaved
from .interactive.journal import unsaved_journals as unsaved_sessions
from .interactive.session import Session, load, open
from .separation import Separator, separate

__version__ = "0.1.0"

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
