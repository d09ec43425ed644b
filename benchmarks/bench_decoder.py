"""The U-Net decoder's two forms of its transposed convolutions, side by side in one process.

Per decoder block of the pretrained vocals U-Net, on the shapes one 512-frame patch gives it: the
sub-pixel convolution (``subpixel_weight``, 36 taps) against the four phase convolutions
(``phase_weights``, 25 taps), in milliseconds; this is what ``PHASE_MIN_CHANNELS`` in
``ipysvs/models/unet.py`` was chosen from. Then one whole patch through ipysvs's U-Net against the
straightforward reference's (``benchmarks/reference_separator.py``: ``nn.ConvTranspose2d``).

Usage:
    python benchmarks/bench_decoder.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch.nn import functional

from ipysvs.models.unet import PHASE_MIN_CHANNELS, phase_transposed_conv, phase_weights, subpixel_weight
from ipysvs.research.benchmarking import measured_on
from ipysvs.separation import default_separator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_separator  # the benchmark's own reference, beside this script


def seconds_per_call(call: Callable[[], object], repeats: int) -> float:
    """Mean seconds of ``call()`` over ``repeats`` calls after one warm-up call."""
    call()
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - started) / repeats


def subpixel_up(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A decoder block's transposed convolution in the sub-pixel form (``kernel = subpixel_weight(w)``,
    ``bias`` repeated 4 times)."""
    return functional.pixel_shuffle(functional.conv2d(x, kernel, bias, padding=1), 2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    ours = default_separator().vocals_net.eval()
    print(f"decoder blocks of the vocals U-Net, one 512-frame patch; {measured_on()}")
    print("block (in -> out channels, input cells)     sub-pixel ms   phases ms   used")
    height, width = 512 // 2 ** len(ours.encoder), 1024 // 2 ** len(ours.encoder)
    with torch.inference_mode():
        for block in ours.decoder:
            weight, bias = block.deconv.weight, block.deconv.bias
            x = torch.rand(1, block.deconv.in_channels, height, width)
            subpixel, bias4 = subpixel_weight(weight), bias.repeat_interleave(4)
            phases = phase_weights(weight)
            sub_s = seconds_per_call(partial(subpixel_up, x, subpixel, bias4), args.repeats)
            phase_s = seconds_per_call(partial(phase_transposed_conv, x, phases, bias), args.repeats)
            used = "phases" if block.deconv.out_channels >= PHASE_MIN_CHANNELS else "sub-pixel"
            shape = f"{block.deconv.in_channels} -> {block.deconv.out_channels}, {height}x{width}"
            print(f"  {shape:<42} {sub_s * 1e3:>10.1f}  {phase_s * 1e3:>10.1f}   {used}")
            height, width = 2 * height, 2 * width
        reference = reference_separator.ReferenceUNet().load_spleeter(
            reference_separator.checkpoint_paths()[0]
        )
        patch = torch.rand(1, 2, 512, 1024)
        ours_s = seconds_per_call(lambda: ours(patch), max(args.repeats // 2, 1))
        reference_s = seconds_per_call(lambda: reference.eval()(patch), max(args.repeats // 2, 1))
    print(
        f"one patch (2 x 512 x 1024): ipysvs {ours_s:.3f} s, reference {reference_s:.3f} s "
        f"({reference_s / ours_s:.2f}x)"
    )


if __name__ == "__main__":
    main()
