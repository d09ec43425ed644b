"""Pitch-model training end to end on a tiny MIR-1K-layout folder made from demo songs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ipysvs.demo import demo_song
from ipysvs.errors import ParameterError
from ipysvs.f0 import frame_f0
from ipysvs.models.joint import JointModel, load_joint_model
from ipysvs.research.augment import AUGMENTATIONS, Crop, augment
from ipysvs.research.training import (
    CropSampler,
    SongFeatures,
    TrainingConfig,
    demo_features,
    export_weights,
    refiner_loss,
    train,
    training_conditioning,
)
from ipysvs.separation import Separator
from ipysvs.spectral import frame_times


def tiny_config(data, **steps: object) -> TrainingConfig:
    """A training run small enough for a test, on the tiny MIR-1K folder (singer leon validates)."""
    return TrainingConfig(
        data=str(data),
        salience_batch=2,
        refiner_batch=1,
        crop_frames=64,
        refiner_crop_frames=64,
        demo_seeds=(1000,),
        demo_seconds=4.0,
        validation_singers=("leon",),
        **steps,
    )


@pytest.mark.slow
def test_training_runs_checkpoints_resumes_and_exports(tiny_mir1k, tmp_path) -> None:
    config = tiny_config(tiny_mir1k, salience_steps=2, refiner_steps=2, checkpoint_every=1)
    run = tmp_path / "run"
    pretrained = {k: v.clone() for k, v in JointModel().vocals.state_dict().items()}
    model = train(config, run)
    state = json.loads((run / "state.json").read_text())
    assert state["stage"] == "done"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    validations = [entry["validation"] for entry in log if "validation" in entry]
    assert set(validations[0]) == {"Raw Pitch Accuracy", "Overall Accuracy"}
    assert set(validations[1]) == {"true", "estimate", "none"}
    assert len(list((run / "features").glob("*.pt"))) == 2  # one song per singer, cached

    # both refiner stages' heads moved away from zero; the pretrained separator did not move at all
    for stage in model.refiner.stages:
        assert torch.count_nonzero(stage.unet.mask_head.weight) > 0
    for name, value in model.vocals.state_dict().items():
        assert torch.equal(value, pretrained[name]), name

    # resuming a finished run trains nothing more and gives the same weights
    again = train(config, run)
    for name, value in model.shipped_state().items():
        torch.testing.assert_close(again.shipped_state()[name], value)

    path = export_weights(model, tmp_path / "pitch.safetensors", command="ipysvs train test", config=config)
    loaded = load_joint_model(path)
    x, mixture = torch.rand(1, 2, 64, 1024), torch.rand(1, 1, 64, 1024)
    torch.testing.assert_close(loaded.salience(x, mixture), model.salience(x, mixture), atol=2e-3, rtol=1e-2)


@pytest.mark.slow
def test_refiner_alone_starts_from_given_saliency_weights(tiny_mir1k, tmp_path) -> None:
    source = JointModel()
    with torch.no_grad():
        for parameter in source.salience.parameters():
            parameter.add_(0.01)
    weights = export_weights(
        source, tmp_path / "start.safetensors", command="ipysvs train test", config=TrainingConfig(data="")
    )
    config = tiny_config(tiny_mir1k, salience_steps=0, refiner_steps=1, initial_weights=str(weights))
    model = train(config, tmp_path / "run")
    for (name, value), (_, start) in zip(
        model.salience.state_dict().items(),
        load_joint_model(weights).salience.state_dict().items(),
        strict=True,
    ):
        assert torch.equal(value, start), name  # no saliency step ran
    assert not (tmp_path / "run" / "features").exists()  # and no saliency features were computed


def test_stem_crops_are_pitch_shifted_with_their_labels() -> None:
    from ipysvs.research.training import StemSource, cut_stem_crop
    from ipysvs.spectral import hann_window

    sr, seconds = 44100, 3.0
    t = np.arange(int(sr * seconds)) / sr
    voice = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)[None]
    source = StemSource(
        "tone", voice, np.zeros_like(voice), np.array([0.0, seconds]), np.array([220.0, 220.0])
    )
    rng = np.random.default_rng(3)
    crop = cut_stem_crop(source, 32, rng, max_semitones=3.0, window=hann_window())
    assert crop.voice.shape == crop.accompaniment.shape == (2, 1024, 32)
    labelled = float(crop.f0_hz[16])
    assert labelled != 220.0 and 220.0 * 2 ** (-3 / 12) <= labelled <= 220.0 * 2 ** (3 / 12)
    peak_bin = int(crop.voice[0, :, 16].abs().argmax())
    assert abs(peak_bin * sr / 4096 - labelled) < sr / 4096  # the tone moved where its label says


def test_stem_augmentation_keeps_shapes_and_the_f0() -> None:
    from ipysvs.research.augment import StemAugmentation, StemCrop, augment_stems

    rng = np.random.default_rng(0)
    voice = torch.randn(2, 1024, 16, dtype=torch.complex64)
    crop = StemCrop(voice, torch.randn(2, 1024, 16, dtype=torch.complex64), torch.full((16,), 220.0))
    options = StemAugmentation(band_limit_probability=1.0, eq_probability=1.0)
    out = augment_stems(crop, rng, options, bin_hz=44100 / 4096)
    assert out.voice.shape == voice.shape and torch.equal(out.f0_hz, crop.f0_hz)
    assert not out.voice[:, -1].any() and out.voice[:, 10].abs().sum() > 0  # band limited above the cutoff


def test_training_rejects_a_folder_without_training_singers(tiny_mir1k, tmp_path) -> None:
    config = TrainingConfig(data=str(tiny_mir1k), validation_singers=("leon", "amy"))
    with pytest.raises(ParameterError, match="no clips outside"):
        train(config, tmp_path / "run")


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_augmentations_keep_shapes_and_alignment(name: str) -> None:
    rng = np.random.default_rng(0)
    frames = torch.linspace(0.1, 1.0, 32)
    voice = torch.rand(2, 32, 1024) * frames[None, :, None]
    crop = Crop(
        {"voice": voice, "accompaniment": torch.rand(2, 32, 1024), "mixture": torch.rand(2, 32, 1024)},
        torch.full((32,), 220.0),
    )
    out = augment(crop, (name,), rng)
    assert {k: v.shape for k, v in out.magnitudes.items()} == {k: v.shape for k, v in crop.magnitudes.items()}
    assert out.f0_hz.shape == (32,)
    if name == "pitch-shift":
        factor = float(out.f0_hz[0] / 220.0)
        assert factor != 1.0 and 2 ** (-2 / 12) <= factor <= 2 ** (2 / 12)


def test_unknown_augmentation_is_rejected() -> None:
    crop = Crop({"voice": torch.zeros(1, 4, 8)}, torch.zeros(4))
    with pytest.raises(ParameterError, match="unknown augmentation"):
        augment(crop, ("reverse",), np.random.default_rng(0))


def test_the_complex_objective_measures_the_separated_vocals_error() -> None:
    from ipysvs.models.refiner import masked_error_energy

    generator = torch.Generator().manual_seed(0)
    shape = (2, 2, 16, 1024)
    mixture = torch.complex(torch.randn(shape, generator=generator), torch.randn(shape, generator=generator))
    voice = 0.3 * mixture  # a voice that is exactly 30 % of every bin
    assert masked_error_energy(torch.full(shape, 0.3), mixture, voice).item() < 1e-10
    wrong = masked_error_energy(torch.full(shape, 0.5), mixture, voice).item()
    worse = masked_error_energy(torch.full(shape, 0.9), mixture, voice).item()
    assert 0 < wrong < worse
    # the error energy of the vocals is 0.2**2 of the mixture's, relative to 0.3**2 + 0.1 of it
    assert wrong == pytest.approx(0.04 / (0.09 + 0.1), rel=1e-4)


def test_the_framewise_objective_is_minus_the_sdr_of_each_second() -> None:
    from ipysvs.models.refiner import framewise_error_db, masked_error_energy

    generator = torch.Generator().manual_seed(0)
    shape = (1, 2, 86, 1024)  # two windows of 43 frames
    mixture = torch.complex(torch.randn(shape, generator=generator), torch.randn(shape, generator=generator))
    voice = 0.3 * mixture
    ratio = torch.full(shape, 0.5)
    # the vocals' error is 0.2 of the mixture, against a reference of 0.3**2 + 0.01 of its energy
    expected = 10 * np.log10(0.04 / (0.09 + 0.01) + 1e-3)
    assert framewise_error_db(ratio, mixture, voice).item() == pytest.approx(expected, abs=1e-3)
    assert framewise_error_db(torch.full(shape, 0.3), mixture, voice).item() == pytest.approx(-30, abs=1e-3)
    # a passage 40 dB quieter counts as much as a loud one: the loss does not move, the energy one does
    quiet = torch.ones(shape)
    quiet[:, :, 43:] = 0.01
    mixture, voice = mixture * quiet, voice * quiet
    assert framewise_error_db(ratio, mixture, voice).item() == pytest.approx(expected, abs=1e-3)
    better_quiet = ratio.clone()
    better_quiet[:, :, 43:] = 0.3
    energy = masked_error_energy(better_quiet, mixture, voice).item()
    assert energy == pytest.approx(masked_error_energy(ratio, mixture, voice).item(), rel=1e-3)
    assert framewise_error_db(better_quiet, mixture, voice).item() < expected - 10


@pytest.mark.slow
def test_a_later_stage_trains_on_a_one_stage_refiner_that_stays_as_it_was(tiny_mir1k, tmp_path) -> None:
    from safetensors.torch import save_file

    source = JointModel()
    torch.manual_seed(2)
    with torch.no_grad():
        for parameter in source.refiner.stages[0].parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.05)
    # a file of the release whose refiner had one stage: its tensors were named refiner.unet.*
    one_stage = {k: v.half() for k, v in source.salience.state_dict().items()}
    one_stage = {f"salience.{k}": v for k, v in one_stage.items()} | {
        f"refiner.{k}": v.half() for k, v in source.refiner.stages[0].state_dict().items()
    }
    save_file(one_stage, str(tmp_path / "one-stage.safetensors"))
    config = tiny_config(
        tiny_mir1k,
        salience_steps=0,
        refiner_steps=2,
        refiner_stages=(1,),
        initial_weights=str(tmp_path / "one-stage.safetensors"),
    )
    model = train(config, tmp_path / "run")
    for name, value in model.refiner.stages[0].state_dict().items():
        torch.testing.assert_close(value.float(), one_stage[f"refiner.{name}"].float(), msg=name)  # untrained
    assert torch.count_nonzero(model.refiner.stages[1].unet.mask_head.weight) > 0  # this one did


def test_training_conditioning_says_which_frames_carry_the_true_f0() -> None:
    true_hz = torch.full((2, 64), 220.0)
    estimate = (torch.full((2, 64), 230.0), torch.full((2, 64), 0.8))
    rng = np.random.default_rng(0)
    hz, gate, corrected = training_conditioning(true_hz, estimate, rng, "true")
    assert torch.equal(hz, true_hz) and torch.equal(gate, torch.ones(2, 64))
    assert torch.equal(corrected, torch.ones(2, 64))
    hz, gate, corrected = training_conditioning(true_hz, estimate, rng, "estimate")
    assert torch.equal(hz, estimate[0]) and torch.allclose(gate, torch.full((2, 64), 0.8))
    assert torch.equal(corrected, torch.zeros(2, 64))
    for _ in range(20):  # users' mixes: wherever the true F0 is given, the gate is 1
        hz, gate, corrected = training_conditioning(true_hz, estimate, rng)
        assert torch.equal(gate[corrected == 1], torch.ones(int(corrected.sum())))
        assert torch.equal(hz[corrected == 0], estimate[0][corrected == 0])


def test_the_corrected_deep_gate_keeps_the_deeper_stage_off_uncorrected_crops() -> None:
    demo = demo_song(seconds=4.0, seed=3)
    from ipysvs.separation import mixture_spectrum

    mixture = mixture_spectrum(demo.mixture, demo.sr)[:, :128].unsqueeze(0)
    voice = mixture_spectrum(demo.vocals, demo.sr)[:, :128].unsqueeze(0)
    f0_hz = frame_f0(frame_times(128).numpy(), demo.f0_times, demo.f0_hz)
    batch = {
        "mixture": mixture.abs(),
        "mixture_complex": mixture,
        "voice_complex": voice,
        "f0_hz": torch.from_numpy(f0_hz).float()[None],
    }
    model = load_joint_model()
    scrambled = load_joint_model()
    with torch.no_grad():
        for parameter in scrambled.refiner.stages[1].parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)

    def loss(net: JointModel, condition: str, deep_gate: str) -> float:
        with torch.no_grad():
            rng = np.random.default_rng(0)
            return float(refiner_loss(net, batch, rng, condition, objective="complex", deep_gate=deep_gate))

    # uncorrected: with the corrected deep gate only the first stage acts, whatever the deeper one holds
    assert loss(model, "estimate", "corrected") == loss(scrambled, "estimate", "corrected")
    assert loss(model, "estimate", "gate") != loss(scrambled, "estimate", "gate")
    # corrected: the deeper stage acts under either gate
    assert loss(model, "true", "corrected") == loss(model, "true", "gate")
    assert loss(model, "true", "corrected") != loss(scrambled, "true", "corrected")


@pytest.mark.slow
def test_a_deeper_stage_that_no_crop_reaches_takes_no_step(tiny_mir1k, tmp_path, monkeypatch) -> None:
    from ipysvs.research import training

    def never_corrected(true_hz, estimate, rng, condition=None):
        hz, gate, corrected = training_conditioning(true_hz, estimate, rng, "estimate")
        return hz, gate, corrected

    monkeypatch.setattr(training, "training_conditioning", never_corrected)
    config = tiny_config(
        tiny_mir1k, salience_steps=0, refiner_steps=2, refiner_stages=(1,), refiner_deep_gate="corrected"
    )
    model = train(config, tmp_path / "run")  # no "does not require grad" error: the steps are skipped
    assert torch.count_nonzero(model.refiner.stages[1].unet.mask_head.weight) == 0


def test_training_config_names_the_refiner_stages() -> None:
    with pytest.raises(ParameterError, match=r"refiner_stages must name stages among \[0, 1\]"):
        TrainingConfig(data="", refiner_stages=(2,))
    with pytest.raises(ParameterError, match="refiner_stages"):
        TrainingConfig(data="", refiner_stages=())


def test_training_config_checks_the_refiner_crops(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ParameterError, match="refiner_crop_frames must be a positive multiple of 64"):
        TrainingConfig(data="", refiner_crop_frames=100)
    assert TrainingConfig(data="", refiner_crop_frames=512, refiner_batch=1).refiner_crop_frames == 512
    from ipysvs.cli import main

    assert main(["train", "data", "--refiner-batch", "0"]) == 2
    assert "--refiner-batch: must be at least 1, got 0" in capsys.readouterr().err
    assert main(["train", "data", "--refiner-crop-frames", "100", "--quiet"]) != 0
    assert "refiner_crop_frames must be a positive multiple of 64" in capsys.readouterr().err


def test_training_config_names_the_refiner_objectives_and_deep_gates() -> None:
    with pytest.raises(ParameterError, match="refiner_objective must be one of"):
        TrainingConfig(data="", refiner_objective="sdr")
    with pytest.raises(ParameterError, match="refiner_deep_gate must be one of"):
        TrainingConfig(data="", refiner_deep_gate="all")
    assert TrainingConfig(data="", refiner_deep_gate="corrected").refiner_deep_gate == "corrected"
    assert TrainingConfig(data="", refiner_objective="complex").refiner_objective == "complex"
    assert TrainingConfig(data="", refiner_objective="framewise").refiner_objective == "framewise"


def test_training_config_checks_the_demo_share(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ParameterError, match="demo_share must be between 0 and 1"):
        TrainingConfig(data="", demo_share=1.5)
    with pytest.raises(ParameterError, match="demo_share must be between 0 and 1"):
        TrainingConfig(data="", demo_share="half")  # type: ignore[arg-type]
    assert TrainingConfig(data="", demo_share=0.25).demo_share == 0.25
    from ipysvs.cli import main

    assert main(["train", "data", "--demo-share", "1.5"]) == 2
    assert "--demo-share: must be between 0 and 1, got '1.5'" in capsys.readouterr().err


@pytest.mark.slow
def test_the_saliency_stage_can_train_on_demo_songs_too(tiny_mir1k, tmp_path) -> None:
    config = tiny_config(tiny_mir1k, salience_steps=1, refiner_steps=0, salience_demo_share=0.5)
    train(config, tmp_path / "run")
    cached = sorted(path.name for path in (tmp_path / "run" / "features").glob("*.pt"))
    assert "demo-1000-4s.pt" in cached and len(cached) == 3  # the demo song beside the two MIR-1K songs
    [demo] = demo_features((1000,), 4.0, tmp_path / "run" / "features", Separator())
    song = demo_song(seconds=4.0, seed=1000)
    assert set(demo.magnitudes) == {"mixture", "vocals_pretrained", "voice", "accompaniment"}
    assert demo.magnitudes["vocals_pretrained"].shape == (demo.frames, 1024)
    expected_f0 = frame_f0(frame_times(demo.frames).numpy(), song.f0_times, song.f0_hz)
    np.testing.assert_allclose(demo.f0_hz.numpy(), expected_f0, rtol=1e-6)
    # the separated vocals sit between nothing and the mixture, closer to the voice than the mixture is
    vocals, voice, mixture = (demo.magnitudes[k].float() for k in ("vocals_pretrained", "voice", "mixture"))
    assert torch.all(vocals <= mixture * 1.001 + 1e-3)
    assert (vocals - voice).abs().mean() < (mixture - voice).abs().mean()


def test_crops_come_from_each_group_in_its_share() -> None:
    def song(name: str, frames: int) -> SongFeatures:
        return SongFeatures(name, {"vocals_pretrained": torch.ones(frames, 4)}, torch.zeros(frames))

    mir1k, demo = [song("a", 100), song("b", 300)], [song("demo", 50)]
    sampler = CropSampler([(mir1k, 0.75), (demo, 0.25)], 16, (), seed=0)
    np.testing.assert_allclose(sampler.chance, [0.1875, 0.5625, 0.25])  # by length inside a group
    drawn = [sampler.crop(("vocals_pretrained",))[1].name for _ in range(2000)]
    assert abs(drawn.count("demo") / 2000 - 0.25) < 0.04
    assert {s.name for s in CropSampler([(mir1k, 1.0), (demo, 0.0)], 16, (), seed=0).songs} == {"a", "b"}
    with pytest.raises(ParameterError, match="no training songs"):
        CropSampler([(mir1k, 0.0), ([], 1.0)], 16, (), seed=0)


def test_training_config_checks_the_saliency_demo_share(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ParameterError, match="salience_demo_share must be between 0 and 1"):
        TrainingConfig(data="", salience_demo_share=-0.1)
    from ipysvs.cli import main

    assert main(["train", "data", "--salience-demo-share", "2"]) == 2
    assert "--salience-demo-share: must be between 0 and 1, got '2'" in capsys.readouterr().err
