"""``ipysvs train``: pretrain the pitch models (resumable) and optionally export the shipped weights."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..models.refiner import STAGE_WIDTHS
from ..progress import shown
from ..research import require_extra
from ..research.training import (
    REFINER_DEEP_GATES,
    REFINER_OBJECTIVES,
    TrainingConfig,
    export_weights,
    train,
)
from .common import EXIT_OK, count, fraction, positive_number

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    """Run ``ipysvs train`` with parsed ``args``; returns the exit status."""
    require_extra()
    config = TrainingConfig(
        data=str(args.data),
        salience_steps=args.salience_steps,
        salience_lr=args.salience_lr,
        salience_demo_share=args.salience_demo_share,
        refiner_steps=args.refiner_steps,
        refiner_lr=args.refiner_lr,
        refiner_objective=args.refiner_objective,
        refiner_deep_gate=args.refiner_deep_gate,
        refiner_batch=args.refiner_batch,
        refiner_crop_frames=args.refiner_crop_frames,
        refiner_stages=tuple(args.refiner_stages),
        augment=tuple(args.augment),
        demo_share=args.demo_share,
        initial_weights=str(args.initial_weights or ""),
        seed=args.seed,
    )
    with shown(None, "train", quiet=args.quiet) as progress:
        model = train(config, args.run_dir, progress=progress)
    if args.export:
        command = "ipysvs " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "ipysvs train"
        path = export_weights(model, args.export, command=command, config=config)
        print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``ipysvs train``."""
    from ..research.augment import AUGMENTATIONS

    parser.add_argument("data", type=Path, help="folder with index.csv and clips/")
    parser.add_argument(
        "--run-dir", type=Path, default=Path("runs/pitch"), help="run folder (resumed if it exists)"
    )
    defaults = TrainingConfig(data="")
    parser.add_argument("--salience-steps", type=count(0), default=defaults.salience_steps)
    parser.add_argument("--salience-lr", type=positive_number, default=defaults.salience_lr)
    parser.add_argument(
        "--salience-demo-share",
        type=fraction,
        default=defaults.salience_demo_share,
        help="the saliency network's share of crops from full-band demo songs (the rest: MIR-1K's "
        "training singers)",
    )
    parser.add_argument("--refiner-steps", type=count(0), default=defaults.refiner_steps)
    parser.add_argument("--refiner-lr", type=positive_number, default=defaults.refiner_lr)
    parser.add_argument(
        "--refiner-objective",
        choices=REFINER_OBJECTIVES,
        default=defaults.refiner_objective,
        help="the refiner's loss: L1 of magnitudes, the energy of the complex error (SDR-aligned), "
        "or minus the SDR of each second (museval's frame median)",
    )
    parser.add_argument(
        "--refiner-deep-gate",
        choices=REFINER_DEEP_GATES,
        default=defaults.refiner_deep_gate,
        help="gate the refiner's deeper stages by the first stage's gate, or by the corrected frames "
        "only (as adapt() does)",
    )
    parser.add_argument(
        "--refiner-batch", type=count(1), default=defaults.refiner_batch, help="the refiner's crops per step"
    )
    parser.add_argument(
        "--refiner-crop-frames",
        type=count(64),
        default=defaults.refiner_crop_frames,
        help="STFT frames per refiner crop (a multiple of 64; 128 = 3 s)",
    )
    parser.add_argument(
        "--refiner-stages",
        nargs="+",
        type=int,
        choices=range(len(STAGE_WIDTHS)),
        default=list(defaults.refiner_stages),
        help="which refiner stages train (the others stay as the initial weights have them)",
    )
    parser.add_argument(
        "--initial-weights",
        type=Path,
        help="start from the networks of this pitch.safetensors: its saliency network and, if it has one, "
        "its refiner stages (with --salience-steps 0: train the refiner alone)",
    )
    parser.add_argument(
        "--demo-share",
        type=fraction,
        default=defaults.demo_share,
        help="the refiner's share of crops from full-band demo songs (the rest: MIR-1K's training singers)",
    )
    parser.add_argument(
        "--augment", nargs="*", default=[], choices=sorted(AUGMENTATIONS), help="Prétet's augmentations"
    )
    parser.add_argument("--seed", type=count(0), default=0)
    parser.add_argument("--export", type=Path, help="write the shipped weights (safetensors) here at the end")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
