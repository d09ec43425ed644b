"""F0 representation: scales, note names, saliency targets and decoding, trajectories."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from ipysvs.errors import FileError, ParameterError
from ipysvs.f0 import (
    N_PITCH_BINS,
    Trajectory,
    bin_to_hz,
    decode_salience,
    frame_f0,
    hz_to_bin,
    hz_to_midi,
    midi_to_hz,
    note_grid,
    note_name,
    note_to_midi,
    pitch_bin_frequencies,
    salience_target,
)


def test_scales_round_trip() -> None:
    hz = np.array([55.0, 110.0, 261.6256, 440.0, 1000.0])
    np.testing.assert_allclose(midi_to_hz(hz_to_midi(hz)), hz)
    np.testing.assert_allclose(bin_to_hz(hz_to_bin(hz)), hz)
    assert hz_to_midi(440.0) == 69 and hz_to_bin(110.0) == 60
    assert pitch_bin_frequencies().shape == (N_PITCH_BINS,)
    # 20-cent bins: well under a semitone
    assert np.allclose(np.diff(np.log2(pitch_bin_frequencies())) * 1200, 20)


@pytest.mark.parametrize(("midi", "name"), [(57, "A3"), (60, "C4"), (48, "C3"), (61, "C#4"), (21, "A0")])
def test_note_names(midi: int, name: str) -> None:
    assert note_name(midi) == name
    assert note_to_midi(name) == midi


def test_flats_and_bad_names() -> None:
    assert note_to_midi("Bb2") == note_to_midi("A#2") == 46
    for bad in ("H2", "C", "", "C#x", 60):
        with pytest.raises(ParameterError):
            note_to_midi(bad)  # type: ignore[arg-type]


def test_note_grid_lists_c_and_a_lines() -> None:
    grid = note_grid(100.0, 500.0)
    assert [name for _, name in grid] == ["A2", "C3", "A3", "C4", "A4"]
    np.testing.assert_allclose([hz for hz, _ in grid], [110.0, 130.8128, 220.0, 261.6256, 440.0], rtol=1e-5)
    with pytest.raises(ParameterError):
        note_grid(500.0, 100.0)


@pytest.mark.parametrize("bad", [[0.0], [-5.0], [np.nan], [np.inf]])
def test_conversions_reject_non_positive_or_non_finite_hz(bad: list[float]) -> None:
    with pytest.raises(ParameterError):
        hz_to_midi(bad)
    with pytest.raises(ParameterError):
        hz_to_bin(bad)


def test_salience_target_is_a_gaussian_at_the_pitch() -> None:
    target = salience_target(np.array([0.0, 220.0, 221.0, 20000.0]))
    assert target.shape == (4, N_PITCH_BINS) and target.dtype == np.float32
    assert target[0].max() == 0 and target[3].max() == 0  # unvoiced and out of range
    assert target[1].argmax() == round(float(hz_to_bin(220.0)))
    assert target[1].max() == pytest.approx(1.0)
    # 25-cent sigma: two bins (40 cents) away the value is exp(-0.5 * 1.6^2)
    peak = target[1].argmax()
    assert target[1, peak + 2] == pytest.approx(np.exp(-0.5 * 1.6**2), rel=1e-5)


def test_decoding_recovers_pitch_below_bin_resolution() -> None:
    hz = np.array([0.0, 147.3, 220.0, 333.3, 901.7])
    decoded, confidence = decode_salience(salience_target(hz))
    assert decoded[0] == 0 and confidence[0] == 0
    cents = 1200 * np.abs(np.log2(decoded[1:] / hz[1:]))
    assert cents.max() < 3  # far finer than the 20-cent bins


def test_decoding_threshold_makes_weak_frames_unvoiced() -> None:
    salience = 0.09 * salience_target(np.array([220.0, 220.0]))
    salience[1] *= 2
    hz, _ = decode_salience(salience)
    assert hz[0] == 0 and hz[1] == pytest.approx(220.0, rel=1e-3)


@pytest.mark.parametrize(
    "bad", [np.zeros((3, 10)), np.full((2, N_PITCH_BINS), np.nan), np.zeros(N_PITCH_BINS)]
)
def test_decoding_rejects_bad_maps(bad: np.ndarray) -> None:
    with pytest.raises(ParameterError):
        decode_salience(bad)


def test_frame_f0_interpolates_voiced_and_keeps_gaps() -> None:
    labels_t = np.array([0.02, 0.04, 0.06, 0.08, 0.10])
    labels_hz = np.array([200.0, 400.0, 0.0, 300.0, 300.0])
    frames = frame_f0(np.array([0.03, 0.05, 0.061, 0.09, 0.5]), labels_t, labels_hz)
    assert frames[0] == pytest.approx(np.sqrt(200 * 400))  # halfway in log frequency
    assert frames[2] == 0  # nearest label is unvoiced
    assert frames[3] == pytest.approx(300)
    assert frames[4] == pytest.approx(300)  # past the end: the last label


@pytest.mark.parametrize(
    ("times", "hz", "message"),
    [
        ([0.0, 0.1], [100.0], "2 times"),
        ([0.1, 0.0], [100.0, 100.0], "increasing"),
        ([-0.1, 0.0], [100.0, 100.0], ">= 0"),
        ([0.0, np.nan], [100.0, 100.0], "finite"),
        ([0.0, 0.1], [100.0, -3.0], "0 = unvoiced"),
        ([0.0, 0.1], [np.inf, 100.0], "NaN"),
        ([[0.0, 0.1]], [100.0, 100.0], "1-D"),
    ],
)
def test_trajectory_validation(times, hz, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        Trajectory(np.array(times), np.array(hz))


def test_trajectory_csv_round_trip_is_readable_by_mir_eval(tmp_path) -> None:
    trajectory = Trajectory(np.array([0.0, 0.0232, 0.0464]), np.array([0.0, 220.5, 221.25]))
    path = trajectory.to_csv(tmp_path / "f0.csv")
    back = Trajectory.from_csv(path)
    np.testing.assert_allclose(back.times, trajectory.times, atol=1e-6)
    np.testing.assert_allclose(back.hz, trajectory.hz, atol=1e-4)
    times, hz = mir_eval.io.load_time_series(str(path), delimiter=",")
    np.testing.assert_allclose(times, trajectory.times, atol=1e-6)
    np.testing.assert_allclose(hz, trajectory.hz, atol=1e-4)
    assert path.read_text().splitlines()[0] == "# time_s,f0_hz"
    assert trajectory.voiced.tolist() == [False, True, True]


def test_trajectory_from_bad_csv(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time_s,f0_hz\n0.0,abc\n")
    with pytest.raises(FileError, match=r"bad\.csv"):
        Trajectory.from_csv(path)
    with pytest.raises(FileError, match=r"missing\.csv"):
        Trajectory.from_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize("bad", [[np.nan], [-1.0], [np.inf], [[220.0]]])
def test_salience_target_rejects_bad_f0(bad) -> None:
    with pytest.raises(ParameterError):
        salience_target(np.array(bad))


@pytest.mark.parametrize(
    ("label_times", "label_hz", "message"),
    [
        ([0.02, 0.01], [100.0, 100.0], "increasing"),
        ([0.02, 0.04], [100.0], "2 times"),
        ([0.02, np.nan], [100.0, 100.0], "finite"),
        ([0.02, 0.04], [100.0, -2.0], ">= 0 Hz"),
    ],
)
def test_frame_f0_rejects_bad_labels(label_times, label_hz, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        frame_f0(np.array([0.0, 0.01]), np.array(label_times), np.array(label_hz))
