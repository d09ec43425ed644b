"""Pitch-model training end to end on a tiny MIR-1K-layout folder made from demo songs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
import torch

from ipysvs.augment import AUGMENTATIONS, Crop, augment
from ipysvs.demo import demo_song
from ipysvs.errors import ParameterError
from ipysvs.models.joint import load_joint_model
from ipysvs.training import TrainingConfig, export_weights, train


def _write_clip(folder, name: str, seed: int) -> list[str]:
    song = demo_song(seconds=4.0, sr=16000, seed=seed)
    soundfile.write(str(folder / f"{name}.voice.wav"), song.vocals[0], 16000)
    soundfile.write(str(folder / f"{name}.acc.wav"), song.accompaniment[0], 16000)
    times = np.arange(0.02, 4.0, 0.02)
    hz = np.interp(times, song.f0_times, song.f0_hz) * (np.interp(times, song.f0_times, song.f0_hz > 0) > 0.5)
    rows = "".join(f"{t:.2f},{f:.3f},{int(f > 0)}\n" for t, f in zip(times, hz, strict=True))
    (folder / f"{name}.labels.csv").write_text("time_s,f0_hz,vocal\n" + rows)
    singer, song_id, clip = name.split("_")
    return [name, singer, "F", song_id, clip, "4.0"]


@pytest.fixture(scope="module")
def tiny_mir1k(tmp_path_factory):
    root = tmp_path_factory.mktemp("mir1k")
    clips = root / "clips"
    clips.mkdir()
    rows = [_write_clip(clips, name, seed) for seed, name in enumerate(["amy_1_01", "amy_1_02", "leon_1_01"])]
    index = "name,singer,gender,song,clip,duration_s\n" + "".join(",".join(r) + "\n" for r in rows)
    (root / "index.csv").write_text(index)
    return root


def test_training_runs_checkpoints_resumes_and_exports(tiny_mir1k, tmp_path) -> None:
    config = TrainingConfig(
        data=str(tiny_mir1k),
        salience_steps=2,
        conditioned_steps=2,
        salience_batch=2,
        conditioned_batch=1,
        crop_frames=64,
        checkpoint_every=1,
        validation_singers=("leon",),
    )
    run = tmp_path / "run"
    model = train(config, run)
    state = json.loads((run / "state.json").read_text())
    assert state["stage"] == "done"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    validations = [entry["validation"] for entry in log if "validation" in entry]
    assert set(validations[0]) == {"Raw Pitch Accuracy", "Overall Accuracy"}
    assert set(validations[1]) == {"oracle", "estimate", "silent"}
    assert len(list((run / "features").glob("*.pt"))) == 2  # one song per singer, cached

    # the conditioning weights moved away from zero: stage 2 trained them
    assert torch.count_nonzero(model.vocals.condition.weight) > 0

    # resuming a finished run trains nothing more and gives the same weights
    again = train(config, run)
    for name, value in model.shipped_state().items():
        torch.testing.assert_close(again.shipped_state()[name], value)

    path = export_weights(model, tmp_path / "pitch.safetensors", command="ipysvs train test", config=config)
    loaded = load_joint_model(path)
    x = torch.rand(1, 2, 64, 1024)
    torch.testing.assert_close(loaded.salience(x), model.salience(x), atol=2e-3, rtol=1e-2)


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
