"""Neural networks: the Spleeter-style separation U-Net and the loading of its pretrained weights."""

from .unet import SeparationUNet
from .weights import load_pretrained_unet, locate_spleeter_checkpoints

__all__ = ["SeparationUNet", "load_pretrained_unet", "locate_spleeter_checkpoints"]
