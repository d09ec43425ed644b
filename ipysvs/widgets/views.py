"""Bokeh views of a Session's separation (jupyter_bokeh): the mixture, vocals and accompaniment
spectrograms, the vocal mask and the F0 saliency, on linked time axes that also follow the F0
editor's zoom (:meth:`SeparationViews.show_time_range`), with a before/after toggle around the last
adaptation (shown once there is one).

Frequencies are shown on a log axis in octaves above 55 Hz (A1), labelled with note names; long songs
are reduced to at most ``MAX_COLUMNS`` columns (the maximum of each group of frames).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import ipywidgets
import numpy as np
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, FixedTicker, LinearColorMapper
from bokeh.palettes import Greys256, Magma256, Viridis256
from bokeh.plotting import figure

from ..f0 import BINS_PER_OCTAVE, N_PITCH_BINS, note_name
from .images import decimate, log_spectrogram, to_decibel_image

if TYPE_CHECKING:
    from ..interactive.session import Session

__all__ = [
    "BINS_PER_OCTAVE_VIEW",
    "MAX_COLUMNS",
    "OCTAVES",
    "PANELS",
    "PLOT_HEIGHT",
    "SWITCHED",
    "SeparationViews",
    "load_bokeh",
]

BINS_PER_OCTAVE_VIEW = 24
OCTAVES = 7  # 55 Hz .. 7 kHz
MAX_COLUMNS = 1200
PLOT_HEIGHT = 150
PANELS = (  # name, title, palette
    ("mixture", "Mixture", Magma256),
    ("vocals", "Vocals", Magma256),
    ("accompaniment", "Accompaniment", Magma256),
    ("mask", "Vocal mask (0 = accompaniment, 1 = vocals)", Greys256[::-1]),
    ("salience", "F0 saliency", Viridis256),
)
SWITCHED = ("vocals", "accompaniment", "mask", "salience")  # the panels the before/after toggle changes


@functools.cache
def load_bokeh() -> None:
    """Load BokehJS into the notebook from the installed package (no CDN), once per kernel."""
    from bokeh.io import output_notebook
    from bokeh.resources import INLINE

    output_notebook(INLINE, hide_banner=True)


def _octave_ticks(octaves: int) -> tuple[FixedTicker, dict[float, str]]:
    """A tick at every A from 55 Hz (A1) up ``octaves`` octaves (in octaves above 55 Hz), labelled."""
    midi_a1 = 33
    positions = [float(k) for k in range(octaves + 1)]
    return FixedTicker(ticks=positions), {p: note_name(midi_a1 + 12 * int(p)) for p in positions}


class SeparationViews:
    """The five linked panels of a Session and the before/after toggle (``.widget``); call
    ``unsubscribe()`` to stop following the Session."""

    def __init__(self, session: Session) -> None:
        load_bokeh()
        from jupyter_bokeh import BokehModel

        self.session = session
        self._magnitudes: dict[tuple[str, bool], np.ndarray] = {}
        self._reference = float(self._magnitude("mixture", before=False).max())
        self.sources = {
            name: ColumnDataSource(data={"image": [self._image(name, False)]}) for name, *_ in PANELS
        }
        self.toggle = ipywidgets.ToggleButtons(
            options=[("after", "after"), ("before", "before")],
            value="after",
            description="Last Update DNN:",
            style={"description_width": "initial"},
            tooltips=["the current separation", "the separation before the last Update DNN"],
        )
        self.toggle.observe(lambda _change: self.show_outputs(), names="value")
        layout = self._layout()
        self.time_axis = layout.children[0].x_range  # shared by every panel
        self.model = BokehModel(layout)
        self.widget = ipywidgets.VBox([self.toggle, self.model]).add_class("ipysvs-views")
        self.refresh()
        self.unsubscribe = session.observe(lambda kind: self.refresh() if kind == "adapt" else None)

    def _magnitude(self, stem: str, before: bool) -> np.ndarray:
        """``(frames, bins)`` log-frequency magnitudes of a stem, cached until the next adaptation."""
        key = (stem, before)
        if key not in self._magnitudes:
            samples = self.session.stem(stem, before=before)
            self._magnitudes[key] = log_spectrogram(
                samples,
                self.session.sr,
                self.session.frame_times,
                bins_per_octave=BINS_PER_OCTAVE_VIEW,
                n_bins=BINS_PER_OCTAVE_VIEW * OCTAVES,
            )
        return self._magnitudes[key]

    def _image(self, name: str, before: bool) -> np.ndarray:
        """A panel's image as ``(bins, columns)`` float32 in [0, 1], row 0 the lowest frequency."""
        if name == "salience":
            image = self.session.salience_before() if before else self.session.salience
        elif name == "mask":
            vocals, accompaniment = (
                self._magnitude("vocals", before),
                self._magnitude("accompaniment", before),
            )
            image = vocals / np.maximum(vocals + accompaniment, 1e-10)
        else:
            image = to_decibel_image(self._magnitude(name, before), reference=self._reference)
        return np.ascontiguousarray(decimate(np.asarray(image, dtype=np.float32), MAX_COLUMNS).T)

    def _layout(self) -> column:
        duration = self.session.duration_s
        shared = None
        panels = []
        for name, title, palette in PANELS:
            octaves = N_PITCH_BINS / BINS_PER_OCTAVE if name == "salience" else OCTAVES
            plot = figure(
                title=title,
                height=PLOT_HEIGHT,
                sizing_mode="stretch_width",
                x_range=shared.x_range if shared else (0, duration),
                y_range=(0, OCTAVES),
                tools="xpan,xwheel_zoom,box_zoom,reset",
                active_scroll="xwheel_zoom",
                x_axis_label="time (s)" if name == "salience" else None,
            )
            shared = shared or plot
            mapper = LinearColorMapper(palette=palette, low=0.0, high=1.0)
            plot.image(
                image="image",
                source=self.sources[name],
                x=0,
                y=0,
                dw=duration,
                dh=octaves,
                color_mapper=mapper,
            )
            plot.yaxis.ticker, plot.yaxis.major_label_overrides = _octave_ticks(OCTAVES)
            plot.yaxis.axis_label = "pitch"
            panels.append(plot)
        return column(panels, sizing_mode="stretch_width")

    def refresh(self) -> None:
        """After an adaptation: forget the cached stems, enable the toggle, redraw."""
        self._magnitudes = {key: value for key, value in self._magnitudes.items() if key[0] == "mixture"}
        self.toggle.layout.display = "" if self.session.reports else "none"  # nothing to compare before
        self.show_outputs()

    def show_time_range(self, start_s: float, stop_s: float) -> None:
        """Show seconds ``start_s`` to ``stop_s`` in every panel (the editor's zoom)."""
        self.time_axis.update(start=float(start_s), end=float(stop_s))

    def show_outputs(self) -> None:
        """Show the outputs the toggle selects in the vocals, accompaniment, mask and saliency panels."""
        before = self.toggle.value == "before" and bool(self.session.reports)
        for name in SWITCHED:
            self.sources[name].data = {"image": [self._image(name, before)]}
