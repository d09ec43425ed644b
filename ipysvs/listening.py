"""Listening in the notebook: stems as compressed audio at their own sample rate and channels.

A player embeds the audio in the notebook's HTML, so its size matters: a 133 s stereo song is 31 MB
as a WAV data URI but about 3 MB as Ogg Vorbis (:data:`VORBIS_LEVEL`). Exports stay lossless
(:func:`ipysvs.audio.write`); this is for listening only.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np

from . import audio as audio_io
from .errors import ParameterError

__all__ = ["LISTENING_FORMATS", "VORBIS_LEVEL", "Player", "encode"]

#: what a player can embed: Ogg Vorbis (compressed, the default) or 16-bit WAV (lossless, large)
LISTENING_FORMATS = {"ogg": ("OGG", "VORBIS", "audio/ogg"), "wav": ("WAV", "PCM_16", "audio/wav")}
#: libsndfile's Vorbis compression level (0 = best quality, 1 = smallest): about 130-160 kbit/s in stereo
VORBIS_LEVEL = 0.5
#: samples per channel handed to the encoder at a time (libsndfile's Vorbis encoder crashes on very
#: long single writes)
ENCODE_BLOCK = 1 << 16


def encode(samples: np.ndarray, sr: int, file_format: str = "ogg") -> bytes:
    """``(channels, samples)`` float audio at ``sr`` Hz as the bytes of an audio file.

    Args:
        samples: ``(channels, samples)`` float, nominally in [-1, 1] (clipped there).
        sr: sample rate in Hz, kept as it is.
        file_format: a key of :data:`LISTENING_FORMATS`.

    Raises:
        ParameterError: an unknown format, a wrong shape, or samples that are not finite.
    """
    import soundfile

    if not isinstance(file_format, str) or file_format not in LISTENING_FORMATS:
        formats = sorted(LISTENING_FORMATS)
        raise ParameterError(f"file_format must be one of {formats}, got {file_format!r:.40}")
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[0] < 1 or samples.dtype.kind != "f":
        got = f"{samples.dtype} {samples.shape}"
        raise ParameterError(f"audio to play must be float (channels, samples), got {got}")
    if not audio_io.all_finite(samples):
        raise ParameterError("audio to play holds NaN or infinite samples")
    sr = audio_io.validate_sample_rate(sr)
    container, subtype, _ = LISTENING_FORMATS[file_format]
    level = {"compression_level": VORBIS_LEVEL} if subtype == "VORBIS" else {}
    buffer = io.BytesIO()
    with soundfile.SoundFile(buffer, "w", sr, samples.shape[0], subtype, format=container, **level) as file:
        for start in range(0, samples.shape[1], ENCODE_BLOCK):
            block = samples[:, start : start + ENCODE_BLOCK]
            file.write(np.clip(block, -1.0, 1.0).T.astype(np.float32))
    return buffer.getvalue()


@dataclass(frozen=True)
class Player:
    """An HTML audio player of encoded audio (what ``Session.audio`` returns; a notebook shows it).

    Attributes:
        data: the audio file's bytes.
        mimetype: ``"audio/ogg"`` or ``"audio/wav"``.
        sr: sample rate in Hz; channels: the number of channels.
    """

    data: bytes
    mimetype: str
    sr: int
    channels: int

    @classmethod
    def of(cls, samples: np.ndarray, sr: int, file_format: str = "ogg") -> Player:
        """The player of ``(channels, samples)`` audio at ``sr`` Hz (see :func:`encode`)."""
        data = encode(samples, sr, file_format)
        return cls(data, LISTENING_FORMATS[file_format][2], int(sr), int(np.shape(samples)[0]))

    def _repr_html_(self) -> str:
        source = f"data:{self.mimetype};base64,{base64.b64encode(self.data).decode('ascii')}"
        label = html.escape(f"{self.channels} channel(s), {self.sr} Hz")
        return f'<audio controls preload="metadata" title="{label}" src="{source}"></audio>'

    def __repr__(self) -> str:
        size = f"{len(self.data) / 1e6:.1f} MB"
        return f"<ipysvs Player {self.mimetype}, {self.channels} ch, {self.sr} Hz, {size}>"
