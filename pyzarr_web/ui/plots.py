"""Bokeh figures for the data view. A figure is built once per kind of axes (index, number, date)
and later updates only swap data and ranges, which keeps slider moves cheap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from bokeh import palettes
from bokeh.events import RangesUpdate
from bokeh.models import ColorBar, ColumnDataSource, CustomJSHover, HoverTool, LinearColorMapper, LogColorMapper
from bokeh.plotting import figure

from pyzarr_web.ui.coords import Axis

COLORMAPS = {
    "viridis": palettes.Viridis256,
    "magma": palettes.Magma256,
    "inferno": palettes.Inferno256,
    "cividis": palettes.Cividis256,
    "gray": palettes.Greys256[::-1],
    "turbo": palettes.Turbo256,
}
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"

# Hover text for one axis: the array index under the cursor and, when the axis has coordinates,
# the coordinate of that sample.
_AXIS_HOVER_JS = """
let i = Math.floor((value - p.start) / p.width * p.samples);
if (i < 0 || i >= p.samples) return "";
if (p.flipped) i = p.samples - 1 - i;
const index = Math.floor(p.offset + i * p.step);
if (p.coords == null) return String(index);  // null, or absent: never throw, a throw here stops panning
const c = p.coords[i];
const text = p.datetime ? new Date(c).toISOString().replace("T", " ").replace(/[.]000Z$/, "")
                        : Number(c.toPrecision(6)).toString();
return text + "  [" + index + "]";
"""


@dataclass(frozen=True)
class Placement:
    """Where the samples of one displayed axis sit on the plot axis."""

    start: float
    width: float
    flipped: bool  # samples were reversed so the coordinate increases along the plot axis
    kind: str  # "index" | "number" | "datetime"
    label: str
    coords: list | None  # coordinate of each displayed sample, in array order

    offset: int  # array index of the first sample

    @classmethod
    def of(cls, axis: Axis, span: tuple[int, int], step: int) -> Placement:
        start, stop = span
        extent = axis.extent(start, stop, step)
        if extent is None:
            samples = len(range(start, stop, step))
            return cls(float(start), float(samples * step), False, "index", f"{axis.name} (index)", None, start)
        low, width, ascending = extent
        kind = "datetime" if axis.values.dtype.kind == "M" else "number"
        return cls(low, width, not ascending, kind, axis.label(), axis.numeric_values()[start:stop:step].tolist(),
                   start)

    @classmethod
    def index(cls, name: str, offset: float, width: float, step: float) -> Placement:
        """Samples at array indices OFFSET, OFFSET + STEP, … (a deep-zoom window)."""
        return cls(float(offset), float(width), False, "index", f"{name} (index)", None, offset)

    def hover_args(self, samples: int, step: int) -> dict:
        """What the axis's hover formatter needs to map a cursor position to index and coordinate."""
        return {"p": {"start": self.start, "width": self.width, "samples": samples, "step": step,
                      "offset": self.offset, "flipped": self.flipped, "coords": self.coords,
                      "datetime": self.kind == "datetime"}}


class ImagePlot:
    """An image of a 2-D plane with a colour bar and a hover readout of index, coordinate and value."""

    def __init__(self) -> None:
        self.source = ColumnDataSource(data={"image": [np.zeros((1, 1), np.float32)], "x": [0], "y": [0],
                                             "dw": [1], "dh": [1]})
        self.linear = LinearColorMapper(palette=COLORMAPS["viridis"], nan_color="rgba(0,0,0,0)")
        self.log = LogColorMapper(palette=COLORMAPS["viridis"], nan_color="rgba(0,0,0,0)")
        self._figures: dict[tuple[str, str], tuple] = {}
        self.figure = None
        self.value_label = "value"
        #: called with (x0, x1, y0, y1) when the user ends a pan or zoom (a gesture, not each move)
        self.on_view = None

    def _build(self, y_kind: str, x_kind: str):
        fig = figure(
            name="pzw-image-figure", sizing_mode="stretch_both", min_height=420,
            tools=TOOLS, active_scroll="wheel_zoom", toolbar_location="above",
            x_axis_type="datetime" if x_kind == "datetime" else "linear",
            y_axis_type="datetime" if y_kind == "datetime" else "linear",
        )
        fig.grid.visible = False
        renderer = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source,
                             color_mapper=self.linear, name="pzw-image")
        colorbar = ColorBar(color_mapper=self.linear, width=12, location=(0, 0))
        fig.add_layout(colorbar, "right")
        axis_hover = {"$y": CustomJSHover(code=_AXIS_HOVER_JS), "$x": CustomJSHover(code=_AXIS_HOVER_JS)}
        hover = HoverTool(renderers=[renderer], formatters=axis_hover)
        fig.add_tools(hover)
        fig.on_event(RangesUpdate, self._ranges_updated)
        return fig, renderer, colorbar, hover

    def _ranges_updated(self, event: RangesUpdate) -> None:
        if self.on_view is not None and None not in (event.x0, event.x1, event.y0, event.y1):
            self.on_view(min(event.x0, event.x1), max(event.x0, event.x1),
                         min(event.y0, event.y1), max(event.y0, event.y1))

    def show(self, plane: np.ndarray, steps: tuple[int, int], y: Placement, x: Placement,
             style: tuple[str, float, float, bool] | None = None,
             view: tuple[float, float, float, float] | None = None) -> None:
        """Display PLANE (rows along y) with each axis placed in index or coordinate space, styled
        with STYLE (colormap, low, high, log scale) when given, showing VIEW (x0, x1, y0, y1) of
        the plot's space when given, else the plane.

        The style goes first, right before the data: the page sets limits that arrive just before
        the image data without mapping the old image again, so the new one is colour-mapped once."""
        if y.flipped:
            plane = plane[::-1]
        if x.flipped:
            plane = plane[:, ::-1]
        key = (y.kind, x.kind)
        if key not in self._figures:
            self._figures[key] = self._build(*key)
        self.figure, self.renderer, self.colorbar, hover = self._figures[key]
        if style is not None:
            self.style(*style)
        self.source.data = {"image": [np.ascontiguousarray(plane, dtype=np.float32)], "x": [x.start],
                            "y": [y.start], "dw": [x.width], "dh": [y.width]}
        x0, x1, y0, y1 = view or (x.start, x.start + x.width, y.start, y.start + y.width)
        self.figure.x_range.update(start=x0, end=x1)
        if y.kind == "index":  # row 0 at the top, like numpy and image viewers
            self.figure.y_range.update(start=y1, end=y0)
        else:
            self.figure.y_range.update(start=y0, end=y1)
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = x.label, y.label
        rows, cols = plane.shape
        hover.tooltips = [(y.label, "$y{custom}"), (x.label, "$x{custom}"), (self.value_label, "@image{0.[0000]}")]
        hover.formatters["$y"].args = y.hover_args(rows, steps[0])  # the same models, new arguments
        hover.formatters["$x"].args = x.hover_args(cols, steps[1])

    def style(self, colormap: str, low: float, high: float, log_scale: bool) -> None:
        mapper = self.log if log_scale else self.linear
        if log_scale:
            low = low if low > 0 else max(high * 1e-3, np.finfo(np.float32).tiny)
            high = max(high, low * 10)
        # only what changed: validating an unchanged 256-colour palette costs ms on every move
        changes = {name: value for name, value in (("palette", COLORMAPS[colormap]), ("low", low), ("high", high))
                   if getattr(mapper, name) != value}
        if changes:
            mapper.update(**changes)
        if self.figure is not None:
            self.renderer.glyph.color_mapper = mapper
            self.colorbar.color_mapper = mapper


class LinePlot:
    """A 1-D profile, on coordinate values when the dimension has them."""

    def __init__(self) -> None:
        self.source = ColumnDataSource(data={"x": [], "y": [], "index": []})
        self._figures: dict[str, object] = {}
        self.figure = None

    def _build(self, kind: str):
        fig = figure(name="pzw-line-figure", sizing_mode="stretch_both", min_height=320, tools=TOOLS,
                     toolbar_location="above", x_axis_type="datetime" if kind == "datetime" else "linear")
        renderer = fig.line("x", "y", source=self.source, line_width=1.5, name="pzw-line")
        x_tip = ("x", "@x{%F %T}") if kind == "datetime" else ("x", "@x")
        fig.add_tools(HoverTool(renderers=[renderer], mode="vline", tooltips=[
            ("index", "@index"), x_tip, ("value", "@y")], formatters={"@x": "datetime"} if kind == "datetime" else {}))
        return fig

    def show(self, values: np.ndarray, axis: Axis, step: int, value_label: str, offset: int) -> None:
        index = offset + np.arange(values.size) * step
        coords = axis.numeric_values()
        kind = "index" if coords is None else ("datetime" if axis.values.dtype.kind == "M" else "number")
        if kind not in self._figures:
            self._figures[kind] = self._build(kind)
        self.figure = self._figures[kind]
        self.source.data = {"x": index if coords is None else coords[index], "y": values, "index": index}
        self.figure.xaxis.axis_label = axis.label() if coords is not None else f"{axis.name} (index)"
        self.figure.yaxis.axis_label = value_label


class Histogram:
    """Distribution of the displayed slice's finite values."""

    BINS = 64

    def __init__(self) -> None:
        self.source = ColumnDataSource(data={"left": [], "right": [], "count": []})
        self.figure = figure(name="pzw-histogram", height=200, width=290, tools="", toolbar_location=None,
                             title="Histogram (displayed samples)")
        self.figure.quad(left="left", right="right", bottom=0, top="count", source=self.source,
                         fill_color="#4a78b5", line_color=None)
        self.figure.yaxis.visible = False
        self.figure.grid.visible = False

    def show(self, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            self.clear()
            return
        counts, edges = np.histogram(finite, bins=self.BINS)
        self.source.data = {"left": edges[:-1], "right": edges[1:], "count": counts}

    def clear(self) -> None:
        self.source.data = {"left": [], "right": [], "count": []}
