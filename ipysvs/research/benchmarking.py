"""What the scripts in ``benchmarks/`` share: the description of the machine a figure was measured on."""

from __future__ import annotations

import os
import platform
from datetime import date
from pathlib import Path

import torch

__all__ = ["machine_description", "measured_on"]


def machine_description() -> str:
    """CPU model, core count, torch threads, OS, Python and torch versions of this machine."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = models[0] if models else cpu
    return (
        f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, torch {torch.__version__}"
    )


def measured_on() -> str:
    """``"<today's date>, <machine_description()>"``: the line every benchmark prints with its figures."""
    return f"{date.today()}, {machine_description()}"
