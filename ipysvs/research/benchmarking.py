"""What the scripts in ``benchmarks/`` share: the description of the machine a figure was measured on,
timed child processes with their peak memory, and long test songs."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["Measurement", "machine_description", "measured_on", "run_measured", "use_weights", "write_tiled"]


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


class Measurement(NamedTuple):
    """One timed child process.

    Attributes:
        wall_s: wall time in seconds.
        peak_mb: the child's peak resident memory in MB (10**6 bytes).
        cpu_s: user + system CPU seconds of the child and of the processes it waited for (a Dask
            cluster's workers included): ``cpu_s / wall_s`` is how many cores the run kept busy.
    """

    wall_s: float
    peak_mb: float
    cpu_s: float


def run_measured(command: Sequence[str], *, env: Mapping[str, str] | None = None) -> Measurement:
    """Run ``command`` as a child process (output discarded) and measure it (:class:`Measurement`).

    Raises:
        SystemExit: the command failed (with the end of its stderr).
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    # ru_maxrss is in KiB on Linux
    return Measurement(wall, usage.ru_maxrss * 1024 / 1e6, usage.ru_utime + usage.ru_stime)


def write_tiled(song: Path, minutes: float, path: Path) -> tuple[int, int]:
    """Write ``song`` repeated to ``minutes`` minutes as a 16-bit wav at ``path``, block by block.

    Returns:
        ``(channels, samples per channel)`` of the written file.
    """
    import soundfile

    samples, sr = soundfile.read(str(song), dtype="float32", always_2d=True)
    total = int(minutes * 60 * sr)
    with soundfile.SoundFile(str(path), "w", sr, samples.shape[1], subtype="PCM_16") as file:
        for start in range(0, total, len(samples)):
            file.write(np.clip(samples[: total - start], -1.0, 1.0))
    return samples.shape[1], total


def use_weights(path: Path) -> None:
    """Measure the pitch networks of ``path`` (a ``pitch.safetensors``, e.g. a training run's export)
    instead of the shipped ones: loaded into the process-wide joint model every session and analysis
    copies, with analyses cached in a fresh temporary folder (the analysis cache keys on the shipped
    file, not on these weights)."""
    from ..models.joint import default_joint_model, read_shipped_state

    model = default_joint_model()
    model.load_shipped_state(read_shipped_state(path), source=str(path))
    os.environ["IPYSVS_CACHE_DIR"] = tempfile.mkdtemp(prefix="ipysvs-bench-cache-")
