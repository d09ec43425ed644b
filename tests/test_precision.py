"""bfloat16 inference of the refiner (ipysvs.models.precision): when it applies, and what it changes."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest
import torch

from ipysvs.conditioned import ConditionedSeparator
from ipysvs.demo import demo_song
from ipysvs.errors import ParameterError
from ipysvs.models.joint import load_joint_model
from ipysvs.models.precision import PRECISION_ENV, inference_autocast, native_bfloat16, reduced_precision


def _autocasting() -> bool:
    with inference_autocast():
        return torch.is_autocast_enabled("cpu")


def test_precision_setting_is_validated(monkeypatch) -> None:
    monkeypatch.setenv(PRECISION_ENV, "half")
    with pytest.raises(ParameterError, match="IPYSVS_PRECISION must be one of auto, float32"):
        reduced_precision()


def test_float32_setting_and_training_never_autocast(monkeypatch) -> None:
    monkeypatch.setenv(PRECISION_ENV, "float32")
    with torch.no_grad():
        assert not _autocasting()
    monkeypatch.setenv(PRECISION_ENV, "auto")
    with torch.enable_grad():
        assert not _autocasting()  # a step computing gradients stays float32
    with torch.no_grad():
        assert _autocasting() == native_bfloat16()


@pytest.mark.skipif(not native_bfloat16(), reason="this CPU has no native bfloat16: inference stays float32")
def test_bfloat16_refinement_matches_float32_to_a_hundredth_of_a_decibel(monkeypatch) -> None:
    from ipysvs.f0 import frame_f0
    from ipysvs.research.evaluation import vocal_sdr
    from ipysvs.spectral import HOP, N_FFT, frame_count, frame_times

    model = load_joint_model()
    song = demo_song(seconds=10.0, seed=22)
    frames = frame_count(song.mixture.shape[1])
    hz = frame_f0(frame_times(frames).numpy(), song.f0_times, song.f0_hz).astype(np.float32)
    gate = np.ones_like(hz)
    gate[: frames // 2] = 0.0  # the first half: no pitch information
    vocals = {}
    for setting in ("float32", "auto"):
        monkeypatch.setenv(PRECISION_ENV, setting)
        vocals[setting] = ConditionedSeparator(model, hz, gate).separate_channels(song.mixture, song.sr)
    exact, fast = vocals["float32"], vocals["auto"]
    untouched = slice(0, frames // 2 * HOP - N_FFT)  # samples more than a window before the gate opens
    np.testing.assert_array_equal(fast[:, untouched], exact[:, untouched])  # gate 0: still bit for bit
    difference = 10 * np.log10(np.sum((fast - exact) ** 2) / np.sum(exact**2))
    assert difference < -50  # dB relative to the vocals (measured -68)
    sdr_exact, _ = vocal_sdr(song.vocals, song.accompaniment, exact, song.sr)
    sdr_fast, _ = vocal_sdr(song.vocals, song.accompaniment, fast, song.sr)
    assert abs(sdr_fast - sdr_exact) < 0.01  # BSS Eval v3 vocal SDR, dB (measured 0.003)


def test_adapt_refuses_a_bad_precision_setting_before_training(monkeypatch, tmp_path) -> None:
    import ipysvs

    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(tmp_path / "cache"))
    song = demo_song(seconds=4.0, seed=6)
    session = ipysvs.open(song.mixture, song.sr, quiet=True)
    session.set_f0(0.5, 1.5, 220.0)
    vocals = session.vocals.copy()
    monkeypatch.setenv(PRECISION_ENV, "bf16")
    phases = []
    with pytest.raises(ParameterError, match="IPYSVS_PRECISION"):
        session.adapt(progress=lambda phase, done, total, **details: phases.append(phase))
    assert phases == []  # refused before training began
    np.testing.assert_array_equal(session.vocals, vocals)  # nothing adapted, the edit kept
    assert session.can_undo


@pytest.mark.skipif(not native_bfloat16(), reason="this CPU has no native bfloat16: inference stays float32")
def test_bfloat16_saliency_decodes_the_float32_f0(monkeypatch) -> None:
    from ipysvs.pitch import salience_trajectory, song_salience
    from ipysvs.separation import VocalFrames, default_separator

    song = demo_song(seconds=20.0, seed=23)
    collector = VocalFrames()
    default_separator().separate_channels(song.mixture, song.sr, collector=collector)
    model = load_joint_model().salience
    salience = {}
    for setting in ("float32", "auto"):
        monkeypatch.setenv(PRECISION_ENV, setting)
        salience[setting] = song_salience(model, collector.magnitude, collector.mixture_magnitude)
    assert not np.array_equal(salience["auto"], salience["float32"])  # bfloat16 did run
    assert np.abs(salience["auto"] - salience["float32"]).max() < 0.05  # measured 0.027 on 30 s songs
    trajectories = {setting: salience_trajectory(values) for setting, values in salience.items()}
    exact, fast = (trajectories[s].hz for s in ("float32", "auto"))
    assert np.mean((exact > 0) != (fast > 0)) < 0.01  # voicing of under 1 % of frames flips (measured 0.2 %)
    both = (exact > 0) & (fast > 0)
    cents = 1200 * np.abs(np.log2(fast[both] / exact[both]))
    # the pitch within a cent on 95 % of the frames (measured 0.14-0.22 on demo seeds 23-26, this
    # network and the previous); the last percent, frames whose saliency peak is nearly a tie between
    # neighbouring bins, moved by 1-7 cents at the 99th percentile, which the scores below weigh
    assert np.quantile(cents, 0.95) < 1.0
    scores = {
        setting: mir_eval.melody.evaluate(song.f0_times, song.f0_hz, trajectory.times, trajectory.hz)
        for setting, trajectory in trajectories.items()
    }
    for metric in ("Raw Pitch Accuracy", "Overall Accuracy"):  # measured equal to 0.1 point on seeds 23-26
        assert abs(scores["auto"][metric] - scores["float32"][metric]) < 0.005, metric
