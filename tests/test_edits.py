"""F0 and activity edits in seconds and Hz: application, replay, validation, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ipysvs.errors import ParameterError
from ipysvs.interactive.edits import (
    Draw,
    MarkActivity,
    SetF0,
    ShiftOctave,
    Unvoice,
    activity,
    apply_edits,
    edit_from_json,
    validate_edit,
)

TIMES = np.round(np.arange(0, 2.0, 0.1), 6)  # 20 frames, 0.0 .. 1.9 s
ESTIMATE = np.full(TIMES.size, 200.0)


def test_set_f0_constant_and_per_frame() -> None:
    hz, corrected = apply_edits(TIMES, ESTIMATE, [SetF0(0.5, 0.8, 300.0)])
    np.testing.assert_allclose(hz[5:8], 300.0)
    assert hz[4] == hz[8] == 200.0
    assert corrected.tolist() == [5 <= i < 8 for i in range(20)]
    hz, _ = apply_edits(TIMES, ESTIMATE, [SetF0(0.5, 0.8, (310.0, 320.0, 330.0))])
    np.testing.assert_allclose(hz[5:8], [310, 320, 330])
    with pytest.raises(ParameterError, match="one value per frame"):
        apply_edits(TIMES, ESTIMATE, [SetF0(0.5, 0.8, (310.0, 320.0))])


def test_draw_follows_the_stroke_in_log_frequency() -> None:
    hz, corrected = apply_edits(TIMES, ESTIMATE, [Draw(0.2, 0.6, (0.2, 0.6), (100.0, 400.0))])
    assert hz[2] == pytest.approx(100) and hz[6] == pytest.approx(400)
    assert hz[4] == pytest.approx(200)  # halfway in log frequency
    assert corrected[2:7].all() and not corrected[7]


def test_draw_with_zero_points_unvoices_there() -> None:
    stroke = Draw(0.0, 1.0, (0.0, 0.45, 0.55, 1.0), (220.0, 220.0, 0.0, 0.0))
    hz, _ = apply_edits(TIMES, ESTIMATE, [stroke])
    assert hz[0] == pytest.approx(220) and hz[4] == pytest.approx(220)
    assert (hz[6:11] == 0).all()


def test_unvoice_shift_and_order_of_replay() -> None:
    edits = [ShiftOctave(0.0, 1.0, 1), Unvoice(0.3, 0.5)]
    hz, corrected = apply_edits(TIMES, ESTIMATE, edits)
    assert hz[0] == 400 and hz[3] == 0 and hz[4] == 0 and hz[12] == 200
    assert corrected[:10].all() and not corrected[10:].any()


def test_activity_marks_do_not_change_f0() -> None:
    edits = [MarkActivity(0.0, 0.5, True), MarkActivity(0.3, 1.0, False)]
    hz, corrected = apply_edits(TIMES, ESTIMATE, edits)
    np.testing.assert_array_equal(hz, ESTIMATE)
    assert not corrected.any()
    marks = activity(TIMES, edits)
    assert marks[:3].tolist() == [1, 1, 1] and marks[3:10].tolist() == [-1] * 7 and marks[10] == 0


def test_edits_replay_onto_any_frame_grid() -> None:
    edit = SetF0(0.5, 1.0, 330.0)
    fine = np.arange(0, 2.0, 0.01)
    hz, corrected = apply_edits(fine, np.full(fine.size, 200.0), [edit])
    assert corrected.sum() == 50 and np.all(hz[corrected] == 330)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (SetF0(0.5, 0.4, 200.0), "after t0"),
        (SetF0(-0.1, 0.4, 200.0), "outside the song"),
        (SetF0(0.1, 9.0, 200.0), "outside the song"),
        (SetF0(0.1, 0.4, float("nan")), "finite"),
        (SetF0(0.1, 0.4, 0.0), "> 0"),
        (SetF0(0.1, 0.4, 90000.0), "20..5000"),
        (SetF0(float("nan"), 0.4, 200.0), "finite"),
        (Draw(0.1, 0.4, (0.4, 0.1), (200.0, 210.0)), "increasing"),
        (Draw(0.1, 0.4, (0.1,), (200.0,)), "two points"),
        (ShiftOctave(0.1, 0.4, 3), "octaves"),
        (MarkActivity(0.1, 0.4, "yes"), "True or False"),  # type: ignore[arg-type]
        (Unvoice("a", 0.4), "number of seconds"),  # type: ignore[arg-type]
    ],
)
def test_invalid_edits_are_rejected_with_a_reason(edit, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        validate_edit(edit, duration_s=2.0)


@pytest.mark.parametrize(
    "edit",
    [
        SetF0(0.1, 0.4, 200.0),
        SetF0(0.1, 0.4, (200.0, 210.0, 220.0)),
        Draw(0.1, 0.4, (0.1, 0.4), (200.0, 0.0)),
        Unvoice(0.1, 0.4),
        ShiftOctave(0.1, 0.4, -1),
        MarkActivity(0.1, 0.4, False),
    ],
)
def test_json_round_trip(edit) -> None:
    record = json.loads(json.dumps(edit.to_json()))
    assert edit_from_json(record, duration_s=2.0) == edit


@pytest.mark.parametrize(
    "record",
    [
        None,
        [],
        {"kind": "erase"},
        {"kind": "unvoice", "t0": 0.1},
        {"kind": "unvoice", "t0": 0.1, "t1": 0.2, "x": 1},
    ],
)
def test_malformed_json_is_rejected(record) -> None:
    with pytest.raises(ParameterError):
        edit_from_json(record, duration_s=2.0)


def test_unvoice_marks_nobody_singing() -> None:
    from ipysvs.interactive.edits import MarkActivity, Unvoice, activity

    times = np.arange(10) * 0.1
    marks = activity(times, [MarkActivity(0.0, 1.0, True), Unvoice(0.25, 0.45)])
    np.testing.assert_array_equal(marks, [1, 1, 1, -1, -1, 1, 1, 1, 1, 1])


GOLDEN = json.loads((Path(__file__).parent / "golden" / "edit_cases.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda case: case["name"])
def test_golden_edit_cases_shared_with_the_editor(case: dict) -> None:
    # js/tests/edits.test.js replays the same cases through the editor's preview (js/src/edits.js)
    times = np.array(GOLDEN["frame_times"])
    edits = [edit_from_json(record, duration_s=float(times[-1]) + 1.0) for record in case["edits"]]
    hz, corrected = apply_edits(times, np.array(case["estimate_hz"]), edits)
    np.testing.assert_allclose(hz, case["hz"], rtol=1e-6)
    np.testing.assert_array_equal(corrected, case["corrected"])
