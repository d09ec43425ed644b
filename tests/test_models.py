"""The U-Net and the safe loading of Spleeter's weights."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch
from torch.nn import functional

from ipysvs.errors import WeightsError
from ipysvs.models import SeparationUNet, load_pretrained_unet, locate_spleeter_checkpoints
from ipysvs.models.unet import PHASE_MIN_CHANNELS, DecoderBlock, single_channel_conv
from ipysvs.models.weights import load_spleeter_arrays, read_checkpoint_arrays, spleeter_to_unet_names


@pytest.fixture(scope="module")
def vocal_arrays() -> dict[str, np.ndarray]:
    return read_checkpoint_arrays(locate_spleeter_checkpoints()["vocals"])


def test_every_checkpoint_array_is_loaded_exactly(vocal_arrays) -> None:
    unet = load_pretrained_unet("vocals")
    state = unet.state_dict()
    mapping = spleeter_to_unet_names(unet)
    assert set(mapping) == set(vocal_arrays)
    assert len(vocal_arrays) == 74
    for name, key in mapping.items():
        assert torch.equal(state[key], torch.from_numpy(vocal_arrays[name])), name
    learnable = {k for k, v in unet.named_parameters()} | {
        k for k in state if k.endswith(("running_mean", "running_var"))
    }
    assert learnable == set(mapping.values())  # nothing left at its random initialisation
    assert sum(p.numel() for p in unet.parameters()) == pytest.approx(9.8e6, rel=0.01)


def test_the_two_stems_have_different_weights() -> None:
    vocals, accompaniment = load_pretrained_unet("vocals"), load_pretrained_unet("accompaniment")
    assert not torch.equal(vocals.encoder[0].conv.weight, accompaniment.encoder[0].conv.weight)


def _checkpoint_bytes(payload: object, tmp_path, *, raw: bytes | None = None):
    path = tmp_path / "evil.ckpt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", raw if raw is not None else pickle.dumps(payload, protocol=2))
    return path


class _RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoint_with_code_is_refused_without_running_it(tmp_path, capsys) -> None:
    path = _checkpoint_bytes({"x": _RunsCode()}, tmp_path)
    with pytest.raises(WeightsError, match=r"print, which is not allowed"):
        read_checkpoint_arrays(path)
    assert "must never run" not in capsys.readouterr().out


def test_corrupt_checkpoints_are_refused(tmp_path) -> None:
    not_zip = tmp_path / "plain.ckpt"
    not_zip.write_bytes(b"garbage")
    with pytest.raises(WeightsError, match="not a readable checkpoint"):
        read_checkpoint_arrays(not_zip)
    with pytest.raises(WeightsError, match="dict of numpy arrays"):
        read_checkpoint_arrays(_checkpoint_bytes([1, 2], tmp_path))


def test_wrong_names_or_shapes_are_refused(vocal_arrays) -> None:
    unet = SeparationUNet()
    missing = dict(vocal_arrays)
    missing.pop("up7.0.bias")
    with pytest.raises(WeightsError, match="missing"):
        load_spleeter_arrays(unet, missing, source="test")
    reshaped = dict(vocal_arrays)
    reshaped["up1.0.weight"] = reshaped["up1.0.weight"][:, :128]
    with pytest.raises(WeightsError, match=r"up1\.0\.weight has shape"):
        load_spleeter_arrays(unet, reshaped, source="test")


def test_extra_input_channels_start_silent() -> None:
    plain = load_pretrained_unet("vocals")
    conditioned = load_pretrained_unet("vocals", extra_channels=3)
    assert torch.count_nonzero(conditioned.condition.weight) == 0
    magnitude = torch.rand(1, 2, 64, 1024)
    extra = torch.rand(1, 3, 64, 1024)
    with torch.inference_mode():
        assert torch.equal(plain(magnitude), conditioned(magnitude, extra))


@pytest.mark.parametrize(
    ("out_channels", "inference_form"), [(4, "subpixel_weight"), (PHASE_MIN_CHANNELS, "phase_weights")]
)
def test_decoder_block_equals_transposed_convolution(out_channels: int, inference_form: str) -> None:
    torch.manual_seed(0)
    block = DecoderBlock(8, out_channels, dropout=False).eval()
    x = torch.randn(2, 8, 6, 10)
    expected = block.deconv(x)[:, :, 1:-2, 1:-2]
    expected = block.norm(functional.relu(expected))
    torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)  # a training step's form
    with torch.inference_mode():  # the cached kernels of inference give the same
        torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)
    assert block._cached_kernel is not None and block._cached_kernel[0][2] == inference_form


@pytest.mark.parametrize("out_channels", [2, PHASE_MIN_CHANNELS])
def test_decoder_cache_follows_weight_updates(out_channels: int) -> None:
    block = DecoderBlock(4, out_channels, dropout=False).eval()
    x = torch.randn(1, 4, 4, 4)
    with torch.no_grad():
        before = block(x)
        block.deconv.weight.mul_(2)
        after = block(x)
    assert not torch.allclose(before, after)


def test_single_channel_conv_equals_conv2d() -> None:
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(1, 2, kernel_size=4, dilation=2, padding=3)
    x = torch.randn(2, 1, 16, 24)
    torch.testing.assert_close(single_channel_conv(x, conv), conv(x), rtol=1e-5, atol=1e-5)


def test_mask_shape_and_range() -> None:
    unet = load_pretrained_unet("vocals")
    with torch.inference_mode():
        mask = unet(torch.rand(1, 2, 128, 1024) * 5)
    assert mask.shape == (1, 2, 128, 1024)
    assert float(mask.min()) >= 0 and float(mask.max()) <= 1


def test_gradients_reach_every_layer() -> None:
    unet = load_pretrained_unet("vocals", extra_channels=1).train()
    unet(torch.rand(1, 2, 64, 1024), torch.rand(1, 1, 64, 1024)).mean().backward()
    without_grad = [name for name, p in unet.named_parameters() if p.grad is None or not p.grad.any()]
    # Spleeter's last encoder batch norm is in the checkpoint but not in the computation
    assert without_grad == ["encoder.5.norm.weight", "encoder.5.norm.bias"]


def test_loader_is_not_fooled_by_torch_pickles(tmp_path) -> None:
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    path = tmp_path / "torch.ckpt"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(WeightsError):
        read_checkpoint_arrays(path)
