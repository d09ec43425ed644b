"""End to end in a real browser: JupyterLab (and Notebook 7) started here, Debian's Chromium driven by
Playwright. The quickstart runs, the mouse draws and deletes F0 in the editor, undo and Update DNN are
clicked, and the kernel's Session is checked to have received exactly those edits. A screenshot of
each step is saved in ``tests/e2e/artifacts/`` (kept by CI as artefacts).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .jupyter import (
    RECORD_REQUESTS,
    Kernel,
    browser,
    chromium_path,
    drag,
    editor_geometry,
    jupyter_server,
    point,
    run_all_cells,
)

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "01_quickstart.ipynb"
ARTIFACTS = Path(__file__).parent / "artifacts"
EDITOR = "[data-testid=f0-editor]"
STATUS = "[data-testid=editor-status]"
RUN_ALL_TIMEOUT_MS = 600_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed (bash .ci/setup)"),
]


class Steps:
    """Numbered screenshots of one test, in ``artifacts/<test>/``."""

    def __init__(self, page: object, name: str) -> None:
        self.page, self.folder, self.count = page, ARTIFACTS / name, 0
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    def shot(self, label: str, selector: str = ".ipysvs-editor") -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        self.page.locator(selector).first.screenshot(path=str(path))
        return path


@pytest.fixture
def opened(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[object, Kernel, Steps]]:
    """The quickstart open in the app named by the test's ``app`` parameter, every cell run; the
    notebook's file on the server is ``steps.notebook``."""
    app = request.param
    with jupyter_server(app, tmp_path, [QUICKSTART]) as server, browser(tmp_path / "profile") as page:
        page.set_default_timeout(120_000)
        page.goto(server.page_url(app, QUICKSTART.name))
        page.wait_for_selector(".jp-Notebook")
        kernel = Kernel(server.runtime_dir, timeout_s=120)
        try:
            run_all_cells(page)
            page.wait_for_selector(EDITOR, timeout=RUN_ALL_TIMEOUT_MS)
            kernel.run("pass")  # queued behind the notebook's cells: returns once they all ran
            page.locator(EDITOR).first.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            steps = Steps(page, f"{request.node.name.split('[')[0]}-{app}")
            steps.notebook = server.root / QUICKSTART.name
            yield page, kernel, steps
        finally:
            kernel.close()


def wait_status(page: object, text: str, timeout_ms: float = 60_000) -> None:
    page.locator(STATUS).filter(has_text=text).wait_for(timeout=timeout_ms)


EDITOR_HAS_KEYBOARD = "() => !!document.activeElement?.closest('.ipysvs-editor')"


def check_notebook_keys_work_from_the_editor(page: object, kernel: Kernel, steps: Steps) -> None:
    """After drawing (the editor then has the keyboard): Ctrl+S saves the notebook, Escape hands the
    keyboard back to the notebook in command mode, Shift+Enter runs the editor's cell and the next
    cell becomes the active one."""
    geometry = editor_geometry(page)
    drag(page, point(geometry, 3.0, 240.0), point(geometry, 3.6, 250.0))
    wait_status(page, "draw: done")
    assert page.evaluate(EDITOR_HAS_KEYBOARD)
    saved_before = steps.notebook.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while steps.notebook.stat().st_mtime_ns == saved_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert steps.notebook.stat().st_mtime_ns > saved_before, "Ctrl+S from the editor saved the notebook"
    saved = None
    while saved is None and time.monotonic() < deadline + 30:  # the server may still be writing it
        try:
            saved = json.loads(steps.notebook.read_text())
        except json.JSONDecodeError:
            time.sleep(0.2)
    assert saved is not None, "the saved notebook is whole JSON"
    assert any(
        "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for cell in saved["cells"]
        for output in cell.get("outputs", [])
    ), "the saved file is the run notebook, with its widget outputs"

    page.keyboard.press("Escape")
    assert not page.evaluate(EDITOR_HAS_KEYBOARD)
    assert page.evaluate("() => !!document.querySelector('.jp-Notebook.jp-mod-commandMode')")

    box = page.locator(EDITOR).first.bounding_box()
    page.mouse.click(box["x"] + 120, box["y"] + box["height"] - 8)  # back into it: a click on the time axis
    assert page.evaluate(EDITOR_HAS_KEYBOARD)
    cells = page.locator(".jp-Notebook .jp-Cell")
    editor_cell = page.evaluate(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
        ".findIndex(c => c.querySelector('[data-testid=f0-editor]'))"
    )
    runs_before = kernel.json("get_ipython().execution_count")
    page.keyboard.press("Shift+Enter")
    active = cells.nth(editor_cell + 1)
    page.wait_for_function(
        "(i) => document.querySelectorAll('.jp-Notebook .jp-Cell')[i].classList.contains('jp-mod-active')",
        arg=editor_cell + 1,
    )
    kernel.run("pass")  # behind the cell Shift+Enter ran
    assert kernel.json("get_ipython().execution_count") == runs_before + 1, "Shift+Enter ran the cell"
    assert active.is_visible()


@pytest.mark.parametrize("opened", ["lab"], indirect=True)
def test_draw_delete_undo_adapt_in_jupyterlab(opened: tuple[object, Kernel, Steps]) -> None:
    page, kernel, steps = opened
    kernel.run("import numpy as _np\n_e2e = (len(s.edits), len(s.reports), s.stem('vocals').copy())")
    steps.shot("opened")
    page.evaluate(RECORD_REQUESTS)
    geometry = editor_geometry(page)

    drag(page, point(geometry, 10.0, 300.0), point(geometry, 12.0, 380.0))
    wait_status(page, "draw: done")
    steps.shot("drawn")

    drag(page, point(geometry, 14.0, 300.0), point(geometry, 15.5, 300.0), button="right")
    wait_status(page, "unvoice: done")
    steps.shot("deleted")

    page.click("[data-testid=undo-button]")
    wait_status(page, "undo: done")
    steps.shot("undone")

    page.locator(EDITOR).first.focus()
    page.keyboard.press("Control+Shift+Z")
    wait_status(page, "redo: done")
    page.keyboard.press("Control+Z")
    wait_status(page, "undo: done")

    sent = page.evaluate("window.__sent")
    assert [r["content"]["action"] for r in sent] == ["draw", "unvoice", "undo", "redo", "undo"]
    stroke, erase = sent[0], sent[1]["content"]
    edits = kernel.json("[e.to_json() for e in s.edits[_e2e[0]:]]")
    assert len(edits) == 1 and edits[0]["kind"] == "draw"
    assert edits[0]["times"] == pytest.approx(stroke["buffers"][0], abs=1e-9)
    assert edits[0]["hz"] == pytest.approx(stroke["buffers"][1], rel=1e-6)
    assert 9.8 < edits[0]["t0"] < 10.2 and 11.8 < edits[0]["t1"] < 12.2
    assert min(edits[0]["hz"]) > 280 and max(edits[0]["hz"]) < 400
    assert 13.8 < erase["t0"] < 14.2 and 15.3 < erase["t1"] < 15.7
    redone = kernel.json("[s.redo(), [e.to_json() for e in s.edits[_e2e[0]:]], s.undo()][1]")
    assert redone[1] == {"kind": "unvoice", "t0": erase["t0"], "t1": erase["t1"]}  # the undone deletion

    toolbar_height = page.locator(".ipysvs-toolbar").first.bounding_box()["height"]
    page.click("[data-testid=adapt-button]")
    page.locator("[data-testid=adapt-button]").filter(has_text="Updating").wait_for()
    steps.shot("adapting")
    assert page.locator(".ipysvs-toolbar").first.bounding_box()["height"] == toolbar_height  # no reflow
    wait_status(page, "adapt: done", timeout_ms=600_000)
    steps.shot("adapted")
    outcome = kernel.json(
        "{'reports': len(s.reports) - _e2e[1], 'edits': len(s.edits) - _e2e[0],"
        " 'vocals_changed': not _np.array_equal(s.stem('vocals'), _e2e[2])}"
    )
    assert outcome == {"reports": 1, "edits": 1, "vocals_changed": True}
    steps.shot("players-after-adapt", "[data-testid=players]")
    page.locator(".ipysvs-views .bk-Figure, .ipysvs-views .bk-Column").first.wait_for()
    page.click(".ipysvs-views .widget-toggle-button >> nth=1")  # "before it"
    page.wait_for_timeout(1000)
    steps.shot("views-before", ".ipysvs-views")

    check_notebook_keys_work_from_the_editor(page, kernel, steps)


@pytest.mark.parametrize("opened", ["lab"], indirect=True)
def test_code_changes_redraw_and_hostile_messages_change_nothing(
    opened: tuple[object, Kernel, Steps],
) -> None:
    page, kernel, steps = opened
    kernel.run("_n = len(s.edits)\ns.unvoice(1.0, 2.0)")
    page.wait_for_function(
        """() => {
        const e = document.querySelector('[data-testid=f0-editor]').ipysvsEditor;
        const t = e.trajectory;
        return t.frameTimes.every((time, i) =>
            time < 1.0 || time >= 2.0 || (t.hz[i] === 0 && t.corrected[i]));
    }"""
    )
    page.evaluate(
        """() => {
        const model = document.querySelector('[data-testid=f0-editor]').ipysvsEditor.model;
        model.send({id: 900, action: 'draw', points: 1e9}, undefined, []);
        model.send({id: 901, action: 'unvoice', t0: 'NaN', t1: 3}, undefined, []);
        model.send({id: 902, action: 'rm -rf'}, undefined, []);
        model.send({id: 903, action: 'draw', points: 2}, undefined,
                   [new Float64Array([1, NaN]).buffer, new Float32Array([200, 200]).buffer]);
    }"""
    )
    page.locator("[data-testid=editor-error]").filter(has_text="refused").wait_for()
    kernel.run("pass")
    steps.shot("refused")
    assert kernel.json("len(s.edits) - _n") == 1

    geometry = editor_geometry(page)
    page.keyboard.down("Shift")
    drag(page, point(geometry, 5.2, 200.0), point(geometry, 5.8, 200.0))
    page.keyboard.up("Shift")
    page.keyboard.press("]")
    wait_status(page, "shift_octave: done")
    page.keyboard.press("s")
    wait_status(page, "snap: done")
    steps.shot("selection-octave-snap")
    edits = kernel.json("[e.to_json() for e in s.edits[_n + 1:]]")
    assert [e["kind"] for e in edits] == ["shift_octave", "snap"]
    assert edits[0]["octaves"] == 1 and 5.1 < edits[0]["t0"] < 5.3 and 5.7 < edits[0]["t1"] < 5.9

    page.keyboard.press("?")
    page.locator("[data-testid=help-overlay]").wait_for(state="visible")
    steps.shot("help")
    fits = page.evaluate(
        """() => {
        const help = document.querySelector('[data-testid=help-overlay]');
        const surface = help.parentElement.getBoundingClientRect(), box = help.getBoundingClientRect();
        return {scrolls: help.scrollHeight > help.clientHeight + 1, inside: box.bottom <= surface.bottom + 1,
                rows: help.querySelectorAll('tr').length, text: help.textContent};
    }"""
    )
    assert not fits["scrolls"] and fits["inside"], fits  # every row shows, nothing cut off
    assert fits["rows"] >= 20 and "this help" in fits["text"] and "Delete / Backspace" in fits["text"]
    page.keyboard.press("Escape")
    assert page.locator("[data-testid=help-overlay]").is_hidden()

    # the Bokeh views follow the editor's zoom (keys "+" zoom in around the centre)
    page.locator(EDITOR).first.hover()
    for _ in range(3):
        page.keyboard.press("+")
    view = page.evaluate("() => document.querySelector('[data-testid=f0-editor]').ipysvsEditor.view")
    assert view["t1"] - view["t0"] < 10  # zoomed in from the whole 20 s
    page.wait_for_function(  # every Bokeh panel of the app shows the editor's time range
        """([t0, t1]) => [...(window.Bokeh?.documents ?? [])].some((doc) => doc.roots().some((root) =>
            (root.children ?? []).length === 5 && root.children.every((plot) =>
                Math.abs(plot.x_range.start - t0) < 1e-6 && Math.abs(plot.x_range.end - t1) < 1e-6)))""",
        arg=[view["t0"], view["t1"]],
        timeout=20_000,
    )
    steps.shot("views-follow-zoom", ".ipysvs-views")

    page.click("[data-testid=play-button]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=f0-editor]').ipysvsEditor.playhead > 0.5", timeout=30_000
    )
    steps.shot("playing")
    page.click("[data-testid=play-button]")


@pytest.mark.parametrize("opened", ["notebook"], indirect=True)
def test_notebook7_renders_and_edits(opened: tuple[object, Kernel, Steps]) -> None:
    page, kernel, steps = opened
    kernel.run("_n = len(s.edits)")
    steps.shot("opened")
    geometry = editor_geometry(page)
    drag(page, point(geometry, 6.0, 250.0), point(geometry, 7.0, 260.0))
    wait_status(page, "draw: done")
    steps.shot("drawn")
    edits = kernel.json("[e.to_json() for e in s.edits[_n:]]")
    assert [e["kind"] for e in edits] == ["draw"]
    assert 5.8 < edits[0]["t0"] < 6.2
    check_notebook_keys_work_from_the_editor(page, kernel, steps)
