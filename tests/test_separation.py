"""Whole-song separation: shapes, rates, layouts, exact chunking, continuity, public API."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ipysvs
from ipysvs.errors import ParameterError
from ipysvs.separation import Separator, extend_ratio, plan_patches
from ipysvs.spectral import HOP, N_FFT, OverlapAdd, frame_count, hann_window, stft_frames

from .conftest import harmonic_tone


class ConstantRatioSeparator(Separator):
    """A separator whose vocal ratio is a constant: isolates the chunking machinery from the nets."""

    def __init__(self, ratio: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ratio = ratio

    def vocal_ratio(self, magnitude: torch.Tensor, patches=()) -> torch.Tensor:
        return torch.full_like(magnitude, self.ratio)


@pytest.mark.parametrize("n_frames", [1, 63, 64, 512, 513, 960, 5000])
@pytest.mark.parametrize("overlap", [0, 32, 64])
def test_patches_cover_every_frame_with_weights_summing_to_one(n_frames: int, overlap: int) -> None:
    patches = plan_patches(n_frames, overlap=overlap)
    total = torch.zeros(patches[-1].start + patches[-1].length)
    for patch in patches:
        assert patch.length == 512  # Spleeter's patch length, also for the last one
        total[patch.start : patch.start + patch.length] += patch.weights
    torch.testing.assert_close(total[:n_frames], torch.ones(n_frames))
    assert patches[-1].start < n_frames


def test_patch_plan_rejects_bad_overlap() -> None:
    with pytest.raises(ParameterError):
        plan_patches(100, overlap=300)
    with pytest.raises(ParameterError):
        plan_patches(0)


@pytest.mark.parametrize(("start", "stop"), [(0, 40), (17, 90), (120, 140), (-5, 3)])
def test_stft_frames_match_a_whole_song_stft(start: int, stop: int) -> None:
    signal = torch.randn(2, 130 * HOP + 77)
    window = hann_window()
    full = torch.stft(
        signal, N_FFT, HOP, window=window, center=True, pad_mode="constant", return_complex=True
    )
    part = stft_frames(signal, start, stop, window)
    lo, hi = max(start, 0), min(stop, full.shape[-1])
    torch.testing.assert_close(part[..., lo - start : hi - start], full[..., lo:hi], atol=1e-4, rtol=1e-5)


def test_chunked_overlap_add_equals_istft() -> None:
    signal = torch.randn(2, 90 * HOP + 5)
    window = hann_window()
    spectrum = torch.stft(
        signal, N_FFT, HOP, window=window, center=True, pad_mode="constant", return_complex=True
    )
    gain = torch.rand(1, spectrum.shape[1], spectrum.shape[2])
    expected = torch.istft(spectrum * gain, N_FFT, HOP, window=window, center=True, length=signal.shape[1])
    output = OverlapAdd(2, signal.shape[1])
    for start in range(0, spectrum.shape[-1], 13):
        output.add((spectrum * gain)[..., start : start + 13], start)
    torch.testing.assert_close(output.result(), expected, atol=1e-5, rtol=1e-5)


def test_released_pieces_equal_the_whole_song_result() -> None:
    signal = torch.randn(2, 200 * HOP + 333)
    window = hann_window()
    spectrum = stft_frames(signal, 0, frame_count(signal.shape[1]), window)
    whole = OverlapAdd(2, signal.shape[1])
    whole.add(spectrum, 0)
    expected = whole.result()
    streamed = OverlapAdd(2, signal.shape[1])
    pieces = []
    for start in range(0, spectrum.shape[-1], 37):
        streamed.add(spectrum[..., start : start + 37], start)
        pieces.append(streamed.release(start + 37))
        assert streamed.blocks.shape[1] <= 37 + 4  # only the frames in flight are held
    pieces.append(streamed.result())
    assert sum(piece.shape[1] for piece in pieces) == signal.shape[1]
    # the same sums, in another order across chunk edges: equal to float rounding
    torch.testing.assert_close(torch.cat(pieces, dim=1), expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(expected, signal, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="released"):
        streamed.add(spectrum[..., :5], 0)


@pytest.mark.parametrize("sr", [44100, 48000, 22050])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_vocal_blocks_stream_the_same_vocals(sr: int, channels: int) -> None:
    # 40 s: four patches, so blocks are released while later patches are still to come
    mixture = harmonic_tone(40.0, sr, channels=channels, seed=channels)
    separator = ConstantRatioSeparator(0.25)
    stream = separator.vocal_blocks(mixture, sr)
    blocks = [next(stream)]
    assert not torch.is_inference_mode_enabled()  # a suspended stream leaves the caller's torch alone
    blocks += list(stream)
    assert len(blocks) >= 4
    assert max(block.shape[1] for block in blocks) <= 13 * sr  # about a patch at a time, never the song
    assert all(block.shape[0] == channels and block.dtype == np.float32 for block in blocks)
    streamed = np.concatenate(blocks, axis=1)
    assert streamed.shape == mixture.shape
    np.testing.assert_array_equal(streamed, separator.separate_channels(mixture, sr))
    # a constant mask gives 0.25 of the mixture as the 44.1 kHz round trip leaves it
    from ipysvs import audio as audio_io

    round_trip = audio_io.resample(audio_io.resample(mixture, sr, 44100), 44100, sr)
    np.testing.assert_allclose(streamed[:, sr:-sr], 0.25 * round_trip[:, sr:-sr], atol=1e-4)


@pytest.mark.parametrize(
    ("audio", "sr", "message"),
    [
        (np.zeros((2, 1000), dtype=np.int16), 44100, "float32"),
        (np.zeros(1000, dtype=np.float32), 44100, "float32"),
        (np.zeros((1000, 2), dtype=np.float32), 44100, "more channels than samples"),
        (np.full((2, 1000), np.nan, dtype=np.float32), 44100, "NaN"),
        (np.zeros((2, 1000), dtype=np.float32), 4000, "sample rate"),
        ([[0.0] * 1000] * 2, 44100, "float32"),
    ],
)
def test_vocal_blocks_checks_its_input_when_called(audio, sr: int, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        ConstantRatioSeparator(0.5).vocal_blocks(audio, sr)  # before any block is asked for


def test_streamed_input_equals_a_whole_song_resampling() -> None:
    from ipysvs import audio as audio_io
    from ipysvs.separation import StreamedInput

    samples = np.random.default_rng(0).standard_normal((2, 300_001)).astype(np.float32)
    whole = audio_io.resample(samples, 48000, 44100)
    source = StreamedInput(samples, 48000)
    assert source.length == whole.shape[1]
    for lo, hi in [(-100, 5000), (4000, 120_000), (119_000, 119_001), (200_000, 400_000)]:
        piece, first = source.span(lo, hi)
        assert first == max(lo, 0)
        np.testing.assert_array_equal(piece.numpy(), whole[:, max(lo, 0) : min(hi, whole.shape[1])])
    with pytest.raises(ValueError, match="dropped"):
        source.span(0, 10)


def test_chunking_is_seamless_with_a_constant_mask() -> None:
    # 30 s: several overlapping patches. Any seam at a patch edge would break exactness here.
    mixture = harmonic_tone(30.0, 44100)
    separator = ConstantRatioSeparator(0.3)
    vocals, accompaniment = separator.separate(mixture, 44100)
    np.testing.assert_allclose(vocals, 0.3 * mixture, atol=2e-5)
    np.testing.assert_allclose(accompaniment, 0.7 * mixture, atol=2e-5)


def test_real_model_output_is_continuous_across_patch_edges(separator) -> None:
    sr = 44100
    mixture = harmonic_tone(26.0, sr)
    vocals, _ = separator.separate(mixture, sr)
    jumps = np.abs(np.diff(vocals[0]))
    edges = [p.start * HOP for p in plan_patches(frame_count(mixture.shape[1]))[1:]]
    edges += [(p.start + p.length) * HOP for p in plan_patches(frame_count(mixture.shape[1]))[:-1]]
    near_edges = np.concatenate([jumps[e - 2048 : e + 2048] for e in edges])
    interior = jumps[sr : 5 * sr]
    assert near_edges.max() < 1.5 * interior.max()
    assert np.abs(vocals).max() > 0.05  # the voice-like tone is mostly kept as vocals


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 48000, 96000, 192000])
def test_every_sample_rate_comes_back_at_its_own_rate(separator, sr: int) -> None:
    mixture = harmonic_tone(1.5, sr, channels=2)
    vocals, accompaniment = separator.separate(mixture, sr)
    assert vocals.shape == accompaniment.shape == mixture.shape
    np.testing.assert_allclose(vocals + accompaniment, mixture, atol=1e-5)
    assert np.isfinite(vocals).all()


@pytest.mark.parametrize("shape", [(33075,), (1, 33075), (33075, 2), (3, 33075), (33075, 5)])
def test_channel_layouts_round_trip(separator, shape: tuple[int, ...]) -> None:
    base = harmonic_tone(0.75, 44100, channels=1)[0]
    channels = 1 if len(shape) == 1 else min(shape)
    gains = np.linspace(1.0, 0.2, channels, dtype=np.float32)[:, np.newaxis]
    mixture = gains * base
    if len(shape) == 1:
        mixture = mixture[0]
    elif shape[0] > shape[1]:
        mixture = mixture.T
    vocals, accompaniment = separator.separate(mixture, 44100)
    assert vocals.shape == mixture.shape and vocals.dtype == mixture.dtype
    np.testing.assert_allclose(vocals + accompaniment, mixture, atol=1e-5)
    if len(shape) == 2:  # each channel is separated as itself: louder channels give louder vocals
        per_channel = np.abs(vocals).max(axis=1 if shape[0] < shape[1] else 0)
        assert np.all(np.diff(per_channel) < 0)


def test_silence_separates_into_silence(separator) -> None:
    vocals, accompaniment = separator.separate(np.zeros((2, 44100), dtype=np.float32), 44100)
    assert np.abs(vocals).max() == 0 and np.abs(accompaniment).max() == 0


def test_public_separate_validates_input() -> None:
    with pytest.raises(ParameterError, match="NaN"):
        ipysvs.separate(np.full(1000, np.nan), 44100)
    with pytest.raises(ParameterError, match="sample rate"):
        ipysvs.separate(np.zeros(1000), 4000)


def test_progress_reports_every_patch(separator) -> None:
    calls: list[tuple[str, int, int]] = []
    tone = harmonic_tone(13.0, 44100)
    separator.separate(tone, 44100, progress=lambda phase, done, total: calls.append((phase, done, total)))
    total = len(plan_patches(frame_count(13 * 44100)))
    assert calls == [("separate", i, total) for i in range(1, total + 1)]


def test_high_band_is_split_not_dropped() -> None:
    ratio = torch.rand(2, 1024, 10)
    extended = extend_ratio(ratio)
    assert extended.shape == (2, 2049, 10)
    torch.testing.assert_close(extended[:, 1024:], ratio[:, -128:].mean(1, keepdim=True).expand(-1, 1025, -1))


def test_separation_of_a_real_song_excerpt(separator, real_song) -> None:
    from ipysvs import audio

    samples, sr = audio.read(real_song)
    excerpt = samples[:, 30 * sr : 45 * sr]
    vocals, _ = separator.separate(excerpt, sr)
    # the song has a singer: a real share of the energy goes to the vocals, but not all of it
    share = np.sum(vocals**2) / np.sum(excerpt**2)
    assert 0.05 < share < 0.8
