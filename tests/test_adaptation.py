"""The adaptation losses and layer plans (no audio needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ipysvs.errors import ParameterError
from ipysvs.interactive.adaptation import (
    UNVOICED_F0_WEIGHT,
    AdaptReport,
    AdaptTargets,
    activity_loss,
    f0_loss,
    layer_prefixes,
    training_frames,
)


def test_layer_plans() -> None:
    assert layer_prefixes("none") == ()
    assert layer_prefixes("decoder") == ("decoder.", "mask_head.")
    assert layer_prefixes("from:4") == ("encoder.4.", "encoder.5.")
    for bad in ("from:6", "from:x", "encoder", 3):
        with pytest.raises(ParameterError, match="layers"):
            layer_prefixes(bad)


def test_activity_loss_is_zero_only_for_a_perfect_split() -> None:
    mixture = torch.rand(1, 2, 4, 8) + 0.1
    vocals = torch.rand(1, 2, 4, 8) * mixture
    activity = torch.tensor([[1, 1, -1, 0]])
    perfect_accompaniment = mixture - vocals
    perfect_accompaniment[:, :, 2] = mixture[:, :, 2]  # nobody sings in frame 2
    silent_vocals = vocals.clone()
    silent_vocals[:, :, 2] = 0
    assert activity_loss(silent_vocals, perfect_accompaniment, mixture, activity).item() == pytest.approx(
        0, abs=1e-6
    )
    leaky = activity_loss(vocals, perfect_accompaniment, mixture, activity)
    baseline = activity_loss(vocals, perfect_accompaniment, mixture, activity, silence_weight=0.0)
    assert leaky.item() > 0 and baseline.item() == pytest.approx(0, abs=1e-6)
    # unmarked frames cost nothing
    assert activity_loss(vocals, mixture * 0, mixture, torch.zeros(1, 4, dtype=torch.long)).item() == 0


def test_f0_loss_counts_only_weighted_frames() -> None:
    target = torch.zeros(1, 3, 320)
    good = torch.full((1, 3, 320), 1e-6)
    bad = good.clone()
    bad[0, 2] = 0.9
    weight = torch.tensor([[1.0, 1.0, 0.0]])
    assert f0_loss(bad, target, weight).item() == pytest.approx(f0_loss(good, target, weight).item())
    assert f0_loss(bad, target, torch.ones(1, 3)).item() > f0_loss(good, target, torch.ones(1, 3)).item()


def test_unvoiced_frames_weigh_less_in_the_f0_loss() -> None:
    hz = np.array([220.0, 0.0, 440.0, 0.0])
    seen = np.array([True, True, False, False])
    wanted, weight, _ = AdaptTargets(hz, seen, np.zeros(4, dtype=np.int8)).tensors()
    np.testing.assert_allclose(weight.numpy(), [1.0, UNVOICED_F0_WEIGHT, 0.0, 0.0])
    assert 0 < UNVOICED_F0_WEIGHT < 1
    assert wanted[1].max() == 0 and wanted[0].max() > 0.9


def test_training_regions() -> None:
    corrected = np.array([False, True, False, True, False])
    np.testing.assert_array_equal(training_frames(corrected, "up-to-last"), [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(training_frames(corrected, "corrected"), corrected)
    times = np.arange(5) * 0.5
    spans = training_frames(corrected, [(0.4, 1.1), (2.0, 9.0)], times)
    np.testing.assert_array_equal(spans, [0, 1, 1, 0, 1])
    for bad in ("after", [(1.0, 0.5)], [(0.0, float("nan"))], [1.0, 2.0], []):
        with pytest.raises(ParameterError, match="region"):
            training_frames(corrected, bad, times)


def test_pure_accompaniment_needs_a_long_unvoiced_run_or_a_silent_mark() -> None:
    from ipysvs.interactive.song_remix import pure_accompaniment

    frames = 60
    hz = np.full(frames, 220.0)
    hz[5:8] = 0  # a consonant-length gap (70 ms): someone may be singing
    hz[20:40] = 0  # 0.46 s of no pitch: nobody sings
    corrected = np.zeros(frames, dtype=bool)
    corrected[:45] = True
    activity = np.zeros(frames, dtype=np.int8)
    activity[50:52] = -1  # marked silent
    silent = pure_accompaniment(hz, corrected, activity)
    assert not silent[5:8].any() and silent[20:40].all() and silent[50:52].all()
    assert silent.sum() == 22
    hz[45:60] = 0  # unvoiced, but nobody checked those frames
    assert pure_accompaniment(hz, corrected, activity).sum() == 22


@pytest.mark.slow
def test_adapt_learns_the_songs_accompaniment_only_where_nobody_sings(monkeypatch) -> None:
    import ipysvs
    from ipysvs.demo import demo_song

    song = demo_song(seconds=8.0, seed=6)
    session = ipysvs.open(song.mixture, song.sr, journal=False)
    truth = np.interp(session.frame_times, song.f0_times, song.f0_hz)
    truth[np.interp(session.frame_times, song.f0_times, (song.f0_hz > 0).astype(float)) < 0.5] = 0
    session.draw(session.frame_times, truth)
    session.unvoice(0.0, 1.0)  # nobody sings here, for sure
    refiner = {k: v.clone() for k, v in session.model.refiner.state_dict().items()}
    separator = {k: v.clone() for k, v in session.model.vocals.state_dict().items()}

    plain = ipysvs.open(song.mixture, song.sr, journal=False)
    plain.draw(plain.frame_times, truth)
    plain.unvoice(0.0, 1.0)
    plain.adapt(steps=2)  # the default: the refiner does not train
    assert all(torch.equal(v, refiner[k]) for k, v in plain.model.refiner.state_dict().items())

    session.adapt(steps=2, learn_accompaniment=True)
    moved = [k for k, v in session.model.refiner.state_dict().items() if not torch.equal(v, refiner[k])]
    assert moved  # the refiner learnt from this song's remixes
    assert all(torch.equal(v, separator[k]) for k, v in session.model.vocals.state_dict().items())
    with pytest.raises(ParameterError, match="learn_accompaniment"):
        session.adapt(learn_accompaniment="yes")


@pytest.mark.parametrize(
    ("epochs", "expected"),
    [(2.0, (3.0, 1.0)), (0.5, (3.0, 1.0)), (6.0, (4.0, 1.0)), (0.0, (3.0, 1.0))],
)
def test_the_report_compares_whole_passes_not_single_steps(epochs: float, expected) -> None:
    report = AdaptReport(losses=[4.0, 3.0, 2.0, 1.0, 1.0, 1.0], steps=6, epochs=epochs)
    assert report.pass_losses == pytest.approx(expected)
    assert AdaptReport().pass_losses is None and "no training" in repr(AdaptReport())
