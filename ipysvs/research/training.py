"""Pretraining of the pitch models: ``ipysvs train``.

Two stages:

1. **salience** -- on MIR-1K's training singers (every singer but :data:`VALIDATION_SINGERS`) and, for a
   ``salience_demo_share`` of the crops, full-band demo songs (seeds :data:`TRAINING_DEMO_SEEDS`), the
   saliency network learns the vocal F0 from the pretrained separator's vocal magnitudes (binary
   cross-entropy against Gaussian-blurred F0, Bittner's target). Features are computed once and cached
   in the run folder.
2. **refiner** -- the F0-informed mask refiner (:mod:`ipysvs.models.refiner`) learns to *use* pitch on
   top of the frozen pretrained separator, from mixtures made on the fly out of separate stems of MIR-1K's
   training singers and of full-band demo songs (seeds :data:`TRAINING_DEMO_SEEDS`, kept apart from every
   seed the benchmarks evaluate), each crop pitch shifted, re-balanced, equalised, band limited and
   re-levelled (:class:`~ipysvs.research.augment.StemAugmentation`), so that it does not learn one corpus'
   sound. Its conditioning is what users give: the true F0 with gate 1, the estimate gated by its
   confidence, or both in one crop. Loss: L1 between refined and true stem magnitudes. Nothing of the
   separator itself is trained: with no pitch information it stays Spleeter.

Checkpoints are written every ``checkpoint_every`` steps; running the same command again resumes
from the last one. ``log.jsonl`` records losses and validation scores.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from .. import audio as audio_io
from ..errors import ParameterError
from ..f0 import decode_salience, frame_f0, salience_target
from ..models.joint import JointModel
from ..models.refiner import STAGE_WIDTHS, framewise_error_db, masked_error_energy, stem_l1
from ..models.salience import widen_vocals_only_state
from ..models.unet import FRAME_MULTIPLE
from ..pitch import salience_trajectory, song_salience
from ..progress import Progress
from ..separation import Separator
from ..spectral import HOP, MODEL_BINS, N_FFT, SAMPLE_RATE, frame_times, hann_window
from .augment import Crop, StemAugmentation, StemCrop, augment, augment_stems
from .datasets import VALIDATION_SINGERS, Track, group_songs, read_clips

__all__ = [
    "FEATURE_NAMES",
    "LATE_FRACTION",
    "LATE_LR_FACTOR",
    "REFINER_DEEP_GATES",
    "REFINER_OBJECTIVES",
    "STAGES",
    "TRAINING_DEMO_SEEDS",
    "VALIDATION_CONDITIONS",
    "VALIDATION_CROPS",
    "VALIDATION_DEMO_SEEDS",
    "CropSampler",
    "Run",
    "SongFeatures",
    "StemSampler",
    "StemSource",
    "TrainingConfig",
    "compute_features",
    "cut_stem_crop",
    "demo_features",
    "demo_stem_sources",
    "export_weights",
    "load_features",
    "mir1k_stem_sources",
    "refiner_batch",
    "refiner_loss",
    "salience_batch",
    "salience_loss",
    "stage_parameter_groups",
    "start_from",
    "train",
    "trained_networks",
    "training_conditioning",
    "validate_refiner",
]

STAGES = ("salience", "refiner")
REFINER_OBJECTIVES = ("l1", "complex", "framewise")  # see refiner_loss
#: what the refiner's deeper stages are gated by in training (see refiner_loss)
REFINER_DEEP_GATES = ("gate", "corrected")
FEATURE_NAMES = ("mixture", "vocals_pretrained", "voice", "accompaniment")
LATE_FRACTION, LATE_LR_FACTOR = 0.7, 0.3
#: Demo-song seeds the refiner trains on; benchmarks evaluate on seeds below 1000.
TRAINING_DEMO_SEEDS = tuple(range(1000, 1040))
#: Demo-song seeds of the refiner's validation during training (also outside every benchmark's seeds).
VALIDATION_DEMO_SEEDS = (900, 901, 902, 903)
VALIDATION_CROPS = 32
#: STFT frames of each held-out refiner crop, whatever the training crops (runs stay comparable)
VALIDATION_CROP_FRAMES = 128


@dataclass
class TrainingConfig:
    """Everything that defines a training run (saved in the run folder and in the shipped weights).

    ``initial_weights`` (a ``pitch.safetensors``) starts from trained networks (see :func:`start_from`),
    so that ``salience_steps=0`` trains the refiner alone.
    """

    data: str
    salience_steps: int = 2500
    refiner_steps: int = 3000
    salience_batch: int = 8
    refiner_batch: int = 4
    crop_frames: int = 256
    refiner_crop_frames: int = 128
    salience_lr: float = 1e-3
    salience_demo_share: float = 0.0
    refiner_lr: float = 1e-3
    refiner_objective: str = "l1"
    refiner_deep_gate: str = "gate"
    refiner_stages: tuple[int, ...] = (0, 1)
    augment: tuple[str, ...] = ()
    refiner_augment: bool = True
    max_semitones: float = 3.0
    demo_share: float = 0.5
    demo_seeds: tuple[int, ...] = TRAINING_DEMO_SEEDS
    demo_seconds: float = 30.0
    initial_weights: str = ""
    checkpoint_every: int = 250
    seed: int = 0
    validation_singers: tuple[str, ...] = field(default=VALIDATION_SINGERS)

    def __post_init__(self) -> None:
        for name in ("demo_share", "salience_demo_share"):
            share = getattr(self, name)
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise ParameterError(f"{name} must be between 0 and 1, got {share!r}")
        if self.refiner_objective not in REFINER_OBJECTIVES:
            raise ParameterError(
                f"refiner_objective must be one of {REFINER_OBJECTIVES}, got {self.refiner_objective!r}"
            )
        if self.refiner_crop_frames <= 0 or self.refiner_crop_frames % FRAME_MULTIPLE:
            raise ParameterError(
                f"refiner_crop_frames must be a positive multiple of {FRAME_MULTIPLE} (the pretrained "
                f"U-Nets' frame multiple), got {self.refiner_crop_frames}"
            )
        if self.refiner_deep_gate not in REFINER_DEEP_GATES:
            raise ParameterError(
                f"refiner_deep_gate must be one of {REFINER_DEEP_GATES}, got {self.refiner_deep_gate!r}"
            )
        stages = range(len(STAGE_WIDTHS))
        if not self.refiner_stages or any(stage not in stages for stage in self.refiner_stages):
            raise ParameterError(
                f"refiner_stages must name stages among {list(stages)}, got {list(self.refiner_stages)}"
            )

    def steps(self, stage: str) -> int:
        return self.salience_steps if stage == "salience" else self.refiner_steps


@dataclass
class SongFeatures:
    """Training features of one song, on Spleeter's STFT frames (mono: MIR-1K is dual-mono to the nets).

    Attributes:
        name: ``<singer>_<song>``.
        magnitudes: each of :data:`FEATURE_NAMES` -> ``(frames, 1024)`` float16.
        f0_hz: ``(frames,)`` float32 true F0 (0 = unvoiced).
    """

    name: str
    magnitudes: dict[str, torch.Tensor]
    f0_hz: torch.Tensor

    @property
    def frames(self) -> int:
        return self.f0_hz.shape[0]


def compute_features(track: Track, separator: Separator) -> SongFeatures:
    """Magnitudes of mixture, stems and pretrained-separator vocals of a MIR-1K song (mono), and the F0
    at every frame."""
    stems = {
        name: audio_io.resample(mono[np.newaxis], track.sr, SAMPLE_RATE)
        for name, mono in (("voice", track.voice), ("accompaniment", track.accompaniment))
    }
    return _stem_features(track.name, stems, separator, track.labels.times, track.labels.f0_hz)


def _stem_features(
    name: str,
    stems: dict[str, np.ndarray],
    separator: Separator,
    label_times: np.ndarray,
    label_hz: np.ndarray,
) -> SongFeatures:
    """:class:`SongFeatures` of one song from its ``voice`` and ``accompaniment``, each ``(channels,
    samples)`` float32 at 44.1 kHz (1 or 2 channels): magnitudes averaged over channels (as the
    saliency network averages them), the pretrained separator's vocals from a stereo separation (a
    mono song is separated as dual mono), and the labels' F0 on the STFT frames."""
    window = hann_window()
    mixture = stems["voice"] + stems["accompaniment"]
    magnitudes = {}
    for stem, samples in (("mixture", mixture), *stems.items()):
        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        spectrum = torch.stft(
            wave, N_FFT, N_FFT // 4, window=window, center=True, pad_mode="constant", return_complex=True
        )
        magnitude = spectrum[:, :MODEL_BINS].abs().transpose(1, 2)  # (channels, frames, bins)
        magnitudes[stem] = magnitude.mean(dim=0).contiguous()
        if stem == "mixture":
            ratio = separator.frame_ratios(wave.expand(2, -1).contiguous()).transpose(1, 2)
            magnitudes["vocals_pretrained"] = (ratio * magnitude.expand(2, -1, -1)).mean(dim=0)
    frames = magnitudes["mixture"].shape[0]
    f0 = frame_f0(frame_times(frames).numpy(), label_times, label_hz)
    return SongFeatures(
        name,
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
        _save_features(features, path)
        songs.append(features)
    return songs


def demo_features(
    seeds: tuple[int, ...], seconds: float, cache: Path, separator: Separator
) -> list[SongFeatures]:
    """Features of demo songs (full-band stereo, :mod:`ipysvs.demo`) of the given seeds, cached."""
    from ..demo import demo_song

    songs = []
    for seed in seeds:
        path = cache / f"demo-{seed}-{seconds:g}s.pt"
        if path.is_file():
            saved = torch.load(path, weights_only=True)
            songs.append(SongFeatures(f"demo-{seed}", saved["magnitudes"], saved["f0_hz"]))
            continue
        song = demo_song(seconds=seconds, seed=seed)
        stems = {"voice": song.vocals, "accompaniment": song.accompaniment}
        features = _stem_features(f"demo-{seed}", stems, separator, song.f0_times, song.f0_hz)
        _save_features(features, path)
        songs.append(features)
    return songs


def _save_features(features: SongFeatures, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"magnitudes": features.magnitudes, "f0_hz": features.f0_hz}, path)


class CropSampler:
    """Random fixed-length crops of random songs from groups of songs, each group drawn with its share
    of the crops and, inside it, each song with a chance proportional to its length (groups with
    share 0 are never drawn)."""

    def __init__(
        self,
        groups: list[tuple[list[SongFeatures], float]],
        frames: int,
        augmentations: tuple[str, ...],
        seed: int,
    ) -> None:
        groups = [(songs, share) for songs, share in groups if share > 0 and songs]
        if not groups:
            raise ParameterError("no training songs to crop: every group is empty or has share 0")
        self.songs = [song for songs, _ in groups for song in songs]
        self.frames = frames
        self.augmentations = augmentations
        self.rng = np.random.default_rng(seed)
        total = sum(share for _, share in groups)
        chance = []
        for songs, share in groups:
            lengths = np.array([s.frames for s in songs], dtype=np.float64)
            chance.append(lengths / lengths.sum() * share / total)
        self.chance = np.concatenate(chance)

    def crop(self, names: tuple[str, ...]) -> tuple[Crop, SongFeatures, int]:
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


def salience_batch(sampler: CropSampler, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs ``(size, 1, frames, 1024)`` pretrained-vocal and mixture magnitudes (channel means, as
    the network reads them) and targets ``(size, frames, 320)``."""
    vocals, mixtures, targets = [], [], []
    for _ in range(size):
        crop, _, _ = sampler.crop(("vocals_pretrained", "mixture"))
        vocals.append(crop.magnitudes["vocals_pretrained"])
        mixtures.append(crop.magnitudes["mixture"])
        targets.append(torch.from_numpy(salience_target(crop.f0_hz.numpy())))
    return torch.stack(vocals), torch.stack(mixtures), torch.stack(targets)


@dataclass
class StemSource:
    """Separate stems of one training song and its F0 labels.

    Attributes:
        name: song name.
        voice, accompaniment: ``(channels, samples)`` float32 at 44.1 kHz (1 or 2 channels).
        label_times: ``(labels,)`` increasing seconds; label_hz: ``(labels,)`` F0 in Hz, 0 = unvoiced.
    """

    name: str
    voice: np.ndarray
    accompaniment: np.ndarray
    label_times: np.ndarray
    label_hz: np.ndarray

    @property
    def samples(self) -> int:
        return self.voice.shape[1]


def mir1k_stem_sources(data: Path, singers: set[str], *, include: bool = False) -> list[StemSource]:
    """The MIR-1K songs whose singer is (``include=True``) or is not in ``singers``, resampled to
    44.1 kHz (mono)."""
    clips = [c for c in read_clips(data) if (c.singer in singers) == include]
    if not clips:
        raise ParameterError(f"{data}: no clips {'of' if include else 'outside'} singers {sorted(singers)}")
    sources = []
    for song in group_songs(clips):
        track = song.load()
        voice, accompaniment = (
            audio_io.resample(stem[np.newaxis], track.sr, SAMPLE_RATE)
            for stem in (track.voice, track.accompaniment)
        )
        sources.append(StemSource(track.name, voice, accompaniment, track.labels.times, track.labels.f0_hz))
    return sources


def demo_stem_sources(seeds: tuple[int, ...], seconds: float) -> list[StemSource]:
    """Demo songs (full-band stereo, :mod:`ipysvs.demo`) of the given seeds as training songs."""
    from ..demo import demo_song

    sources = []
    for seed in seeds:
        song = demo_song(seconds=seconds, seed=seed)
        sources.append(StemSource(f"demo-{seed}", song.vocals, song.accompaniment, song.f0_times, song.f0_hz))
    return sources


def cut_stem_crop(
    source: StemSource, frames: int, rng: np.random.Generator, *, max_semitones: float, window: torch.Tensor
) -> StemCrop:
    """A random ``frames``-frame crop of a song, pitch shifted by up to ``max_semitones`` (resampling the
    waveform: pitch and tempo move together, the F0 labels follow); mono stems are panned to stereo."""
    import soxr

    ratio = 2 ** (rng.uniform(-max_semitones, max_semitones) / 12) if max_semitones > 0 else 1.0
    n_out = (frames - 1) * HOP + N_FFT
    n_in = int(np.ceil(n_out * ratio)) + 2
    start = int(rng.integers(-N_FFT // 2, max(source.samples - n_in + N_FFT // 2, -N_FFT // 2) + 1))
    spectra = []
    for stem in (source.voice, source.accompaniment):
        segment = np.zeros((stem.shape[0], n_in), dtype=np.float32)
        lo, hi = max(start, 0), min(start + n_in, source.samples)
        if hi > lo:
            segment[:, lo - start : hi - start] = stem[:, lo:hi]
        if ratio != 1.0:
            segment = soxr.resample(segment.T, SAMPLE_RATE * ratio, SAMPLE_RATE).T
        wave = np.zeros((stem.shape[0], n_out), dtype=np.float32)
        wave[:, : min(n_out, segment.shape[1])] = segment[:, :n_out]
        spectrum = torch.stft(
            torch.from_numpy(wave), N_FFT, HOP, window=window, center=False, return_complex=True
        )
        spectra.append(spectrum[:, :MODEL_BINS])
    voice, accompaniment = (_pan(s, rng, width) for s, width in zip(spectra, (0.15, 0.6), strict=True))
    times = (start + ratio * (np.arange(frames) * HOP + N_FFT / 2)) / SAMPLE_RATE
    f0 = frame_f0(np.clip(times, 0, None), source.label_times, source.label_hz) * ratio
    return StemCrop(voice, accompaniment, torch.from_numpy(f0.astype(np.float32)))


def _pan(spectrum: torch.Tensor, rng: np.random.Generator, width: float) -> torch.Tensor:
    """A stereo ``(2, bins, frames)`` spectrum: stereo input as it is, mono panned by up to ``width``."""
    if spectrum.shape[0] == 2:
        return spectrum
    angle = (rng.uniform(-width, width) + 1) * np.pi / 4
    gains = torch.tensor([np.cos(angle), np.sin(angle)], dtype=torch.float32) * np.sqrt(2)
    return spectrum * gains[:, None, None]


class StemSampler:
    """Random augmented crops of random songs; the two corpora (MIR-1K, demo songs) are drawn with
    fixed shares and, inside each, songs with chance proportional to their length."""

    def __init__(
        self,
        corpora: list[tuple[list[StemSource], float]],
        frames: int,
        config: TrainingConfig,
        seed: int,
    ) -> None:
        self.corpora = [(songs, share) for songs, share in corpora if songs and share > 0]
        shares = np.array([share for _, share in self.corpora])
        self.share = shares / shares.sum()
        self.frames = frames
        self.config = config
        self.options = StemAugmentation() if config.refiner_augment else None
        self.rng = np.random.default_rng(seed)
        self.window = hann_window()

    def crop(self) -> StemCrop:
        songs, _ = self.corpora[self.rng.choice(len(self.corpora), p=self.share)]
        lengths = np.array([s.samples for s in songs], dtype=np.float64)
        source = songs[self.rng.choice(len(songs), p=lengths / lengths.sum())]
        semitones = self.config.max_semitones if self.options is not None else 0.0
        crop = cut_stem_crop(source, self.frames, self.rng, max_semitones=semitones, window=self.window)
        if self.options is not None:
            crop = augment_stems(crop, self.rng, self.options, bin_hz=SAMPLE_RATE / N_FFT)
        return crop


def refiner_batch(sampler: StemSampler, size: int) -> dict[str, torch.Tensor]:
    """Magnitudes ``(size, 2, frames, 1024)`` of mixture, voice and accompaniment, the complex frames
    of mixture and voice (same shape) and the true F0 ``(size, frames)`` of ``size`` crops."""
    crops = [sampler.crop() for _ in range(size)]
    return {
        "mixture_complex": torch.stack([c.mixture.transpose(1, 2) for c in crops]),
        "voice_complex": torch.stack([c.voice.transpose(1, 2) for c in crops]),
        "mixture": torch.stack([c.mixture.abs().transpose(1, 2) for c in crops]),
        "voice": torch.stack([c.voice.abs().transpose(1, 2) for c in crops]),
        "accompaniment": torch.stack([c.accompaniment.abs().transpose(1, 2) for c in crops]),
        "f0_hz": torch.stack([c.f0_hz for c in crops]),
    }


#: conditioning of validation crops: the true F0 everywhere, the estimate alone, or no pitch at all
VALIDATION_CONDITIONS = ("true", "estimate", "none")


def training_conditioning(
    true_hz: torch.Tensor,
    estimate: tuple[torch.Tensor, torch.Tensor],
    rng: np.random.Generator,
    condition: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The F0 and gate a crop is refined with, as users give them: the true F0 (slightly detuned, as
    a mouse draws it) with gate 1 on every frame (40 % of the crops); the estimate with its confidence
    as gate (30 %); or the true F0 up to a random frame and the estimate after it (30 %: a partly
    corrected song). ``condition`` (one of :data:`VALIDATION_CONDITIONS`) forces one kind, undetuned.

    Args:
        true_hz: ``(batch, frames)``; estimate: ``(hz, confidence)``, each ``(batch, frames)``.

    Returns:
        ``(hz, gate, corrected)``, each ``(batch, frames)``: ``corrected`` is 1 on the frames given the
        true F0 (what a user's corrections inform), 0 elsewhere.
    """
    estimate_hz, confidence = estimate
    hz, gate, given = torch.empty_like(true_hz), torch.empty_like(true_hz), torch.empty_like(true_hz)
    frames = true_hz.shape[1]
    for row in range(true_hz.shape[0]):
        guessed_gate = confidence[row] * (estimate_hz[row] > 0)
        if condition is None:
            cents = rng.normal(0, 10) + rng.normal(0, 5, frames)
            drawn = true_hz[row] * torch.from_numpy(2 ** (cents / 1200)).float()
            mode = rng.random()
            cut = frames if mode < 0.4 else 0 if mode < 0.7 else int(rng.integers(0, frames + 1))
        else:
            drawn, cut = true_hz[row], frames if condition == "true" else 0
            guessed_gate = guessed_gate * (condition == "estimate")
        corrected = torch.arange(frames) < cut
        hz[row] = torch.where(corrected, drawn, estimate_hz[row])
        gate[row] = torch.where(corrected, torch.ones(()), guessed_gate)
        given[row] = corrected.float()
    return hz, gate, given


def refiner_loss(
    model: JointModel,
    batch: dict[str, torch.Tensor],
    rng: np.random.Generator,
    condition: str | None = None,
    *,
    objective: str = "l1",
    deep_gate: str = "gate",
) -> torch.Tensor:
    """The refined separation's loss (the frozen separator and saliency network run without
    gradients): ``objective`` ``"l1"`` is the L1 between the refined and the true stems' magnitudes,
    per crop relative to its mixture level (:func:`~ipysvs.models.refiner.stem_l1`); ``"complex"`` the
    energy of the refined vocals' complex error (:func:`~ipysvs.models.refiner.masked_error_energy`,
    aligned with SDR); ``"framewise"`` minus the vocals' SDR of each second, averaged
    (:func:`~ipysvs.models.refiner.framewise_error_db`, aligned with museval's frame median).
    ``condition`` as in :func:`training_conditioning`. ``deep_gate`` gates the refiner's deeper stages
    by the first stage's ``"gate"`` (the estimate's confidence included), or by the ``"corrected"``
    frames only, as :func:`~ipysvs.interactive.reseparation.pitch_conditioning` gates them in
    ``adapt()``: a crop without corrections then trains the first stage alone.

    Returns:
        The loss, a scalar; it needs no gradient when no trained part could change it (a crop
        without corrections, ``deep_gate="corrected"`` and only deeper stages training).
    """
    mixture = batch["mixture"]
    with torch.no_grad():
        ratio = model.pretrained_ratio(mixture)
        salience = model.salience(ratio * mixture, mixture).numpy()
        decoded = [decode_salience(row) for row in salience]
        estimate = (
            torch.from_numpy(np.stack([d[0] for d in decoded]).astype(np.float32)),
            torch.from_numpy(np.clip(np.stack([d[1] for d in decoded]), 0, 1).astype(np.float32)),
        )
    hz, gate, corrected = training_conditioning(batch["f0_hz"], estimate, rng, condition)
    refined = ratio + model.refiner(mixture, ratio, hz, gate, corrected if deep_gate == "corrected" else None)
    if objective == "complex":
        return masked_error_energy(refined, batch["mixture_complex"], batch["voice_complex"])
    if objective == "framewise":
        return framewise_error_db(refined, batch["mixture_complex"], batch["voice_complex"])
    return stem_l1(refined, mixture, batch["voice"], batch["accompaniment"])


def validate_refiner(
    model: JointModel,
    sources: list[StemSource],
    *,
    crops: int,
    frames: int,
    objective: str = "l1",
    deep_gate: str = "gate",
) -> dict:
    """Mean :func:`refiner_loss` (``objective``, ``deep_gate``) of ``crops`` fixed, unaugmented crops of
    held-out songs under each of :data:`VALIDATION_CONDITIONS` (``"none"`` is the pretrained
    separator's loss)."""
    model.eval()
    config = TrainingConfig(data="", refiner_augment=False)
    sampler = StemSampler([(sources, 1.0)], frames, config, seed=12345)
    batches = [refiner_batch(sampler, 1) for _ in range(crops)]
    rng = np.random.default_rng(0)
    with torch.no_grad():
        return {
            condition: float(
                np.mean(
                    [
                        refiner_loss(model, batch, rng, condition, objective=objective, deep_gate=deep_gate)
                        for batch in batches
                    ]
                )
            )
            for condition in VALIDATION_CONDITIONS
        }


def salience_loss(model: JointModel, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
    vocals, mixture, targets = batch
    return functional.binary_cross_entropy(model.salience(vocals, mixture).clamp(1e-6, 1 - 1e-6), targets)


def trained_networks(model: JointModel, stage: str, config: TrainingConfig) -> list[nn.Module]:
    """What ``stage`` trains: the saliency network, or the refiner stages ``config.refiner_stages``."""
    if stage == "salience":
        return [model.salience]
    return [model.refiner.stages[index] for index in config.refiner_stages]


def stage_parameter_groups(model: JointModel, networks: list[nn.Module], lr: float) -> list[dict]:
    """Optimizer parameter groups training ``networks`` (see :func:`trained_networks`); every other
    parameter (the pretrained separator above all) is frozen."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    parameters = [parameter for network in networks for parameter in network.parameters()]
    for parameter in parameters:
        parameter.requires_grad_(True)
    return [{"params": parameters, "lr": lr}]


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
    progress: Progress | None = None,
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
    elif config.initial_weights:
        start_from(model, Path(config.initial_weights))
    validation = set(config.validation_singers)
    for stage in STAGES[STAGES.index(state["stage"]) :] if state["stage"] != "done" else ():
        state["stage"] = stage
        if config.steps(stage) > 0:
            if stage == "salience":
                separator = Separator()
                data = Path(config.data)
                features = run.folder / "features"
                mir1k = load_features(data, validation, features, separator, include=False)
                demo = []
                if config.salience_demo_share > 0:
                    demo = demo_features(config.demo_seeds, config.demo_seconds, features, separator)
                sampler: object = CropSampler(
                    [(mir1k, 1 - config.salience_demo_share), (demo, config.salience_demo_share)],
                    config.crop_frames,
                    config.augment,
                    _seed(config, state),
                )
            else:
                sampler = StemSampler(
                    [
                        (mir1k_stem_sources(Path(config.data), validation), 1 - config.demo_share),
                        (demo_stem_sources(config.demo_seeds, config.demo_seconds), config.demo_share),
                    ],
                    config.refiner_crop_frames,
                    config,
                    _seed(config, state),
                )
            _train_stage(model, stage, config, sampler, run, state, progress)
            run.log(
                stage=stage,
                seconds=state["seconds"],
                validation=_validation(model, stage, config, run.folder / "features"),
            )
        state.update(step=0, seconds=0.0)
    state["stage"] = "done"
    run.state_path.write_text(json.dumps(state, indent=2))
    return model.eval()


def _validation(model: JointModel, stage: str, config: TrainingConfig, features: Path) -> dict:
    """Scores on the validation singers after a stage: pitch accuracy of the saliency network, or
    the refiner's loss on held-out crops (MIR-1K validation singers and demo seeds
    :data:`VALIDATION_DEMO_SEEDS`)."""
    import mir_eval

    validation = set(config.validation_singers)
    if stage == "refiner":
        held_out = mir1k_stem_sources(Path(config.data), validation, include=True)
        held_out += demo_stem_sources(VALIDATION_DEMO_SEEDS, config.demo_seconds)
        return validate_refiner(
            model,
            held_out,
            crops=VALIDATION_CROPS,
            frames=VALIDATION_CROP_FRAMES,
            objective=config.refiner_objective,
            deep_gate=config.refiner_deep_gate,
        )
    model.eval()
    songs = load_features(Path(config.data), validation, features, Separator(), include=True)
    scores = []
    for song in songs:
        vocals, mixture = (
            song.magnitudes[name].float().unsqueeze(0) for name in ("vocals_pretrained", "mixture")
        )
        trajectory = salience_trajectory(song_salience(model.salience, vocals, mixture))
        scores.append(
            mir_eval.melody.evaluate(trajectory.times, song.f0_hz.numpy(), trajectory.times, trajectory.hz)
        )
    return {k: float(np.mean([s[k] for s in scores])) for k in ("Raw Pitch Accuracy", "Overall Accuracy")}


def start_from(model: JointModel, path: Path) -> None:
    """Copy the trained networks of a ``pitch.safetensors`` into ``model``: its saliency network, and
    the refiner stages the file has (an older ipysvs' file has a saliency network only, or a
    one-stage refiner, whose tensors become stage 0; the stages it lacks stay untrained: they change
    nothing; an older saliency network that read the vocals alone gets zero weights for the mixture).

    Raises:
        WeightsError: the file is unreadable or holds no fitting saliency network or refiner stage.
    """
    from ..errors import WeightsError
    from ..models.joint import read_shipped_state

    state = widen_vocals_only_state(read_shipped_state(path), prefix="salience.")
    one_stage = {k: v for k, v in state.items() if k.startswith("refiner.unet.")}
    state |= {k.replace("refiner.", "refiner.stages.0.", 1): v for k, v in one_stage.items()}
    parts = {"salience": model.salience} | {
        f"refiner.stages.{index}": stage for index, stage in enumerate(model.refiner.stages)
    }
    for part, network in parts.items():
        prefix = f"{part}."
        tensors = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
        if not tensors and part != "salience":
            continue
        if set(tensors) != set(network.state_dict()):
            raise WeightsError(f"{path}: holds no {part} network of this shape")
        network.load_state_dict(tensors)


def _seed(config: TrainingConfig, state: dict) -> int:
    """The crop sampler's seed: a resumed run draws new crops, not the ones it already saw."""
    return config.seed + state["step"] + 7919 * STAGES.index(state["stage"])


def _train_stage(
    model: JointModel,
    stage: str,
    config: TrainingConfig,
    sampler: object,
    run: Run,
    state: dict,
    progress: Progress | None,
) -> None:
    lr = config.salience_lr if stage == "salience" else config.refiner_lr
    networks = trained_networks(model, stage, config)
    optimizer = torch.optim.Adam(stage_parameter_groups(model, networks, lr))
    if state["step"] > 0 and (run.folder / "optimizer.pt").is_file():
        optimizer.load_state_dict(torch.load(run.folder / "optimizer.pt", weights_only=True))
    # The networks that learn normalise with batch statistics; the frozen ones (the pretrained
    # separator, refiner stages not trained) keep their running statistics and no dropout.
    model.eval()
    for network in networks:
        network.train()
    rng = np.random.default_rng(_seed(config, state) + 1)
    total = config.steps(stage)
    started = time.time() - state["seconds"]
    for step in range(state["step"], total):
        for group in optimizer.param_groups:  # the last 30 % of the steps at a third of the rate
            group["lr"] = lr * (LATE_LR_FACTOR if step >= LATE_FRACTION * total else 1.0)
        if stage == "salience":
            loss = salience_loss(model, salience_batch(sampler, config.salience_batch))  # type: ignore[arg-type]
        else:
            batch = refiner_batch(sampler, config.refiner_batch)  # type: ignore[arg-type]
            loss = refiner_loss(
                model, batch, rng, objective=config.refiner_objective, deep_gate=config.refiner_deep_gate
            )
        optimizer.zero_grad()
        if loss.requires_grad:  # else nothing that trains could change this batch's loss: no step
            loss.backward()
            optimizer.step()
        state.update(step=step + 1, seconds=time.time() - started)
        if progress is not None:
            progress(stage, step + 1, total, loss=loss.item())
        if (step + 1) % 25 == 0:
            run.log(stage=stage, step=step + 1, loss=loss.item(), seconds=state["seconds"])
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == total:
            run.save_checkpoint(model, optimizer, state)
    model.eval()


def _config_dict(config: TrainingConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def export_weights(model: JointModel, path: Path, *, command: str, config: TrainingConfig) -> Path:
    """Write the shipped tensors (float16) with the training command and config as metadata."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() for k, v in model.shipped_state().items()}
    save_file(state, str(path), metadata={"command": command, "config": json.dumps(_config_dict(config))})
    return path
