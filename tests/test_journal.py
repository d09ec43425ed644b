"""Crash recovery: edits are journaled as they are made and come back with ``restore=True``."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import ipysvs
from ipysvs.cache import audio_key
from ipysvs.errors import FileError, ParameterError
from ipysvs.interactive import journal as journal_module
from ipysvs.interactive.journal import UnsavedEditsWarning, journal_folder


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def open_quietly(song, **options) -> ipysvs.Session:
    """Open the song and fail on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ipysvs.open(song.mixture, song.sr, **options)


def edit(session: ipysvs.Session) -> None:
    session.set_f0(1.0, 2.0, 330.0)
    session.draw(np.linspace(3.0, 3.5, 20), np.linspace(200.0, 250.0, 20))
    session.unvoice(4.0, 4.5)
    session.undo()  # the deletion goes to the redo stack


def test_a_killed_session_comes_back_with_restore(song, cache) -> None:
    lost = open_quietly(song)
    edit(lost)
    lost.adapt(steps=3)
    vocals_before_the_crash = lost.vocals
    del lost  # the kernel died: nothing was saved
    with pytest.warns(UnsavedEditsWarning, match=r"2 edit\(s\) .* restore=True"):
        fresh = ipysvs.open(song.mixture, song.sr)
    assert fresh.edits == ()
    restored = open_quietly(song, restore=True)
    assert [e.kind for e in restored.edits] == ["set_f0", "draw"] and restored.can_redo
    reference = ipysvs.open(song.mixture, song.sr, journal=False)
    edit(reference)
    np.testing.assert_array_equal(restored.f0.hz, reference.f0.hz)
    restored.adapt(steps=3)  # adaptation is seeded: the same edits teach the same model
    np.testing.assert_allclose(restored.vocals, vocals_before_the_crash, atol=1e-5)
    restored.redo()
    assert [e.kind for e in restored.edits][-1] == "unvoice"


def test_saving_settles_the_journal(song, cache, tmp_path) -> None:
    session = open_quietly(song)
    edit(session)
    session.save(tmp_path / "saved")
    open_quietly(song)  # no warning: the newest edits are saved
    session.set_f0(5.0, 5.5, 220.0)  # an edit after the save is unsaved again
    with pytest.warns(UnsavedEditsWarning, match=r"3 edit\(s\)"):
        loaded = ipysvs.load(tmp_path / "saved")
    with pytest.warns(UnsavedEditsWarning, match=r"3 edit\(s\)"):  # an unchanged session hides nothing
        ipysvs.open(song.mixture, song.sr)
    loaded.undo()  # a change: the loaded session's history becomes the newest journal
    restored = open_quietly(song, restore=True)
    assert len(restored.edits) == 1 and restored.can_redo


def test_sessions_of_one_song_keep_their_own_journals(song, cache) -> None:
    first, second = open_quietly(song), ipysvs.open(song.mixture, song.sr)
    first.set_f0(1.0, 2.0, 330.0)
    second.set_f0(2.0, 3.0, 440.0)
    second.set_f0(3.0, 4.0, 440.0)
    folder = journal_folder(audio_key(first._samples, song.sr))
    saved = sorted(len(journal_module.read(p).edits) for p in folder.glob("*.jsonl"))
    assert saved == [1, 2]


def test_without_journal_nothing_is_written_or_restored(song, cache) -> None:
    session = open_quietly(song, journal=False)
    edit(session)
    assert not (cache / "journal").exists()
    with pytest.warns(UserWarning, match="no journal of this song to restore"):
        assert ipysvs.open(song.mixture, song.sr, restore=True).edits == ()


def test_a_journal_that_does_not_fit_is_refused_and_kept(song, cache) -> None:
    session = open_quietly(song)
    session.set_f0(1.0, 2.0, 330.0)
    path = session._journal.path
    header, line = path.read_text().splitlines()
    record = json.loads(line)
    record["edit"]["t1"] = 999.0  # beyond the 6 s song
    path.write_text(f"{header}\n{json.dumps(record)}\n")
    with pytest.raises(FileError, match=r"cannot restore this journal.*outside the song"):
        ipysvs.open(song.mixture, song.sr, restore=True)
    assert path.is_file()


def test_an_unwritable_journal_warns_once_and_edits_go_on(song, cache) -> None:
    session = open_quietly(song)
    blocker = cache / "not-a-folder"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the journal's folder should be")
    session._journal.path = blocker / "journal.jsonl"
    with pytest.warns(UserWarning, match="cannot write the edit journal"):
        session.set_f0(1.0, 2.0, 330.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.set_f0(2.0, 3.0, 330.0)
    assert len(session.edits) == 2


def test_only_the_newest_journals_are_kept_and_never_an_unsaved_one(song, cache, tmp_path) -> None:
    folder = None
    for index in range(5):
        session = ipysvs.open(song.mixture, song.sr, journal=False)
        session._journal = journal_module.Journal(journal_folder(audio_key(session._samples, song.sr)), "x")
        session.set_f0(1.0, 2.0, 200.0 + index)
        if index == 1:
            session._journal.saved(tmp_path / "saved")  # as Session.save records it
        os.utime(session._journal.path, ns=(index * 10**9, index * 10**9))
        folder = session._journal.path.parent
    journal_module.prune(folder, keep=3)
    kept = sorted(journal_module.read(p).edits[0]["hz"] for p in folder.glob("*.jsonl"))
    assert kept == [200.0, 202.0, 203.0, 204.0]  # the oldest is unsaved: it stays until discarded
    assert journal_module.to_restore(folder).edits[0]["hz"] == 204.0  # the newest unsaved one


def test_a_crashed_session_stays_recoverable_after_later_sessions(song, cache, tmp_path) -> None:
    crashed = open_quietly(song)
    crashed.set_f0(1.0, 2.0, 210.0)  # ... and the kernel dies
    with pytest.warns(UnsavedEditsWarning, match="unsaved_sessions"):
        later = ipysvs.open(song.mixture, song.sr)  # opened without restore
    later.set_f0(3.0, 4.0, 300.0)
    later.save(tmp_path / "later")
    listed = ipysvs.unsaved_sessions()
    assert [entry.path for entry in listed] == [crashed._journal.path]
    assert listed[0].edits == [crashed.edits[0].to_json()]
    restored = ipysvs.open(song.mixture, song.sr, restore=True, journal=False)
    assert restored.edits == crashed.edits  # not hidden by the newer, saved session
    again = ipysvs.open(song.mixture, song.sr, restore=listed[0], journal=False)
    assert again.edits == crashed.edits
    ipysvs.discard_unsaved(listed[0])
    assert ipysvs.unsaved_sessions() == [] and not crashed._journal.path.exists()


def test_restore_refuses_a_journal_of_another_song_or_of_no_kind(song, cache, tmp_path) -> None:
    other = open_quietly(song, journal=True)
    other.set_f0(1.0, 2.0, 210.0)
    clip = song.mixture[:, : song.sr * 3]
    with pytest.raises(ParameterError, match="belongs to another song"):
        ipysvs.open(clip, song.sr, restore=other._journal.path, journal=False)
    with pytest.raises(ParameterError, match="restore must be True, False, or a journal"):
        ipysvs.open(clip, song.sr, restore=3, journal=False)
    with pytest.raises(ParameterError, match="not a journal"):
        ipysvs.discard_unsaved(tmp_path / "precious.txt")


def test_a_cut_short_last_line_is_ignored_and_each_write_stays_small(song, cache) -> None:
    session = open_quietly(song)
    for index in range(40):
        session.draw(np.linspace(0.1, 5.9, 200), np.full(200, 200.0 + index))
    session.undo()
    path = session._journal.path
    sizes = [len(line) for line in path.read_text().splitlines()]
    assert max(sizes) < 10_000  # one stroke per line, not the whole history
    with path.open("a") as file:
        file.write('{"op": "ed')  # the kernel died mid-write
    entry = journal_module.read(path)
    assert len(entry.edits) == 39 and len(entry.redo) == 1 and entry.unsaved
    assert entry.damaged_at is None  # a torn last line is no damage
    with path.open("a") as file:
        file.write('\n{"op": "undo"}\n')  # now the torn line sits in the middle
    damaged = journal_module.read(path)
    torn = len(path.read_text().splitlines()) - 1
    assert damaged.damaged_at == torn  # said, not silently skipped
    assert damaged.edits == entry.edits and damaged.redo == entry.redo  # everything before it is kept


def test_restoring_a_journal_damaged_in_the_middle_keeps_what_came_before(song, cache) -> None:
    session = open_quietly(song)
    session.set_f0(1.0, 2.0, 220.0)
    session.set_f0(3.0, 4.0, 230.0)
    path = session._journal.path
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:-1], "{garbage", lines[-1]]) + "\n")
    with pytest.warns(UserWarning, match=r"damaged at line \d+: the 1 edit\(s\) journaled before it"):
        restored = ipysvs.open(song.mixture, song.sr, restore=True, journal=False)
    assert restored.edits == session.edits[:1]


@pytest.mark.parametrize(
    "line",
    [{"op": "edit"}, {"op": "saved"}, {"op": "state", "edits": []}, {"op": "undo"}, {"op": "nope"}, ["x"]],
)
def test_malformed_operations_are_refused(line) -> None:
    entry = journal_module.JournalEntry(journal_folder("k") / "j.jsonl")
    with pytest.raises(ValueError, match="journal operation"):
        entry.apply(line)
    assert entry.edits == [] and entry.redo == []
