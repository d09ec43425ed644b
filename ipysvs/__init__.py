"""ipysvs: interactive deep singing-voice separation in Jupyter."""

from .errors import AudioFileError, IpysvsError, ParameterError, WeightsError
from .separation import Separator, separate
from .session import Session, load, open

__version__ = "0.1.0"

__all__ = [
    "AudioFileError",
    "IpysvsError",
    "ParameterError",
    "Separator",
    "Session",
    "WeightsError",
    "load",
    "open",
    "separate",
]
