"""``ipysvs separate``: outputs, progress, and every user error as one line with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile

from ipysvs.cli import main

from .conftest import harmonic_tone


@pytest.fixture()
def tone_file(tmp_path):
    """A 2 s harmonic tone written as FLAC (the CLI's input file)."""
    path = tmp_path / "in" / "song.flac"
    path.parent.mkdir()
    soundfile.write(str(path), harmonic_tone(2.0, 22050, channels=2).T, 22050)
    return path


def _assert_stems(folder, reference: np.ndarray, sr: int) -> None:
    vocals, vocals_sr = soundfile.read(str(folder / "vocals.wav"), always_2d=True)
    accompaniment, _ = soundfile.read(str(folder / "accompaniment.wav"), always_2d=True)
    assert vocals_sr == sr and vocals.shape == reference.shape
    np.testing.assert_allclose(vocals + accompaniment, reference, atol=1e-4)


def test_separates_into_folder_named_after_the_file(tone_file, tmp_path) -> None:
    assert main(["separate", str(tone_file), "--out", str(tmp_path / "out"), "--quiet", "--stems-only"]) == 0
    mixture, sr = soundfile.read(str(tone_file), always_2d=True)
    _assert_stems(tmp_path / "out" / "song", mixture, sr)


def test_flac_output(tone_file, tmp_path) -> None:
    assert (
        main(
            [
                "separate",
                str(tone_file),
                "--out",
                str(tmp_path / "o"),
                "--format",
                "flac",
                "--quiet",
                "--stems-only",
            ]
        )
        == 0
    )
    assert (tmp_path / "o" / "song" / "vocals.flac").is_file()


def test_silence_is_valid_input(tmp_path) -> None:
    path = tmp_path / "silence.wav"
    soundfile.write(str(path), np.zeros((8000, 1)), 8000)
    assert main(["separate", str(path), "--out", str(tmp_path / "out"), "--quiet", "--stems-only"]) == 0
    vocals, _ = soundfile.read(str(tmp_path / "out" / "silence" / "vocals.wav"))
    assert vocals.shape == (8000,) and not vocals.any()


def _bad_inputs(tmp_path):
    missing = tmp_path / "missing.wav"
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("definitely not audio")
    empty = tmp_path / "empty.wav"
    soundfile.write(str(empty), np.zeros((0, 2)), 44100)
    return {
        "missing.wav": "no such file",
        "notes.mp3": "not a readable audio file",
        "empty.wav": "zero length",
    }, [
        missing,
        not_audio,
        empty,
    ]


def test_bad_files_are_reported_and_the_others_still_run(tone_file, tmp_path, capsys) -> None:
    messages, bad = _bad_inputs(tmp_path)
    code = main(
        [
            "separate",
            str(bad[0]),
            str(tone_file),
            *map(str, bad[1:]),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
            "--stems-only",
        ]
    )
    assert code == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3
    for line, (name, message) in zip(errors, messages.items(), strict=True):
        assert line.startswith("ipysvs: error: ") and name in line and message in line
    assert (tmp_path / "out" / "song" / "vocals.wav").is_file()


def test_unwritable_output_folder(tone_file, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["separate", str(tone_file), "--out", str(blocker / "out"), "--quiet", "--stems-only"]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "a-file" in err and len(err.strip().splitlines()) == 1


def test_no_inputs_is_a_usage_error(capsys) -> None:
    assert main(["separate"]) == 2
    assert "give at least one INPUT" in capsys.readouterr().err


def test_same_stem_twice_gets_two_folders(tone_file, tmp_path) -> None:
    other = tmp_path / "other" / "song.wav"
    other.parent.mkdir()
    data, sr = soundfile.read(str(tone_file))
    soundfile.write(str(other), data[: sr // 2], sr)
    assert (
        main(
            [
                "separate",
                str(tone_file),
                str(other),
                "--out",
                str(tmp_path / "out"),
                "--quiet",
                "--stems-only",
            ]
        )
        == 0
    )
    assert (tmp_path / "out" / "song" / "vocals.wav").is_file()
    assert (tmp_path / "out" / "song-2" / "vocals.wav").is_file()


def test_progress_per_phase_and_a_line_per_song_saying_what_went_where(tone_file, tmp_path, capsys) -> None:
    other = tmp_path / "other" / "song.wav"
    other.parent.mkdir()
    data, sr = soundfile.read(str(tone_file))
    soundfile.write(str(other), data[: sr // 2], sr)
    out = tmp_path / "out"
    assert main(["separate", str(tone_file), str(other), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    lines = printed.out.strip().splitlines()
    assert lines[0] == f"{other}: another input is also named 'song'; its stems go to {out / 'song-2'}/"
    assert lines[1:] == [
        f"{tone_file}: wrote vocals.wav, accompaniment.wav, f0.csv, beats.csv to {out / 'song'}/",
        f"{other}: wrote vocals.wav, accompaniment.wav, f0.csv, beats.csv to {out / 'song-2'}/",
    ]
    for phase in ("beats", "separate", "pitch"):  # every phase of every song had its bar
        assert f"song.flac: {phase}" in printed.err and f"song.wav: {phase}" in printed.err

    assert main(["separate", str(tone_file), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")  # quiet: nothing at all on success


@pytest.mark.slow
def test_console_script_prints_no_traceback(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ipysvs.cli", "separate", str(tmp_path / "nope.wav"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"ipysvs: error: {tmp_path / 'nope.wav'}: no such file"


@pytest.mark.slow
def test_demo_writes_stems_pitch_and_beats(tmp_path) -> None:
    import mir_eval

    from ipysvs.demo import demo_song

    assert main(["separate", "--demo", "--out", str(tmp_path), "--quiet"]) == 0
    folder = tmp_path / "demo"
    names = {"mixture.wav", "vocals.wav", "accompaniment.wav", "f0.csv", "beats.csv"}
    assert {p.name for p in folder.iterdir()} == names
    times, hz = mir_eval.io.load_time_series(str(folder / "f0.csv"), delimiter=",")
    song = demo_song()
    scores = mir_eval.melody.evaluate(song.f0_times, song.f0_hz, times, hz)
    assert scores["Overall Accuracy"] > 0.8  # the synthesised melody is found
    beats = np.loadtxt(folder / "beats.csv", comments="#")
    assert beats.size > 10 and np.all(np.diff(beats) > 0)


def test_streamed_stems_equal_the_api_separation(tmp_path) -> None:
    # 30 s at 48 kHz: three patches, resampled on the way in and out, written as they are separated
    import ipysvs

    mixture = harmonic_tone(30.0, 48000, channels=2, seed=4)
    path = tmp_path / "long.wav"
    soundfile.write(str(path), mixture.T, 48000, subtype="FLOAT")
    assert main(["separate", str(path), "--out", str(tmp_path / "out"), "--quiet", "--stems-only"]) == 0
    vocals, sr = soundfile.read(
        str(tmp_path / "out" / "long" / "vocals.wav"), always_2d=True, dtype="float32"
    )
    expected, _ = ipysvs.separate(mixture, 48000)
    assert sr == 48000
    np.testing.assert_array_equal(vocals.T, expected)
    _assert_stems(tmp_path / "out" / "long", mixture.T, 48000)


def test_bit_depth_of_the_stems(tone_file, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert (
        main(["separate", str(tone_file), "--out", str(out), "--quiet", "--stems-only", "--bit-depth", "16"])
        == 0
    )
    assert soundfile.info(str(out / "song" / "vocals.wav")).subtype == "PCM_16"
    flac = [
        "separate",
        str(tone_file),
        "--out",
        str(out / "f"),
        "--quiet",
        "--stems-only",
        "--format",
        "flac",
    ]
    assert main([*flac, "--bit-depth", "16"]) == 0
    assert soundfile.info(str(out / "f" / "song" / "vocals.flac")).subtype == "PCM_16"
    assert main([*flac, "--bit-depth", "32"]) == 2
    assert "bit_depth of a .flac file must be one of [16, 24]" in capsys.readouterr().err
    assert main([*flac[:-2], "--bit-depth", "8"]) == 2  # not a choice at all
