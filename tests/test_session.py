"""The Session: opening and caching, edits with undo/redo, transactional adaptation, outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ipysvs
from ipysvs.conditioned import RefinementSeparator
from ipysvs.errors import ParameterError
from ipysvs.interactive import analysis_cache
from ipysvs.interactive import session as session_module


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture()
def session(song, cache, monkeypatch):
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(cache))
    return ipysvs.open(song.mixture.T, song.sr, journal=False)  # (samples, channels), as soundfile gives


def test_open_keeps_the_callers_layout_and_analyses(session, song) -> None:
    assert session.mixture.shape == song.mixture.T.shape
    assert session.vocals.shape == session.accompaniment.shape == song.mixture.T.shape
    np.testing.assert_allclose(session.vocals + session.accompaniment, song.mixture.T, atol=1e-5)
    f0 = session.f0
    assert f0.times.shape == f0.hz.shape and f0.times[-1] <= session.duration_s + 0.05
    assert session.salience.shape == (len(f0), 320)
    assert session.beats.size > 5
    assert not session.corrected.any() and session.edits == ()


def test_reopening_uses_the_cache(song, cache, monkeypatch) -> None:
    monkeypatch.setenv("IPYSVS_CACHE_DIR", str(cache))
    first = ipysvs.open(song.mixture, song.sr)
    monkeypatch.setattr(
        analysis_cache, "analyse", lambda *a, **k: pytest.fail("analysis must come from the cache")
    )
    again = ipysvs.open(song.mixture, song.sr)
    np.testing.assert_allclose(again.vocals, first.vocals)
    np.testing.assert_allclose(again.f0.hz, first.f0.hz)


def test_open_argument_errors(tmp_path) -> None:
    with pytest.raises(ParameterError, match="sample rate"):
        ipysvs.open(np.zeros((2, 1000)))
    with pytest.raises(ipysvs.AudioFileError, match="no such file"):
        ipysvs.open(tmp_path / "missing.wav")


def test_edits_undo_and_redo(session) -> None:
    session.set_f0(1.0, 2.0, 300.0)
    session.unvoice(3.0, 3.5)
    covered = (session.frame_times >= 1.0) & (session.frame_times < 2.0)
    assert np.allclose(session.f0.hz[covered], 300.0) and session.corrected[covered].all()
    assert np.all(session.f0.confidence[covered] == 1)
    assert session.undo() and len(session.edits) == 1
    assert session.redo() and len(session.edits) == 2
    session.undo()
    session.shift_octave(1.0, 2.0, -1)  # a new edit clears the redo stack
    assert not session.redo()
    assert np.allclose(session.f0.hz[covered], 150.0)
    while session.undo():
        pass
    np.testing.assert_array_equal(session.f0.hz, session.estimate.hz)


def test_draw_per_frame_values_and_activity(session) -> None:
    session.draw([0.5, 1.5], [200.0, 400.0])
    inside = (session.frame_times >= 0.5) & (session.frame_times <= 1.5)
    assert session.f0.hz[inside][0] == pytest.approx(200, rel=0.05)
    count = int(((session.frame_times >= 4.0) & (session.frame_times < 4.5)).sum())
    session.set_f0(4.0, 4.5, np.linspace(200, 220, count))
    session.mark_activity(6.0, 7.0, vocal=False)
    assert (session.activity[(session.frame_times >= 6.0) & (session.frame_times < 7.0)] == -1).all()
    assert isinstance(session.edits[-1], ipysvs.interactive.edits.MarkActivity)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.set_f0(2.0, 1.0, 200.0), "after t0"),
        (lambda s: s.set_f0(1.0, 2.0, float("nan")), "finite"),
        (lambda s: s.set_f0(1.0, 99.0, 200.0), "outside the song"),
        (lambda s: s.set_f0(1.0, 2.0, [200.0, 210.0]), "one value per frame"),
        (lambda s: s.draw([1.0], [200.0]), "two points"),
        (lambda s: s.shift_octave(1.0, 2.0, 5), "octaves"),
        (lambda s: s.snap(1.0, 1.01), "at least two"),
    ],
)
def test_bad_edits_change_nothing(session, call, message: str) -> None:
    session.set_f0(0.2, 0.4, 250.0)
    before = session.f0.hz.copy()
    with pytest.raises(ParameterError, match=message):
        call(session)
    assert len(session.edits) == 1
    np.testing.assert_array_equal(session.f0.hz, before)


def test_snap_moves_onto_the_saliency_ridge(session) -> None:
    voiced = np.flatnonzero(session.estimate.hz > 0)
    start = voiced[len(voiced) // 2]
    t0, t1 = session.frame_times[start], session.frame_times[start + 6]
    session.set_f0(t0, t1, session.estimate.hz[start] * 2 ** (60 / 1200))  # 60 cents sharp
    session.snap(t0, t1)
    covered = (session.frame_times >= t0) & (session.frame_times < t1)
    cents = 1200 * np.abs(np.log2(session.f0.hz[covered][:-1] / session.estimate.hz[covered][:-1]))
    assert np.median(cents) < 25
    assert session.edits[-1].kind == "snap"  # the history says what the user did
    restored = ipysvs.interactive.edits.edit_from_json(
        session.edits[-1].to_json(), duration_s=session.duration_s
    )
    assert restored == session.edits[-1]


def test_adapt_follows_corrections_and_reports(session, song) -> None:
    truth = np.interp(session.frame_times, song.f0_times, song.f0_hz)
    truth[np.interp(session.frame_times, song.f0_times, (song.f0_hz > 0).astype(float)) < 0.5] = 0
    half = session.frame_times < session.duration_s / 2
    session.draw(session.frame_times[half], truth[half])  # the true F0 of the first half, gaps included
    before_vocals = session.vocals.copy()
    report = session.adapt(steps=4)
    assert len(report.losses) == 4 and report.steps == 4 and report.seconds > 0
    assert report.changed_frames >= 0
    assert not np.allclose(session.vocals, before_vocals)  # the F0 refiner changed the vocals
    change, before = (session.vocals - before_vocals).astype(np.float64), before_vocals.astype(np.float64)
    moved = np.sum(change**2) / np.sum(before**2)
    assert report.vocal_change == pytest.approx(moved, rel=1e-4) and 0 < report.vocal_change < 1
    np.testing.assert_allclose(session.stem("vocals", before=True), before_vocals.T)
    np.testing.assert_allclose(session.vocals + session.accompaniment, song.mixture.T, atol=1e-5)
    shown = repr(report)  # one line for a notebook
    assert len(shown) < 250 and "\n" not in shown and "4 steps" in shown
    assert f"{report.changed_frames} uncorrected F0 frames changed" in shown
    assert f"{report.pass_losses[0]:.4g} (first pass)" in shown and "% of their energy" in shown
    assert repr(session).endswith(f"1 edit, {int(session.corrected.sum())} corrected frames>")


def test_set_f0_with_zeros_is_rejected(session) -> None:
    with pytest.raises(ParameterError, match="unvoice"):
        session.set_f0(0.0, 1.0, 0.0)


def test_adapt_is_transactional(session, monkeypatch) -> None:
    session.set_f0(1.0, 2.0, 220.0)
    model, f0, vocals = session.model, session.f0.hz.copy(), session.vocals.copy()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(RefinementSeparator, "separate_channels", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.adapt(steps=2)
    assert session.model is model and session.reports == []
    np.testing.assert_array_equal(session.f0.hz, f0)
    np.testing.assert_array_equal(session.vocals, vocals)


def test_adapt_without_corrections_keeps_the_pretrained_separation(session) -> None:
    before = session.vocals.copy()
    report = session.adapt()
    assert report.steps == 0 and report.losses == [] and report.changed_frames == 0
    np.testing.assert_array_equal(session.vocals, before)  # no information: exactly the anchor
    with pytest.raises(ParameterError, match="correct part of the F0"):
        session.adapt(variant="svs-f0")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": 0}, "steps"),
        ({"variant": "f0"}, "variant"),
        ({"layers": "from:9"}, "layers"),
        ({"layers": 3}, "layers"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"silence_weight": -1.0}, "silence_weight"),
        ({"region": "after"}, "region"),
        ({"region": [(2.0, 1.0)]}, "region"),
    ],
)
def test_adapt_rejects_bad_options(session, options: dict, message: str) -> None:
    session.set_f0(1.0, 2.0, 220.0)
    with pytest.raises(ParameterError, match=message):
        session.adapt(**options)
    assert session.reports == []


def test_unvoiced_region_trains_the_chosen_separator_layers(session) -> None:
    session.unvoice(2.0, 4.0)
    before = {k: v.clone() for k, v in session.model.vocals.state_dict().items()}
    report = session.adapt(layers="from:4", steps=3)
    after = session.model.vocals.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("encoder.4.", "encoder.5.")) for k in changed)
    assert report.layers == "from:4" and len(report.losses) == 3 and report.epochs > 0


def test_svs_to_f0_adapts_the_plain_separator_and_is_saved(session, tmp_path) -> None:
    session.set_f0(1.0, 3.0, 220.0)
    before = session.vocals.copy()
    report = session.adapt(variant="svs-f0", layers="decoder", steps=2)
    assert report.variant == "svs-f0" and len(report.losses) == 2
    assert not np.allclose(session.vocals, before)
    restored = ipysvs.load(session.save(tmp_path / "svs-f0"))
    for original, loaded in zip(session._plain, restored._plain, strict=True):
        for (name, value), (_, other) in zip(
            original.state_dict().items(), loaded.state_dict().items(), strict=True
        ):
            assert torch.equal(value, other), name


def test_export_and_players(session, tmp_path) -> None:
    session.set_f0(1.0, 2.0, 220.0)
    folder = session.export(tmp_path / "out")
    assert {p.name for p in folder.iterdir()} == {"vocals.wav", "accompaniment.wav", "f0.csv", "edits.json"}
    assert json.loads((folder / "edits.json").read_text())[0]["kind"] == "set_f0"
    import soundfile

    small = session.export(tmp_path / "small", file_format="flac", bit_depth=16)
    assert soundfile.info(str(small / "vocals.flac")).subtype == "PCM_16"
    with pytest.raises(ParameterError, match=r"bit_depth of a \.flac file must be one of"):
        session.export(tmp_path / "never", file_format="flac", bit_depth=32)
    assert not (tmp_path / "never").exists()  # refused before anything was written
    player = session.audio("mixture")
    assert player.data[:4] == b"OggS" and player.mimetype == "audio/ogg"
    assert session.audio("mixture", file_format="wav").data[:4] == b"RIFF"
    with pytest.raises(ParameterError, match="file_format must be one of"):
        session.audio("mixture", file_format="mp3")
    with pytest.raises(ParameterError, match="not been adapted"):
        session.audio("vocals", before=True)
    with pytest.raises(ParameterError, match="choose one of"):
        session.audio("drums")


def test_analyse_validates_its_input() -> None:
    from ipysvs.analysis import analyse

    with pytest.raises(ParameterError, match="NaN"):
        analyse(np.full((2, 4000), np.nan, dtype=np.float32), 16000)
    with pytest.raises(ParameterError, match="sample rate"):
        analyse(np.zeros((2, 4000), dtype=np.float32), 1000)


def test_save_and_load_restore_everything(session, song, tmp_path) -> None:
    truth_half = session.frame_times < 3.0
    session.draw(session.frame_times[truth_half], np.where(session.estimate.hz[truth_half] > 0, 220.0, 0.0))
    session.unvoice(5.0, 5.5)
    session.adapt(steps=2)
    session.set_f0(6.0, 6.5, 300.0)
    session.undo()  # the redo stack is saved too
    path = session.save(tmp_path / "song.ipysvs")
    restored = ipysvs.load(path)
    assert restored.edits == session.edits
    assert restored.redo() and session.redo() and restored.edits == session.edits
    np.testing.assert_array_equal(restored.f0.hz, session.f0.hz)
    np.testing.assert_allclose(restored.vocals, session.vocals)
    np.testing.assert_allclose(restored.stem("vocals", before=True), session.stem("vocals", before=True))
    assert restored.mixture.shape == song.mixture.T.shape
    for name, value in session.model.shipped_state().items():
        torch.testing.assert_close(restored.model.shipped_state()[name], value)


def test_load_rejects_damaged_sessions_as_file_errors(session, tmp_path) -> None:
    with pytest.raises(ipysvs.FileError, match="not a readable saved session") as missing:
        ipysvs.load(tmp_path / "nothing-here")
    assert isinstance(missing.value, OSError)
    path = session.save(tmp_path / "s")
    (path / "session.json").write_text('{"format": "something-else"}')
    with pytest.raises(ipysvs.FileError, match="unsupported session format"):
        ipysvs.load(path)


def test_a_reloaded_adapted_session_adapts_as_if_it_had_never_been_saved(session, tmp_path) -> None:
    session.set_f0(1.0, 3.0, 220.0)
    session.adapt(steps=2)
    restored = ipysvs.load(session.save(tmp_path / "adapted"), journal=False)
    np.testing.assert_allclose(restored.vocals, session.vocals, atol=1e-6)
    session.adapt(steps=2)
    restored.adapt(steps=2)  # the pitch's change is added to the pretrained vocals, not to the adapted ones
    np.testing.assert_allclose(restored.vocals, session.vocals, atol=1e-4)


@pytest.mark.parametrize(
    "older",
    [
        # the release whose conditioned separator was retrained
        {"salience.x": torch.zeros(2), "vocals.condition.weight": torch.zeros(16, 1, 5, 5)},
        # the release whose refiner had one stage
        {"salience.x": torch.zeros(2), "refiner.unet.mask_head.weight": torch.zeros(2, 4, 1, 1)},
    ],
    ids=["retrained-separator", "one-stage-refiner"],
)
def test_a_session_saved_with_older_weights_loads_without_its_model(session, tmp_path, older) -> None:
    from safetensors.torch import save_file

    session.set_f0(1.0, 2.0, 220.0)
    path = session.save(tmp_path / "old")
    save_file(older, str(path / "model.safetensors"))
    with pytest.warns(session_module.OlderSessionWarning, match="older ipysvs"):
        restored = ipysvs.load(path)
    assert restored.edits == session.edits
    np.testing.assert_allclose(restored.vocals, session.vocals)
    for name, value in ipysvs.open(session.mixture, session.sr, journal=False).model.shipped_state().items():
        torch.testing.assert_close(restored.model.shipped_state()[name], value)  # the shipped model


def test_a_session_saved_with_a_vocals_only_saliency_network_keeps_its_adapted_model(
    session, tmp_path
) -> None:
    import warnings

    from safetensors.torch import load_file, save_file

    session.set_f0(1.0, 2.0, 220.0)
    path = session.save(tmp_path / "old")
    state = load_file(str(path / "model.safetensors"))
    key = "salience.unet.encoder.0.conv.weight"
    torch.manual_seed(2)
    state[key] = torch.randn(16, 6, 5, 5)  # the release before: its first layer read the vocals alone
    save_file(state, str(path / "model.safetensors"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", session_module.OlderSessionWarning)  # the model is not dropped
        restored = ipysvs.load(path)
    assert restored.edits == session.edits
    weight = restored.model.salience.unet.encoder[0].conv.weight
    assert torch.equal(weight[:, :6], state[key])
    assert not weight[:, 6:].any()  # the mixture's stack weighs nothing: it computes what it did


def test_activity_adapted_separator_is_saved_and_restored(session, tmp_path) -> None:
    session.unvoice(2.0, 4.0)
    session.adapt(layers="decoder", steps=2)
    assert session.joint_separator_adapted
    restored = ipysvs.load(session.save(tmp_path / "activity"))
    assert restored.joint_separator_adapted
    for (name, value), (_, other) in zip(
        session.model.vocals.state_dict().items(), restored.model.vocals.state_dict().items(), strict=True
    ):
        assert torch.equal(value, other), name
    fresh = ipysvs.open(session.mixture, session.sr, journal=False)
    fresh.save(tmp_path / "activity")  # saved over: the adapted separator file must not stay behind
    assert not ipysvs.load(tmp_path / "activity").joint_separator_adapted


def test_observers_hear_every_change_until_they_stop(session) -> None:
    heard: list[str] = []
    stop = session.observe(heard.append)
    session.set_f0(1.0, 2.0, 220.0)
    session.undo()
    session.redo()
    with pytest.raises(ParameterError):
        session.set_f0(2.0, 1.0, 220.0)  # rejected: nothing changed, nobody is told
    session.adapt(steps=1)
    stop()
    session.unvoice(3.0, 4.0)
    assert heard == ["edit", "undo", "redo", "adapt"]


def test_adapt_learns_from_arbitrary_spans(session) -> None:
    session.set_f0(1.0, 2.0, 220.0)
    report = session.adapt(region=[(0.5, 2.5), (4.0, 5.0)], steps=2)
    assert len(report.losses) == 2 and report.epochs > 0


def test_undo_redo_availability_and_saliency_before(session) -> None:
    assert not session.can_undo and not session.can_redo
    session.set_f0(1.0, 2.0, 220.0)
    assert session.can_undo and not session.can_redo
    session.undo()
    assert session.can_redo and not session.can_undo
    session.redo()
    first = session.salience.copy()
    np.testing.assert_array_equal(session.salience_before(), first)  # not adapted: the current one
    session.adapt(steps=2)
    np.testing.assert_array_equal(session.salience_before(), first)
    assert not np.array_equal(session.salience, first)


def test_open_and_adapt_show_their_phases_unless_quiet(capsys) -> None:
    from .conftest import harmonic_tone

    heard: list[tuple[str, int, int]] = []
    tone = harmonic_tone(3.0, 22050, channels=2)
    s = ipysvs.open(tone, 22050, journal=False, progress=lambda *call: heard.append(call))
    phases = [phase for phase, *_ in heard]
    assert phases[0] == "beats" and "separate" in phases and phases[-1] == "pitch"
    assert heard[-1] == ("pitch", 1, 1) and all(0 <= done <= total for _, done, total in heard)
    assert capsys.readouterr().err == ""  # the caller's callback replaces the bars

    ipysvs.open(tone * 0.5, 22050, journal=False)  # new audio: analysed, with bars on stderr
    err = capsys.readouterr().err
    assert "open song: beats" in err and "open song: separate" in err and "open song: pitch" in err
    ipysvs.open(tone * 0.25, 22050, journal=False, quiet=True)
    assert capsys.readouterr().err == ""

    s.set_f0(0.5, 1.5, 220.0)
    s.adapt(steps=2)
    err = capsys.readouterr().err
    assert "adapt song: train" in err and "adapt song: separate" in err
    s.adapt(steps=2, quiet=True)
    assert capsys.readouterr().err == ""
