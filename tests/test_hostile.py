"""Hostile input at the API boundary: every bad value is refused with a clear ipysvs error, by type and
shape as well as value, and nothing changes -- neither the session's edits nor its journal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ipysvs
from ipysvs.errors import ParameterError

# each test's session journals; the next one's open() would warn that those edits were never saved
pytestmark = pytest.mark.filterwarnings("ignore::ipysvs.interactive.journal.UnsavedEditsWarning")

BAD_EDITS = [
    ("draw: hz shaped (n, 1)", lambda s: s.draw([1.0, 1.1, 1.2], np.full((3, 1), 220.0)), "1-D"),
    ("draw: times shaped (n, 1)", lambda s: s.draw(np.array([[1.0], [1.2]]), [220.0, 230.0]), "1-D"),
    ("draw: one point", lambda s: s.draw([1.0], [220.0]), "at least two points"),
    ("draw: times a number", lambda s: s.draw(1.0, 220.0), "at least two points"),
    ("draw: times a string", lambda s: s.draw("1.0,2.0", [220.0, 230.0]), "at least two points"),
    ("draw: hz strings", lambda s: s.draw([1.0, 1.2], ["220", "230"]), "must hold numbers"),
    ("draw: hz with None", lambda s: s.draw([1.0, 1.2], [220.0, None]), "must hold numbers"),
    ("draw: hz complex", lambda s: s.draw([1.0, 1.2], [220 + 0j, 230 + 0j]), "must hold numbers"),
    ("draw: lengths differ", lambda s: s.draw([1.0, 1.2, 1.4], [220.0, 230.0]), "one length"),
    ("draw: ends before it starts", lambda s: s.draw([1.2, 1.0], [220.0, 230.0]), "must be after"),
    ("draw: times going back", lambda s: s.draw([1.0, 1.3, 1.2], [220.0] * 3), "strictly increasing"),
    ("draw: NaN time", lambda s: s.draw([1.0, np.nan, 1.4], [220.0] * 3), "finite"),
    ("draw: negative Hz", lambda s: s.draw([1.0, 1.2], [220.0, -5.0]), "> 0"),
    ("draw: hz booleans", lambda s: s.draw([1.0, 1.2], np.array([True, True])), "must hold numbers"),
    ("set_f0: hz shaped (3, 1)", lambda s: s.set_f0(1.0, 1.05, np.full((3, 1), 220.0)), "1-D"),
    ("set_f0: hz a string", lambda s: s.set_f0(1.0, 2.0, "220"), "must hold numbers"),
    ("set_f0: hz strings", lambda s: s.set_f0(1.0, 1.05, ["220", "230"]), "must hold numbers"),
    ("set_f0: hz nested", lambda s: s.set_f0(1.0, 2.0, [[220.0]]), "1-D"),
    ("set_f0: hz True", lambda s: s.set_f0(1.0, 2.0, True), "must hold numbers"),
    ("set_f0: hz None", lambda s: s.set_f0(1.0, 2.0, None), "must hold numbers"),
    ("set_f0: hz complex", lambda s: s.set_f0(1.0, 2.0, 220 + 1j), "must hold numbers"),
    ("set_f0: hz a huge int", lambda s: s.set_f0(1.0, 2.0, 10**400), "must hold numbers"),
    ("set_f0: hz inf", lambda s: s.set_f0(1.0, 2.0, np.inf), "finite"),
    ("set_f0: hz empty", lambda s: s.set_f0(1.0, 2.0, []), "finite numbers"),
    ("set_f0: too high", lambda s: s.set_f0(1.0, 2.0, 9000.0), "20..5000"),
    ("set_f0: t0 a string", lambda s: s.set_f0("1.0", 2.0, 220.0), "number of seconds"),
    ("set_f0: t0 None", lambda s: s.set_f0(None, 2.0, 220.0), "number of seconds"),
    ("set_f0: t0 True", lambda s: s.set_f0(True, 2.0, 220.0), "number of seconds"),
    ("set_f0: t1 a list", lambda s: s.set_f0(1.0, [2.0], 220.0), "number of seconds"),
    ("set_f0: t1 an array", lambda s: s.set_f0(1.0, np.array([2.0]), 220.0), "number of seconds"),
    ("set_f0: t1 a huge int", lambda s: s.set_f0(1.0, 10**400, 220.0), "too large"),
    ("set_f0: t0 NaN", lambda s: s.set_f0(np.nan, 2.0, 220.0), "finite"),
    ("set_f0: t1 before t0", lambda s: s.set_f0(2.0, 1.0, 220.0), "after t0"),
    ("set_f0: outside the song", lambda s: s.set_f0(1.0, 99.0, 220.0), "outside the song"),
    ("set_f0: negative time", lambda s: s.set_f0(-1.0, 2.0, 220.0), "outside the song"),
    ("set_f0: wrong value count", lambda s: s.set_f0(1.0, 2.0, [220.0, 230.0]), "one value per frame"),
    ("shift_octave: float octaves", lambda s: s.shift_octave(1.0, 2.0, 1.0), "whole number"),
    ("shift_octave: numpy float", lambda s: s.shift_octave(1.0, 2.0, np.float64(1)), "whole number"),
    ("shift_octave: True", lambda s: s.shift_octave(1.0, 2.0, True), "whole number"),
    ("shift_octave: a string", lambda s: s.shift_octave(1.0, 2.0, "1"), "whole number"),
    ("shift_octave: 1.5", lambda s: s.shift_octave(1.0, 2.0, 1.5), "whole number"),
    ("shift_octave: 3", lambda s: s.shift_octave(1.0, 2.0, 3), "whole number"),
    ("shift_octave: 0", lambda s: s.shift_octave(1.0, 2.0, 0), "whole number"),
    ("mark_activity: vocal 1", lambda s: s.mark_activity(1.0, 2.0, vocal=1), "True or False"),
    ("mark_activity: vocal 'yes'", lambda s: s.mark_activity(1.0, 2.0, vocal="yes"), "True or False"),
    ("mark_activity: vocal None", lambda s: s.mark_activity(1.0, 2.0, vocal=None), "True or False"),
    ("unvoice: t0 a list", lambda s: s.unvoice([1.0], 2.0), "number of seconds"),
    ("unvoice: t1 a string", lambda s: s.unvoice(1.0, "2"), "number of seconds"),
    ("unvoice: empty span", lambda s: s.unvoice(1.0, 1.0), "after t0"),
    ("snap: t0 a string", lambda s: s.snap("1.0", 2.0), "number of seconds"),
    ("snap: one frame", lambda s: s.snap(1.0, 1.01), "at least two"),
]


@pytest.fixture()
def session(song) -> ipysvs.Session:
    """The test song, journaled, with one edit (the analysis comes from the test run's cache)."""
    opened = ipysvs.open(song.mixture, song.sr)
    opened.set_f0(0.2, 0.4, 250.0)
    return opened


def journal_lines(session: ipysvs.Session) -> list[str]:
    return session._journal.path.read_text().splitlines()


@pytest.mark.parametrize(
    "call, message", [case[1:] for case in BAD_EDITS], ids=[case[0] for case in BAD_EDITS]
)
def test_a_bad_edit_is_refused_and_changes_nothing(session, call, message: str) -> None:
    edits, hz, journal = session.edits, session.f0.hz.copy(), journal_lines(session)
    with pytest.raises(ParameterError, match=message):
        call(session)
    assert session.edits == edits
    np.testing.assert_array_equal(session.f0.hz, hz)
    assert journal_lines(session) == journal


def test_numpy_values_are_stored_and_journaled_as_plain_python(session) -> None:
    session.shift_octave(np.float32(1.0), np.float64(2.0), np.int64(-1))
    session.mark_activity(np.float64(3.0), 4.0, vocal=np.bool_(False))
    session.draw(np.array([5.0, 5.2], dtype=np.float32), np.array([220, 230], dtype=np.int16))
    session.set_f0(6.0, 6.1, np.float32(300.0))
    shift, mark, stroke, constant = session.edits[-4:]
    assert type(shift.octaves) is int and type(shift.t0) is float
    assert type(mark.vocal) is bool
    assert isinstance(stroke.times, tuple) and all(type(t) is float for t in stroke.times + stroke.hz)
    assert type(constant.hz) is float
    assert json.loads(json.dumps([edit.to_json() for edit in session.edits]))  # the journal can hold them
    recovered = ipysvs.open(session.mixture, session.sr, restore=True)
    assert recovered.edits == session.edits


# ---------------------------------------------------------------------- files: atomic, never mixed
def test_a_save_that_fails_half_way_leaves_the_old_session_whole(session, tmp_path, monkeypatch) -> None:
    import safetensors.torch

    folder = session.save(tmp_path / "saved")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    session.set_f0(1.0, 2.0, 300.0)

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    with pytest.raises(ipysvs.FileError, match="No space left"):
        session.save(folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["saved"]  # no temporary left
    monkeypatch.undo()
    assert len(ipysvs.load(folder, journal=False).edits) == 1


def test_saving_over_another_session_keeps_nothing_of_it(session, song, tmp_path) -> None:
    other = ipysvs.open(song.mixture[:, : song.sr * 4], song.sr, journal=False)
    other.set_f0(1.0, 1.5, 200.0)
    other.adapt(variant="svs-f0", layers="decoder", steps=1)
    folder = other.save(tmp_path / "shared")
    assert (folder / "separator.safetensors").is_file()
    session.save(folder)
    assert not (folder / "separator.safetensors").exists()
    restored = ipysvs.load(folder, journal=False)
    assert restored.edits == session.edits and restored.duration_s == session.duration_s


def test_save_refuses_a_folder_that_is_not_a_session(session, tmp_path) -> None:
    folder = tmp_path / "my-project"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ipysvs.FileError, match="not a saved session"):
        session.save(folder)
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ipysvs.FileError, match="not a saved session"):
        session.save(blocker)
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("file_format", ["../../escape", "mp3", "WAV", "", None, 3])
def test_export_refuses_other_formats_and_writes_nothing(session, tmp_path, file_format) -> None:
    with pytest.raises(ParameterError, match="file_format must be one of"):
        session.export(tmp_path / "out", file_format=file_format)
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_fails_leaves_no_truncated_stem(session, tmp_path, monkeypatch) -> None:
    import soundfile

    write = soundfile.SoundFile.write
    blocks_written = []

    def cut_short(file: soundfile.SoundFile, data: np.ndarray) -> None:
        if blocks_written:  # the first block goes to disk, then the disk is full
            raise OSError(28, "No space left on device")
        blocks_written.append(len(data))
        write(file, data)

    monkeypatch.setattr(soundfile.SoundFile, "write", cut_short)
    monkeypatch.setattr(ipysvs.audio, "IO_BLOCK", 1000)  # many blocks per stem
    with pytest.raises(ipysvs.AudioFileError, match="No space left"):
        session.export(tmp_path / "out")
    assert blocks_written == [1000]  # the stem was half-written when the disk filled up ...
    assert list((tmp_path / "out").iterdir()) == []  # ... and nothing of it is left


# ---------------------------------------------------------------------- caches never lock a song out
def cached_entries(cache: Path) -> list[Path]:
    return sorted((cache / "analysis").glob("*.npz"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[:100]),  # truncated
        lambda path: path.write_bytes(b"not a zip file at all"),
        lambda path: path.write_bytes(b""),
        lambda path: np.savez(path, vocals=np.zeros((2, 10), np.float32)),  # arrays missing
        lambda path: np.savez(path, **{**dict(np.load(path)), "vocals": np.zeros((2, 10), np.float32)}),
        lambda path: np.savez(path, **{**dict(np.load(path)), "f0_hz": np.full(3, np.nan)}),
    ],
    ids=["truncated", "not-a-zip", "empty", "missing-arrays", "wrong-shape", "nan"],
)
def test_a_damaged_cache_entry_is_recomputed(song, tmp_path, monkeypatch, damage) -> None:
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(tmp_path))
    clip = song.mixture[:, : song.sr * 3]
    first = ipysvs.open(clip, song.sr, journal=False)
    (entry,) = cached_entries(tmp_path)
    damage(entry)
    again = ipysvs.open(clip, song.sr, journal=False)
    np.testing.assert_allclose(again.vocals, first.vocals, atol=1e-6)
    assert again.f0.hz.shape == first.f0.hz.shape and np.isfinite(again.f0.hz).all()
    with np.load(entry) as repaired:  # and the entry was written anew
        assert repaired["vocals"].shape == clip.shape


def test_loud_input_does_not_poison_the_cache(song, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(tmp_path))
    loud = song.mixture[:, : song.sr * 3] * 32768.0  # int16-scale floats
    ipysvs.open(loud, song.sr, journal=False)
    (entry,) = cached_entries(tmp_path)
    with np.load(entry) as stored:
        assert np.isfinite(stored["vocal_magnitude"]).all()
    reopened = ipysvs.open(loud, song.sr, journal=False)
    assert np.isfinite(reopened.vocals).all() and np.isfinite(reopened.salience).all()


def test_an_unwritable_cache_never_fails_open(song, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(blocker))
    session = ipysvs.open(song.mixture[:, : song.sr * 3], song.sr, journal=False)
    assert session.f0.hz.size > 0 and blocker.read_text() == "x"


# ---------------------------------------------------------------------- load trusts nothing it reads
def rewrite_arrays(folder: Path, **changes: np.ndarray) -> None:
    with np.load(folder / "arrays.npz") as stored:
        arrays = dict(stored)
    np.savez(folder / "arrays.npz", **{**arrays, **changes})


def rewrite_state(folder: Path, **changes: object) -> None:
    state = json.loads((folder / "session.json").read_text())
    (folder / "session.json").write_text(json.dumps({**state, **changes}))


DAMAGED_SESSIONS = [
    ("NaN samples", lambda f, s: rewrite_arrays(f, samples=np.full_like(s.mixture, np.nan))),
    ("int16 samples", lambda f, s: rewrite_arrays(f, samples=(s.mixture * 1000).astype(np.int16))),
    ("3-D samples", lambda f, s: rewrite_arrays(f, samples=s.mixture[None])),
    ("vocals of another length", lambda f, s: rewrite_arrays(f, vocals=s.mixture[:, :100])),
    ("F0 shorter than the saliency", lambda f, s: rewrite_arrays(f, f0_hz=np.zeros(3))),
    ("inf saliency", lambda f, s: rewrite_arrays(f, salience=np.full((s.frame_times.size, 320), np.inf))),
    ("an object array", lambda f, s: rewrite_arrays(f, beats=np.array([None], dtype=object))),
    ("sample rate not the samples'", lambda f, s: rewrite_state(f, sr=22050)),
    ("float64 vocals", lambda f, s: rewrite_arrays(f, vocals=s.vocals.astype(np.float64))),
    (
        "pretrained vocals of another length",
        lambda f, s: rewrite_arrays(f, pretrained_vocals=s.mixture[:, :10]),
    ),
    ("NaN vocals before", lambda f, s: rewrite_arrays(f, before_vocals=np.full_like(s.mixture, np.nan))),
    ("sample rate a string", lambda f, s: rewrite_state(f, sr="44100")),
    ("sample rate 0", lambda f, s: rewrite_state(f, sr=0)),
    ("sample rate 10**400", lambda f, s: rewrite_state(f, sr=10**400)),
    ("layout a list", lambda f, s: rewrite_state(f, layout=[1, 2])),
    (
        "layout dtype int",
        lambda f, s: rewrite_state(f, layout={"ndim": 2, "channels_first": True, "dtype": "<i2"}),
    ),
    (
        "layout dtype garbage",
        lambda f, s: rewrite_state(f, layout={"ndim": 2, "channels_first": True, "dtype": "zz"}),
    ),
    (
        "layout ndim 5",
        lambda f, s: rewrite_state(f, layout={"ndim": 5, "channels_first": True, "dtype": "<f4"}),
    ),
    ("edits not a list", lambda f, s: rewrite_state(f, edits={"kind": "unvoice"})),
    (
        "an edit outside the song",
        lambda f, s: rewrite_state(f, edits=[{"kind": "unvoice", "t0": 1, "t1": 99}]),
    ),
    ("an edit of unknown kind", lambda f, s: rewrite_state(f, edits=[{"kind": "rm -rf", "t0": 1, "t1": 2}])),
    (
        "an edit with a string time",
        lambda f, s: rewrite_state(f, redo=[{"kind": "unvoice", "t0": "1", "t1": 2}]),
    ),
    ("state a list", lambda f, s: (f / "session.json").write_text("[1, 2]")),
    ("state not JSON", lambda f, s: (f / "session.json").write_text("{oops")),
    ("state missing", lambda f, s: (f / "session.json").unlink()),
    ("arrays truncated", lambda f, s: (f / "arrays.npz").write_bytes((f / "arrays.npz").read_bytes()[:500])),
    ("arrays missing", lambda f, s: (f / "arrays.npz").unlink()),
    (
        "model truncated",
        lambda f, s: (f / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}"),
    ),
    ("model garbage", lambda f, s: (f / "model.safetensors").write_bytes(b"garbage")),
    ("model missing", lambda f, s: (f / "model.safetensors").unlink()),
]


@pytest.mark.parametrize(
    "damage", [case[1] for case in DAMAGED_SESSIONS], ids=[case[0] for case in DAMAGED_SESSIONS]
)
def test_a_damaged_saved_session_is_refused_as_a_file_error(session, tmp_path, damage) -> None:
    folder = session.save(tmp_path / "saved")
    damage(folder, session)
    files = {path.name: path.read_bytes() for path in folder.iterdir()}
    with pytest.raises(ipysvs.FileError, match=r"saved session|session format"):
        ipysvs.load(folder, journal=False)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == files  # nothing was touched


# ---------------------------------------------------------------------- the command line
@pytest.mark.parametrize("name", ["...wav", "..wav"])
def test_separate_never_writes_outside_out(tmp_path, name) -> None:
    import soundfile

    from ipysvs.cli import main

    from .conftest import harmonic_tone

    source = tmp_path / "in" / name
    source.parent.mkdir()
    soundfile.write(str(source), harmonic_tone(1.0, 22050).T, 22050, format="WAV")
    out = tmp_path / "deep" / "out"
    assert main(["separate", str(source), "--out", str(out), "--quiet", "--stems-only"]) == 0
    written = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.wav"))
    assert written == [f"deep/out/audio/{stem}.wav" for stem in ("accompaniment", "vocals")] + [f"in/{name}"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "--data", "x", "--limit", "-1"], "argument --limit: must be at least 1, got -1"),
        (["simulate", "--data", "x", "--per-singer", "0"], "argument --per-singer: must be at least 1"),
        (["simulate", "--data", "x", "--steps", "1.5"], "argument --steps: must be a whole number"),
        (["train", "x", "--refiner-steps", "-5"], "argument --refiner-steps: must be at least 0"),
        (["train", "x", "--refiner-lr", "nan"], "argument --refiner-lr: must be a finite number > 0"),
        (["train", "x", "--refiner-lr=-1e-3"], "argument --refiner-lr: must be a finite number > 0"),
        (["train", "x", "--seed", "-1"], "argument --seed: must be at least 0"),
        (["separate", "a.wav", "--format", "mp3"], "argument --format: invalid choice"),
        (["explode"], "argument COMMAND: invalid choice"),
    ],
)
def test_bad_counts_and_choices_are_one_line_usage_errors(argv, message, capsys) -> None:
    from ipysvs.cli import EXIT_USAGE, main

    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("ipysvs: error: ") and message in captured.err


def test_evaluate_reports_a_corrupt_clip_and_scores_the_others(tmp_path, capsys) -> None:
    import csv

    from ipysvs.cli import EXIT_SOME_FAILED, main

    from .test_evaluation import TINY_CLIPS, write_tiny_dataset

    data = write_tiny_dataset(tmp_path / "tiny")
    broken, _, _, _, _, ext, _ = TINY_CLIPS[0]
    (data / "clips" / f"{broken}.voice.{ext}").write_bytes(b"RIFF, then nothing an audio file holds")
    out = tmp_path / "scores.csv"
    assert main(["evaluate", str(data), "--out", str(out), "--quiet"]) == EXIT_SOME_FAILED
    with out.open() as stream:
        rows = list(csv.DictReader(stream))
    unread = {row["name"] for row in rows if row["skipped"].startswith("cannot read")}
    scored = {row["name"] for row in rows if not row["skipped"]}
    assert unread == {broken} and scored == {clip[0] for clip in TINY_CLIPS[1:]}
    assert "could not be scored" in capsys.readouterr().err


@pytest.mark.parametrize(
    "where",
    ["under-a-file", "a-folder", "garbage-csv"],
)
def test_simulate_reports_an_unusable_out_in_one_line(tmp_path, capsys, where) -> None:
    from ipysvs.cli import EXIT_USAGE, main

    from .test_evaluation import write_tiny_dataset

    data = write_tiny_dataset(tmp_path / "tiny")
    (tmp_path / "a-file").write_text("x")
    out = {
        "under-a-file": tmp_path / "a-file" / "rows.csv",
        "a-folder": tmp_path / "folder",
        "garbage-csv": tmp_path / "garbage.csv",
    }[where]
    if where == "a-folder":
        out.mkdir()
    if where == "garbage-csv":
        out.write_text("name,variant,ratio\nx,svs,not-a-number\n")
    argv = [
        "simulate",
        "--data",
        str(data),
        "--out",
        str(out),
        "--ratios",
        "0",
        "--variants",
        "svs",
        "--quiet",
    ]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("ipysvs: error: ") and err.count("\n") == 1 and str(out) in err
    assert "Traceback" not in err


def test_train_reports_an_unusable_run_folder_in_one_line(tmp_path, capsys) -> None:
    from ipysvs.cli import EXIT_USAGE, main

    (tmp_path / "a-file").write_text("x")
    run_dir = tmp_path / "a-file" / "run"
    assert main(["train", str(tmp_path), "--run-dir", str(run_dir), "--quiet"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("ipysvs: error: ") and err.count("\n") == 1 and "a-file" in err
