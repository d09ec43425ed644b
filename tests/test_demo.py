"""Tests of the embedded demo song: determinism, stems, ground truth, argument checks, separability."""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pytest

from ipysvs import ParameterError
from ipysvs.demo import F0_HOP, DemoSong, demo_song

# the test song of tests/conftest.py separates well above this (about 17 dB)
MIN_SPLEETER_VOCAL_SDR_DB = 14.0


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def _inner_frames(song: DemoSong, margin: float) -> np.ndarray:
    """Mask of F0 frames at least ``margin`` s inside a sung note."""
    inner = np.zeros(len(song.f0_times), dtype=bool)
    for onset, offset, _ in song.notes:
        inner |= (song.f0_times >= onset + margin) & (song.f0_times < offset - margin)
    return inner


def _rests(song: DemoSong, margin: float = 0.1) -> list[tuple[float, float]]:
    """Gaps between phrases (longer than 0.3 s) in s, shrunk by ``margin`` at both ends."""
    gaps = [(a[1], b[0]) for a, b in pairwise(song.notes) if b[0] - a[1] > 0.3]
    return [(start + margin, end - margin) for start, end in gaps]


def test_same_seed_gives_the_same_song() -> None:
    first, second = demo_song(seconds=4.0, seed=3), demo_song(seconds=4.0, seed=3)
    for name in ("mixture", "vocals", "accompaniment", "f0_times", "f0_hz", "beats"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert first.notes == second.notes
    assert first.tempo_bpm == second.tempo_bpm


def test_different_seeds_give_different_songs() -> None:
    first, second = demo_song(seconds=4.0, seed=0), demo_song(seconds=4.0, seed=1)
    assert not np.allclose(first.vocals, second.vocals)
    assert not np.allclose(first.accompaniment, second.accompaniment)
    assert first.notes != second.notes


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_shapes_and_dtypes(sr: int) -> None:
    song = demo_song(seconds=3.5, sr=sr)
    for stem in (song.mixture, song.vocals, song.accompaniment):
        assert stem.shape == (2, round(3.5 * sr))
        assert stem.dtype == np.float32
        assert np.isfinite(stem).all()
    assert song.sr == sr
    assert song.seconds == pytest.approx(3.5)
    assert song.f0_times.shape == song.f0_hz.shape
    np.testing.assert_allclose(np.diff(song.f0_times), F0_HOP)
    assert song.f0_times[0] == 0.0
    assert song.f0_times[-1] < 3.5


def test_mixture_is_the_exact_sum_of_the_stems_and_peaks_below_one(song: DemoSong) -> None:
    np.testing.assert_array_equal(song.mixture, song.vocals + song.accompaniment)
    assert 0.8 < np.abs(song.mixture).max() < 1.0
    assert np.abs(song.vocals).max() < 1.0 and np.abs(song.accompaniment).max() < 1.0


def test_vocals_are_centred_and_accompaniment_is_stereo(song: DemoSong) -> None:
    np.testing.assert_array_equal(song.vocals[0], song.vocals[1])
    assert not np.allclose(song.accompaniment[0], song.accompaniment[1])


def test_vocals_are_a_little_louder_than_the_accompaniment(song: DemoSong) -> None:
    ratio_db = 20.0 * np.log10(_rms(song.vocals) / _rms(song.accompaniment))
    assert 0.0 <= ratio_db <= 3.0


def test_notes_are_ordered_in_a_singers_range_and_inside_the_song(song: DemoSong) -> None:
    assert len(song.notes) >= 6
    onsets, offsets, pitches = (np.array(column) for column in zip(*song.notes, strict=True))
    assert (offsets > onsets).all()
    assert (onsets[1:] >= offsets[:-1]).all()
    assert onsets[0] > 0.0
    assert offsets[-1] < song.seconds
    assert pitches.min() >= 57 and pitches.max() <= 76  # A3..E5


def test_f0_is_voiced_exactly_inside_the_notes(song: DemoSong) -> None:
    voiced = np.zeros(len(song.f0_times), dtype=bool)
    for onset, offset, _ in song.notes:
        voiced |= (song.f0_times >= onset) & (song.f0_times < offset)
    np.testing.assert_array_equal(song.f0_hz > 0, voiced)
    assert song.f0_hz[voiced].min() > 180.0 and song.f0_hz.max() < 750.0


def test_f0_follows_the_notes_with_vibrato(song: DemoSong) -> None:
    inner = _inner_frames(song, 0.1)
    for onset, offset, midi in song.notes:
        frames = inner & (song.f0_times >= onset) & (song.f0_times < offset)
        if frames.any():
            cents = 1200.0 * np.log2(song.f0_hz[frames] / (440.0 * 2.0 ** ((midi - 69) / 12)))
            assert abs(np.median(cents)) < 30.0
            assert np.abs(cents).max() < 100.0
    long_notes = [note for note in song.notes if note[1] - note[0] > 0.9]
    assert long_notes, "the song should hold some notes long enough for vibrato"
    onset, offset, midi = long_notes[0]
    late = (song.f0_times >= onset + 0.6) & (song.f0_times < offset - 0.05)
    cents = 1200.0 * np.log2(song.f0_hz[late] / (440.0 * 2.0 ** ((midi - 69) / 12)))
    assert 15.0 < np.ptp(cents) / 2.0 < 80.0  # vibrato extent in cents


def test_f0_ground_truth_matches_the_synthesised_vocals(song: DemoSong) -> None:
    import librosa

    hop = round(F0_HOP * song.sr)
    estimate = librosa.yin(
        song.vocals[0], fmin=150.0, fmax=1000.0, sr=song.sr, frame_length=2048, hop_length=hop
    )[: len(song.f0_hz)]
    inner = _inner_frames(song, 0.05)
    cents = np.abs(1200.0 * np.log2(estimate[inner] / song.f0_hz[inner]))
    assert inner.sum() > 200
    assert np.median(cents) < 10.0
    assert np.mean(cents < 50.0) > 0.98


def test_rests_are_unvoiced_and_nearly_silent(song: DemoSong) -> None:
    rests = _rests(song)
    assert len(rests) >= 1
    sung = np.zeros(song.vocals.shape[1], dtype=bool)
    for onset, offset, _ in song.notes:
        sung[round(onset * song.sr) : round(offset * song.sr)] = True
    sung_rms = _rms(song.vocals[0, sung])
    for start, end in rests:
        assert (song.f0_hz[(song.f0_times >= start) & (song.f0_times < end)] == 0).all()
        rest_rms = _rms(song.vocals[0, round(start * song.sr) : round(end * song.sr)])
        assert rest_rms < 10.0 ** (-25.0 / 20.0) * sung_rms


def test_beats_are_evenly_spaced_at_the_tempo_and_carry_drum_hits(song: DemoSong) -> None:
    assert 100.0 <= song.tempo_bpm <= 120.0
    assert song.beats[0] == 0.0 and song.beats[-1] < song.seconds
    np.testing.assert_allclose(np.diff(song.beats), 60.0 / song.tempo_bpm)
    assert len(song.beats) == int(np.ceil(song.seconds * song.tempo_bpm / 60.0))
    accompaniment = song.accompaniment.mean(axis=0)
    window = round(0.03 * song.sr)
    for beat in song.beats[1:]:
        start = round(beat * song.sr)
        after = _rms(accompaniment[start : start + window])
        before = _rms(accompaniment[start - window : start])
        assert after > 2.0 * before, f"no drum hit at the beat at {beat:.2f} s"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"seconds": 1.0}, "seconds must be between"),
        ({"seconds": 601.0}, "seconds must be between"),
        ({"seconds": float("nan")}, "seconds must be between"),
        ({"seconds": "20"}, "seconds must be a number"),
        ({"seconds": True}, "seconds must be a number"),
        ({"sr": 4000}, "outside the supported"),
        ({"sr": 44100.5}, "whole number"),
        ({"sr": "44100"}, "sample rate must be a number"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1.5}, "seed must be a non-negative integer"),
        ({"seed": None}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_raise_parameter_error(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        demo_song(**arguments)  # type: ignore[arg-type]


def test_numpy_scalars_are_accepted() -> None:
    song = demo_song(seconds=np.float64(3.0), sr=np.int64(16000), seed=np.int64(2))
    assert song.mixture.shape == (2, 48000)


@pytest.mark.slow
def test_spleeter_recognises_the_demo_vocals(song: DemoSong) -> None:
    import mir_eval

    import ipysvs

    vocals, accompaniment = ipysvs.separate(song.mixture, song.sr)
    reference = np.stack([song.vocals.mean(axis=0), song.accompaniment.mean(axis=0)])
    estimate = np.stack([vocals.mean(axis=0), accompaniment.mean(axis=0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # bss_eval_sources is deprecated in mir_eval 0.8
        sdr, sir, _, _ = mir_eval.separation.bss_eval_sources(reference, estimate, compute_permutation=False)
    assert sdr[0] > MIN_SPLEETER_VOCAL_SDR_DB
    assert sir[0] > 15.0
