"""The notebook widgets without a browser: message validation, the editor's request handling (the
Session changes exactly as the same script calls would change it, and refused messages change
nothing), spectrogram images, the Bokeh views and the composed app."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import anywidget
import numpy as np
import pytest
import traitlets

import ipysvs
from ipysvs.widgets.images import decimate, log_spectrogram, to_decibel_image, to_uint8
from ipysvs.widgets.messages import MessageError, parse_request

DURATION, FRAMES = 10.0, 431


def _parse(content: object, buffers: list | None = None):
    return parse_request(content, buffers or [], duration_s=DURATION, n_frames=FRAMES)


def _stroke(times: list[float], hz: list[float]) -> list[bytes]:
    return [np.asarray(times, "<f8").tobytes(), np.asarray(hz, "<f4").tobytes()]


# ---------------------------------------------------------------------- messages
def test_valid_requests_parse() -> None:
    draw = _parse({"id": 3, "action": "draw", "points": 3}, _stroke([1.0, 1.1, 1.2], [200, 0, 210]))
    assert draw.id == 3 and draw.action == "draw"
    np.testing.assert_array_equal(draw.args["hz"], [200, 0, 210])
    assert _parse({"id": 4, "action": "unvoice", "t0": 1, "t1": 2.5}).args == {"t0": 1.0, "t1": 2.5}
    assert _parse({"id": 5, "action": "activity", "t0": 0, "t1": 1, "vocal": False}).args["vocal"] is False
    assert _parse({"id": 6, "action": "undo"}).args == {}
    assert _parse({"id": 7, "action": "audio", "stem": "vocals"}).args == {"stem": "vocals"}


@pytest.mark.parametrize(
    ("content", "buffers", "message"),
    [
        ([1, 2], [], "JSON object"),
        ({"action": "undo"}, [], "id must be"),
        ({"id": True, "action": "undo"}, [], "id must be"),
        ({"id": 1, "action": "exec"}, [], "unknown action"),
        ({"id": 1, "action": ["undo"]}, [], "unknown action"),
        ({"id": 1, "action": "undo", "extra": 1}, [], "fields must be"),
        ({"id": 1, "action": "unvoice", "t0": 1}, [], "fields must be"),
        ({"id": 1, "action": "unvoice", "t0": "1", "t1": 2}, [], "finite number"),
        ({"id": 1, "action": "unvoice", "t0": float("nan"), "t1": 2}, [], "finite number"),
        ({"id": 1, "action": "unvoice", "t0": 1, "t1": float("inf")}, [], "finite number"),
        ({"id": 1, "action": "unvoice", "t0": 1, "t1": 99}, [], "outside the song"),
        ({"id": 1, "action": "unvoice", "t0": 10**400, "t1": 2}, [], "finite number"),
        ({"id": 1, "action": "unvoice", "t0": 1, "t1": -(10**400)}, [], "finite number"),
        ({"id": 10**400, "action": "undo"}, [], "id must be"),
        ({"id": 1, "action": "shift_octave", "t0": 1, "t1": 2, "octaves": 10**400}, [], "whole number"),
        ({"id": 1, "action": "unvoice", "t0": 2, "t1": 1}, [], "must be after"),
        ({"id": 1, "action": "shift_octave", "t0": 1, "t1": 2, "octaves": 1.5}, [], "whole number"),
        ({"id": 1, "action": "activity", "t0": 1, "t1": 2, "vocal": 1}, [], "true or false"),
        ({"id": 1, "action": "audio", "stem": "../../etc/passwd"}, [], "one of"),
        ({"id": 1, "action": "undo"}, [b"x"], "binary buffers"),
        ({"id": 1, "action": "draw", "points": 2}, [b""], "binary buffers"),
        ({"id": 1, "action": "draw", "points": 10**9}, _stroke([1, 2], [200, 200]), "points"),
        ({"id": 1, "action": "draw", "points": 3}, _stroke([1, 2], [200, 200]), "bytes for 3"),
        ({"id": 1, "action": "draw", "points": 2}, ["ab", "cd"], "binary"),
        ({"id": 1, "action": "draw", "points": 2}, _stroke([1, float("nan")], [200, 200]), "finite"),
        ({"id": 1, "action": "draw", "points": 2}, _stroke([1, 2], [200, float("inf")]), "finite"),
        ({"id": 1, "action": "draw", "points": 2}, _stroke([2, 1], [200, 200]), "increase"),
        ({"id": 1, "action": "draw", "points": 2}, _stroke([1, 20], [200, 200]), "increase"),
        ({"id": 1, "action": "draw", "points": 2}, _stroke([1, 2], [-5, 200]), ">= 0"),
    ],
)
def test_malformed_and_hostile_requests_are_refused(content: object, buffers: list, message: str) -> None:
    with pytest.raises(MessageError, match=message):
        _parse(content, buffers)


def test_enormous_stroke_refused_before_it_is_read() -> None:
    points = 2 * FRAMES + 1
    with pytest.raises(MessageError, match="points"):
        _parse({"id": 1, "action": "draw", "points": points}, [b"\0" * 8 * points, b"\0" * 4 * points])


# ---------------------------------------------------------------------- images
def test_log_spectrogram_finds_a_tone_in_its_bin() -> None:
    sr = 22050
    t = np.arange(sr) / sr
    tone = np.sin(2 * np.pi * 440.0 * t)[np.newaxis].astype(np.float32)
    times = np.arange(0.1, 0.9, 0.05)
    magnitude = log_spectrogram(tone, sr, times)
    assert magnitude.shape == (times.size, 320)
    assert np.all(np.abs(magnitude.argmax(axis=1) - 180) <= 1)  # 440 Hz = 3 octaves above 55 Hz
    image = to_uint8(to_decibel_image(magnitude))
    assert image.dtype == np.uint8 and image.max() == 255


def test_decimate_keeps_peaks() -> None:
    image = np.zeros((1001, 3), dtype=np.float32)
    image[500, 1] = 1.0
    small = decimate(image, 100)
    assert small.shape[0] <= 101 and small.max() == 1.0
    assert decimate(image, 2000) is image


# ---------------------------------------------------------------------- editor, views, app
@pytest.fixture(scope="module")
def session(song) -> ipysvs.Session:
    return ipysvs.open(song.mixture, song.sr, name="test-song", journal=False)


class Recorder:
    """Captures what the editor sends to the browser."""

    def __init__(self) -> None:
        self.messages: list[tuple[dict, list]] = []

    def __call__(self, content: dict, buffers: list | None = None) -> None:
        self.messages.append((content, buffers or []))


@pytest.fixture
def editor(session: ipysvs.Session, monkeypatch: pytest.MonkeyPatch):
    from ipysvs.widgets.editor import F0Editor

    while session.undo():
        pass
    widget = F0Editor(session)
    recorder = Recorder()
    monkeypatch.setattr(widget, "send", recorder)
    widget.sent = recorder.messages
    yield widget
    widget.close()


def _request(editor, content: dict, buffers: list | None = None) -> dict:
    editor._on_message(editor, content, buffers or [])
    return editor.sent[-1][0]


def test_editor_state_is_binary(editor, session: ipysvs.Session) -> None:
    frames = session.frame_times.size
    assert len(editor.spectrogram) == len(editor.salience) == frames * 320
    np.testing.assert_array_equal(np.frombuffer(editor.frame_times, "<f8"), session.frame_times)
    np.testing.assert_allclose(np.frombuffer(editor.hz, "<f4"), session.f0.hz, rtol=1e-6)


REPO = Path(__file__).resolve().parents[1]
TRAIT_TYPES = {
    traitlets.Bytes: "bytes",
    traitlets.Float: "number",
    traitlets.Int: "integer",
    traitlets.Bool: "boolean",
    traitlets.Unicode: "string",
    traitlets.Dict: "object",
    traitlets.List: "array",
}


def synced_model_in_javascript() -> dict[str, str]:
    """``SYNCED_MODEL`` of js/src/protocol.js as ``{name: type}``."""
    source = (REPO / "js" / "src" / "protocol.js").read_text()
    table = source[source.index("export const SYNCED_MODEL") :].split("});")[0]
    return dict(re.findall(r'^\s+(\w+): \["(\w+)"', table, flags=re.MULTILINE))


def test_the_synced_model_is_typed_alike_on_both_sides() -> None:
    from ipysvs.widgets.editor import F0Editor

    own = set(F0Editor.class_trait_names(sync=True)) - set(anywidget.AnyWidget.class_trait_names(sync=True))
    traits = F0Editor.class_traits()
    python = {name: TRAIT_TYPES[type(traits[name])] for name in own}
    javascript = synced_model_in_javascript()
    assert len(javascript) > 10
    assert python == javascript


def test_the_editor_gets_the_pitch_grid_as_data(editor) -> None:
    from ipysvs import f0

    golden = json.loads((REPO / "tests" / "golden" / "pitch_grid.json").read_text())  # the JS tests' grid
    assert editor.pitch_grid == f0.pitch_grid() == golden
    bins = f0.hz_to_bin(np.array([f0.FMIN_HZ, 2 * f0.FMIN_HZ]))
    np.testing.assert_allclose(bins, [0, golden["bins_per_octave"]])
    assert len(editor.salience) == editor.session.frame_times.size * golden["n_bins"]


def test_every_message_gets_an_answer_even_when_something_inside_fails(editor, monkeypatch) -> None:
    refused = _request(editor, {"id": 11, "action": "unvoice", "t0": 10**400, "t1": 2})
    assert refused["ok"] is False and refused["id"] == 11 and "finite number" in refused["error"]

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    edits = editor.session.edits
    monkeypatch.setattr(editor.session, "unvoice", broken)
    answer = _request(editor, {"id": 12, "action": "unvoice", "t0": 1.0, "t1": 2.0})
    assert answer == {
        "kind": "ack",
        "id": 12,
        "ok": False,
        "error": "unexpected error (please report it): RuntimeError: boom",
    }
    assert editor.session.edits == edits and editor.error.startswith("refused: unexpected error")


def test_requests_reach_the_session_through_its_methods(editor, session: ipysvs.Session) -> None:
    revision = editor.revision
    times, hz = [1.0, 1.2, 1.4], [220.0, 230.0, 240.0]
    assert _request(editor, {"id": 1, "action": "draw", "points": 3}, _stroke(times, hz)) == {
        "kind": "ack",
        "id": 1,
        "ok": True,
    }
    assert _request(editor, {"id": 2, "action": "unvoice", "t0": 2.0, "t1": 2.5})["ok"]
    assert _request(editor, {"id": 3, "action": "shift_octave", "t0": 3.0, "t1": 3.5, "octaves": -1})["ok"]
    assert _request(editor, {"id": 4, "action": "activity", "t0": 0.0, "t1": 0.5, "vocal": False})["ok"]
    assert [e.to_json() for e in session.edits] == [
        {"kind": "draw", "t0": 1.0, "t1": 1.4, "times": tuple(times), "hz": tuple(hz)},
        {"kind": "unvoice", "t0": 2.0, "t1": 2.5},
        {"kind": "shift_octave", "t0": 3.0, "t1": 3.5, "octaves": -1},
        {"kind": "activity", "t0": 0.0, "t1": 0.5, "vocal": False},
    ]
    assert editor.revision == revision + 4 and editor.can_undo
    np.testing.assert_array_equal(np.frombuffer(editor.corrected, "u1").astype(bool), session.corrected)
    assert _request(editor, {"id": 5, "action": "undo"})["ok"] and editor.can_redo
    assert len(session.edits) == 3
    assert _request(editor, {"id": 6, "action": "redo"})["ok"] and not editor.can_redo


def test_refused_requests_change_nothing_and_are_logged(editor, session, caplog) -> None:
    _request(editor, {"id": 1, "action": "unvoice", "t0": 1.0, "t1": 2.0})
    before = [e.to_json() for e in session.edits]
    revision = editor.revision
    with caplog.at_level(logging.ERROR, logger="ipysvs.widgets"):
        ack = _request(editor, {"id": 2, "action": "draw", "points": 2}, _stroke([1, 2], [float("nan"), 1]))
        assert ack == {"kind": "ack", "id": 2, "ok": False, "error": ack["error"]}
        assert not _request(editor, {"id": 3, "action": "shift_octave", "t0": 1, "t1": 2, "octaves": 7})["ok"]
        assert _request(editor, "garbage")["id"] is None
    assert [e.to_json() for e in session.edits] == before
    assert editor.revision == revision
    assert editor.error.startswith("refused")
    assert len(caplog.records) == 3


def test_code_changes_reach_the_editor(editor, session: ipysvs.Session) -> None:
    revision = editor.revision
    session.unvoice(4.0, 4.5)
    assert editor.revision == revision + 1
    hz = np.frombuffer(editor.hz, "<f4")
    assert (hz[(session.frame_times >= 4.0) & (session.frame_times < 4.5)] == 0).all()


def test_audio_request_answers_with_the_stem_at_the_songs_rate_and_channels(editor) -> None:
    import soundfile

    _request(editor, {"id": 8, "action": "audio", "stem": "vocals"})
    (audio, buffers), (ack, _) = editor.sent[-2:]
    assert audio == {"kind": "audio", "id": 8, "stem": "vocals", "mimetype": "audio/ogg"} and ack["ok"]
    info = soundfile.info(io.BytesIO(buffers[0]))
    assert (info.samplerate, info.channels) == (editor.session.sr, editor.session.stem("vocals").shape[0])


@pytest.mark.slow
def test_update_dnn_adapts_with_progress_and_the_app_follows(session: ipysvs.Session) -> None:
    from ipysvs.widgets.app import build_app

    while session.undo():
        pass
    app = build_app(session)
    assert app.views.toggle.layout.display == "none"  # no before/after to compare yet
    editor = app.editor
    sent = Recorder()
    editor.send = sent
    progress: list[float] = []
    editor.observe(lambda change: progress.append(change["new"]), names="progress")
    session.set_f0(1.0, 2.0, 220.0)
    mask_before = app.views.sources["mask"].data["image"][0].copy()
    editor._on_message(editor, {"id": 1, "action": "adapt"}, [])
    assert sent.messages[-1][0] == {"kind": "ack", "id": 1, "ok": True}
    app.wait_for_players(timeout_s=120)
    assert len(session.reports) >= 1 and not editor.busy
    assert editor.outputs_revision == 1 and progress[-1] == 1.0 and len(progress) > 3
    assert "adapted 1x" in app.status.value and "before the last Update DNN" in app.players.value
    assert app.views.toggle.layout.display == ""
    mask_after = app.views.sources["mask"].data["image"][0]
    app.views.toggle.value = "before"
    np.testing.assert_array_equal(app.views.sources["mask"].data["image"][0], mask_before)
    assert not np.array_equal(mask_after, mask_before)
    bundle = app._repr_mimebundle_()
    assert "JupyterLab 4 or Notebook 7" in bundle["text/plain"] and "text/html" in bundle
    app.close()
    status, revision = app.status.value, editor.revision
    session.unvoice(5.0, 5.5)
    assert (app.status.value, editor.revision) == (status, revision), "a closed app stops following"


def test_the_views_follow_the_editors_zoom_and_a_bad_range_is_refused(session: ipysvs.Session) -> None:
    from ipysvs.widgets.app import build_app

    app = build_app(session)
    axis = app.views.time_axis
    assert (axis.start, axis.end) == (0, session.duration_s)
    app.editor.time_range = [1.5, 3.25]  # what the browser sets after a zoom
    assert (axis.start, axis.end) == (1.5, 3.25)
    assert all(plot.x_range is axis for plot in app.views.model._model.children)
    for bad in ([3.0, 1.0], [float("nan"), 2.0], ["1", 2.0], [1.0], [0.0, 1e9], [True, 2.0]):
        app.editor.time_range = bad
        assert app.editor.time_range == [1.5, 3.25] and (axis.start, axis.end) == (1.5, 3.25), bad
        assert app.editor.error.startswith("refused: a time range must be [t0, t1] s inside the song")
    app.close()


def test_editor_starts_with_the_sessions_undo_and_redo_state(session: ipysvs.Session) -> None:
    from ipysvs.widgets.editor import F0Editor

    session.set_f0(1.0, 1.5, 300.0)
    session.undo()  # a redo stack, as a reloaded session may have
    widget = F0Editor(session)
    try:
        assert widget.can_redo and widget.can_undo == session.can_undo
    finally:
        widget.close()


def test_players_that_cannot_be_encoded_say_so(session: ipysvs.Session, monkeypatch) -> None:
    from ipysvs.widgets import app as app_module

    def broken(*_args: object, **_kwargs: object) -> str:
        raise OSError("no space left on device")

    monkeypatch.setattr(app_module, "players_html", broken)
    app = app_module.build_app(session)
    app.wait_for_players(timeout_s=60)
    assert "The players could not be prepared: OSError: no space left on device" in app.players.value
    app.close()
