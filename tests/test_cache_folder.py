"""The cache folder: its size is bounded, it can be shown and cleared, and unsaved edits survive both."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import ipysvs
from ipysvs import cache as cache_module
from ipysvs.cli import main
from ipysvs.errors import ParameterError

from .conftest import harmonic_tone


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(folder))
    return folder


def _entry(folder: Path, name: str, size: int, age_s: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"x" * size)
    stamp = 1_700_000_000 - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_eviction_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    folder = tmp_path / "analysis"
    old, middle, new = (_entry(folder, f"{n}.npz", 100, age) for n, age in (("a", 30), ("b", 20), ("c", 10)))
    cache_module.touch(old)  # used just now: the newest
    assert cache_module.evict(folder, 250, keep=new) == 100
    assert old.exists() and not middle.exists() and new.exists()
    assert cache_module.evict(folder, 0, keep=new) == 100 and new.exists() and not old.exists()


def test_opening_songs_keeps_the_analyses_within_the_limit(empty_cache: Path, monkeypatch) -> None:
    tone = harmonic_tone(2.0, 22050, channels=2)
    ipysvs.open(tone, 22050, journal=False, quiet=True)
    (first,) = (empty_cache / "analysis").iterdir()
    monkeypatch.setenv("IPYSVS_CACHE_LIMIT_MB", str(first.stat().st_size * 1.5 / 1e6))
    ipysvs.open(tone * 0.5, 22050, journal=False, quiet=True)
    (kept,) = (empty_cache / "analysis").iterdir()
    assert kept != first  # the older analysis made room for the new one


def test_the_limit_must_be_a_number(monkeypatch) -> None:
    monkeypatch.setenv("IPYSVS_CACHE_LIMIT_MB", "lots")
    with pytest.raises(ParameterError, match="IPYSVS_CACHE_LIMIT_MB must be a number of megabytes"):
        cache_module.limit_bytes()
    monkeypatch.setenv("IPYSVS_CACHE_LIMIT_MB", "-1")
    with pytest.raises(ParameterError, match=">= 0"):
        cache_module.limit_bytes()


def test_cache_command_shows_and_clears_but_keeps_unsaved_edits(empty_cache: Path, capsys) -> None:
    s = ipysvs.open(harmonic_tone(2.0, 22050, channels=2), 22050, quiet=True)
    s.set_f0(0.5, 1.0, 220.0)  # journaled, never saved
    assert main(["cache"]) == 0
    shown = capsys.readouterr().out
    assert str(empty_cache) in shown and "analysis/" in shown and "journal/" in shown
    sizes = cache_module.usage()
    assert sizes["analysis"][0] == 1 and sizes["analysis"][1] > 0 and sizes["journal"][0] >= 1

    assert main(["cache", "--clear"]) == 0
    assert capsys.readouterr().out.startswith(
        f"freed {sizes['analysis'][1] / 1e6 + sizes['weights'][1] / 1e6:.1f} MB"
    )
    assert cache_module.usage()["analysis"] == (0, 0) and cache_module.usage()["weights"] == (0, 0)
    (unsaved,) = ipysvs.unsaved_sessions()
    assert len(unsaved.edits) == 1  # the edit is still there to restore
    np.testing.assert_array_equal(
        ipysvs.open(s.mixture, s.sr, restore=unsaved, quiet=True).corrected, s.corrected
    )
