"""ipysvs: interactive deep singing-voice separation in Jupyter."""

from . import widgets  # noqa: F401  (registers the notebook display of a Session)
from .errors import AudioFileError, FileError, IpysvsError, ParameterError, WeightsError
from .interactive.session import Session, load, open
from .separation import Separator, separate

__version__ = "0.1.0"

__all__ = [
    "AudioFileError",
    "FileError",
    "IpysvsError",
    "ParameterError",
    "Separator",
    "Session",
    "WeightsError",
    "load",
    "open",
    "separate",
]
