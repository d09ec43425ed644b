"""Real-browser test harness: a Jupyter server (JupyterLab or Notebook 7) on a working copy of the
notebooks, Debian's Chromium driven by Playwright, and a second client of the notebook's kernel to
look inside the Session.

Used by the end-to-end tests and by ``benchmarks/bench_widget.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
LAB_SETTINGS = {  # plugin -> settings overrides for a quiet, self-starting JupyterLab
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}
SERVER_START_S = 90.0


def chromium_path() -> str | None:
    """Debian's Chromium, or None when it is not installed."""
    return shutil.which("chromium")


@dataclass
class Server:
    """A running Jupyter server: ``url`` (with no trailing slash), ``token``, its ``runtime_dir``
    (kernel connection files) and the ``root`` folder it serves."""

    url: str
    token: str
    runtime_dir: Path
    root: Path

    def page_url(self, app: str, notebook: str) -> str:
        """The address that opens ``notebook`` in ``app`` ("lab" or "notebook")."""
        route = "lab/tree" if app == "lab" else "notebooks"
        return f"{self.url}/{route}/{notebook}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_settings(folder: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextmanager
def jupyter_server(app: str, workdir: Path, notebooks: list[Path]) -> Iterator[Server]:
    """Start ``jupyter lab`` or ``jupyter notebook`` serving copies of ``notebooks`` in ``workdir``."""
    root = workdir / "root"
    root.mkdir(parents=True)
    for notebook in notebooks:
        shutil.copy(notebook, root / notebook.name)
    runtime_dir, settings_dir = workdir / "runtime", workdir / "settings"
    _write_settings(settings_dir)
    token, port = secrets.token_hex(16), _free_port()
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime_dir),
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "workspaces"),
    }
    module = "jupyterlab" if app == "lab" else "notebook"
    command = [
        sys.executable,
        "-m",
        module,
        "--allow-root",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    server = Server(f"http://127.0.0.1:{port}", token, runtime_dir, root)
    try:
        _wait_for(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for(server: Server, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={server.token}", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the Jupyter server did not answer within {SERVER_START_S:.0f} s")


@contextmanager
def browser(profile_dir: Path, *, width: int = 1400, height: int = 1100) -> Iterator[object]:
    """A Playwright page in a fresh Chromium profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


class Kernel:
    """A second client of the notebook's kernel (found through its connection file): runs code after
    whatever the notebook queued and returns what it printed."""

    def __init__(self, runtime_dir: Path, *, timeout_s: float = 60.0) -> None:
        from jupyter_client import BlockingKernelClient

        deadline = time.monotonic() + timeout_s
        files: list[Path] = []
        while not files and time.monotonic() < deadline:
            files = sorted(runtime_dir.glob("kernel-*.json"))
            time.sleep(0.5)
        if not files:
            raise TimeoutError("no kernel started")
        self.client = BlockingKernelClient(connection_file=str(files[0]))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=timeout_s)

    def run(self, code: str, *, timeout_s: float = 600.0) -> str:
        """Execute ``code``; return its stdout. Raises RuntimeError with the traceback on an error."""
        printed: list[str] = []
        failure: list[str] = []

        def collect(message: dict) -> None:
            kind, content = message["header"]["msg_type"], message["content"]
            if kind == "stream" and content.get("name") == "stdout":
                printed.append(content["text"])
            elif kind == "error":
                failure.append("\n".join(content["traceback"]))

        self.client.execute_interactive(code, output_hook=collect, timeout=timeout_s, store_history=False)
        if failure:
            raise RuntimeError(failure[0])
        return "".join(printed)

    def json(self, expression: str, *, timeout_s: float = 600.0) -> object:
        """The value of a JSON-serialisable Python ``expression`` in the kernel."""
        return json.loads(self.run(f"import json as _j\nprint(_j.dumps({expression}))", timeout_s=timeout_s))

    def close(self) -> None:
        self.client.stop_channels()


def run_all_cells(page: object) -> None:
    """Run every cell from the Run menu (JupyterLab and Notebook 7 share it)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def editor_geometry(page: object) -> dict:
    """The F0 editor canvas's box on the page and its current view (seconds, bins, plot area, and the
    pitch grid the kernel sent)."""
    return page.evaluate(
        """() => {
        const canvas = document.querySelector('[data-testid=f0-editor]');
        const box = canvas.getBoundingClientRect();
        const v = canvas.ipysvsEditor.view;
        return {x: box.x, y: box.y, t0: v.t0, t1: v.t1, b0: v.b0, b1: v.b1,
                left: v.left, top: v.top, width: v.width, height: v.height,
                fmin_hz: v.grid.fminHz, bins_per_octave: v.grid.binsPerOctave};
    }"""
    )


def point(geometry: dict, t: float, hz: float) -> tuple[float, float]:
    """Page coordinates of (t seconds, hz) in the editor (the inverse of js/src/geometry.js)."""
    import math

    g = geometry
    x = g["x"] + g["left"] + (t - g["t0"]) / (g["t1"] - g["t0"]) * g["width"]
    bin_ = g["bins_per_octave"] * math.log2(hz / g["fmin_hz"])
    y = g["y"] + g["top"] + (1 - (bin_ - g["b0"]) / (g["b1"] - g["b0"])) * g["height"]
    return x, y


def drag(
    page: object,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    button: str = "left",
    steps: int = 25,
) -> None:
    """Press ``button`` at ``start``, move to ``end`` in ``steps`` pointer events, release."""
    page.mouse.move(*start)
    page.mouse.down(button=button)
    page.mouse.move(*end, steps=steps)
    page.mouse.up(button=button)


RECORD_REQUESTS = """() => {
    const editor = document.querySelector('[data-testid=f0-editor]').ipysvsEditor;
    window.__sent = [];
    const send = editor.requests.send;
    editor.requests.send = (content, buffers) => {
        window.__sent.push({content, buffers: buffers.map((b, i) =>
            Array.from(i === 0 ? new Float64Array(b) : new Float32Array(b)))});
        send(content, buffers);
    };
}"""
