"""Audio I/O, layouts, sample-rate validation and resampling."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from ipysvs import audio
from ipysvs.errors import AudioFileError, ParameterError


@pytest.mark.parametrize(
    ("shape", "channels_first"),
    [((1000,), True), ((2, 1000), True), ((1000, 2), False), ((6, 1000), True), ((1000, 3), False)],
)
def test_layout_round_trips(shape: tuple[int, ...], channels_first: bool) -> None:
    array = np.random.default_rng(0).standard_normal(shape).astype(np.float64)
    samples, layout = audio.as_channels_first(array)
    assert samples.dtype == np.float32 and samples.shape[1] == 1000
    assert layout.channels_first == channels_first
    restored = layout.restore(samples)
    assert restored.shape == array.shape and restored.dtype == np.float64
    np.testing.assert_allclose(restored, array, rtol=1e-6)


def test_integer_pcm_is_scaled_to_unit_range() -> None:
    pcm = np.array([-32768, 0, 16384, 32767], dtype=np.int16)
    samples, layout = audio.as_channels_first(pcm)
    np.testing.assert_allclose(samples[0], [-1.0, 0.0, 0.5, 32767 / 32768])
    assert layout.restore(samples).dtype == np.float32


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((0,)), "empty"),
        (np.zeros((4, 4)), "ambiguous"),
        (np.zeros((2, 3, 100)), "1-D"),
        (np.array(["a", "b"]), "numeric"),
        (np.array([0.0, np.nan, 0.0]), "NaN"),
        (np.array([0.0, np.inf, 0.0]), "NaN"),
        (np.zeros((100, 1000)), "channels"),
    ],
)
def test_bad_arrays_are_rejected_clearly(bad: np.ndarray, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        audio.as_channels_first(bad)


@pytest.mark.parametrize("sr", [0, 7999, 192001, 44100.5, float("nan"), "44100", True])
def test_bad_sample_rates_are_rejected(sr: object) -> None:
    with pytest.raises(ParameterError):
        audio.validate_sample_rate(sr)


@pytest.mark.parametrize("sr", [8000, 16000, 44100, 192000, 48000.0])
def test_good_sample_rates_are_accepted(sr: float) -> None:
    assert audio.validate_sample_rate(sr) == int(sr)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_read_formats(tmp_path, suffix: str) -> None:
    sr = 22050
    t = np.arange(sr) / sr
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)])
    path = tmp_path / f"tone{suffix}"
    soundfile.write(str(path), stereo.T, sr)
    samples, read_sr = audio.read(path)
    assert read_sr == sr and samples.shape[0] == 2 and samples.dtype == np.float32
    assert abs(samples.shape[1] - sr) < 0.1 * sr  # lossy codecs may pad
    # the channels are not swapped: the 440 Hz tone is on channel 0
    spectrum = np.abs(np.fft.rfft(samples[0, : sr // 2]))
    assert abs(np.argmax(spectrum) * 2 - 440) <= 4


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_write_then_read_is_lossless_enough(tmp_path, suffix: str) -> None:
    samples = (0.5 * np.random.default_rng(1).uniform(-1, 1, (3, 4000))).astype(np.float32)
    path = audio.write(tmp_path / "nested" / f"out{suffix}", samples, 48000)
    back, sr = audio.read(path)
    assert sr == 48000 and back.shape == samples.shape
    np.testing.assert_allclose(back, samples, atol=1e-6 if suffix == ".wav" else 2**-22)


def test_read_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(AudioFileError, match="no such file"):
        audio.read(tmp_path / "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(AudioFileError, match=r"notes\.wav: not a readable audio file"):
        audio.read(text)
    empty = tmp_path / "empty.wav"
    soundfile.write(str(empty), np.zeros((0, 2)), 44100)
    with pytest.raises(AudioFileError, match="zero length"):
        audio.read(empty)


def test_write_rejects_unknown_formats_and_unwritable_folders(tmp_path) -> None:
    samples = np.zeros((1, 10), dtype=np.float32)
    with pytest.raises(AudioFileError, match="can only write"):
        audio.write(tmp_path / "out.mp3", samples, 44100)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioFileError, match="cannot write"):
        audio.write(blocker / "out.wav", samples, 44100)


@pytest.mark.parametrize(("sr_in", "sr_out"), [(16000, 44100), (44100, 16000), (96000, 44100)])
def test_resample_keeps_pitch_and_length(sr_in: int, sr_out: int) -> None:
    t = np.arange(sr_in) / sr_in
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)[np.newaxis]
    out = audio.resample(tone, sr_in, sr_out)
    assert out.shape == (1, sr_out)
    spectrum = np.abs(np.fft.rfft(out[0]))
    assert abs(np.argmax(spectrum) - 1000) <= 1


def test_reading_in_blocks_equals_soundfile(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(audio, "IO_BLOCK", 1000)  # many blocks, a partial last one
    samples = np.random.default_rng(1).uniform(-1, 1, (12_345, 3)).astype(np.float32)
    soundfile.write(str(tmp_path / "a.wav"), samples, 32000, subtype="FLOAT")
    read, sr = audio.read(tmp_path / "a.wav")
    assert sr == 32000 and read.shape == (3, 12_345) and read.flags.c_contiguous
    np.testing.assert_array_equal(read, samples.T)


def test_a_writer_that_fails_half_way_leaves_nothing(tmp_path) -> None:
    target = tmp_path / "stem.wav"
    audio.write(target, np.zeros((2, 100), dtype=np.float32), 44100)
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt), audio.open_writer(target, 44100, 2) as put:
        put(np.ones((2, 5000), dtype=np.float32))
        raise KeyboardInterrupt
    assert target.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["stem.wav"]


def test_non_finite_samples_are_found_in_any_block(monkeypatch) -> None:
    monkeypatch.setattr(audio, "IO_BLOCK", 64)
    samples = np.zeros((2, 1000), dtype=np.float32)
    assert audio.all_finite(samples)
    samples[1, 999] = np.inf
    assert not audio.all_finite(samples)
