"""Bokeh figures for the data view. Built once per app; updates only swap their data sources."""

from __future__ import annotations

import numpy as np
from bokeh import palettes
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, LogColorMapper
from bokeh.plotting import figure

COLORMAPS = {
    "viridis": palettes.Viridis256,
    "magma": palettes.Magma256,
    "inferno": palettes.Inferno256,
    "cividis": palettes.Cividis256,
    "gray": palettes.Greys256[::-1],
    "turbo": palettes.Turbo256,
}


class ImagePlot:
    """An image of a 2-D plane with a colour bar and a hover readout of index and value."""

    def __init__(self) -> None:
        self.source = ColumnDataSource(data=self._empty())
        self.linear = LinearColorMapper(palette=COLORMAPS["viridis"], nan_color="rgba(0,0,0,0)")
        self.log = LogColorMapper(palette=COLORMAPS["viridis"], nan_color="rgba(0,0,0,0)")
        self.figure = figure(
            name="pzw-image-figure", sizing_mode="stretch_both", min_height=420, match_aspect=True,
            tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll="wheel_zoom",
            toolbar_location="above",
        )
        self.figure.grid.visible = False
        self.renderer = self.figure.image(
            image="image", x="x", y="y", dw="dw", dh="dh", source=self.source, color_mapper=self.linear,
            name="pzw-image",
        )
        self.colorbar = ColorBar(color_mapper=self.linear, width=12, location=(0, 0))
        self.figure.add_layout(self.colorbar, "right")
        self.figure.add_tools(HoverTool(renderers=[self.renderer], tooltips=[
            ("index (y, x)", "($y{0}, $x{0})"), ("value", "@image"),
        ]))

    @staticmethod
    def _empty() -> dict:
        return {"image": [np.zeros((1, 1), dtype=np.float32)], "x": [0], "y": [0], "dw": [1], "dh": [1]}

    def show(self, plane: np.ndarray, y_extent: int, x_extent: int, y_label: str, x_label: str) -> None:
        """Display PLANE (rows = y) stretched over the full index extent it was sampled from."""
        self.source.data = {"image": [plane.astype(np.float32)], "x": [0], "y": [0],
                            "dw": [x_extent], "dh": [y_extent]}
        self.figure.x_range.start, self.figure.x_range.end = 0, x_extent
        self.figure.y_range.start, self.figure.y_range.end = y_extent, 0  # row 0 at the top, like numpy
        self.figure.xaxis.axis_label = x_label
        self.figure.yaxis.axis_label = y_label

    def style(self, colormap: str, low: float, high: float, log_scale: bool) -> None:
        mapper = self.log if log_scale else self.linear
        if log_scale:
            low = max(low, np.finfo(np.float32).tiny) if high > 0 else 1e-6
            high = max(high, low * 10)
        mapper.update(palette=COLORMAPS[colormap], low=low, high=high)
        self.renderer.glyph.color_mapper = mapper
        self.colorbar.color_mapper = mapper


class LinePlot:
    """A 1-D profile."""

    def __init__(self) -> None:
        self.source = ColumnDataSource(data={"x": [], "y": []})
        self.figure = figure(name="pzw-line-figure", sizing_mode="stretch_both", min_height=320,
                             tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above")
        renderer = self.figure.line("x", "y", source=self.source, line_width=1.5, name="pzw-line")
        self.figure.add_tools(HoverTool(renderers=[renderer], tooltips=[("index", "@x"), ("value", "@y")],
                                        mode="vline"))

    def show(self, x: np.ndarray, y: np.ndarray, x_label: str) -> None:
        self.source.data = {"x": x, "y": y}
        self.figure.xaxis.axis_label = x_label
