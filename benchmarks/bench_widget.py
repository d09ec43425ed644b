"""Latency of the F0 editor on a 10-minute song, measured in a real browser.

JupyterLab is started on a notebook that opens the demo song synthesised at ``--seconds`` (600 by
default) and shows its app; Chromium (Playwright) then draws strokes and deletes F0 with the mouse,
first with the whole song in view (the heaviest redraw), then zoomed in to about 10 s. The page
measures, with ``performance.now``:

* frame time: the editor's redraw (background blit, F0 lines, stroke, playhead) per animation frame
  while the mouse draws (target: under 16 ms);
* round trip: from sending an edit to its acknowledgement, after the kernel's Session applied it and
  the new trajectory came back (target: under 100 ms).

Usage:
    python benchmarks/bench_widget.py [--seconds 600] [--strokes 10]

Prints a Markdown table for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ipysvs.research.benchmarking import measured_on
from tests.e2e.jupyter import Kernel, browser, drag, editor_geometry, jupyter_server, point, run_all_cells

OPEN_SONG = """import ipysvs
from ipysvs.demo import demo_song

song = demo_song(seconds={seconds})
s = ipysvs.open(song.mixture, song.sr, name="long demo", quiet=True)
s"""
LATENCY = "() => document.querySelector('[data-testid=f0-editor]').ipysvsEditor.latency()"
RESET = """() => {
    const stats = document.querySelector('[data-testid=f0-editor]').ipysvsEditor.stats;
    stats.frameMs.length = 0;
    stats.roundTripMs.length = 0;
}"""


def _notebook(folder: Path, seconds: float) -> Path:
    path = folder / "long_song.ipynb"
    notebook = new_notebook(
        cells=[new_code_cell(OPEN_SONG.format(seconds=seconds))],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, path)
    return path


def _strokes(page: object, count: int, span: tuple[float, float]) -> dict:
    """Draw ``count`` strokes and right-drag deletions spread over ``span`` seconds; the timings."""
    page.evaluate(RESET)
    geometry = editor_geometry(page)
    t0, t1 = span
    width = (t1 - t0) / (2 * count)
    for k in range(count):
        start = t0 + 2 * k * width
        drag(page, point(geometry, start, 250.0), point(geometry, start + 0.8 * width, 330.0), steps=40)
        drag(
            page,
            point(geometry, start + width, 250.0),
            point(geometry, start + 1.5 * width, 250.0),
            button="right",
            steps=10,
        )
        page.wait_for_function(
            "() => document.querySelector('[data-testid=f0-editor]').ipysvsEditor.requests.pending.size === 0"
        )
    return page.evaluate(LATENCY)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the demo song (s)")
    parser.add_argument("--strokes", type=int, default=10, help="strokes (and deletions) per view")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        notebook = _notebook(workdir, args.seconds)
        with jupyter_server("lab", workdir, [notebook]) as server, browser(workdir / "profile") as page:
            page.set_default_timeout(900_000)
            page.goto(server.page_url("lab", notebook.name))
            page.wait_for_selector(".jp-Notebook")
            kernel = Kernel(server.runtime_dir, timeout_s=120)
            started = time.perf_counter()
            run_all_cells(page)
            page.wait_for_selector("[data-testid=f0-editor]")
            kernel.run("pass")
            opened = time.perf_counter() - started
            page.locator("[data-testid=f0-editor]").scroll_into_view_if_needed()
            page.wait_for_timeout(2000)
            whole = _strokes(page, args.strokes, (0.05 * args.seconds, 0.95 * args.seconds))
            page.locator("[data-testid=f0-editor]").focus()
            while editor_geometry(page)["t1"] - editor_geometry(page)["t0"] > 12:
                page.keyboard.press("+")
            geometry = editor_geometry(page)
            zoomed = _strokes(page, args.strokes, (geometry["t0"] + 0.2, geometry["t1"] - 0.2))
            edits = kernel.json("len(s.edits)")
            kernel.close()
    print(
        f"`python benchmarks/bench_widget.py --seconds {args.seconds:g} --strokes {args.strokes}` — "
        f"{measured_on()}; "
        f"song opened and shown in {opened:.0f} s; {edits} edits reached the Session.\n"
    )
    print("| view | frames drawn | redraw median | redraw max | edits | round trip median | round trip max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, figures in (("whole song", whole), ("zoomed to ~10 s", zoomed)):
        frame, trip = figures["frame"], figures["roundTrip"]
        print(
            f"| {label} | {frame['count']} | {frame['median']:.1f} ms | {frame['max']:.1f} ms "
            f"| {trip['count']} | {trip['median']:.0f} ms | {trip['max']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
