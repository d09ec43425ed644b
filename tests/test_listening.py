"""Players: the song's own rate and channels, compressed, within the size a notebook can carry."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from ipysvs.demo import demo_song
from ipysvs.errors import ParameterError
from ipysvs.listening import Player, encode

PLAYER_HTML_LIMIT = 5_000_000  # bytes of HTML per player for a 133 s song (issue 14)


def decoded(player: Player) -> tuple[np.ndarray, int]:
    samples, sr = soundfile.read(io.BytesIO(player.data), dtype="float32", always_2d=True)
    return samples.T, sr


@pytest.mark.slow
def test_a_133_s_stereo_song_plays_at_44_1_khz_in_two_channels_under_5_mb() -> None:
    song = demo_song(seconds=133.0, seed=3)
    player = Player.of(song.mixture, song.sr)
    page = player._repr_html_()
    assert len(page.encode()) <= PLAYER_HTML_LIMIT, f"{len(page) / 1e6:.1f} MB of HTML"
    assert page.startswith("<audio controls") and "data:audio/ogg;base64," in page
    samples, sr = decoded(player)
    assert (sr, samples.shape[0]) == (44100, 2) and (player.sr, player.channels) == (44100, 2)
    assert abs(samples.shape[1] - song.mixture.shape[1]) <= 44100 // 100
    # what plays is the song: its waveform within 15 dB SNR (a perceptual codec, not a lossless one)
    length = min(samples.shape[1], song.mixture.shape[1])
    error = samples[:, :length] - song.mixture[:, :length]
    assert 10 * np.log10(np.sum(song.mixture[:, :length] ** 2) / np.sum(error**2)) > 15
    # and its two channels stay two: left and right differ as in the song
    assert np.abs(samples[0] - samples[1]).max() > 0.01


def test_players_keep_any_rate_and_channel_count_and_wav_stays_lossless_to_16_bits() -> None:
    rng = np.random.default_rng(0)
    mono = (0.3 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050))[None].astype(np.float32)
    assert decoded(Player.of(mono, 22050))[1] == 22050 and decoded(Player.of(mono, 22050))[0].shape[0] == 1
    surround = (0.1 * rng.standard_normal((6, 48000))).astype(np.float32)
    samples, sr = decoded(Player.of(surround, 48000, "wav"))
    assert sr == 48000 and samples.shape == (6, 48000)
    np.testing.assert_allclose(samples, surround, atol=1 / 32767)


@pytest.mark.parametrize(
    ("samples", "sr", "file_format", "message"),
    [
        (np.zeros((2, 100), np.float32), 44100, "mp3", "file_format must be one of"),
        (np.zeros(100, np.float32), 44100, "ogg", r"must be float \(channels, samples\)"),
        (np.zeros((2, 100), np.int16), 44100, "ogg", "must be float"),
        (np.full((2, 100), np.nan, np.float32), 44100, "ogg", "NaN or infinite"),
        (np.zeros((2, 100), np.float32), 0, "ogg", "sample rate"),
    ],
)
def test_bad_audio_to_play_is_refused_clearly(samples, sr, file_format, message) -> None:
    with pytest.raises(ParameterError, match=message):
        encode(samples, sr, file_format)
