"""Audio input/output, resampling and channel layouts.

Internally ipysvs holds audio as ``float32`` arrays shaped ``(channels, samples)`` at a sample rate in
Hz. Public functions accept the layouts users actually have -- ``(samples,)`` mono, ``(channels,
samples)`` as librosa and torch use, or ``(samples, channels)`` as soundfile returns -- and give results
back in the same layout through :class:`Layout`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AudioFileError, ParameterError
from .files import atomic_target

__all__ = [
    "BIT_DEPTHS",
    "DEFAULT_BIT_DEPTH",
    "IO_BLOCK",
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "WRITABLE_FORMATS",
    "Layout",
    "ResamplingStream",
    "all_finite",
    "as_channels_first",
    "bit_depth_subtype",
    "blocks",
    "fit_length",
    "open_writer",
    "read",
    "resample",
    "resampled_length",
    "validate_sample_rate",
    "write",
]

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 64
IO_BLOCK = 1 << 18  # samples per channel read, checked or written at a time (6 s at 44.1 kHz)
WRITABLE_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
#: bits per sample a written stem may have, per format (32 = 32-bit float), and the default
BIT_DEPTHS = {".wav": {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}, ".flac": {16: "PCM_16", 24: "PCM_24"}}
DEFAULT_BIT_DEPTH = {".wav": 32, ".flac": 24}


@dataclass(frozen=True)
class Layout:
    """How a user's array stores its samples, so results can be returned in the same shape.

    Attributes:
        ndim: 1 for a mono vector, 2 for a matrix.
        channels_first: for 2-D arrays, True when the array is ``(channels, samples)``.
        dtype: the caller's floating dtype (integer input is returned as float32).
    """

    ndim: int
    channels_first: bool
    dtype: np.dtype

    def restore(self, samples: np.ndarray) -> np.ndarray:
        """Turn internal ``(channels, samples)`` audio back into the caller's layout and dtype."""
        out = samples[0] if self.ndim == 1 else (samples if self.channels_first else samples.T)
        return np.ascontiguousarray(out, dtype=self.dtype)


def validate_sample_rate(sr: object) -> int:
    """Check that ``sr`` is a whole number of Hz in the supported range and return it as ``int``."""
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer, float, np.floating)):
        raise ParameterError(f"sample rate must be a number of Hz, got {type(sr).__name__}")
    if not isinstance(sr, (int, np.integer)) and not (np.isfinite(sr) and float(sr) == int(sr)):
        raise ParameterError(f"sample rate must be a whole number of Hz, got {sr!r:.40}")
    if not MIN_SAMPLE_RATE <= int(sr) <= MAX_SAMPLE_RATE:
        raise ParameterError(
            f"sample rate {int(sr)} Hz is outside the supported {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    return int(sr)


def as_channels_first(audio: object) -> tuple[np.ndarray, Layout]:
    """Validate a user's audio array and return it as float32 ``(channels, samples)`` plus its layout.

    The time axis of a 2-D array is the longer one (no real recording has more channels than
    samples); a square array is ambiguous and rejected.

    Raises:
        ParameterError: not a numeric array, not 1-D/2-D, empty, ambiguous, too many channels, or
            containing NaN/inf.
    """
    array = np.asarray(audio)
    if array.dtype.kind not in "fiu" or array.dtype.kind == "b":
        raise ParameterError(f"audio must be a numeric array, got dtype {array.dtype}")
    if array.ndim not in (1, 2):
        raise ParameterError(
            "audio must be 1-D (samples,) or 2-D (channels, samples) / (samples, channels); "
            f"got shape {array.shape}"
        )
    if array.size == 0:
        raise ParameterError(f"audio is empty (shape {array.shape}): there is nothing to separate")
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    if array.ndim == 1:
        samples = array[np.newaxis, :]
        layout = Layout(1, True, dtype)
    else:
        if array.shape[0] == array.shape[1]:
            raise ParameterError(
                f"audio of shape {array.shape} is ambiguous: cannot tell channels from samples"
            )
        channels_first = array.shape[0] < array.shape[1]
        samples = array if channels_first else array.T
        layout = Layout(2, channels_first, dtype)
    if samples.shape[0] > MAX_CHANNELS:
        raise ParameterError(f"audio has {samples.shape[0]} channels; at most {MAX_CHANNELS} are supported")
    samples = _to_float32(samples, array.dtype)
    if not all_finite(samples):
        raise ParameterError("audio contains NaN or infinite samples; clean or clip it first")
    return samples, layout


def _to_float32(samples: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert integer PCM to float32 in [-1, 1); floats are cast unchanged."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        scale = float(max(-info.min, info.max + 1))
        offset = (info.max + 1) / 2 if dtype.kind == "u" else 0.0
        return ((samples.astype(np.float64) - offset) / scale).astype(np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32)


def resample(samples: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``(channels, samples)`` audio from ``sr_in`` to ``sr_out`` Hz with soxr (high quality).

    Returns an array of ``round(n * sr_out / sr_in)`` samples per channel.
    """
    if sr_in == sr_out:
        return samples
    import soxr

    return np.ascontiguousarray(soxr.resample(samples.T, sr_in, sr_out, quality="HQ").T, dtype=np.float32)


def resampled_length(n_samples: int, sr_in: int, sr_out: int) -> int:
    """Samples per channel that :func:`resample` (or a :class:`ResamplingStream`) gives for
    ``n_samples`` input samples."""
    return n_samples if sr_in == sr_out else round(n_samples * sr_out / sr_in)


class ResamplingStream:
    """Resamples consecutive ``(channels, n)`` float32 blocks from ``sr_in`` to ``sr_out`` Hz; the
    concatenated output equals :func:`resample` of the concatenated input (soxr's streaming resampler).

    Args:
        channels: channels of every block.
        sr_in, sr_out: rates in Hz.
    """

    def __init__(self, channels: int, sr_in: int, sr_out: int) -> None:
        import soxr

        self.channels = channels
        self._stream = (
            None
            if sr_in == sr_out
            else soxr.ResampleStream(sr_in, sr_out, channels, dtype="float32", quality="HQ")
        )

    def push(self, block: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Resample the next ``(channels, n)`` block; ``last`` flushes the resampler's delay line.

        Returns:
            ``(channels, m)`` float32, the output that this block completes (``m`` varies).
        """
        if self._stream is None:
            return block
        out = self._stream.resample_chunk(np.ascontiguousarray(block.T, dtype=np.float32), last=last)
        return np.ascontiguousarray(out.reshape(-1, self.channels).T)


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad ``(channels, samples)`` audio to exactly ``length`` samples."""
    if samples.shape[1] >= length:
        return samples[:, :length]
    return np.pad(samples, ((0, 0), (0, length - samples.shape[1])))


def read(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 ``(channels, samples)`` at its own sample rate.

    Uses soundfile (wav, flac, ogg, mp3, aiff, ...) and falls back to librosa/audioread for other
    containers that ffmpeg can decode.

    Raises:
        AudioFileError: the file is missing, not decodable audio, or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    try:
        samples, sr = _read_soundfile(path)
    except Exception as soundfile_error:
        try:
            samples, sr = _read_librosa(path)
        except Exception:
            raise AudioFileError(f"{path}: not a readable audio file ({soundfile_error})") from None
    if samples.shape[1] == 0:
        raise AudioFileError(f"{path}: the file holds no audio samples (zero length)")
    if not all_finite(samples):
        raise AudioFileError(f"{path}: the file contains NaN or infinite samples")
    try:
        validate_sample_rate(sr)
    except ParameterError as error:
        raise AudioFileError(f"{path}: {error}") from None
    return samples, sr


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    """Decode block by block into one ``(channels, samples)`` array: the file's interleaved samples
    are never held whole beside it."""
    import soundfile

    with soundfile.SoundFile(str(path)) as file:
        n_frames = file.frames if file.seekable() else -1
        if n_frames < 0:  # a stream of unknown length: decode it whole
            data = file.read(dtype="float32", always_2d=True)
            return np.ascontiguousarray(data.T), int(file.samplerate)
        samples = np.empty((file.channels, n_frames), dtype=np.float32)
        done = 0
        for block in file.blocks(blocksize=IO_BLOCK, dtype="float32", always_2d=True):
            samples[:, done : done + len(block)] = block.T
            done += len(block)
        return samples[:, :done], int(file.samplerate)


def _read_librosa(path: Path) -> tuple[np.ndarray, int]:
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns that it fell back to audioread: we know
        data, sr = librosa.load(str(path), sr=None, mono=False)
    return np.atleast_2d(data).astype(np.float32), int(sr)


def all_finite(samples: np.ndarray) -> bool:
    """Whether ``(channels, samples)`` audio holds no NaN or inf, checked block by block (no
    song-sized temporary)."""
    return all(np.isfinite(block).all() for block in blocks(samples))


def blocks(samples: np.ndarray) -> Iterator[np.ndarray]:
    """``(channels, samples)`` audio as consecutive views of :data:`IO_BLOCK` samples per channel."""
    for start in range(0, samples.shape[1], IO_BLOCK):
        yield samples[:, start : start + IO_BLOCK]


@contextmanager
def open_writer(
    path: str | Path, sr: int, channels: int, *, bit_depth: int | None = None
) -> Iterator[Callable[[np.ndarray], None]]:
    """Write a .wav or .flac file block by block, atomically.

    Yields a function taking consecutive ``(channels, n)`` float blocks; the file appears at ``path``
    complete when the block ends without an exception, and not at all otherwise
    (:func:`ipysvs.files.atomic_target`). ``bit_depth`` (:data:`BIT_DEPTHS`): 16 or 24-bit integer
    samples (clipped to [-1, 1]), or 32-bit float for .wav; by default 32-bit float .wav and 24-bit
    .flac (:data:`DEFAULT_BIT_DEPTH`).

    Raises:
        AudioFileError: unsupported extension or the folder is not writable.
        ParameterError: a bit depth the format does not have.
    """
    import soundfile

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_FORMATS:
        raise AudioFileError(f"{path}: can only write {', '.join(WRITABLE_FORMATS)} files")
    subtype = bit_depth_subtype(suffix, bit_depth)
    with (
        atomic_target(path, error=AudioFileError) as temporary,
        soundfile.SoundFile(
            str(temporary), "w", sr, channels, subtype=subtype, format=WRITABLE_FORMATS[suffix]
        ) as file,
    ):

        def put(block: np.ndarray) -> None:
            data = block.T if subtype == "FLOAT" else np.clip(block.T, -1.0, 1.0)
            file.write(np.ascontiguousarray(data, dtype=np.float32))

        yield put


def bit_depth_subtype(suffix: str, bit_depth: object) -> str:
    """libsndfile's subtype for ``bit_depth`` bits in a ``suffix`` (``".wav"``, ``".flac"``) file.

    Raises:
        ParameterError: a bit depth the format does not have.
    """
    depths = BIT_DEPTHS[suffix]
    depth = DEFAULT_BIT_DEPTH[suffix] if bit_depth is None else bit_depth
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or int(depth) not in depths:
        raise ParameterError(
            f"bit_depth of a {suffix} file must be one of {sorted(depths)}, got {bit_depth!r:.40}"
        )
    return depths[int(depth)]


def write(path: str | Path, samples: np.ndarray, sr: int, *, bit_depth: int | None = None) -> Path:
    """Write ``(channels, samples)`` float audio to a .wav (32-bit float by default) or .flac (24-bit
    by default) file, atomically and block by block (:func:`open_writer`, which says what
    ``bit_depth`` may be).

    Raises:
        AudioFileError: unsupported extension or the folder is not writable.
        ParameterError: a bit depth the format does not have.
    """
    with open_writer(path, sr, samples.shape[0], bit_depth=bit_depth) as put:
        for block in blocks(samples):
            put(block)
    return Path(path)
