"""The explorer: a tree of the store on the left, the selected node's info and data on the right.

State lives in parameters and widgets (store URL, selected path, the view spec, colormap,
contrast); views are derived from them. Every read runs as one asyncio task: starting a new one
cancels the previous, so dragging a slider never queues a backlog of stale reads.
"""

from __future__ import annotations

import asyncio
import html
import time
from urllib.parse import urlencode

import numpy as np
import panel as pn
import param

from pyzarr_web.core import Hierarchy, ZarrError, open_store
from pyzarr_web.ui import info
from pyzarr_web.ui.coords import Axis, cf_decode, dimension_names, format_value, read_axes
from pyzarr_web.ui.planes import PlaneCache
from pyzarr_web.ui.plots import COLORMAPS, Histogram, ImagePlot, LinePlot, Placement
from pyzarr_web.ui.slicing import ViewSpec, stride_for
from pyzarr_web.ui.table import ValueTable
from pyzarr_web.ui.tree import TreeModel
from pyzarr_web.ui.values import COMPLEX_PARTS, is_numeric, robust_limits, sample, summarise, to_float

MAX_DISPLAY_POINTS = 1024  # per axis: larger planes are strided for display
FULL_READ_BYTES = 64 * 2**20  # planes up to this size are read whole (statistics are exact)
READ_BUDGET_BYTES = 256 * 2**20  # nothing larger is ever read
PROGRESS_INTERVAL_S = 0.1
PLANE_CACHE_BYTES = 160 * 2**20  # decoded planes kept for going back and forth, and read ahead

STYLESHEET = """
.pzw-info table { border-collapse: collapse; font-size: 13px; }
.pzw-info th { text-align: left; padding: 2px 14px 2px 0; color: #555; font-weight: 600; white-space: nowrap;
               vertical-align: top; }
.pzw-info td { padding: 2px 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.pzw-info h3 { margin: 0 0 6px 0; font-size: 15px; }
.pzw-error { color: #9b1c1c; background: #fdecec; border: 1px solid #f5c2c2; border-radius: 4px;
             padding: 6px 10px; font-size: 13px; white-space: pre-wrap; }
.pzw-status { color: #555; font-size: 12px; }
.pzw-stats { font-size: 13px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
"""


_SHOWN, _HIDDEN = {"visibility": "visible"}, {"visibility": "hidden"}


def _escaped(text: str, css_class: str) -> str:
    """Text inside a styled div; escaping makes store content inert, never markup."""
    return f'<div class="{css_class}">{html.escape(text)}</div>' if text else ""


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ZarrError) else f"{type(exc).__name__}: {exc}"


def _hint(exc: BaseException) -> str:
    """What to try next, for the errors users meet most."""
    text = _error_text(exc).lower()
    if "failed to fetch" in text or "networkerror" in text or "cors" in text:
        return ("The server refused the request or is unreachable. If it is on another site, it must "
                "send CORS headers (Access-Control-Allow-Origin) for this page's origin.")
    if "404" in text or "no zarr group or array" in text or "not found" in text:
        return "Check the URL: it should point at the store's root (the folder holding zarr.json or .zgroup)."
    if "budget" in text:
        return "Pick a smaller region with the selection box, or a coarser pyramid level."
    if "codec" in text or "compressor" in text:
        return "This chunk uses a codec the browser reader cannot decode, or its bytes are corrupt."
    return ""


def _error_html(prefix: str, exc: BaseException) -> str:
    hint = _hint(exc)
    return _escaped(f"{prefix}: {_error_text(exc)}" + (f"\n{hint}" if hint else ""), "pzw-error")


class Explorer(param.Parameterized):
    store_url = param.String(default="", doc="URL of the store being explored.")
    path = param.String(default=None, allow_None=True, doc="Selected node path ('' is the root).")
    status = param.Selector(default="idle", objects=["idle", "loading", "error"])
    error = param.String(default="", doc="Last error, also shown next to the part that failed.")
    url_query = param.String(default="", doc="Query string that reopens this view (?store=…&path=…).")

    def __init__(self, store_url: str | None = None, path: str | None = None, selection: str | None = None,
                 colormap: str | None = None, contrast: tuple[float, float] | None = None) -> None:
        super().__init__()
        self._requested = {"path": path, "selection": selection, "contrast": contrast}
        self._hierarchy: Hierarchy | None = None
        self._tree = TreeModel([])
        self._array = None
        self._axes: list[Axis] = []
        self._task: asyncio.Task | None = None
        self.spec: ViewSpec | None = None
        self.view_summary: dict | None = None
        self._plane: np.ndarray | None = None
        self._stored_bytes: int | None = None
        self._samples = np.zeros(0)  # of the displayed plane, for contrast and histogram
        self.timings: dict | None = None
        self._progress_shown_at = 0.0
        self._planes = PlaneCache(PLANE_CACHE_BYTES)
        self._last_move: tuple[int, int] | None = None  # (dimension, step) of the last slider move
        self._filling_tree = False

        self.url_input = pn.widgets.TextInput(
            label="Store URL", value=store_url or "", placeholder="https://example.org/data.zarr",
            sizing_mode="stretch_width")
        self.open_button = pn.widgets.Button(label="Open", color="primary", width=80, align="end")
        self.filter_input = pn.widgets.TextInput(placeholder="Filter by name", sizing_mode="stretch_width")
        self.tree = pn.widgets.Select(label="Hierarchy", options={}, size=24, sizing_mode="stretch_width",
                                      css_classes=["pzw-tree"])
        self.tree_error = pn.pane.HTML("", sizing_mode="stretch_width")
        self.info_pane = pn.pane.HTML("", sizing_mode="stretch_width")
        self.attrs_pane = pn.pane.JSON({}, depth=2, sizing_mode="stretch_width")
        self.view_error = pn.pane.HTML("", sizing_mode="stretch_width")
        self.selection_input = pn.widgets.TextInput(label="Selection", width=200)
        self.y_dim = pn.widgets.Select(label="Rows (y)", options={}, width=170)
        self.x_dim = pn.widgets.Select(label="Columns (x)", options={}, width=170)
        self.colormap = pn.widgets.Select(label="Colormap", options=list(COLORMAPS),
                                          value=colormap if colormap in COLORMAPS else "viridis", width=110)
        self.log_scale = pn.widgets.Checkbox(label="Log scale", align="end")
        self.auto_contrast = pn.widgets.Checkbox(label="Auto contrast", value=contrast is None, align="end")
        # a plain RangeSlider: EditableRangeSlider's own JS callbacks clamp each input against the
        # other's stale value, which corrupted limits restored from ?clim= (seen in Chromium)
        self.contrast = pn.widgets.RangeSlider(label="Contrast", start=0.0, end=1.0, value=(0.0, 1.0),
                                               step=0.001, width=260, format="0[.]000")
        self.complex_part = pn.widgets.Select(label="Complex as", options=list(COMPLEX_PARTS), width=120,
                                              visible=False)
        self.sliders = pn.Column(sizing_mode="stretch_width")
        # shown and hidden through its style, not `visible`: that would make the page lay out
        # everything again (~100 ms a toggle), and the bar's row stays put
        self.progress = pn.indicators.Progress(value=0, max=1, sizing_mode="stretch_width", height=8,
                                               styles=_HIDDEN)
        self.status_text = pn.pane.HTML("", sizing_mode="stretch_width")
        self.stats_pane = pn.pane.HTML("", sizing_mode="stretch_width")
        self.image = ImagePlot()
        self.line = LinePlot()
        self.histogram = Histogram()
        self.table = ValueTable()
        self.plot_area = pn.Column(sizing_mode="stretch_both", min_height=440)
        self.scalar_pane = pn.pane.HTML("", sizing_mode="stretch_width")

        self.open_button.on_click(lambda _event: self.open(self.url_input.value))
        self.url_input.param.watch(lambda _event: self.open(self.url_input.value), "enter_pressed")
        self.filter_input.param.watch(lambda _event: self._fill_tree(), "value_input")
        self.tree.param.watch(self._tree_clicked, "value")
        self.selection_input.param.watch(lambda event: self.set_selection(event.new), "enter_pressed")
        for widget in (self.y_dim, self.x_dim):
            widget.param.watch(lambda _event: self._displayed_dimensions_changed(), "value")
        for widget in (self.colormap, self.log_scale, self.contrast):
            widget.param.watch(lambda _event: self._restyle(), "value")
        self.auto_contrast.param.watch(lambda _event: self._apply_limits(), "value")
        self.complex_part.param.watch(lambda _event: self._redraw(), "value")
        # dynamic: only the shown tab has models on the page (fewer to build and send at startup)
        self.tabs = pn.Tabs(sizing_mode="stretch_both", dynamic=True)  # filled by panel()
        self.tabs.param.watch(lambda _event: self._tab_shown(), "active")

    # ----------------------------------------------------------------- layout
    def panel(self) -> pn.viewable.Viewable:
        header = pn.Row(
            pn.pane.HTML("<b style='font-size:18px;white-space:nowrap'>pyzarr-web</b>", width=120, align="center"),
            self.url_input, self.open_button, sizing_mode="stretch_width",
        )
        sidebar = pn.Column(self.filter_input, self.tree, self.tree_error, width=360)
        # a wrapping Row rather than FlexBox: FlexBox sanitizes with nh3, which has no wasm build
        controls = pn.Row(self.selection_input, self.y_dim, self.x_dim, self.complex_part, self.colormap,
                          self.log_scale, self.auto_contrast, self.contrast, sizing_mode="stretch_width",
                          styles={"flex-wrap": "wrap"})
        data_tab = pn.Column(
            self.view_error, controls, self.sliders, self.progress, self.status_text, self.scalar_pane,
            pn.Row(self.plot_area, pn.Column(self.stats_pane, self.histogram.figure, width=300),
                   sizing_mode="stretch_both"),
            name="Data", sizing_mode="stretch_both",
        )
        info_tab = pn.Column(self.info_pane, pn.pane.HTML("<h3 style='font-size:15px'>Attributes</h3>"),
                             self.attrs_pane, name="Info", sizing_mode="stretch_width")
        self.tabs.extend([data_tab, ("Table", self.table.panel()), info_tab])
        return pn.Column(header, pn.Row(sidebar, self.tabs, sizing_mode="stretch_both"),
                         sizing_mode="stretch_both", stylesheets=[STYLESHEET])

    # ------------------------------------------------------------ scheduling
    def _run(self, start_read) -> asyncio.Task:
        """Run START_READ() as the one current read, cancelling whatever read it supersedes."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.ensure_future(self._guarded(start_read))
        return self._task

    async def _guarded(self, start_read) -> None:
        self.status = "loading"
        try:
            await start_read()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown in the UI next to what failed; the app keeps working
            self.error = _error_text(exc)
            self.status = "error"
            return
        self.error = ""
        self.status = "idle"
        self._update_url()

    async def when_idle(self) -> None:
        """Wait until no read is running (used by tests and the page's JS API)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def request_view(self, path: str | None = None, selection: str | None = None) -> None:
        """Ask for PATH and SELECTION to be shown once the next open/select gets there."""
        self._requested.update(path=path, selection=selection)

    # ------------------------------------------------------------------ store
    def open(self, url: str) -> asyncio.Task:
        return self._run(lambda: self._open(url.strip()))

    async def _open(self, url: str) -> None:
        self.store_url = url
        self.url_input.value = url
        self._hierarchy, self._array, self.path = None, None, None
        self._planes.clear()
        self._tree = TreeModel([])
        self._fill_tree()
        self.tree_error.object = ""
        self._clear_node_views()
        if not url:
            return
        requested = self._requested.pop("path", None)
        try:
            self._hierarchy = await Hierarchy.open(open_store(url))
            self._tree = TreeModel(await self._hierarchy.walk(include=[requested] if requested else ()))
        except Exception as exc:
            self.tree_error.object = _error_html(f"Could not open {url}", exc)
            raise
        self.tree_error.object = self._listing_notice()
        await self._select(requested if requested in self._tree.nodes else "")

    def _listing_notice(self) -> str:
        """Say when the tree may miss nodes: without consolidated metadata HTTP cannot list."""
        h = self._hierarchy
        notes = [] if h.complete else [
            "This listing may be incomplete: the store has no consolidated metadata and HTTP cannot "
            "list folders, so only nodes its metadata points to were found. Open any other node by "
            "adding &path=… to the URL, or consolidate the store (zarr.consolidate_metadata)."]
        notes += h.problems[:5]
        return _escaped("\n".join(notes), "pzw-status")

    def _fill_tree(self) -> None:
        """Show the tree's visible lines. Options and value change in one update: a Select given
        options without its value would pick the first option itself, selecting another node."""
        options = self._tree.options(self.filter_input.value_input or "", self.path)
        self._filling_tree = True
        try:
            self.tree.param.update(options=options, value=self.path if self.path in options.values() else None)
        finally:
            self._filling_tree = False

    def _tree_clicked(self, event) -> None:
        if not self._filling_tree:
            self.select(event.new)

    # ------------------------------------------------------------- selection
    def select(self, node_path: str | None) -> asyncio.Task | None:
        if node_path is None or self._hierarchy is None or node_path == self.path:
            return None
        return self._run(lambda: self._select(node_path))

    def _clear_node_views(self) -> None:
        self.info_pane.object, self.attrs_pane.object = "", {}
        self.view_error.object = self.status_text.object = self.stats_pane.object = self.scalar_pane.object = ""
        self.plot_area.objects, self.sliders.objects = [], []
        self.y_dim.options, self.x_dim.options = {}, {}
        self.view_summary, self.spec, self._plane = None, None, None
        self.selection_input.visible = False
        self.histogram.clear()
        self.table.show(None, None)

    async def _select(self, node_path: str) -> None:
        node = self._tree.nodes.get(node_path) or await self._hierarchy.node(node_path)
        self.path = node_path
        self._fill_tree()
        self._clear_node_views()
        self.attrs_pane.object = dict(node.attributes)
        if node.kind == "group":
            self._array = None
            self.info_pane.object = info.rows_html(f"Group /{node_path}",
                                                   info.group_rows(node, self._tree.member_count(node_path)))
            return
        self._array = await self._hierarchy.array(node_path)
        self._stored_bytes = await self._array.stored_bytes()
        self._show_array_info()
        try:
            self._axes = await read_axes(self._hierarchy, self._tree.nodes, self._array)
        except Exception:  # a broken coordinate must not hide the data: fall back to indices
            self._axes = [Axis(name, n) for name, n in zip(dimension_names(self._array), self._array.shape)]
        spec = ViewSpec.default(self._array.shape)
        requested = self._requested.pop("selection", None)
        if requested:
            try:
                spec = ViewSpec.from_text(requested, self._array.shape)
            except ZarrError as exc:
                self.view_error.object = _error_html("Ignored the selection in the URL", exc)
        self._set_spec(spec)
        await self._load_view()

    # ------------------------------------------------------------ view spec
    def set_selection(self, text: str) -> asyncio.Task | None:
        """Apply selection TEXT (``?select=`` syntax) to the current array."""
        if self._array is None:
            return None
        try:
            spec = ViewSpec.from_text(text, self._array.shape, previous=self.spec)
        except ZarrError as exc:
            self.view_error.object = _error_html("Selection not applied", exc)
            self.error, self.status = _error_text(exc), "error"
            return None
        self._set_spec(spec)
        return self._run(self._load_view)

    def _set_spec(self, spec: ViewSpec) -> None:
        """Make the widgets show SPEC without each of them triggering a read."""
        self.spec = spec
        ndim = len(spec.shape)
        options = {f"{axis.name} ({axis.length})": d for d, axis in enumerate(self._axes)}
        # the pickers' watchers see the spec already in place and do nothing
        self.y_dim.options, self.x_dim.options = options, options
        self.y_dim.value = spec.displayed[0] if ndim >= 2 else None
        self.x_dim.value = spec.displayed[-1] if ndim >= 1 else None
        self.y_dim.visible = ndim >= 2
        self.x_dim.visible = ndim >= 1
        self.selection_input.visible = ndim >= 1
        self.selection_input.value = spec.text()
        self.complex_part.visible = self._array.dtype.kind == "c"
        sliders = []
        for dim, axis in enumerate(self._axes):
            if dim in spec.displayed:
                continue
            slider = pn.widgets.IntSlider(label=axis.describe(spec.indices[dim]), start=0,
                                          end=max(axis.length - 1, 1), value=spec.indices[dim],
                                          disabled=axis.length <= 1, sizing_mode="stretch_width")
            slider.param.watch(lambda event, dim=dim: self._slider_moved(dim, event), "value")
            sliders.append(slider)
        self.sliders.objects = sliders

    def _slider_moved(self, dim: int, event) -> None:
        self._last_move = (dim, 1 if event.new >= event.old else -1)
        event.obj.label = self._axes[dim].describe(event.new)
        self.spec = self.spec.with_index(dim, event.new)
        self.selection_input.value = self.spec.text()
        self._run(self._load_view)

    def _displayed_dimensions_changed(self) -> None:
        if self._array is None or self.spec is None or not self._array.shape:
            return
        displayed = (self.y_dim.value, self.x_dim.value) if len(self._array.shape) >= 2 else (self.x_dim.value,)
        if displayed == self.spec.displayed or None in displayed:
            return
        if len(set(displayed)) != len(displayed):
            self.view_error.object = _escaped("Pick two different dimensions for rows and columns.", "pzw-error")
            return
        self._set_spec(self.spec.with_displayed(displayed))
        self._run(self._load_view)

    # ------------------------------------------------------------------ views
    def _read_steps(self) -> dict[int, int]:
        """Read whole planes that fit FULL_READ_BYTES (exact statistics), else stride while reading."""
        extents = [self.spec.extent(d) for d in self.spec.displayed]
        if int(np.prod(extents, dtype=np.int64)) * self._array.dtype.itemsize <= FULL_READ_BYTES:
            return {}
        return {d: stride_for(self.spec.extent(d), MAX_DISPLAY_POINTS) for d in self.spec.displayed}

    def _report_progress(self, done: int, total: int) -> None:
        """Show read progress, at most every PROGRESS_INTERVAL_S: each update is a page patch."""
        now = time.perf_counter()
        if done < total and now - self._progress_shown_at < PROGRESS_INTERVAL_S:
            return
        self._progress_shown_at = now
        total = max(total, 1)
        self.progress.max = total  # before the value, which it bounds
        self.progress.value = min(done, total)
        self._show_progress(True)
        self.status_text.object = _escaped(f"Reading chunks {done}/{total}", "pzw-status")

    def _show_progress(self, shown: bool) -> None:
        styles = _SHOWN if shown else _HIDDEN
        if self.progress.styles != styles:
            self.progress.styles = styles

    async def _load_view(self) -> None:
        arr, spec = self._array, self.spec
        read_steps = self._read_steps()
        started = self._progress_shown_at = time.perf_counter()  # no bar for reads that finish at once
        key = (arr.path, spec.text(), tuple(sorted(read_steps.items())))
        self._planes.cancel_pending(keep=key)
        try:
            # shielded: a superseded view must not cancel a read another view now shares;
            # reads nobody wants any more are cancelled by cancel_pending above
            data = await asyncio.shield(self._planes.task(key, lambda: arr.read(
                spec.selection(read_steps), progress=self._report_progress, budget_bytes=READ_BUDGET_BYTES)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.view_error.object = _error_html(f"Could not read /{arr.path} [{spec.text()}]", exc)
            raise
        finally:
            self._show_progress(False)
        self.view_error.object = ""
        data = np.asarray(data)
        if spec.transposed:
            data = data.T
        self._plane = cf_decode(data, arr.attributes)
        self._read_steps_used = tuple(read_steps.get(d, 1) for d in spec.displayed)
        if self.tabs.active == self.INFO_TAB:
            self._show_array_info()  # the compression ratio estimate grows with what has been read
        read_done = time.perf_counter()
        self._redraw()
        self.timings = {"read_ms": round((read_done - started) * 1000, 1),
                        "render_ms": round((time.perf_counter() - read_done) * 1000, 1)}
        self._read_ahead(read_steps)

    def _read_ahead(self, read_steps: dict[int, int]) -> None:
        """Start reading the plane the slider will most likely show next (one more step the same way)."""
        if self._last_move is None or self._last_move[0] in self.spec.displayed:
            return
        dim, step = self._last_move
        index = self.spec.indices[dim] + step
        if not 0 <= index < self.spec.shape[dim]:
            return
        arr, ahead = self._array, self.spec.with_index(dim, index)
        key = (arr.path, ahead.text(), tuple(sorted(read_steps.items())))
        self._planes.task(key, lambda: arr.read(ahead.selection(read_steps), budget_bytes=READ_BUDGET_BYTES))

    def _show_array_info(self) -> None:
        self.info_pane.object = info.rows_html(f"Array /{self._array.path}",
                                               info.array_rows(self._array, self._stored_bytes))

    def _value_label(self) -> str:
        attrs = self._array.attributes
        name = attrs.get("long_name") or attrs.get("standard_name") or self._array.path.rsplit("/", 1)[-1]
        units = attrs.get("units")
        return f"{name} ({units})" if isinstance(units, str) and "since" not in units else str(name)

    def _redraw(self) -> None:
        """Derive every data view (plot, statistics, histogram, table) from the decoded plane."""
        data, spec = self._plane, self.spec
        if data is None:
            return
        self._fill_table()
        if not is_numeric(data.dtype) or data.ndim == 0:
            self.plot_area.objects = []
            self.view_summary = {"shape": list(data.shape), "min": None, "max": None, "mean": None,
                                 "nan_count": 0, "downsampled": False}
            self.scalar_pane.object = _escaped(
                f"{self._value_label()} = {format_value(data[()])}" if data.ndim == 0
                else f"{data.dtype} values are shown in the Table tab.", "pzw-stats")
            self.status_text.object = ""
            return
        display_steps = tuple(stride_for(n, MAX_DISPLAY_POINTS) for n in data.shape)
        shown = to_float(data[tuple(slice(None, None, s) for s in display_steps)], self.complex_part.value,
                         np.float32 if data.ndim == 2 else np.float64)  # images go to the page as float32
        steps = tuple(r * s for r, s in zip(self._read_steps_used, display_steps))
        downsampled = any(s > 1 for s in steps)
        self._samples = sample(shown)
        label = self._value_label()
        # The image goes first: the page colour-maps it while the rest is worked out here. Auto
        # contrast needs only the samples, so then the image does not wait for the exact summary.
        early = (shown.ndim == 2 and self.auto_contrast.value and self._requested.get("contrast") is None
                 and bool(np.isfinite(self._samples).any()))
        auto = tuple(robust_limits(self._samples)) if early else None
        if early:
            self._show_image(shown, steps, label, auto)
        summary = summarise(data, self.complex_part.value)  # exact, over every decoded value
        self.view_summary = summary.as_dict() | {"downsampled": downsampled}
        if shown.ndim == 2:
            limits = self._contrast_limits(auto)
            if not early:
                self._show_image(shown, steps, label, None if limits is None else limits[2])
            if limits is not None:
                self._set_contrast(*limits)  # the image already has these limits: no more page work
            figure = self.image.figure
        else:
            self.line.show(shown, self._axes[spec.displayed[0]], steps[0], label,
                           offset=spec.ranges[spec.displayed[0]][0])
            figure = self.line.figure
        self.stats_pane.object = info.rows_html("Slice statistics", [
            ("min", format_value(summary.min)), ("max", format_value(summary.max)),
            ("mean", format_value(summary.mean)), ("NaN count", f"{summary.nan_count:,}"),
            ("values", f"{data.size:,}")])
        self.histogram.show(self._samples)
        note = f" — downsampled for display, every {'×'.join(map(str, steps))} samples" if downsampled else ""
        self.status_text.object = _escaped(f"Showing [{spec.text()}] {shown.shape}{note}", "pzw-status")
        if not self.plot_area.objects or self.plot_area.objects[0].object is not figure:
            self.plot_area.objects = [pn.pane.Bokeh(figure, sizing_mode="stretch_both")]

    def _show_image(self, shown: np.ndarray, steps: tuple[int, int], label: str,
                    limits: tuple[float, float] | None) -> None:
        """Show SHOWN with contrast LIMITS (None: keep the current style)."""
        spec = self.spec
        y_dim, x_dim = spec.displayed
        self.image.value_label = label
        style = None if limits is None else (self.colormap.value, *limits, self.log_scale.value)
        self.image.show(shown, steps, Placement.of(self._axes[y_dim], spec.ranges[y_dim], steps[0]),
                        Placement.of(self._axes[x_dim], spec.ranges[x_dim], steps[1]), style=style)

    TABLE_TAB, INFO_TAB = 1, 2

    def _tab_shown(self) -> None:
        if self.tabs.active == self.INFO_TAB and self._array is not None and self.path == self._array.path:
            self._show_array_info()
        self._fill_table()

    def _fill_table(self) -> None:
        """The table follows the view only while its tab is shown: re-rendering a hidden grid on
        every slider move would cost the page time for nothing."""
        if self.tabs.active != self.TABLE_TAB or self._plane is None:
            return
        displayed = self.spec.displayed
        self.table.show(self._plane, [self._axes[d] for d in displayed],
                        offsets=[self.spec.ranges[d][0] for d in displayed], steps=self._read_steps_used)

    def _contrast_limits(self, auto: tuple[float, float] | None = None
                         ) -> tuple[float, float, tuple[float, float]] | None:
        """Contrast slider bounds and value for the shown plane: auto contrast follows robust
        percentiles of the slice (AUTO when already computed); manual keeps the user's limits."""
        if self._plane is None or self._plane.ndim != 2 or self.view_summary["min"] is None:
            return None
        low, high = self.view_summary["min"], self.view_summary["max"]
        high = high if high > low else low + 1
        requested = self._requested.pop("contrast", None)
        if requested is not None:
            value = tuple(requested)
        elif self.auto_contrast.value:
            value = auto or tuple(robust_limits(self._samples))
        else:  # manual limits stay, clipped to this slice's range
            value = tuple(min(max(v, low), high) for v in self.contrast.value)
        return min(low, value[0]), max(high, value[1]), value

    def _apply_limits(self) -> None:
        limits = self._contrast_limits()
        if limits is not None:
            self._set_contrast(*limits)

    def _set_contrast(self, start: float, end: float, value: tuple[float, float]) -> None:
        # bounds and value in one update, so the slider never sees a value outside its bounds
        self.contrast.param.update(start=start, end=end, value=value)
        self._restyle()

    def _restyle(self) -> None:
        low, high = self.contrast.value
        self.image.style(self.colormap.value, low, high, self.log_scale.value)
        self._update_url()

    # -------------------------------------------------------------- JS API
    def _update_url(self) -> None:
        query = {"store": self.store_url}
        if self.path:
            query["path"] = self.path
        if self.spec is not None and self.spec.shape:
            query["select"] = self.spec.text()
        if self.colormap.value != "viridis":
            query["cmap"] = self.colormap.value
        if not self.auto_contrast.value:
            query["clim"] = ",".join(format_value(v) for v in self.contrast.value)
        self.url_query = urlencode(query, safe="/:,") if self.store_url else ""

    def state(self) -> dict:
        """Plain description of what is shown (the page's ``zarrExplorer.state()``)."""
        arr = self._array
        node = self._tree.nodes.get(self.path) if self.path is not None else None
        return {
            "status": self.status, "store": self.store_url, "path": self.path,
            "kind": node.kind if node else None,
            "shape": list(arr.shape) if arr is not None and node and node.kind == "array" else None,
            "dtype": arr.dtype.str if arr is not None and node and node.kind == "array" else None,
            "selection": self.spec.text() if self.spec is not None else None,
            "view": self.view_summary, "error": self.error or None,
            "timings": self.timings,  # of the last view: read (fetch + decode) and Python-side render
        }


def create_explorer(store: str | None = None, path: str | None = None, **view) -> Explorer:
    explorer = Explorer(store, path, **view)
    if store:
        pn.state.onload(lambda: explorer.open(store))
    return explorer
