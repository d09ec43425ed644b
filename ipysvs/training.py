"""Pretraining of the pitch models on MIR-1K: ``ipysvs train``.

Two stages, both on the training singers (every singer but :data:`VALIDATION_SINGERS`):

1. **salience** -- the saliency network learns the vocal F0 from the pretrained separator's vocal
   magnitudes (binary cross-entropy against Gaussian-blurred F0, Bittner's target).
2. **conditioned** -- the F0-conditioned separator learns to *use* its pitch input: half of the
   batches see the true F0 (what a user's corrections give), half the stage-1 estimate (what an
   uncorrected song gives), so a correct pitch helps while an estimated one does not hurt. Loss: L1
   between ratio-masked mixture magnitudes and the true voice / accompaniment magnitudes (Jansson).

Features (magnitudes of mixture, stems and pretrained vocals, frame F0) are computed once and cached in
the run folder. Checkpoints are written every ``checkpoint_every`` steps; running the same command
again resumes from the last one. ``log.jsonl`` records losses and validation scores.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from . import audio as audio_io
from .augment import Crop, augment
from .datasets import VALIDATION_SINGERS, Track, group_songs, read_clips
from .errors import ParameterError
from .f0 import frame_f0, salience_target
from .models.joint import JointModel, trainable_names
from .pitch import salience_trajectory, song_salience
from .separation import Separator, ratio_mask
from .spectral import MODEL_BINS, N_FFT, SAMPLE_RATE, frame_times, hann_window

STAGES = ("salience", "conditioned")
FEATURE_NAMES = ("mixture", "vocals_pretrained", "voice", "accompaniment")
CONDITION_LR_FACTOR = 10.0


@dataclass
class TrainingConfig:
    """Everything that defines a training run (saved in the run folder and in the shipped weights)."""

    data: str
    salience_steps: int = 2500
    conditioned_steps: int = 2500
    salience_batch: int = 8
    conditioned_batch: int = 2
    crop_frames: int = 256
    salience_lr: float = 1e-3
    conditioned_lr: float = 2e-4
    oracle_probability: float = 0.5
    augment: tuple[str, ...] = ()
    checkpoint_every: int = 250
    seed: int = 0
    validation_singers: tuple[str, ...] = field(default=VALIDATION_SINGERS)

    def steps(self, stage: str) -> int:
        return self.salience_steps if stage == "salience" else self.conditioned_steps


@dataclass
class SongFeatures:
    """Training features of one song, on Spleeter's STFT frames (mono: MIR-1K is dual-mono to the nets).

    Attributes:
        name: ``<singer>_<song>``.
        magnitudes: each of :data:`FEATURE_NAMES` -> ``(frames, 1024)`` float16.
        f0_hz: ``(frames,)`` float32 true F0 (0 = unvoiced).
        estimate_hz, estimate_confidence: ``(frames,)`` stage-1 F0 estimate (after stage 1).
    """

    name: str
    magnitudes: dict[str, torch.Tensor]
    f0_hz: torch.Tensor
    estimate_hz: torch.Tensor | None = None
    estimate_confidence: torch.Tensor | None = None

    @property
    def frames(self) -> int:
        return self.f0_hz.shape[0]


def compute_features(track: Track, separator: Separator) -> SongFeatures:
    """Magnitudes of mixture, stems and pretrained-separator vocals, and the F0 at every frame."""
    stems = {
        "mixture": track.mixture,
        "voice": track.voice,
        "accompaniment": track.accompaniment,
    }
    window = hann_window()
    magnitudes = {}
    for name, mono in stems.items():
        wave = torch.from_numpy(audio_io.resample(mono[np.newaxis], track.sr, SAMPLE_RATE)[0])
        spectrum = torch.stft(
            wave, N_FFT, N_FFT // 4, window=window, center=True, pad_mode="constant", return_complex=True
        )
        magnitudes[name] = spectrum[:MODEL_BINS].abs().T.contiguous()
        if name == "mixture":
            ratio = separator.frame_ratios(wave.expand(2, -1).contiguous()).mean(dim=0).T
            magnitudes["vocals_pretrained"] = ratio * magnitudes["mixture"]
    frames = magnitudes["mixture"].shape[0]
    f0 = frame_f0(frame_times(frames).numpy(), track.labels.times, track.labels.f0_hz)
    return SongFeatures(
        track.name,
        {k: v.half() for k, v in magnitudes.items()},
        torch.from_numpy(f0.astype(np.float32)),
    )


def load_features(
    data: Path, singers: set[str], cache: Path, separator: Separator, *, include: bool
) -> list[SongFeatures]:
    """Features of the songs whose singer is (``include=True``) or is not in ``singers``, cached."""
    clips = read_clips(data)
    chosen = [c for c in clips if (c.singer in singers) == include]
    if not chosen:
        raise ParameterError(f"{data}: no clips {'of' if include else 'outside'} singers {sorted(singers)}")
    songs = []
    for song in group_songs(chosen):
        path = cache / f"{song.name}.pt"
        if path.is_file():
            saved = torch.load(path, weights_only=True)
            songs.append(SongFeatures(song.name, saved["magnitudes"], saved["f0_hz"]))
            continue
        features = compute_features(song.load(), separator)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"magnitudes": features.magnitudes, "f0_hz": features.f0_hz}, path)
        songs.append(features)
    return songs


class CropSampler:
    """Random fixed-length crops of random songs (chance proportional to song length)."""

    def __init__(
        self, songs: list[SongFeatures], frames: int, augmentations: tuple[str, ...], seed: int
    ) -> None:
        self.songs = songs
        self.frames = frames
        self.augmentations = augmentations
        self.rng = np.random.default_rng(seed)
        lengths = np.array([s.frames for s in songs], dtype=np.float64)
        self.chance = lengths / lengths.sum()

    def crop(self, names: tuple[str, ...], *, with_estimate: bool = False) -> tuple[Crop, SongFeatures, int]:
        """One crop of the named magnitudes, as ``(1, frames, 1024)`` float32 (zero past the song)."""
        song = self.songs[self.rng.choice(len(self.songs), p=self.chance)]
        start = int(self.rng.integers(0, max(song.frames - self.frames, 0) + 1))
        stop = min(start + self.frames, song.frames)

        def window(values: torch.Tensor) -> torch.Tensor:
            out = torch.zeros((self.frames, *values.shape[1:]), dtype=torch.float32)
            out[: stop - start] = values[start:stop].float()
            return out

        crop = Crop({n: window(song.magnitudes[n]).unsqueeze(0) for n in names}, window(song.f0_hz))
        return augment(crop, self.augmentations, self.rng), song, start


def salience_batch(sampler: CropSampler, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``(size, 2, frames, 1024)`` pretrained-vocal magnitudes and targets ``(size, frames, 320)``."""
    inputs, targets = [], []
    for _ in range(size):
        crop, _, _ = sampler.crop(("vocals_pretrained",))
        inputs.append(crop.magnitudes["vocals_pretrained"].expand(2, -1, -1))
        targets.append(torch.from_numpy(salience_target(crop.f0_hz.numpy())))
    return torch.stack(inputs), torch.stack(targets)


def conditioned_batch(sampler: CropSampler, size: int, oracle_probability: float) -> dict[str, torch.Tensor]:
    """Mixture, voice and accompaniment magnitudes ``(size, 2, frames, 1024)`` and the conditioning
    F0 ``hz``/``weight`` ``(size, frames)``: the true F0 with weight 1, or the stage-1 estimate."""
    batch: dict[str, list[torch.Tensor]] = {
        k: [] for k in ("mixture", "voice", "accompaniment", "hz", "weight")
    }
    for _ in range(size):
        crop, song, start = sampler.crop(("mixture", "voice", "accompaniment"))
        for name in ("mixture", "voice", "accompaniment"):
            batch[name].append(crop.magnitudes[name].expand(2, -1, -1))
        if sampler.rng.random() < oracle_probability or song.estimate_hz is None or sampler.augmentations:
            batch["hz"].append(crop.f0_hz)
            batch["weight"].append(torch.ones_like(crop.f0_hz))
        else:
            stop = min(start + sampler.frames, song.frames)
            hz, weight = torch.zeros(sampler.frames), torch.zeros(sampler.frames)
            hz[: stop - start] = song.estimate_hz[start:stop]
            weight[: stop - start] = song.estimate_confidence[start:stop]
            batch["hz"].append(hz)
            batch["weight"].append(weight)
    return {k: torch.stack(v) for k, v in batch.items()}


def salience_loss(model: JointModel, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    inputs, targets = batch
    return functional.binary_cross_entropy(model.salience(inputs).clamp(1e-6, 1 - 1e-6), targets)


def conditioned_loss(model: JointModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    mixture = batch["mixture"]
    vocals_mask, accompaniment_mask = model.conditioned_masks(mixture, batch["hz"], batch["weight"])
    ratio = ratio_mask(vocals_mask, accompaniment_mask, mixture)
    return functional.l1_loss(ratio * mixture, batch["voice"]) + functional.l1_loss(
        (1 - ratio) * mixture, batch["accompaniment"]
    )


def stage_parameter_groups(model: JointModel, stage: str, lr: float) -> list[dict]:
    """Optimizer parameter groups of ``stage``; every other parameter is frozen.

    In the conditioned stage the new conditioning weights (which start at zero) learn
    :data:`CONDITION_LR_FACTOR` times faster than the pretrained layers they feed.
    """
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    if stage == "salience":
        groups = [{"params": list(model.salience.parameters()), "lr": lr}]
    else:
        fresh, pretrained = [], []
        for _, net in model.separation_nets():
            named = dict(net.named_parameters())
            for name in trainable_names(net):
                (fresh if name.startswith("condition.") else pretrained).append(named[name])
        groups = [{"params": fresh, "lr": lr * CONDITION_LR_FACTOR}, {"params": pretrained, "lr": lr}]
    for group in groups:
        for parameter in group["params"]:
            parameter.requires_grad_(True)
    return groups


class Run:
    """A training run folder: config, features cache, checkpoint, log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def state_path(self) -> Path:
        return self.folder / "state.json"

    def log(self, **record: object) -> None:
        with (self.folder / "log.jsonl").open("a") as handle:
            handle.write(json.dumps({"time": time.time(), **record}) + "\n")

    def load_state(self) -> dict | None:
        return json.loads(self.state_path.read_text()) if self.state_path.is_file() else None

    def save_checkpoint(self, model: JointModel, optimizer: torch.optim.Optimizer, state: dict) -> None:
        from safetensors.torch import save_file

        save_file(model.shipped_state(), str(self.folder / "model.safetensors.tmp"))
        torch.save(optimizer.state_dict(), self.folder / "optimizer.pt.tmp")
        (self.folder / "model.safetensors.tmp").replace(self.folder / "model.safetensors")
        (self.folder / "optimizer.pt.tmp").replace(self.folder / "optimizer.pt")
        self.state_path.write_text(json.dumps(state, indent=2))

    def restore(self, model: JointModel) -> None:
        from safetensors.torch import load_file

        model.load_shipped_state(load_file(str(self.folder / "model.safetensors")), source=str(self.folder))


def train(
    config: TrainingConfig,
    run_folder: Path,
    *,
    progress: Callable[[str, int, int, float], None] | None = None,
) -> JointModel:
    """Run (or resume) both stages and return the trained model. See the module docstring."""
    torch.manual_seed(config.seed)
    run = Run(run_folder)
    state = run.load_state() or {
        "config": _config_dict(config),
        "stage": STAGES[0],
        "step": 0,
        "seconds": 0.0,
    }
    model = JointModel()
    if (run.folder / "model.safetensors").is_file():
        run.restore(model)
    if state["stage"] == "done":
        return model.eval()
    separator = Separator()
    validation = set(config.validation_singers)
    training_songs = load_features(
        Path(config.data), validation, run.folder / "features", separator, include=False
    )
    validation_songs = load_features(
        Path(config.data), validation, run.folder / "features", separator, include=True
    )
    for stage in STAGES[STAGES.index(state["stage"]) :]:
        state["stage"] = stage
        if stage == "conditioned":
            attach_estimates(model, training_songs)
        _train_stage(model, stage, config, training_songs, run, state, progress)
        run.log(stage=stage, seconds=state["seconds"], validation=validate(model, stage, validation_songs))
        state.update(step=0, seconds=0.0)
    state["stage"] = "done"
    run.state_path.write_text(json.dumps(state, indent=2))
    return model.eval()


def _train_stage(
    model: JointModel,
    stage: str,
    config: TrainingConfig,
    songs: list[SongFeatures],
    run: Run,
    state: dict,
    progress: Callable[[str, int, int, float], None] | None,
) -> None:
    lr = config.salience_lr if stage == "salience" else config.conditioned_lr
    optimizer = torch.optim.Adam(stage_parameter_groups(model, stage, lr))
    if state["step"] > 0 and (run.folder / "optimizer.pt").is_file():
        optimizer.load_state_dict(torch.load(run.folder / "optimizer.pt", weights_only=True))
    sampler = CropSampler(
        songs, config.crop_frames, config.augment, config.seed + state["step"] + 7919 * STAGES.index(stage)
    )
    # The saliency network learns from scratch: its batch norms normalise with batch statistics.
    # The pretrained separators keep their running statistics (and no dropout): small batches
    # fine-tune them stably.
    model.eval()
    model.salience.train(stage == "salience")
    total = config.steps(stage)
    started = time.time() - state["seconds"]
    for step in range(state["step"], total):
        if stage == "salience":
            loss = salience_loss(model, salience_batch(sampler, config.salience_batch))
        else:
            loss = conditioned_loss(
                model, conditioned_batch(sampler, config.conditioned_batch, config.oracle_probability)
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state.update(step=step + 1, seconds=time.time() - started)
        if progress is not None:
            progress(stage, step + 1, total, loss.item())
        if (step + 1) % 25 == 0:
            run.log(stage=stage, step=step + 1, loss=loss.item(), seconds=state["seconds"])
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == total:
            run.save_checkpoint(model, optimizer, state)


def attach_estimates(model: JointModel, songs: list[SongFeatures]) -> None:
    """Store the saliency network's F0 estimate on every song (the conditioning of stage 2)."""
    model.eval()
    for song in songs:
        vocals = song.magnitudes["vocals_pretrained"].float().unsqueeze(0).expand(2, -1, -1)
        trajectory = salience_trajectory(song_salience(model.salience, vocals))
        song.estimate_hz = torch.from_numpy(trajectory.hz.astype(np.float32))
        song.estimate_confidence = torch.from_numpy(trajectory.confidence)


def validate(model: JointModel, stage: str, songs: list[SongFeatures]) -> dict[str, float]:
    """Validation scores after a stage: pitch accuracy (salience) or masked-magnitude L1 (conditioned)."""
    import mir_eval

    model.eval()
    if stage == "salience":
        scores = []
        for song in songs:
            vocals = song.magnitudes["vocals_pretrained"].float().unsqueeze(0).expand(2, -1, -1)
            trajectory = salience_trajectory(song_salience(model.salience, vocals))
            scores.append(
                mir_eval.melody.evaluate(
                    trajectory.times, song.f0_hz.numpy(), trajectory.times, trajectory.hz
                )
            )
        return {k: float(np.mean([s[k] for s in scores])) for k in ("Raw Pitch Accuracy", "Overall Accuracy")}
    attach_estimates(model, songs)
    losses = {"oracle": [], "estimate": [], "silent": []}
    with torch.no_grad():
        for song in songs:
            batch = {k: _song_batch(song.magnitudes[k]) for k in ("mixture", "voice", "accompaniment")}
            for name, hz, weight in _conditions(song):
                batch["hz"], batch["weight"] = _pad_frames(hz)[None], _pad_frames(weight)[None]
                losses[name].append(float(conditioned_loss(model, batch)))
    return {k: float(np.mean(v)) for k, v in losses.items()}


def _song_batch(magnitude: torch.Tensor) -> torch.Tensor:
    """A whole song's ``(frames, 1024)`` magnitudes as a dual-mono batch ``(1, 2, frames', 1024)``."""
    return _pad_frames(magnitude.float().T).T.unsqueeze(0).expand(2, -1, -1).unsqueeze(0)


def _conditions(song: SongFeatures) -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    yield "oracle", song.f0_hz, torch.ones_like(song.f0_hz)
    yield "estimate", song.estimate_hz, song.estimate_confidence
    yield "silent", torch.zeros_like(song.f0_hz), torch.zeros_like(song.f0_hz)


def _pad_frames(values: torch.Tensor, multiple: int = 64) -> torch.Tensor:
    """Zero-pad the last dimension (frames) to a multiple of ``multiple``."""
    return functional.pad(values, (0, -values.shape[-1] % multiple))


def _config_dict(config: TrainingConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def export_weights(model: JointModel, path: Path, *, command: str, config: TrainingConfig) -> Path:
    """Write the shipped tensors (float16) with the training command and config as metadata."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() for k, v in model.shipped_state().items()}
    save_file(state, str(path), metadata={"command": command, "config": json.dumps(_config_dict(config))})
    return path
