"""ipysvs: interactive deep singing-voice separation in Jupyter."""

from .errors import AudioFileError, IpysvsError, ParameterError, WeightsError
from .separation import Separator, separate

__version__ = "0.1.0"

__all__ = ["AudioFileError", "IpysvsError", "ParameterError", "Separator", "WeightsError", "separate"]
