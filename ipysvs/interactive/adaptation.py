"""Adapting the per-song model to the user's corrections (Nakano et al. 2020; Cantisani et al. 2021).

Three losses, each used only when the user gave the information it needs:

* **F0 loss** -- binary cross-entropy between the saliency network's output and the Gaussian-blurred
  corrected F0, on the frames the user checked. An unvoiced frame asks for zero saliency but counts
  :data:`UNVOICED_F0_WEIGHT` as much as a voiced one: at full weight the frames around phrase edges
  taught the network to miss voice onsets elsewhere, and the uncorrected F0 got worse, not better.
  In the **F0->SVS** variant the saliency network reads the pretrained separator's vocal magnitudes,
  computed when the song was opened, so its steps run no separation at all. In the **SVS->F0**
  variant it reads the output of the separator being adapted, so the pitch loss also trains the
  separator.
* **Activity loss** (Cantisani et al.) where the user marked the voice active or silent (an unvoiced
  deletion marks it silent): the mixture is reconstructed from the sources active in each frame,
  ``|v*[sung] + a - x|``, plus ``silence_weight * |v|`` where nobody sings. ``silence_weight=0`` is their
  reconstruction-only baseline. Here ``v`` and ``a`` are the two U-Nets' own outputs (mask times
  mixture), before the ratio mask makes them sum to the mixture.
* A **layer plan** chooses which separator layers these losses train: ``"none"``, ``"decoder"``,
  ``"all"`` or ``"from:K"`` (encoder blocks K..5, the bottleneck side, as in Cantisani's "from block x
  on"; the decoder stays frozen, which they found as good).

Training works on 128-frame crops around the frames the losses see; the separator runs only on those
crops, never on the whole song.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from .. import audio as audio_io
from ..errors import ParameterError
from ..f0 import Trajectory, salience_target
from ..models.joint import JointModel
from ..models.optimizer import GroupAdam
from ..models.unet import SeparationUNet
from ..progress import Progress
from ..separation import ratio_mask
from .song_remix import SongRemix

__all__ = [
    "ADAPT_VARIANTS",
    "CROP_FRAMES",
    "ENCODER_BLOCKS",
    "ESTIMATE_TRUST",
    "REGIONS",
    "REMIX_LR_FACTOR",
    "REMIX_WEIGHT",
    "SALIENCE_BATCH",
    "SALIENCE_STEPS",
    "SEPARATOR_BATCH",
    "SEPARATOR_LAYERS",
    "SEPARATOR_LR_FACTOR",
    "SEPARATOR_STEPS",
    "SILENCE_WEIGHT",
    "UNVOICED_F0_WEIGHT",
    "AdaptOptions",
    "AdaptReport",
    "AdaptTargets",
    "CropPlan",
    "Region",
    "SongTensors",
    "activity_loss",
    "changed_frames",
    "check_plan",
    "choose_parameters",
    "default_layers",
    "default_steps",
    "f0_loss",
    "fine_tune",
    "layer_prefixes",
    "pitch_gate",
    "runs_separator",
    "training_frames",
    "vocal_change",
]

ADAPT_VARIANTS = ("f0-svs", "svs-f0")
REGIONS = ("up-to-last", "corrected")
ENCODER_BLOCKS = 6
SILENCE_WEIGHT = 1.0
#: the separator layers a loss trains when it trains the separator: SVS->F0's pitch loss always,
#: Cantisani's activity loss in F0->SVS only when asked for (by default F0->SVS retrains no separator
#: layer: that loss did not pay, benchmarks/RESULTS.md)
SEPARATOR_LAYERS = "from:3"
SEPARATOR_LR_FACTOR = 0.1  # separator layers learn at a tenth of the saliency network's rate
REMIX_LR_FACTOR = 0.3  # the refiner's rate in the song-remix steps, relative to the saliency network's
REMIX_WEIGHT = 1.0
SALIENCE_STEPS, SEPARATOR_STEPS = 15, 8
CROP_FRAMES = 128
SALIENCE_BATCH = 4
#: how far the refiner trusts the F0 estimate (times its confidence), before and after corrections
ESTIMATE_TRUST = {"uncorrected": 0.0, "corrected": 1.0}
UNVOICED_F0_WEIGHT = 0.03  # relative to a voiced frame (benchmarks/RESULTS.md, section 5)
SEPARATOR_BATCH = 2


@dataclass
class AdaptReport:
    """What :meth:`ipysvs.interactive.session.Session.adapt` did.

    Attributes:
        variant: ``"f0-svs"`` or ``"svs-f0"``.
        layers: the separator layer plan.
        losses: the training loss after every step.
        seconds: wall time of the whole adaptation.
        steps: optimisation steps taken.
        epochs: passes over the training frames those steps amount to (crops x length / frames).
        changed_frames: uncorrected frames whose F0 estimate changed (by more than 50 cents or voicing).
        vocal_change: energy of the change of the vocals relative to their energy before (0 = the
            vocals did not move; :func:`vocal_change`). The audio before and after is the session's
            (``Session.stem(which, before=True)``): reports hold no audio.
    """

    variant: str = "f0-svs"
    layers: str = "none"
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    epochs: float = 0.0
    changed_frames: int = 0
    vocal_change: float = 0.0

    @property
    def pass_losses(self) -> tuple[float, float] | None:
        """Mean loss over the first and over the last pass through the training frames (over the
        first and second half of the steps when they make fewer than two passes); None without
        training. Single steps' losses are too noisy to compare (each sees other random crops)."""
        if not self.losses:
            return None
        steps = len(self.losses)
        per_pass = round(steps / self.epochs) if self.epochs > 0 else steps
        window = max(1, min(per_pass, steps // 2))
        return float(np.mean(self.losses[:window])), float(np.mean(self.losses[-window:]))

    def __repr__(self) -> str:
        """One line a notebook can show: what trained, how long, how the loss moved, what changed."""
        passes = self.pass_losses
        loss = (
            f"mean loss {passes[0]:.4g} (first pass) -> {passes[1]:.4g} (last)" if passes else "no training"
        )
        return (
            f"<AdaptReport {self.variant}, layers {self.layers!r}: {self.steps} steps ({self.epochs:.1f} "
            f"epochs) in {self.seconds:.2f} s, {loss}, {self.changed_frames} uncorrected F0 frames changed, "
            f"vocals moved by {100 * self.vocal_change:.1f} % of their energy>"
        )


def vocal_change(after: np.ndarray, before: np.ndarray) -> float:
    """``||after - before||^2 / ||before||^2`` of two ``(channels, samples)`` vocals, block by block
    (no song-sized temporary); 0 when ``before`` is silent and nothing moved."""
    moved = total = 0.0
    for new, old in zip(audio_io.blocks(after), audio_io.blocks(before), strict=True):
        difference = (new - old).astype(np.float64)
        moved += float(np.sum(difference * difference))
        total += float(np.sum(old.astype(np.float64) ** 2))
    return moved / total if total > 0 else float(moved > 0)


@dataclass(frozen=True)
class AdaptTargets:
    """What the user told the model, on the song's STFT frames.

    Attributes:
        hz: ``(frames,)`` the F0 to learn in Hz (0 = unvoiced).
        f0_frames: ``(frames,)`` bool, frames the F0 loss sees.
        activity: ``(frames,)`` int8, 1 = sung, -1 = nobody sings, 0 = unknown.
    """

    hz: np.ndarray
    f0_frames: np.ndarray
    activity: np.ndarray

    @property
    def marked(self) -> np.ndarray:
        """``(frames,)`` bool: frames with an activity mark."""
        return self.activity != 0

    @property
    def empty(self) -> bool:
        """Nothing to learn from."""
        return not (self.f0_frames.any() or self.marked.any())

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(saliency target (frames, 320), F0 loss weight (frames,), activity (frames,))`` as tensors;
        the weight is 1 on voiced F0 frames, :data:`UNVOICED_F0_WEIGHT` on unvoiced ones, else 0."""
        weight = self.f0_frames * np.where(self.hz > 0, 1.0, UNVOICED_F0_WEIGHT)
        return (
            torch.from_numpy(salience_target(self.hz)),
            torch.from_numpy(weight.astype(np.float32)),
            torch.from_numpy(self.activity.astype(np.int8)),
        )


@dataclass(frozen=True)
class AdaptOptions:
    """How :meth:`~ipysvs.interactive.session.Session.adapt` trains; checked when made.

    Attributes:
        variant: ``"f0-svs"`` (Nakano's F0->SVS: the saliency network learns the corrected F0 and the
            separation is refined with the F0; with no corrections this only re-estimates) or
            ``"svs-f0"`` (the pitch loss trains the separator through the saliency network reading
            its output).
        layers: which separator layers the activity loss (and, in SVS->F0, the pitch loss) trains:
            ``"none"``, ``"decoder"``, ``"all"`` or ``"from:K"`` (encoder blocks K..5); None: the
            variant's default (:func:`default_layers`).
        steps: optimisation steps; None: 15, or 8 when every step runs the separator.
        region: frames the F0 loss sees: ``"up-to-last"`` (the paper: every frame up to the last
            corrected one), ``"corrected"`` (only corrected frames) or spans ``[(t0, t1), ...]`` in
            seconds (every frame in them counts as checked).
        learning_rate: Adam's learning rate of the saliency network (separator layers: a tenth).
        silence_weight: Cantisani's lambda on the vocals where nobody sings (0 = reconstruction only).
        learn_accompaniment: F0->SVS: where the edits show that nobody sings, also train the refiner on
            remixes of this song's own accompaniment and corrected voice
            (:mod:`~ipysvs.interactive.song_remix`). Off by default: it did not pay in our
            measurements and doubles the training time (``benchmarks/RESULTS.md``, section 7).

    Raises:
        ParameterError: naming the bad option and what it accepts.
    """

    variant: str = "f0-svs"
    layers: str | None = None
    steps: int | None = None
    region: Region = "up-to-last"
    learning_rate: float = 3e-4
    silence_weight: float = SILENCE_WEIGHT
    learn_accompaniment: bool = False

    def __post_init__(self) -> None:
        if self.variant not in ADAPT_VARIANTS:
            raise ParameterError(f"variant must be one of {ADAPT_VARIANTS}, got {self.variant!r}")
        check_plan(layers=self.layer_plan, steps=self.steps)
        for name in ("learning_rate", "silence_weight"):
            value = getattr(self, name)
            number = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
            if not number or not np.isfinite(value) or value < 0:
                raise ParameterError(f"{name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.learn_accompaniment, bool | np.bool_):
            raise ParameterError(
                f"learn_accompaniment must be True or False, got {self.learn_accompaniment!r}"
            )

    @property
    def layer_plan(self) -> str:
        """:attr:`layers`, or the variant's default plan when None."""
        return default_layers(self.variant) if self.layers is None else self.layers


def default_layers(variant: str) -> str:
    """The layer plan of ``variant`` when the caller gives none: ``"none"`` for F0->SVS,
    :data:`SEPARATOR_LAYERS` for SVS->F0."""
    return "none" if variant == "f0-svs" else SEPARATOR_LAYERS


def check_plan(*, layers: object, steps: object) -> None:
    """Validate a layer plan and a step count (None = the default).

    Raises:
        ParameterError: naming the bad option and what it accepts.
    """
    layer_prefixes(layers)  # type: ignore[arg-type]
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ParameterError(f"steps must be a positive whole number (or None), got {steps!r}")


def runs_separator(variant: str, layers: str, targets: AdaptTargets) -> bool:
    """Whether training steps run the separator: always in SVS->F0; in F0->SVS when activity marks
    exist and the layer plan trains some separator layer."""
    return variant == "svs-f0" or (bool(layer_prefixes(layers)) and bool(targets.marked.any()))


def default_steps(*, uses_separator: bool) -> int:
    """Optimisation steps when the caller gives none: fewer when every step runs the separator."""
    return SEPARATOR_STEPS if uses_separator else SALIENCE_STEPS


Region = str | Sequence[tuple[float, float]]
"""``"up-to-last"``, ``"corrected"``, or spans ``[(t0, t1), ...]`` in seconds."""


def training_frames(corrected: np.ndarray, region: Region, times: np.ndarray | None = None) -> np.ndarray:
    """Frames whose F0 the loss sees.

    Args:
        corrected: ``(frames,)`` bool, the frames the user fixed.
        region: ``"corrected"`` (exactly those), ``"up-to-last"`` (the paper: every frame up to the last
            corrected one counts as checked by the user) or spans ``[(t0, t1), ...]`` in seconds
            (every frame in ``[t0, t1)`` counts as checked, corrected or not).
        times: ``(frames,)`` frame times in seconds (needed for spans).

    Raises:
        ParameterError: an unknown region name, or malformed spans.
    """
    if region == "corrected":
        return corrected.copy()
    if region == "up-to-last":
        chosen = np.zeros_like(corrected)
        if corrected.any():
            chosen[: np.flatnonzero(corrected)[-1] + 1] = True
        return chosen
    if isinstance(region, str) or times is None:
        raise ParameterError(f"region must be one of {REGIONS} or a list of (t0, t1) spans, got {region!r}")
    chosen = np.zeros_like(corrected)
    for span in _spans(region):
        chosen |= (times >= span[0]) & (times < span[1])
    return chosen


def _spans(region: object) -> list[tuple[float, float]]:
    """Validated ``(t0, t1)`` spans in seconds."""
    try:
        spans = [(float(t0), float(t1)) for t0, t1 in region]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ParameterError(f"region spans must be (t0, t1) pairs of seconds, got {region!r}") from None
    if not spans or any(not (np.isfinite(t0) and np.isfinite(t1) and 0 <= t0 < t1) for t0, t1 in spans):
        raise ParameterError(f"region spans need finite times with 0 <= t0 < t1, got {region!r}")
    return spans


def layer_prefixes(layers: str) -> tuple[str, ...]:
    """Parameter-name prefixes of a separator layer plan.

    ``"none"``: no separator layer; ``"decoder"``: decoder and mask head; ``"all"``: every layer;
    ``"from:K"`` (K in 0..5): encoder blocks K..5.
    """
    plans = {
        "none": (),
        "decoder": ("decoder.", "mask_head."),
        "all": ("condition.", "encoder.", "decoder.", "mask_head."),
    }
    if isinstance(layers, str) and layers in plans:
        return plans[layers]
    block = layers.removeprefix("from:") if isinstance(layers, str) else ""
    if block != layers and block.isdigit() and int(block) < ENCODER_BLOCKS:
        return tuple(f"encoder.{k}." for k in range(int(block), ENCODER_BLOCKS))
    raise ParameterError(
        f"layers must be 'none', 'decoder', 'all' or 'from:K' with K in 0..{ENCODER_BLOCKS - 1}, "
        f"got {layers!r}"
    )


def choose_parameters(nets: list[SeparationUNet], layers: str) -> list[nn.Parameter]:
    """The parameters of ``nets`` in the layer plan ``layers``."""
    prefixes = layer_prefixes(layers)
    if not prefixes:
        return []
    return [p for net in nets for name, p in net.named_parameters() if name.startswith(prefixes)]


class CropPlan:
    """Random 128-frame crops of a song, each around a frame some loss sees.

    Args:
        frames: ``(song frames,)`` bool, frames any loss sees.
        seed: the random generator's seed (adaptation is repeatable).
    """

    def __init__(self, frames: np.ndarray, *, seed: int = 0, length: int = CROP_FRAMES) -> None:
        if not frames.any():
            raise ParameterError("no frames to learn from: correct part of the F0 or mark activity first")
        self.length = length
        self.rng = np.random.default_rng(seed)
        self.starts = np.clip(np.flatnonzero(frames) - length // 2, 0, max(frames.size - length, 0))

    def starts_of_batch(self, size: int) -> np.ndarray:
        """``size`` crop starts."""
        return self.rng.choice(self.starts, size=size)

    def crop(self, values: torch.Tensor, start: int, axis: int = 0) -> torch.Tensor:
        """``length`` frames of ``values`` from ``start`` along ``axis``, zero past the song's end."""
        stop = min(start + self.length, values.shape[axis])
        piece = values.narrow(axis, start, stop - start)
        if stop - start == self.length:
            return piece
        shape = list(values.shape)
        shape[axis] = self.length
        out = torch.zeros(shape, dtype=values.dtype)
        out.narrow(axis, 0, stop - start).copy_(piece)
        return out

    def batch(self, values: torch.Tensor, starts: np.ndarray, axis: int = 0) -> torch.Tensor:
        """The crops of ``values`` at ``starts``, stacked on a new first axis."""
        return torch.stack([self.crop(values, int(start), axis) for start in starts])

    def epochs(self, steps: int, batch: int, frames: np.ndarray) -> float:
        """How many passes over the ``frames`` that many crops amount to."""
        return steps * batch * self.length / max(int(frames.sum()), 1)


def f0_loss(salience: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted binary cross-entropy of ``(batch, frames, 320)`` saliencies; ``weight`` is
    ``(batch, frames)`` (1 where the loss applies); averaged over the weighted frames.

    The weights multiply the unreduced loss: ``binary_cross_entropy(weight=...)`` broadcasts them
    through ``torch.fx``'s symbolic shapes, whose first use imports sympy (0.8 s of the first
    ``adapt()`` of a process)."""
    loss = functional.binary_cross_entropy(salience.clamp(1e-6, 1 - 1e-6), target, reduction="none")
    return (loss * weight[..., None]).sum() / (weight.sum() * salience.shape[-1]).clamp_min(1)


def activity_loss(
    vocals: torch.Tensor,
    accompaniment: torch.Tensor,
    mixture: torch.Tensor,
    activity: torch.Tensor,
    *,
    silence_weight: float = SILENCE_WEIGHT,
) -> torch.Tensor:
    """Cantisani et al.'s loss on marked frames, relative to the mixture's level there.

    Args:
        vocals, accompaniment, mixture: ``(batch, 2, frames, 1024)`` magnitudes (the U-Nets' outputs
            and their input).
        activity: ``(batch, frames)`` 1 = sung, -1 = silent, 0 = unmarked (no loss).
        silence_weight: lambda; 0 gives the reconstruction-only baseline.
    """
    sung = (activity == 1).to(vocals.dtype)[:, None, :, None]
    silent = (activity == -1).to(vocals.dtype)[:, None, :, None]
    marked = sung + silent
    level = (mixture.abs() * marked).sum().clamp_min(1e-8)
    reconstruction = ((vocals * sung + accompaniment - mixture).abs() * marked).sum()
    silence = (vocals.abs() * silent).sum()
    return (reconstruction + silence_weight * silence) / level


@dataclass
class SongTensors:
    """The song as the training loop reads it.

    Attributes:
        vocal_magnitude: ``(2, frames, 1024)`` the pretrained separator's vocal magnitudes (float16
            or float32, :class:`~ipysvs.analysis.SongAnalysis`).
        mixture_magnitude: ``(2, frames, 1024)`` mixture magnitudes, or None when no step needs them.
        salience_mixture: ``(1, frames, 1024)`` float16 the mixture's magnitudes averaged over its
            channels: the saliency network's second input.
        remix: the song's own material for :mod:`~ipysvs.interactive.song_remix` steps (None: no such steps).
    """

    vocal_magnitude: torch.Tensor
    mixture_magnitude: torch.Tensor | None
    salience_mixture: torch.Tensor
    remix: SongRemix | None = None


def fine_tune(
    model: JointModel,
    plain_nets: tuple[SeparationUNet, SeparationUNet] | None,
    song: SongTensors,
    targets: AdaptTargets,
    *,
    variant: str,
    layers: str,
    steps: int,
    learning_rate: float,
    silence_weight: float = SILENCE_WEIGHT,
    progress: Progress | None = None,
) -> tuple[list[float], float]:
    """Fine-tune in place; returns the loss of every step and the epochs they amount to.

    ``model`` is the joint model (its saliency network, and its conditioned U-Nets in F0->SVS);
    ``plain_nets`` are the unconditioned U-Nets SVS->F0 adapts (None in F0->SVS).
    """
    seen = targets.f0_frames | targets.marked
    plan = CropPlan(seen)
    wanted, f0_weight, activity = targets.tensors()  # once: the steps only crop them
    separator_step = _separator_step(
        model, plain_nets, song, (wanted, f0_weight, activity), variant, silence_weight
    )
    nets = [model.vocals, model.accompaniment] if variant == "f0-svs" else list(plain_nets or ())
    separator_parameters = choose_parameters(nets, layers)
    uses_separator = runs_separator(variant, layers, targets)
    salience_parameters = list(model.salience.parameters()) if targets.f0_frames.any() else []
    if not (salience_parameters or (uses_separator and separator_parameters)):
        raise ParameterError(f"layers={layers!r} leaves nothing to train for these corrections")
    groups = [(salience_parameters, learning_rate)]
    if uses_separator:
        groups.append((separator_parameters, learning_rate * SEPARATOR_LR_FACTOR))
    remix = song.remix if variant == "f0-svs" else None
    if remix is not None:
        groups.append((list(model.refiner.parameters()), learning_rate * REMIX_LR_FACTOR))
    parameters = [p for params, _ in groups for p in params]
    optimizer = GroupAdam(groups)
    batch = SEPARATOR_BATCH if uses_separator else SALIENCE_BATCH
    losses = []
    with _training(model, plain_nets, parameters):
        for step in range(steps):
            starts = plan.starts_of_batch(batch)
            loss = torch.zeros(())
            if uses_separator:
                loss = loss + separator_step(plan, starts)
            if variant == "f0-svs" and targets.f0_frames.any():
                inputs = plan.batch(song.vocal_magnitude, starts, axis=1).float()
                mixture = plan.batch(song.salience_mixture, starts, axis=1).float()
                loss = loss + f0_loss(
                    model.salience(inputs, mixture), plan.batch(wanted, starts), plan.batch(f0_weight, starts)
                )
            if remix is not None:
                loss = loss + REMIX_WEIGHT * remix.loss(model, plan.rng)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if progress is not None:
                progress("train", step + 1, steps)
    return losses, plan.epochs(steps, batch, seen)


def _separator_step(
    model: JointModel,
    plain_nets: tuple[SeparationUNet, SeparationUNet] | None,
    song: SongTensors,
    targets: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    variant: str,
    silence_weight: float,
) -> Callable[[CropPlan, np.ndarray], torch.Tensor]:
    """The loss of one batch of crops through the separator (and, in SVS->F0, the saliency network);
    ``targets`` is :meth:`AdaptTargets.tensors`."""
    wanted, f0_weight, activity = targets

    def step(plan: CropPlan, starts: np.ndarray) -> torch.Tensor:
        if song.mixture_magnitude is None:
            raise ParameterError("internal: the mixture magnitudes were not prepared")
        mixture = plan.batch(song.mixture_magnitude, starts, axis=1)
        nets = (model.vocals, model.accompaniment) if variant == "f0-svs" else plain_nets or ()
        vocals_mask, accompaniment_mask = (net(mixture) for net in nets)
        loss = activity_loss(
            vocals_mask * mixture,
            accompaniment_mask * mixture,
            mixture,
            plan.batch(activity, starts),
            silence_weight=silence_weight,
        )
        if variant == "svs-f0":
            separated = ratio_mask(vocals_mask, accompaniment_mask, mixture) * mixture
            loss = loss + f0_loss(
                model.salience(separated, mixture), plan.batch(wanted, starts), plan.batch(f0_weight, starts)
            )
        return loss

    return step


@contextmanager
def _training(
    model: JointModel,
    plain_nets: tuple[SeparationUNet, SeparationUNet] | None,
    parameters: list[nn.Parameter],
) -> Iterator[None]:
    """Only ``parameters`` require gradients while inside; every module stays in eval mode (batch-norm
    statistics and dropout as in inference); the gradient flags are restored afterwards."""
    modules = [model, *(plain_nets or ())]
    chosen = {id(p) for p in parameters}
    saved = [(p, p.requires_grad) for module in modules for p in module.parameters()]
    for module in modules:
        module.eval()
    for parameter, _ in saved:
        parameter.requires_grad_(id(parameter) in chosen)
    try:
        yield
    finally:
        for parameter, flag in saved:
            parameter.requires_grad_(flag)


def pitch_gate(
    edited_hz: np.ndarray, informed: np.ndarray, estimate: Trajectory, *, corrections: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The F0 and the gate the refiner separates with.

    Where the user gave pitch information (``informed``: corrected F0, deletions and frames marked
    silent) the gate is 1 and the F0 is theirs (0 Hz where nobody sings). Elsewhere the estimate is
    used with its confidence times :data:`ESTIMATE_TRUST` -- ``"uncorrected"`` before the user
    corrected anything, ``"corrected"`` after (when the saliency network has learnt this song) --
    and unvoiced estimates carry no information (gate 0: the pretrained mask, exactly).

    Args:
        edited_hz: ``(frames,)`` the F0 with the edits applied, Hz.
        informed: ``(frames,)`` bool.
        estimate: the model's estimate on the same frames.
        corrections: whether the user corrected some F0.

    Returns:
        ``(hz, gate)``, each ``(frames,)`` float32.
    """
    trust = ESTIMATE_TRUST["corrected" if corrections else "uncorrected"]
    guessed = trust * estimate.confidence * (estimate.hz > 0)
    hz = np.where(informed, edited_hz, estimate.hz).astype(np.float32)
    return hz, np.where(informed, 1.0, guessed).astype(np.float32)


def changed_frames(before_hz: np.ndarray, after_hz: np.ndarray, untouched: np.ndarray) -> int:
    """Uncorrected frames whose F0 changed voicing or moved by more than 50 cents."""
    voicing = (before_hz > 0) != (after_hz > 0)
    both = (before_hz > 0) & (after_hz > 0)
    cents = np.zeros_like(before_hz)
    cents[both] = 1200 * np.abs(np.log2(after_hz[both] / before_hz[both]))
    return int(np.sum(untouched & (voicing | (cents > 50))))
