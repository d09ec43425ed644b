"""The separation U-Net of Jansson et al. (2017) in the layout of Spleeter's pretrained models.

Shapes follow Spleeter: a network sees a magnitude spectrogram patch ``(batch, channels, frames,
bins)`` with 2 (stereo) channels, frames a multiple of 64 (512 in Spleeter's patches) and 1024 bins
(0..11 kHz at 44.1 kHz with a 4096-point STFT). It returns a soft mask of the same shape in ``[0, 1]``.

The encoder has six blocks of zero-pad (1, 2, 1, 2), 5x5 stride-2 convolution, batch norm (eps 1e-3)
and leaky ReLU 0.2. The decoder has six blocks of 5x5 stride-2 transposed convolution, crop (1, 2, 1, 2),
ReLU, batch norm, with 50 % dropout in the first three; skip connections carry the encoder's
*pre-normalisation* convolution outputs, as in Spleeter (whose last encoder batch norm is loaded but
never used). A 4x4 convolution with dilation 2 and a sigmoid
produce the mask.

``extra_channels`` adds conditioning inputs (for example an F0 rendered as a harmonic comb on the same
frames x bins grid) to the first convolution. Their weights start at zero, so a network loaded with
pretrained weights computes exactly the pretrained mask until it is trained.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn
from torch.nn import functional

__all__ = [
    "BATCH_NORM_EPS",
    "BATCH_NORM_MOMENTUM",
    "DECODER_DROPOUT_BLOCKS",
    "ENCODER_WIDTHS",
    "FRAME_MULTIPLE",
    "LEAKY_SLOPE",
    "PHASE_MIN_CHANNELS",
    "DecoderBlock",
    "EncoderBlock",
    "SeparationUNet",
    "UNet",
    "phase_transposed_conv",
    "phase_weights",
    "single_channel_conv",
    "subpixel_weight",
]

ENCODER_WIDTHS = (16, 32, 64, 128, 256, 512)
DECODER_DROPOUT_BLOCKS = 3
BATCH_NORM_EPS = 1e-3
BATCH_NORM_MOMENTUM = 0.01
LEAKY_SLOPE = 0.2
FRAME_MULTIPLE = 2 ** len(ENCODER_WIDTHS)


class EncoderBlock(nn.Module):
    """Pad (1, 2, 1, 2), 5x5 stride-2 conv, batch norm, leaky ReLU. Halves frames and bins."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=5, stride=2)
        self.norm = nn.BatchNorm2d(out_channels, eps=BATCH_NORM_EPS, momentum=BATCH_NORM_MOMENTUM)

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        """The block's convolution output, before normalisation: what skip connections carry."""
        return self.conv(functional.pad(x, (1, 2, 1, 2)))

    def activate(self, conv: torch.Tensor) -> torch.Tensor:
        """Batch norm and leaky ReLU of a convolution output."""
        return functional.leaky_relu(self.norm(conv), LEAKY_SLOPE)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(conv_output, activation)``."""
        conv = self.convolve(x)
        return conv, self.activate(conv)


# For each output parity (0 = even, 1 = odd row/column of the cropped output), the taps of the 5-tap
# transposed kernel met by a 3-tap correlation over inputs (m-1, m, m+1); None is a zero tap.
_SUBPIXEL_TAPS = {0: (3, 1, None), 1: (4, 2, 0)}
#: decoder blocks with at least this many output channels run, outside training, as four phase
#: convolutions (25 taps instead of the sub-pixel kernel's 36: the separator's U-Net 10 % faster);
#: narrower ones as one sub-pixel convolution, faster there (interleaving the phases costs more than
#: the taps save; ``benchmarks/bench_decoder.py``, ``benchmarks/RESULTS.md`` section 1)
PHASE_MIN_CHANNELS = 32
_Kernels = TypeVar("_Kernels", torch.Tensor, dict[tuple[int, int], torch.Tensor])


def subpixel_weight(weight: torch.Tensor) -> torch.Tensor:
    """Rewrite a stride-2 5x5 transposed-conv kernel as a 3x3 conv kernel for :func:`pixel_shuffle`.

    ``conv_transpose2d(x, w, stride=2)[..., 1:-2, 1:-2]`` equals
    ``pixel_shuffle(conv2d(x, subpixel_weight(w), padding=1), 2)``: each of the four output phases is a
    small ordinary convolution, which oneDNN runs much faster than a transposed one on the CPU.

    Args:
        weight: ``(in_channels, out_channels, 5, 5)`` transposed-convolution kernel.

    Returns:
        ``(4 * out_channels, in_channels, 3, 3)`` kernel, channels ordered ``(out, row phase, col phase)``.
    """
    kernel = weight.transpose(0, 1)
    zero = torch.zeros_like(kernel[..., :1, :1])
    phases = []
    for row_phase in (0, 1):
        for col_phase in (0, 1):
            rows = [
                torch.cat(
                    [
                        zero if r is None or c is None else kernel[..., r : r + 1, c : c + 1]
                        for c in _SUBPIXEL_TAPS[col_phase]
                    ],
                    dim=-1,
                )
                for r in _SUBPIXEL_TAPS[row_phase]
            ]
            phases.append(torch.cat(rows, dim=-2))
    return torch.stack(phases, dim=1).reshape(-1, kernel.shape[1], 3, 3)


def phase_weights(weight: torch.Tensor) -> dict[tuple[int, int], torch.Tensor]:
    """Split a stride-2 5x5 transposed-conv kernel into the correlation kernels of its four output phases.

    Phase ``(r, c)`` (0 = even, 1 = odd row / column of the cropped output) meets the taps
    ``_SUBPIXEL_TAPS[r] x _SUBPIXEL_TAPS[c]`` without the zero ones: 2x2, 2x3, 3x2 and 3x3 kernels, 25
    taps in all where :func:`subpixel_weight` computes 36 (see :func:`phase_transposed_conv`).

    Args:
        weight: ``(in_channels, out_channels, 5, 5)`` transposed-convolution kernel.

    Returns:
        ``{(r, c): (out_channels, in_channels, rows, cols)}``.
    """
    kernel = weight.transpose(0, 1)
    taps = {phase: [tap for tap in _SUBPIXEL_TAPS[phase] if tap is not None] for phase in (0, 1)}
    return {(r, c): kernel[:, :, taps[r]][:, :, :, taps[c]].contiguous() for r in (0, 1) for c in (0, 1)}


def phase_transposed_conv(
    x: torch.Tensor, kernels: dict[tuple[int, int], torch.Tensor], bias: torch.Tensor
) -> torch.Tensor:
    """``conv_transpose2d(x, w, bias, stride=2)[..., 1:-2, 1:-2]`` as four ordinary convolutions, one
    per output phase (``kernels = phase_weights(w)``), interleaved into the output.

    Args:
        x: ``(batch, in_channels, height, width)``.

    Returns:
        ``(batch, out_channels, 2 * height, 2 * width)``.
    """
    batch, _, height, width = x.shape
    padded = functional.pad(x, (1, 1, 1, 1))  # every phase's taps start at input m - 1
    phases = {
        phase: functional.conv2d(
            padded[:, :, : height + kernel.shape[2] - 1, : width + kernel.shape[3] - 1], kernel, bias
        )
        for phase, kernel in kernels.items()
    }
    out = phases[0, 0].new_empty(batch, bias.shape[0], height, 2, width, 2)
    for (r, c), result in phases.items():
        out[:, :, :, r, :, c] = result
    return out.reshape(batch, -1, 2 * height, 2 * width)


class DecoderBlock(nn.Module):
    """5x5 stride-2 transposed conv, crop (1, 2, 1, 2), ReLU, batch norm, optional dropout.

    The parameters are those of an ``nn.ConvTranspose2d`` (as in the checkpoint); the computation uses
    equivalent ordinary convolutions, which oneDNN runs faster than a transposed one on the CPU: the
    sub-pixel convolution (:func:`subpixel_weight`) while training and for blocks narrower than
    :data:`PHASE_MIN_CHANNELS`, else the four phase convolutions (:func:`phase_transposed_conv`). The
    rewritten kernels are cached while the weights are unchanged and no gradient is needed.
    """

    def __init__(self, in_channels: int, out_channels: int, *, dropout: bool) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=5, stride=2)
        self.norm = nn.BatchNorm2d(out_channels, eps=BATCH_NORM_EPS, momentum=BATCH_NORM_MOMENTUM)
        self.dropout = nn.Dropout(0.5) if dropout else nn.Identity()
        self._cached_kernel: tuple[tuple[int, int, str], object] | None = None

    def _training_step(self) -> bool:
        return torch.is_grad_enabled() and self.deconv.weight.requires_grad

    def _rewritten(self, rewrite: Callable[[torch.Tensor], _Kernels]) -> _Kernels:
        """``rewrite(weight)``, cached outside training steps."""
        weight = self.deconv.weight
        if self._training_step():
            return rewrite(weight)
        key = (weight.data_ptr(), weight._version, rewrite.__name__)
        if self._cached_kernel is None or self._cached_kernel[0] != key:
            with torch.no_grad():
                self._cached_kernel = (key, rewrite(weight))
        return self._cached_kernel[1]  # type: ignore[return-value]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Double frames and bins of ``x``."""
        if self.deconv.out_channels >= PHASE_MIN_CHANNELS and not self._training_step():
            up = phase_transposed_conv(x, self._rewritten(phase_weights), self.deconv.bias)
        else:
            bias = self.deconv.bias.repeat_interleave(4)
            up = functional.pixel_shuffle(
                functional.conv2d(x, self._rewritten(subpixel_weight), bias, padding=1), 2
            )
        return self.dropout(self.norm(functional.relu(up)))


def single_channel_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Apply a stride-1 ``conv`` with one input channel as a sum of shifted, scaled copies of ``x``.

    For the mask head (1 input channel, 4x4 kernel, dilation 2, padding 3) this is several times
    faster than oneDNN's convolution, which is built for many channels; the result is identical.

    Args:
        x: ``(batch, 1, height, width)``.
        conv: a ``Conv2d`` with ``in_channels == 1``, stride 1, groups 1 and zero padding.

    Returns:
        ``(batch, conv.out_channels, height', width')``, exactly as ``conv(x)``.
    """
    (pad_y, pad_x), (dil_y, dil_x) = conv.padding, conv.dilation
    kernel_y, kernel_x = conv.kernel_size
    padded = functional.pad(x, (pad_x, pad_x, pad_y, pad_y))
    height = padded.shape[2] - dil_y * (kernel_y - 1)
    width = padded.shape[3] - dil_x * (kernel_x - 1)
    out = conv.bias.view(1, -1, 1, 1).expand(x.shape[0], -1, height, width).clone()
    for ky in range(kernel_y):
        for kx in range(kernel_x):
            window = padded[:, :, ky * dil_y : ky * dil_y + height, kx * dil_x : kx * dil_x + width]
            out.addcmul_(conv.weight[:, :, ky, kx].view(1, -1, 1, 1), window)
    return out


class UNet(nn.Module):
    """Jansson's U-Net in Spleeter's layout, with configurable widths: input ``(batch, in_channels,
    frames, bins)`` -> sigmoid output ``(batch, out_channels, frames, bins)``.

    Frames and bins must be multiples of ``2 ** len(widths)``.

    Args:
        in_channels: input channels.
        out_channels: output channels (of the 4x4 dilated head).
        widths: encoder widths; the decoder mirrors them.
        final_width: channels of the last decoder block (1 in Spleeter).
        dropout_blocks: how many of the first decoder blocks use 50 % dropout.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        widths: tuple[int, ...] = ENCODER_WIDTHS,
        final_width: int = 1,
        dropout_blocks: int = DECODER_DROPOUT_BLOCKS,
    ) -> None:
        super().__init__()
        self.encoder = nn.ModuleList(
            EncoderBlock(a, b) for a, b in itertools.pairwise((in_channels, *widths))
        )
        decoder_out = (*reversed(widths[:-1]), final_width)
        decoder_in = (widths[-1], *(2 * c for c in decoder_out[:-1]))
        self.decoder = nn.ModuleList(
            DecoderBlock(a, b, dropout=i < dropout_blocks)
            for i, (a, b) in enumerate(zip(decoder_in, decoder_out, strict=True))
        )
        self.mask_head = nn.Conv2d(final_width, out_channels, kernel_size=4, dilation=2, padding=3)

    @property
    def frame_multiple(self) -> int:
        """Frames and bins must be multiples of this."""
        return 2 ** len(self.encoder)

    def forward(self, x: torch.Tensor, first_conv_offset: torch.Tensor | None = None) -> torch.Tensor:
        """``(batch, in_channels, frames, bins)`` -> ``(batch, out_channels, frames, bins)`` in [0, 1].

        ``first_conv_offset`` (shaped like the first convolution's output) is added to it: the
        contribution of conditioning inputs.
        """
        return torch.sigmoid(self.logits(x, first_conv_offset))

    def logits(self, x: torch.Tensor, first_conv_offset: torch.Tensor | None = None) -> torch.Tensor:
        """The mask head's output before the sigmoid, ``(batch, out_channels, frames, bins)``."""
        skips = []
        for index, block in enumerate(self.encoder[:-1]):
            conv = block.convolve(x)
            if index == 0 and first_conv_offset is not None:
                conv = conv + first_conv_offset
            x = block.activate(conv)
            skips.append(conv)
        # Spleeter feeds the last block's convolution to the decoder: its norm is never used
        x = self.encoder[-1].convolve(x)
        for index, block in enumerate(self.decoder):
            x = block(x if index == 0 else torch.cat([skips.pop(), x], dim=1))
        return single_channel_conv(x, self.mask_head) if x.shape[1] == 1 else self.mask_head(x)


class SeparationUNet(UNet):
    """Spleeter's U-Net predicting one source's soft mask from a mixture magnitude patch.

    Args:
        audio_channels: channels of the magnitude input and of the mask (2 for Spleeter).
        extra_channels: conditioning inputs. They enter through :attr:`condition`, a 5x5 stride-2
            convolution added to the first encoder convolution (the same as extra input channels of
            that convolution), with zero-initialised weights: the network's output is unchanged until
            it is trained, and the conditioning weights can have their own learning rate.
    """

    def __init__(self, audio_channels: int = 2, extra_channels: int = 0) -> None:
        super().__init__(audio_channels, audio_channels)
        self.audio_channels = audio_channels
        self.extra_channels = extra_channels
        self.condition = (
            nn.Conv2d(extra_channels, ENCODER_WIDTHS[0], kernel_size=5, stride=2, bias=False)
            if extra_channels
            else None
        )
        if self.condition is not None:
            nn.init.zeros_(self.condition.weight)

    def forward(self, magnitude: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """Compute the soft mask.

        Args:
            magnitude: ``(batch, audio_channels, frames, bins)`` mixture magnitudes; frames and bins
                must be multiples of 64.
            extra: ``(batch, extra_channels, frames, bins)`` conditioning, required iff
                ``extra_channels > 0``.

        Returns:
            ``(batch, audio_channels, frames, bins)`` mask in ``[0, 1]``.
        """
        if (extra is None) != (self.condition is None):
            raise ValueError(f"this U-Net takes {self.extra_channels} conditioning channels")
        offset = None if self.condition is None else self.condition(functional.pad(extra, (1, 2, 1, 2)))
        return super().forward(magnitude, offset)
