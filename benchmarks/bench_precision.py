"""The refiner's bfloat16 inference against float32, side by side in one process.

Times one call of each refiner stage on a batch of two 512-frame patches, and separates demo songs
(seeds 21-23, never trained on: training used 1000-1039) with the true F0 and gate 1 in both
precisions: the difference of the vocals relative to them and the change of BSS Eval v3 vocal SDR.

Usage:
    python benchmarks/bench_precision.py [--seeds 21-23]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date

import numpy as np
import torch

from ipysvs.conditioned import ConditionedSeparator
from ipysvs.demo import demo_song
from ipysvs.f0 import frame_f0
from ipysvs.models.joint import default_joint_model
from ipysvs.models.precision import PRECISION_ENV, native_bfloat16
from ipysvs.research.evaluation import vocal_sdr
from ipysvs.spectral import frame_count, frame_times

SETTINGS = ("float32", "auto")


def stage_seconds(repeats: int = 3) -> dict[tuple[int, str], float]:
    """Seconds per call of each refiner stage on ``(2, 2, 512, 1024)`` inputs, per setting."""
    torch.manual_seed(0)
    magnitude, ratio = torch.rand(2, 2, 512, 1024) * 2, torch.rand(2, 2, 512, 1024)
    hz, gate = torch.full((2, 512), 220.0), torch.full((2, 512), 0.8)
    seconds = {}
    for index, stage in enumerate(default_joint_model().refiner.stages):
        for setting in SETTINGS:
            os.environ[PRECISION_ENV] = setting
            with torch.inference_mode():
                stage(magnitude, ratio, hz, gate)  # warm-up
                started = time.perf_counter()
                for _ in range(repeats):
                    stage(magnitude, ratio, hz, gate)
            seconds[index, setting] = (time.perf_counter() - started) / repeats
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="21-23", help="demo seeds, e.g. 21-23")
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    print(f"{date.today()}; native bfloat16: {native_bfloat16()}")
    for (index, setting), seconds in stage_seconds().items():
        print(f"refiner stage {index + 1}, {setting}: {seconds:.3f} s per call")
    model = default_joint_model()
    for seed in seeds:
        song = demo_song(seconds=10.0, seed=seed)
        frames = frame_count(song.mixture.shape[1])
        hz = frame_f0(frame_times(frames).numpy(), song.f0_times, song.f0_hz).astype(np.float32)
        vocals = {}
        for setting in SETTINGS:
            os.environ[PRECISION_ENV] = setting
            separator = ConditionedSeparator(model, hz, np.ones_like(hz))
            vocals[setting] = separator.separate_channels(song.mixture, song.sr)
        exact, fast = vocals["float32"], vocals["auto"]
        difference = 10 * np.log10(np.sum((fast - exact) ** 2) / np.sum(exact**2))
        sdr = {s: vocal_sdr(song.vocals, song.accompaniment, v, song.sr)[0] for s, v in vocals.items()}
        print(
            f"seed {seed}: vocals differ by {difference:.1f} dB; v3 SDR float32 {sdr['float32']:.3f}, "
            f"auto {sdr['auto']:.3f} ({sdr['auto'] - sdr['float32']:+.4f} dB)"
        )


if __name__ == "__main__":
    main()
