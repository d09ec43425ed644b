"""The notebook front end of a :class:`~ipysvs.Session`: F0 editor, spectrogram views, the composed app.

* :mod:`.editor` -- the F0 editor (an anywidget; its JavaScript lives in ``js/`` and ships built in
  ``static/``),
* :mod:`.messages` -- validation of every message the editor's front end sends,
* :mod:`.images` -- log-frequency spectrogram images for the editor and the views,
* :mod:`.views` -- Bokeh views of the separation (jupyter_bokeh),
* :mod:`.app` -- ``Session.show()``: editor, views, players and a status line,
* :mod:`.fallback` -- the message shown where a front end cannot display widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..interactive.session import register_display

if TYPE_CHECKING:
    from ..interactive.session import Session
    from .app import App


def notebook_app(session: Session) -> App:
    """``Session.show()``: the app of ``session`` (the widget libraries load on first use)."""
    from .app import build_app

    return build_app(session)


register_display(notebook_app)
