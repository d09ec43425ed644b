"""Vocal SDR on MIR-1K clips: the mixture, ipysvs, the straightforward reference and the IRM oracle.

All systems are scored in one run on the same clips with :mod:`ipysvs.research.evaluation` (BSS Eval v3 via
mir_eval, NSDR/GNSDR, museval frame-wise medians):

- ``mixture``: the unprocessed mixture as the estimate of both sources (the NSDR baseline);
- ``ipysvs``: :func:`ipysvs.separation.default_separator` (16 kHz mono in, resampled inside);
- ``reference``: ``benchmarks/reference_separator.py`` on the mixture resampled to 44.1 kHz as dual
  mono, both output channels averaged, resampled back to 16 kHz -- the same soxr resampling and channel
  handling as the separator, so only the separation itself differs;
- ``oracle``: the ideal ratio mask :func:`ipysvs.research.evaluation.ideal_ratio_mask` (44.1 kHz, model STFT).

By default it runs on the clips of the validation singers (``ipysvs.research.datasets.VALIDATION_SINGERS``,
245 clips, ~30 min on 2 cores); ``--all-singers`` uses all 831 development clips. It prints the
summary table, the ipysvs - reference difference (target: |median vocal SDR difference| <= 0.05 dB)
and a markdown snippet for ``benchmarks/RESULTS.md``.

Usage:
    python benchmarks/bench_mir1k_sdr.py [--data DIR] [--singers NAME ...] [--all-singers] [--limit N]
        [--out CSV] [--quiet]
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import reference_separator
import torch
from tqdm import tqdm

from ipysvs import audio as audio_io
from ipysvs.research.benchmarking import machine_description
from ipysvs.research.datasets import VALIDATION_SINGERS, read_clips
from ipysvs.research.evaluation import (
    ClipResult,
    System,
    SystemSummary,
    blind_system,
    evaluate_clips,
    format_system_table,
    oracle_system,
    summarise,
    write_csv,
)
from ipysvs.separation import default_separator
from ipysvs.spectral import SAMPLE_RATE

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mir1k"
TARGET_DIFFERENCE_DB = 0.05
# (header, SystemSummary attribute, key) of the markdown table's metric columns
MARKDOWN_COLUMNS = (
    ("vocals SDR", "medians", "vocals_sdr"),
    ("vocals SIR", "medians", "vocals_sir"),
    ("vocals SAR", "medians", "vocals_sar"),
    ("vocals GNSDR", "gnsdr", "vocals"),
    ("acc. SDR", "medians", "accompaniment_sdr"),
    ("vocals SDR museval", "medians", "vocals_museval_sdr"),
)


def reference_system() -> System:
    """The reference separator as a blind :data:`~ipysvs.research.evaluation.System` on mono clips."""
    nets = [
        reference_separator.ReferenceUNet().load_spleeter(p) for p in reference_separator.checkpoint_paths()
    ]

    def separate(mixture: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
        mono = audio_io.resample(mixture[np.newaxis], sr, SAMPLE_RATE)
        stems = reference_separator.separate(torch.from_numpy(mono).repeat(2, 1), nets)
        vocals, accompaniment = (
            audio_io.fit_length(
                audio_io.resample(stem.mean(dim=0, keepdim=True).numpy(), SAMPLE_RATE, sr), mixture.shape[0]
            )[0]
            for stem in stems
        )
        return vocals, accompaniment

    return blind_system(separate)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MIR-1K layout folder")
    parser.add_argument(
        "--singers", nargs="+", default=list(VALIDATION_SINGERS), help="singers (default: validation split)"
    )
    parser.add_argument("--all-singers", action="store_true", help="every singer of the folder")
    parser.add_argument("--limit", type=int, help="at most this many clips")
    parser.add_argument("--out", type=Path, help="write per-clip scores to this CSV")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def vocal_sdr_difference(results: Sequence[ClipResult], system: str, baseline: str) -> np.ndarray:
    """Per-clip ``vocals_sdr`` of ``system`` minus that of ``baseline``, over clips both scored."""
    sdr: dict[str, dict[str, float]] = {system: {}, baseline: {}}
    for result in results:
        if result.system in sdr and not result.skipped:
            sdr[result.system][result.name] = result.metrics["vocals_sdr"]
    common = sdr[system].keys() & sdr[baseline].keys()
    return np.array([sdr[system][name] - sdr[baseline][name] for name in sorted(common)])


def markdown(summaries: Sequence[SystemSummary], difference: np.ndarray, command: str, clips: str) -> str:
    """A RESULTS.md section: date, command, machine, the table of systems and the ipysvs - reference gap."""
    lines = [
        f"### MIR-1K vocal SDR ({datetime.date.today().isoformat()})",
        "",
        f"`{command}` -- {clips}; {machine_description()}.",
        "",
        "| system | clips | " + " | ".join(label for label, _, _ in MARKDOWN_COLUMNS) + " |",
        "| --- | ---: |" + " ---: |" * len(MARKDOWN_COLUMNS),
    ]
    for s in summaries:
        values = (getattr(s, attribute).get(key, np.nan) for _, attribute, key in MARKDOWN_COLUMNS)
        lines.append(f"| {s.system} | {s.scored} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    lines += [
        "",
        "Medians over clips in dB (museval: median over 1 s frames per clip, then over clips); GNSDR: "
        f"length-weighted mean NSDR. ipysvs - reference, median vocal SDR: {_gap(summaries):+.3f} dB "
        f"(target |gap| <= {TARGET_DIFFERENCE_DB} dB); {_describe(difference)}.",
    ]
    return "\n".join(lines)


def _describe(difference: np.ndarray) -> str:
    if not difference.size:
        return "no clip was scored by both"
    return (
        f"per-clip vocal SDR difference: median {np.median(difference):+.3f} dB, "
        f"max |.| {np.abs(difference).max():.3f} dB over {difference.size} clips"
    )


def _gap(summaries: Sequence[SystemSummary]) -> float:
    median = {s.system: s.medians["vocals_sdr"] for s in summaries}
    return median["ipysvs"] - median["reference"]


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    clips = read_clips(args.data, singers=None if args.all_singers else args.singers)[: args.limit]
    systems = {
        "ipysvs": blind_system(default_separator().separate),
        "reference": reference_system(),
        "oracle": oracle_system,
    }
    results = evaluate_clips(clips if args.quiet else tqdm(clips, desc="clips", unit="clip"), systems)
    if args.out:
        write_csv(results, args.out)
    summaries = summarise(results)
    difference = vocal_sdr_difference(results, "ipysvs", "reference")
    print(format_system_table(summaries))
    print()
    for summary in summaries:
        print(f"median vocal SDR {summary.system:>10}: {summary.medians['vocals_sdr']:6.2f} dB")
    gap = _gap(summaries)
    verdict = "within" if abs(gap) <= TARGET_DIFFERENCE_DB else "OUTSIDE"
    print(f"ipysvs - reference: {gap:+.3f} dB ({verdict} the {TARGET_DIFFERENCE_DB} dB target)")
    singers = "all singers" if args.all_singers else ", ".join(args.singers)
    print()
    print(
        markdown(summaries, difference, shlex.join(["python", *sys.argv]), f"{len(clips)} clips ({singers})")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
