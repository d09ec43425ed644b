"""Shared fixtures: the test song, an isolated cache, the separator, and paths to ../shared data (tests
that need it skip with a reason when it is absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ipysvs.demo import DemoSong, demo_song

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test (and every notebook kernel it starts) caches and journals into a fresh folder, never
    into the user's ``~/.cache/ipysvs``; tests that need an empty cache set their own."""
    folder = tmp_path_factory.mktemp("ipysvs-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IPYSVS_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def song() -> DemoSong:
    """The test song: 8 s of the demo song (seed 3), 44.1 kHz stereo with exact stems, F0 and beats."""
    return demo_song(seconds=8.0, seed=3)


@pytest.fixture(scope="session")
def mir1k_dir() -> Path:
    """The shared MIR-1K development folder, or skip."""
    folder = SHARED_DATA / "mir1k"
    if not (folder / "index.csv").is_file():
        pytest.skip(f"MIR-1K data not found at {folder} (../shared/data is not beside the repo)")
    return folder


@pytest.fixture(scope="session")
def real_song() -> Path:
    """The shared 133 s real song, or skip."""
    path = SHARED_DATA / "real" / "lets_go_fishin.ogg"
    if not path.is_file():
        pytest.skip(f"real song not found at {path} (../shared/data is not beside the repo)")
    return path


def _write_clip(folder: Path, name: str, seed: int) -> list[str]:
    """A 4 s, 16 kHz clip of the demo song in MIR-1K's layout (voice, accompaniment, F0 labels);
    returns its ``index.csv`` row."""
    import soundfile

    song = demo_song(seconds=4.0, sr=16000, seed=seed)
    soundfile.write(str(folder / f"{name}.voice.wav"), song.vocals[0], 16000)
    soundfile.write(str(folder / f"{name}.acc.wav"), song.accompaniment[0], 16000)
    times = np.arange(0.02, 4.0, 0.02)
    hz = np.interp(times, song.f0_times, song.f0_hz) * (np.interp(times, song.f0_times, song.f0_hz > 0) > 0.5)
    rows = "".join(f"{t:.2f},{f:.3f},{int(f > 0)}\n" for t, f in zip(times, hz, strict=True))
    (folder / f"{name}.labels.csv").write_text("time_s,f0_hz,vocal\n" + rows)
    singer, song_id, clip = name.split("_")
    return [name, singer, "F", song_id, clip, "4.0"]


@pytest.fixture(scope="session")
def tiny_mir1k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder in MIR-1K's layout with three 4 s clips of demo songs: two of singer amy's song 1,
    one of leon's."""
    root = tmp_path_factory.mktemp("mir1k")
    clips = root / "clips"
    clips.mkdir()
    rows = [_write_clip(clips, name, seed) for seed, name in enumerate(["amy_1_01", "amy_1_02", "leon_1_01"])]
    index = "name,singer,gender,song,clip,duration_s\n" + "".join(",".join(r) + "\n" for r in rows)
    (root / "index.csv").write_text(index)
    return root


@pytest.fixture(scope="session")
def separator():
    """The pretrained separator, loaded once per test session."""
    from ipysvs.separation import default_separator

    return default_separator()


def harmonic_tone(
    seconds: float, sr: int, *, f0: float = 220.0, channels: int = 2, seed: int = 0
) -> np.ndarray:
    """A vibrato harmonic tone plus a little noise: voice-like ``(channels, samples)`` float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5.5 * t))) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 12) if k * f0 < sr / 2)
    signal = 0.2 * tone + 0.01 * rng.standard_normal(t.size)
    return np.tile(signal.astype(np.float32), (channels, 1))
