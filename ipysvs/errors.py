"""Exceptions raised by ipysvs.

Every error a user can cause (a bad argument, an unreadable file, a malformed edit) is raised as a
subclass of :class:`IpysvsError`, with a message that says what is wrong and what to do about it.
"""

from __future__ import annotations

__all__ = ["AudioFileError", "FileError", "IpysvsError", "ParameterError", "WeightsError"]


class IpysvsError(Exception):
    """Base class of every error ipysvs raises on purpose."""


class ParameterError(IpysvsError, ValueError):
    """An argument has the wrong type, shape, range or value (also a :class:`ValueError`)."""


class FileError(IpysvsError, OSError):
    """A file or folder is missing, unreadable, malformed or cannot be written (also an :class:`OSError`)."""


class AudioFileError(FileError):
    """An audio file is missing, unreadable, empty or cannot be written."""


class WeightsError(IpysvsError, RuntimeError):
    """Model weights are missing, corrupt, or do not match the network they are loaded into."""
