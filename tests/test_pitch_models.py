"""Saliency network, harmonic rendering, the joint F0->SVS / SVS->F0 models and shipped weights."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest
import torch

from ipysvs.conditioned import ConditionedSeparator
from ipysvs.demo import demo_song
from ipysvs.errors import ParameterError, WeightsError
from ipysvs.f0 import hz_to_bin
from ipysvs.models.joint import SHIPPED_WEIGHTS, JointModel, load_joint_model
from ipysvs.models.salience import BIN_HZ, HARMONICS, HarmonicStack, render_harmonics
from ipysvs.pitch import salience_trajectory, song_salience
from ipysvs.separation import VocalFrames


@pytest.fixture(scope="module")
def untrained() -> JointModel:
    return JointModel().eval()


def test_comb_has_peaks_at_the_harmonics() -> None:
    comb = render_harmonics(torch.tensor([[200.0, 0.0, 200.0]]), torch.tensor([[1.0, 1.0, 0.25]]))[0, 0]
    assert comb.shape == (3, 1024)
    for harmonic in (1, 2, 5, 20):
        assert comb[0, round(harmonic * 200 / BIN_HZ)] > 0.8
    assert comb[0, round(300 / BIN_HZ)] < 0.05  # between the 1st and 2nd harmonic
    assert comb[1].max() == 0  # unvoiced
    torch.testing.assert_close(comb[2], 0.25 * comb[0])


def test_harmonic_stack_aligns_harmonics_on_the_pitch_axis() -> None:
    spectrum = torch.zeros(1, 2, 4, 1024)
    f0 = 220.0
    for harmonic in range(1, 11):
        spectrum[..., round(harmonic * f0 / BIN_HZ)] = 10.0
    stack = HarmonicStack()(spectrum)
    assert stack.shape == (1, len(HARMONICS), 4, 320)
    pitch_bin = round(float(hz_to_bin(f0)))
    for channel, harmonic in enumerate(HARMONICS):
        if harmonic >= 1:
            window = stack[0, channel, 0, pitch_bin - 3 : pitch_bin + 4]
            assert window.max() > 1.0, harmonic  # log1p of ~10 near the pitch bin in every harmonic channel


def test_untrained_joint_model_is_exactly_the_pretrained_separator(untrained, separator) -> None:
    song = demo_song(seconds=4.0, seed=2)
    hz = np.full(200, 220.0, dtype=np.float32)
    conditioned = ConditionedSeparator(untrained, hz, np.ones_like(hz))
    np.testing.assert_allclose(
        conditioned.separate_channels(song.mixture, song.sr),
        separator.separate_channels(song.mixture, song.sr),
        atol=1e-6,
    )


def _scrambled(model: JointModel) -> JointModel:
    """The joint model with random refiner weights (its head included): a refiner trained on anything."""
    torch.manual_seed(5)
    with torch.no_grad():
        for parameter in model.refiner.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.3)
    return model.eval()


def test_without_pitch_information_any_refiner_gives_the_pretrained_separation(separator) -> None:
    model = _scrambled(JointModel())
    song = demo_song(seconds=4.0, seed=4)
    hz = np.full(200, 220.0, dtype=np.float32)
    pretrained = separator.separate_channels(song.mixture, song.sr)
    silent_gate = ConditionedSeparator(model, hz, np.zeros_like(hz)).separate_channels(song.mixture, song.sr)
    np.testing.assert_array_equal(silent_gate, pretrained)  # bit for bit, whatever the weights
    informed = ConditionedSeparator(model, hz, np.ones_like(hz)).separate_channels(song.mixture, song.sr)
    assert np.abs(informed - pretrained).max() > 1e-3  # the same refiner does act where the gate is open


def test_refiner_changes_the_voice_band_only_and_reads_nothing_far_above_it(monkeypatch) -> None:
    from ipysvs.models.precision import PRECISION_ENV
    from ipysvs.models.refiner import CONTEXT_BINS, REFINED_BINS

    monkeypatch.setenv(PRECISION_ENV, "float32")
    refiner = _scrambled(JointModel()).refiner.double()  # float64: the level's rounding stays invisible
    torch.manual_seed(3)
    magnitude = torch.rand(1, 2, 64, 1024, dtype=torch.float64)
    ratio = torch.rand(1, 2, 64, 1024, dtype=torch.float64)
    hz, gate = torch.full((1, 64), 196.0, dtype=torch.float64), torch.ones(1, 64, dtype=torch.float64)
    with torch.no_grad():
        change = refiner(magnitude, ratio, hz, gate)
        assert change[..., :REFINED_BINS].abs().max() > 1e-3  # it acts in the voice's band
        assert not change[..., REFINED_BINS:].any()  # and nowhere above it: the pretrained mask stays
        # the bins above the band it reads count only through the spectrum's mean level: swapping them
        # around (same values, so the same level) changes nothing
        band = REFINED_BINS + CONTEXT_BINS
        swapped_magnitude, swapped_ratio = magnitude.clone(), ratio.clone()
        swapped_magnitude[..., band:] = magnitude[..., band:].flip(-1)
        swapped_ratio[..., band:] = 1 - ratio[..., band:]
        swapped = refiner(swapped_magnitude, swapped_ratio, hz, gate)
        torch.testing.assert_close(swapped, change, atol=1e-9, rtol=0)


def test_refiner_deeper_stages_act_only_where_their_own_gate_is_open(monkeypatch) -> None:
    from ipysvs.models.precision import PRECISION_ENV

    monkeypatch.setenv(PRECISION_ENV, "float32")
    refiner = _scrambled(JointModel()).refiner.double()
    torch.manual_seed(4)
    magnitude = torch.rand(2, 2, 64, 1024, dtype=torch.float64)
    ratio = torch.rand(2, 2, 64, 1024, dtype=torch.float64)
    hz, gate = torch.full((2, 64), 196.0, dtype=torch.float64), torch.ones(2, 64, dtype=torch.float64)
    deep_gate = torch.zeros_like(gate)
    deep_gate[1, 20:40] = 1.0  # the second example's user touched frames 20..39; the first's nothing
    first, second = refiner.stages
    with torch.no_grad():
        change = refiner(magnitude, ratio, hz, gate, deep_gate)
        first_only = first(magnitude, ratio, hz, gate)
        # no deep gate anywhere in an example: its change is the first stage's, exactly
        torch.testing.assert_close(change[0], first_only[0], atol=0, rtol=0)
        # where it is open, the second stage refines the first stage's mask with that gate
        after_first = ratio[1:] + first_only[1:]
        both = after_first + second(magnitude[1:], after_first, hz[1:], deep_gate[1:])
        torch.testing.assert_close(change[1:], both - ratio[1:], atol=1e-12, rtol=0)
        assert (change[1, :, 20:40] - first_only[1, :, 20:40]).abs().max() > 1e-3
        # outside its gate the second stage changes nothing
        torch.testing.assert_close(change[1, :, 40:], first_only[1, :, 40:], atol=0, rtol=0)
        # no deep gate given: every stage reads the one gate, as in training
        same = refiner(magnitude, ratio, hz, gate)
        torch.testing.assert_close(same, refiner(magnitude, ratio, hz, gate, gate), atol=0, rtol=0)
        assert (same[0] - first_only[0]).abs().max() > 1e-3


def test_refinement_separator_changes_only_the_informed_frames() -> None:
    from ipysvs.conditioned import RefinementSeparator
    from ipysvs.separation import mixture_magnitude
    from ipysvs.spectral import HOP, N_FFT

    model = _scrambled(JointModel())
    song = demo_song(seconds=6.0, seed=4)
    frames = mixture_magnitude(song.mixture, song.sr).shape[1]
    vocals = mixture_magnitude(song.mixture, song.sr) / 2  # a pretrained ratio of 0.5 everywhere
    hz = np.full(frames, 220.0, dtype=np.float32)
    nothing = RefinementSeparator(model, vocals, hz, np.zeros(frames))
    assert not nothing.has_change()
    assert not nothing.separate_channels(song.mixture, song.sr).any()
    gate = np.zeros(frames, dtype=np.float32)
    gate[100:140] = 1.0
    change = RefinementSeparator(model, vocals, hz, gate).separate_channels(song.mixture, song.sr)
    moved = np.flatnonzero(np.abs(change).max(axis=0) > 0)
    assert moved.size > 0
    reach = N_FFT // 2  # a frame's inverse STFT reaches half a window either side of its centre
    assert moved[0] >= 100 * HOP - reach and moved[-1] <= 139 * HOP + reach


def test_pitch_gate_trusts_the_user_and_the_estimate_only_as_told(monkeypatch) -> None:
    from ipysvs.f0 import Trajectory
    from ipysvs.interactive import adaptation

    estimate = Trajectory(
        np.arange(4) * 0.1, np.array([200.0, 0.0, 210.0, 220.0]), np.array([0.9, 0.05, 0.5, 0.7])
    )
    edited = np.array([250.0, 0.0, 210.0, 220.0])
    informed = np.array([True, True, False, False])
    monkeypatch.setattr(adaptation, "ESTIMATE_TRUST", {"uncorrected": 0.0, "corrected": 1.0})
    hz, gate = adaptation.pitch_gate(edited, informed, estimate, corrections=False)
    np.testing.assert_array_equal(hz, [250.0, 0.0, 210.0, 220.0])
    np.testing.assert_allclose(gate, [1.0, 1.0, 0.0, 0.0])
    _, gate = adaptation.pitch_gate(edited, informed, estimate, corrections=True)
    np.testing.assert_allclose(gate, [1.0, 1.0, 0.5, 0.7])


def test_deeper_refiner_stages_read_only_the_users_information(monkeypatch) -> None:
    from ipysvs.f0 import Trajectory
    from ipysvs.interactive import adaptation
    from ipysvs.interactive.reseparation import pitch_conditioning

    estimate = Trajectory(
        np.arange(4) * 0.1, np.array([200.0, 0.0, 210.0, 220.0]), np.array([0.9, 0.05, 0.5, 0.7])
    )
    monkeypatch.setattr(adaptation, "ESTIMATE_TRUST", {"uncorrected": 0.0, "corrected": 1.0})
    corrected, activity = np.array([True, False, False, False]), np.array([0, -1, 0, 0])
    hz, gate, deep_gate = pitch_conditioning(
        np.array([250.0, 0.0, 210.0, 220.0]), corrected, activity, estimate
    )
    np.testing.assert_array_equal(hz, [250.0, 0.0, 210.0, 220.0])
    np.testing.assert_allclose(gate, [1.0, 1.0, 0.5, 0.7])  # the first stage also trusts the estimate
    np.testing.assert_array_equal(deep_gate, [1.0, 1.0, 0.0, 0.0])  # the deeper ones the user only
    assert deep_gate.dtype == np.float32


def test_conditioned_separator_validates_its_f0() -> None:
    model = JointModel.__new__(JointModel)  # validation happens before the model is used
    with pytest.raises(ParameterError, match="one length"):
        ConditionedSeparator.__init__(
            ConditionedSeparator.__new__(ConditionedSeparator), model, np.zeros(3), np.zeros(4)
        )
    with pytest.raises(ParameterError, match="one length"):
        ConditionedSeparator.__init__(
            ConditionedSeparator.__new__(ConditionedSeparator), model, np.zeros(3), np.zeros(3), np.zeros(2)
        )
    with pytest.raises(ParameterError, match="gates finite"):
        ConditionedSeparator.__init__(
            ConditionedSeparator.__new__(ConditionedSeparator),
            model,
            np.zeros(3),
            np.zeros(3),
            np.array([0.0, np.nan, 1.0]),
        )


def test_missing_or_wrong_weights_are_reported(tmp_path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        load_joint_model(tmp_path / "nope.safetensors")
    from safetensors.torch import save_file

    save_file({"salience.x": torch.zeros(2)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(WeightsError, match="tensors differ"):
        load_joint_model(tmp_path / "bad.safetensors")


def test_shipped_weights_are_compact_and_record_their_command() -> None:
    from safetensors import safe_open

    assert SHIPPED_WEIGHTS.is_file(), "ipysvs/weights/pitch.safetensors must ship with the package"
    assert SHIPPED_WEIGHTS.stat().st_size < 10e6
    with safe_open(str(SHIPPED_WEIGHTS), "pt") as handle:
        assert handle.metadata()["command"].startswith("ipysvs train")


def test_shipped_saliency_network_finds_the_demo_melody(separator) -> None:
    song = demo_song(seconds=12.0, seed=5)
    collector = VocalFrames()
    separator.separate_channels(song.mixture, song.sr, collector=collector)
    trajectory = salience_trajectory(
        song_salience(load_joint_model().salience, collector.magnitude, collector.mixture_magnitude)
    )
    scores = mir_eval.melody.evaluate(song.f0_times, song.f0_hz, trajectory.times, trajectory.hz)
    assert scores["Raw Pitch Accuracy"] > 0.8 and scores["Overall Accuracy"] > 0.7


def test_song_saliency_cuts_its_last_patch_at_the_song_end_changing_only_its_last_frames() -> None:
    from ipysvs.separation import PATCH_FRAMES, mixture_magnitude

    song = demo_song(seconds=16.3, seed=6)
    magnitude = mixture_magnitude(song.mixture, song.sr)
    frames = magnitude.shape[1]  # two patches, the second cut to 224 of its 512
    assert frames == 702
    model = load_joint_model().salience
    cut = song_salience(model, magnitude, magnitude)
    # the same song followed by zero frames up to the end of a whole last patch: the way it was padded
    padded_frames = PATCH_FRAMES + (PATCH_FRAMES - 32)
    padded = torch.cat([magnitude, torch.zeros(2, padded_frames - frames, 1024)], dim=1)
    whole = song_salience(model, padded, padded)[:frames]
    assert cut.shape == (frames, 320)
    np.testing.assert_array_equal(cut[: frames - 64], whole[: frames - 64])
    assert np.abs(cut - whole)[frames - 64 :].max() > 0  # the receptive field does reach the song's end


def test_song_saliency_stacks_in_place_exactly_as_the_network_reads_a_padded_patch(monkeypatch) -> None:
    from ipysvs.models.precision import PRECISION_ENV
    from ipysvs.separation import plan_patches

    monkeypatch.setenv(PRECISION_ENV, "float32")  # the network in float32, as the reference below runs it
    torch.manual_seed(3)
    magnitude = (torch.rand(2, 1000, 1024) ** 4).half()  # float16, as the analysis stores them
    mixture = (magnitude.float().mean(dim=0, keepdim=True) * 2).half()
    model = load_joint_model().salience
    expected = torch.zeros(1000, 320)
    with torch.inference_mode():
        for patch in plan_patches(1000):
            stop = min(patch.start + patch.length, 1000)
            length = -(-(stop - patch.start) // 16) * 16
            chunk = torch.zeros(1, 2, length, 1024)  # the patch copied into zero frames
            chunk[0, :, : stop - patch.start] = magnitude[:, patch.start : stop]
            mixture_chunk = torch.zeros(1, 1, length, 1024)
            mixture_chunk[0, :, : stop - patch.start] = mixture[:, patch.start : stop]
            salience = model(chunk, mixture_chunk)[0] * patch.weights[:length, None]
            expected[patch.start : stop] += salience[: stop - patch.start]
    np.testing.assert_array_equal(song_salience(model, magnitude, mixture), expected.numpy())


def test_collected_mixture_magnitudes_are_the_songs_own(separator) -> None:
    from ipysvs.separation import mixture_magnitude

    song = demo_song(seconds=14.0, seed=7)
    collector = VocalFrames()
    separator.separate_channels(song.mixture, song.sr, collector=collector)
    expected = mixture_magnitude(song.mixture, song.sr).mean(dim=0, keepdim=True)
    collected = collector.mixture_magnitude.float()
    assert collected.shape == expected.shape == (1, collector.magnitude.shape[1], 1024)
    # float16 storage: within its half-unit of precision of the song's own STFT magnitudes
    torch.testing.assert_close(collected, expected, atol=1e-3, rtol=2e-3)
    assert not torch.equal(collected, collector.magnitude.float().mean(dim=0, keepdim=True))


def test_song_saliency_rejects_inputs_of_other_frames() -> None:
    model = load_joint_model().salience
    with pytest.raises(ParameterError, match="same frames"):
        song_salience(model, torch.rand(2, 64, 1024), torch.rand(1, 63, 1024))
    with pytest.raises(ParameterError, match="same frames"):
        song_salience(model, torch.rand(64, 1024), torch.rand(64, 1024))


def test_an_older_vocals_only_saliency_network_loads_unchanged_beside_the_mixture(tmp_path) -> None:
    from safetensors.torch import save_file

    from ipysvs.research.training import start_from

    torch.manual_seed(5)
    old = {f"salience.{k}": v.clone() for k, v in JointModel().salience.state_dict().items()}
    key = "salience.unet.encoder.0.conv.weight"
    old[key] = torch.randn(16, len(HARMONICS), 5, 5)  # an older release's first layer: the vocals only
    save_file({k: v.contiguous() for k, v in old.items()}, str(tmp_path / "old.safetensors"))
    model = JointModel()
    start_from(model, tmp_path / "old.safetensors")
    weight = model.salience.unet.encoder[0].conv.weight
    assert torch.equal(weight[:, : len(HARMONICS)], old[key])
    assert not weight[:, len(HARMONICS) :].any()
    model.eval()
    vocals = torch.rand(1, 2, 64, 1024)
    with torch.no_grad():  # the mixture changes nothing: the network computes what it did
        torch.testing.assert_close(
            model.salience(vocals, torch.rand(1, 1, 64, 1024)),
            model.salience(vocals, torch.zeros(1, 1, 64, 1024)),
        )


@pytest.mark.slow
def test_shipped_refiner_adds_with_the_true_f0_on_songs_it_never_heard(separator) -> None:
    from ipysvs.f0 import frame_f0
    from ipysvs.research.evaluation import vocal_sdr
    from ipysvs.spectral import frame_count, frame_times

    model, gains = load_joint_model(), []
    for seed in (21, 22, 23, 24):  # training used seeds 1000-1039
        song = demo_song(seconds=10.0, seed=seed)
        frames = frame_count(song.mixture.shape[1])  # the song is at 44.1 kHz already
        hz = frame_f0(frame_times(frames).numpy(), song.f0_times, song.f0_hz).astype(np.float32)
        pretrained = separator.separate_channels(song.mixture, song.sr)
        informed = ConditionedSeparator(model, hz, np.ones_like(hz)).separate_channels(song.mixture, song.sr)
        before, _ = vocal_sdr(song.vocals, song.accompaniment, pretrained, song.sr)
        after, _ = vocal_sdr(song.vocals, song.accompaniment, informed, song.sr)
        gains.append(after - before)
    assert np.median(gains) > 0.3  # BSS Eval v3 vocal SDR, dB (one song of the four loses 0.16 dB)
