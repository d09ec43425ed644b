"""What a notebook shows in place of a widget when its front end cannot load it."""

from __future__ import annotations

import html

__all__ = ["FALLBACK_TEXT", "with_fallback"]

FALLBACK_TEXT = (
    "ipysvs {what}: this front end cannot show Jupyter widgets. Open the notebook in JupyterLab 4 or "
    "Notebook 7 with ipywidgets 8 (pip install ipysvs installs them), trust it and run the cell again; "
    "the Session works from code meanwhile (s.set_f0, s.draw, s.unvoice, s.adapt, s.audio)."
)


def with_fallback(bundle: dict | tuple, what: str) -> dict | tuple:
    """A widget's mime bundle with a readable ``text/plain`` and ``text/html`` message added.

    Front ends that can render widgets prefer the widget view; the others (a static viewer, a front
    end without the widget manager) show the message instead of a blank cell.
    """
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    message = FALLBACK_TEXT.format(what=what)
    data["text/plain"] = message
    data["text/html"] = (
        '<div style="border:2px solid #d33;background:#fff0f0;color:#900;padding:8px">'
        f"{html.escape(message)}</div>"
    )
    return bundle
