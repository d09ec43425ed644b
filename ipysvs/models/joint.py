"""The joint pitch + separation networks of Nakano et al. (IUI 2020), in both variants.

* **F0->SVS**: the F0 saliency network estimates the vocal pitch; the pitch, drawn as a harmonic comb
  (:func:`~ipysvs.models.salience.render_harmonics`), is an extra input of both separation U-Nets.
  Their extra-input weights start at zero, so before training the joint model separates exactly like
  the pretrained Spleeter model.
* **SVS->F0**: the separated vocal magnitudes feed the saliency network; gradients of a pitch loss flow
  back into the vocals U-Net.

Our saliency network always reads *separated* vocal magnitudes (a clean front end): in F0->SVS these
come from the frozen pretrained separator, in SVS->F0 from the separator being adapted.

Only part of each conditioned U-Net is trained (:data:`CONDITIONED_LAYERS` and every batch-norm
affine), so the shipped weights hold just those tensors plus the saliency network.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from ..errors import WeightsError
from .salience import SalienceUNet, render_harmonics
from .unet import SeparationUNet
from .weights import STEMS, load_pretrained_unet

CONDITIONED_LAYERS = (
    "condition.",
    "encoder.0.",
    "encoder.1.",
    "encoder.2.",
    "decoder.3.",
    "decoder.4.",
    "decoder.5.",
    "mask_head.",
)
# the comb's peaks are drawn at the level of a strong harmonic in the mixture magnitudes
COMB_GAIN = 10.0
SHIPPED_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "pitch.safetensors"


def trainable_names(unet: SeparationUNet, layers: tuple[str, ...] = CONDITIONED_LAYERS) -> list[str]:
    """Names of the parameters of ``unet`` in ``layers`` plus every batch-norm weight and bias."""
    return [name for name, _ in unet.named_parameters() if name.startswith(layers) or ".norm." in name]


class JointModel(nn.Module):
    """Saliency network + F0-conditioned vocals and accompaniment U-Nets.

    Attributes:
        salience: :class:`SalienceUNet`, magnitudes ``(batch, 2, frames, 1024)`` -> ``(batch, frames, 320)``.
        vocals, accompaniment: :class:`SeparationUNet` with one conditioning channel (the comb).
    """

    def __init__(self) -> None:
        super().__init__()
        self.salience = SalienceUNet()
        self.vocals = load_pretrained_unet("vocals", extra_channels=1)
        self.accompaniment = load_pretrained_unet("accompaniment", extra_channels=1)

    def separation_nets(self) -> Iterator[tuple[str, SeparationUNet]]:
        """``("vocals", net), ("accompaniment", net)``."""
        yield "vocals", self.vocals
        yield "accompaniment", self.accompaniment

    def conditioned_masks(
        self, magnitude: torch.Tensor, hz: torch.Tensor, weight: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Soft masks of both stems given a frame-wise F0.

        Args:
            magnitude: ``(batch, 2, frames, 1024)`` mixture magnitudes.
            hz: ``(batch, frames)`` F0 in Hz (0 = unvoiced).
            weight: ``(batch, frames)`` comb height in ``[0, 1]``.

        Returns:
            ``(vocals_mask, accompaniment_mask)``, each ``(batch, 2, frames, 1024)``.
        """
        comb = COMB_GAIN * render_harmonics(hz, weight).to(magnitude.dtype)
        return self.vocals(magnitude, comb), self.accompaniment(magnitude, comb)

    def shipped_state(self) -> dict[str, torch.Tensor]:
        """The tensors that differ from the pretrained separator: what we ship."""
        state = {f"salience.{k}": v for k, v in self.salience.state_dict().items()}
        for stem, net in self.separation_nets():
            params = dict(net.named_parameters())
            buffers = dict(net.named_buffers())
            for name in trainable_names(net):
                state[f"{stem}.{name}"] = params[name]
            for name, buffer in buffers.items():
                if ".norm.running" in name:
                    state[f"{stem}.{name}"] = buffer
        return {k: v.detach().contiguous().clone() for k, v in state.items()}

    def load_shipped_state(self, state: dict[str, torch.Tensor], *, source: str) -> None:
        """Load :meth:`shipped_state` tensors, checking names and shapes.

        Raises:
            WeightsError: a tensor is missing, unexpected or misshapen.
        """
        expected = self.shipped_state()
        missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        if missing or unexpected:
            raise WeightsError(
                f"{source}: tensors differ (missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
        own = dict(self.named_parameters()) | dict(self.named_buffers())
        with torch.no_grad():
            for name, value in state.items():
                if value.shape != expected[name].shape:
                    shapes = f"{tuple(value.shape)}, expected {tuple(expected[name].shape)}"
                    raise WeightsError(f"{source}: {name} has shape {shapes}")
                own[name].copy_(value)


class SvsToF0(nn.Module):
    """Nakano's SVS->F0 variant: the separated vocal magnitudes feed the saliency network, so a pitch
    loss also trains the separator (gradients flow through the ratio mask into both U-Nets).

    Args:
        salience: the saliency network (shared, not copied).
        vocals, accompaniment: unconditioned separation U-Nets (Spleeter's pretrained by default).
    """

    def __init__(
        self,
        salience: SalienceUNet,
        vocals: SeparationUNet | None = None,
        accompaniment: SeparationUNet | None = None,
    ) -> None:
        super().__init__()
        self.salience = salience
        self.vocals = vocals or load_pretrained_unet("vocals")
        self.accompaniment = accompaniment or load_pretrained_unet("accompaniment")

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Mixture magnitudes ``(batch, 2, frames, 1024)`` -> saliency ``(batch, frames, 320)``."""
        from ..separation import ratio_mask

        ratio = ratio_mask(self.vocals(magnitude), self.accompaniment(magnitude), magnitude)
        return self.salience(ratio * magnitude)


def load_joint_model(path: Path = SHIPPED_WEIGHTS) -> JointModel:
    """The joint model with the weights shipped in the package (or another ``pitch.safetensors``).

    Raises:
        WeightsError: the file is missing or does not fit.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise WeightsError(f"{path}: pitch weights not found; train them with 'ipysvs train' (see README)")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: unreadable weights ({error})") from None
    model = JointModel()
    model.load_shipped_state({k: v.float() for k, v in state.items()}, source=str(path))
    return model.eval()


@functools.cache
def default_joint_model() -> JointModel:
    """The process-wide :func:`load_joint_model` with the shipped weights, loaded on first use."""
    return load_joint_model()


__all__ = [
    "CONDITIONED_LAYERS",
    "STEMS",
    "JointModel",
    "SvsToF0",
    "default_joint_model",
    "load_joint_model",
    "trainable_names",
]
