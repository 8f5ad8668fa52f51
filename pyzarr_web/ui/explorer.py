"""The explorer: a tree of the store on the left, the selected node's info and data on the right.

State lives in parameters (store URL, selected path, displayed dimensions, slider indices, colormap,
contrast); views are derived from them. Every read runs as one asyncio task: starting a new one
cancels the previous, so dragging a slider never queues a backlog of stale reads.
"""

from __future__ import annotations

import asyncio
import html

import numpy as np
import panel as pn
import param

from pyzarr_web.core import Hierarchy, ZarrError, open_store
from pyzarr_web.ui import info
from pyzarr_web.ui.plots import COLORMAPS, ImagePlot, LinePlot
from pyzarr_web.ui.slicing import ViewSelection, line_selection, plane_selection
from pyzarr_web.ui.values import is_numeric, robust_limits, summarise, to_float

MAX_POINTS_PER_AXIS = 1024  # a displayed plane is strided down to at most this many samples per axis
READ_BUDGET_BYTES = 256 * 2**20

STYLESHEET = """
:host { --pzw-accent: #2b6cb0; }
.pzw-info table { border-collapse: collapse; font-size: 13px; }
.pzw-info th { text-align: left; padding: 2px 12px 2px 0; color: #555; font-weight: 600; white-space: nowrap; }
.pzw-info td { padding: 2px 0; font-family: ui-monospace, monospace; word-break: break-all; }
.pzw-info h3 { margin: 0 0 6px 0; font-size: 15px; }
.pzw-error { color: #9b1c1c; background: #fdecec; border: 1px solid #f5c2c2; border-radius: 4px;
             padding: 6px 10px; font-size: 13px; white-space: pre-wrap; }
.pzw-status { color: #555; font-size: 12px; }
"""


def _escaped(text: str, css_class: str) -> str:
    return f'<div class="{css_class}">{html.escape(text)}</div>' if text else ""


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ZarrError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Explorer(param.Parameterized):
    store_url = param.String(default="", doc="URL of the store being explored.")
    path = param.String(default=None, allow_None=True, doc="Selected node path ('' is the root).")
    status = param.Selector(default="idle", objects=["idle", "loading", "error"])
    error = param.String(default="", doc="Last error, shown next to the part that failed.")

    def __init__(self, store_url: str | None = None, path: str | None = None) -> None:
        super().__init__()
        self._initial_path = path
        self._hierarchy: Hierarchy | None = None
        self._nodes: dict[str, object] = {}
        self._array = None
        self._task: asyncio.Task | None = None
        self.view_summary: dict | None = None
        self.view_selection: ViewSelection | None = None
        self._limits = (0.0, 1.0)

        self.url_input = pn.widgets.TextInput(
            label="Store URL", value=store_url or "", placeholder="https://example.org/data.zarr",
            sizing_mode="stretch_width")
        self.open_button = pn.widgets.Button(label="Open", button_type="primary", width=80, align="end")
        self.filter_input = pn.widgets.TextInput(placeholder="Filter by name", sizing_mode="stretch_width")
        self.tree = pn.widgets.Select(label="Hierarchy", options={}, size=22, sizing_mode="stretch_width",
                                      css_classes=["pzw-tree"])
        self.tree_error = pn.pane.HTML("", sizing_mode="stretch_width")
        self.info_pane = pn.pane.HTML("", sizing_mode="stretch_width")
        self.attrs_pane = pn.pane.JSON({}, depth=2, name="Attributes", sizing_mode="stretch_width")
        self.view_error = pn.pane.HTML("", sizing_mode="stretch_width")
        self.y_dim = pn.widgets.Select(label="Rows (y)", options={}, width=150)
        self.x_dim = pn.widgets.Select(label="Columns (x)", options={}, width=150)
        self.colormap = pn.widgets.Select(label="Colormap", options=list(COLORMAPS), value="viridis", width=120)
        self.log_scale = pn.widgets.Checkbox(label="Log scale", align="end")
        self.sliders = pn.Column(sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width",
                                               height=8)
        self.status_text = pn.pane.HTML("", sizing_mode="stretch_width")
        self.image = ImagePlot()
        self.line = LinePlot()
        self.plot_area = pn.Column(sizing_mode="stretch_both", min_height=420)

        self.open_button.on_click(lambda _event: self.open(self.url_input.value))
        self.url_input.param.watch(lambda _event: self.open(self.url_input.value), "enter_pressed")
        self.filter_input.param.watch(lambda _event: self._fill_tree(), "value_input")
        self.tree.param.watch(lambda event: self.select(event.new), "value")
        for widget in (self.y_dim, self.x_dim):
            widget.param.watch(lambda _event: self._displayed_dimensions_changed(), "value")
        for widget in (self.colormap, self.log_scale):
            widget.param.watch(lambda _event: self._restyle(), "value")

    # ----------------------------------------------------------------- layout
    def panel(self) -> pn.viewable.Viewable:
        header = pn.Row(
            pn.pane.HTML("<b style='font-size:18px'>pyzarr-web</b>", width=130, align="center"),
            self.url_input, self.open_button, sizing_mode="stretch_width",
        )
        sidebar = pn.Column(self.filter_input, self.tree, self.tree_error, width=340)
        controls = pn.Row(self.y_dim, self.x_dim, self.colormap, self.log_scale)
        main = pn.Column(
            self.info_pane,
            pn.Card(self.attrs_pane, title="Attributes", collapsed=False, sizing_mode="stretch_width"),
            self.view_error, controls, self.sliders, self.progress, self.status_text, self.plot_area,
            sizing_mode="stretch_both",
        )
        return pn.Column(header, pn.Row(sidebar, main, sizing_mode="stretch_both"),
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
        except Exception as exc:  # shown in the UI; the app keeps working
            self.error = _error_text(exc)
            self.status = "error"
            return
        self.error = ""
        self.status = "idle"

    async def when_idle(self) -> None:
        """Wait until no read is running (used by tests and the page's JS API)."""
        while self._task is not None and not self._task.done():
            try:
                await asyncio.shield(self._task)
            except asyncio.CancelledError:
                if self._task.cancelled() or not self._task.done():
                    continue
                raise

    # ------------------------------------------------------------------ store
    def open(self, url: str) -> asyncio.Task:
        return self._run(lambda: self._open(url.strip()))

    async def _open(self, url: str) -> None:
        self.store_url = url
        self.url_input.value = url
        self._nodes, self._hierarchy, self._array = {}, None, None
        self.tree.options = {}
        self._show_tree_error("")
        self.info_pane.object, self.attrs_pane.object, self.plot_area.objects = "", {}, []
        if not url:
            return
        try:
            self._hierarchy = await Hierarchy.open(open_store(url))
            nodes = await self._hierarchy.walk()
        except Exception as exc:
            self._show_tree_error(f"Could not open {url}: {_error_text(exc)}")
            raise
        self._nodes = {node.path: node for node in nodes}
        self._fill_tree()
        target = self._initial_path if self._initial_path in self._nodes else ""
        self._initial_path = None
        await self._select(target)

    def _show_tree_error(self, text: str) -> None:
        self.tree_error.object = _escaped(text, "pzw-error")

    def _fill_tree(self) -> None:
        needle = self.filter_input.value_input.lower() if self.filter_input.value_input else ""
        options = {}
        for node_path, node in self._nodes.items():
            if needle and needle not in node_path.lower():
                continue
            options[self._tree_label(node)] = node_path
        self.tree.options = options
        if self.path in options.values():
            self.tree.value = self.path

    @staticmethod
    def _tree_label(node) -> str:
        depth = node.path.count("/") + 1 if node.path else 0
        indent = "\u00a0\u00a0\u00a0" * depth
        if node.kind == "group":
            return f"{indent}▸ {node.name or '/'}"
        shape = "×".join(str(n) for n in node.metadata.shape) if node.metadata.shape else "scalar"
        return f"{indent}▦ {node.name}  ({shape}, {node.metadata.dtype})"

    # ------------------------------------------------------------- selection
    def select(self, node_path: str | None) -> asyncio.Task | None:
        if node_path is None or node_path == self.path and self._task is not None:
            return None
        return self._run(lambda: self._select(node_path))

    async def _select(self, node_path: str) -> None:
        node = self._nodes.get(node_path) or await self._hierarchy.node(node_path)
        self.path = node_path
        if self.tree.value != node_path:
            self.tree.value = node_path
        self.attrs_pane.object = dict(node.attributes)
        self.view_error.object = ""
        self.view_summary = None
        if node.kind == "group":
            self._array = None
            members = [p for p in self._nodes if p != node_path and p.startswith(node_path)]
            self.info_pane.object = info.rows_html(f"Group /{node_path}", info.group_rows(node, len(members)))
            self.plot_area.objects, self.sliders.objects = [], []
            self.y_dim.options, self.x_dim.options = {}, {}
            return
        self._array = await self._hierarchy.array(node_path)
        self.info_pane.object = info.rows_html(f"Array /{node_path}", info.array_rows(self._array))
        self._configure_dimensions()
        await self._load_view()

    def _dimension_label(self, dim: int) -> str:
        names = self._array.dimension_names
        name = names[dim] if names and names[dim] else f"dim_{dim}"
        return f"{name} ({self._array.shape[dim]})"

    def _configure_dimensions(self) -> None:
        """Reset the displayed-dimension pickers and sliders for the newly selected array."""
        ndim = len(self._array.shape)
        options = {self._dimension_label(d): d for d in range(ndim)}
        with param.parameterized.discard_events(self.y_dim), param.parameterized.discard_events(self.x_dim):
            self.y_dim.options = options
            self.x_dim.options = options
            self.y_dim.value = ndim - 2 if ndim >= 2 else (0 if ndim else None)
            self.x_dim.value = ndim - 1 if ndim >= 2 else None
        self.y_dim.visible = ndim >= 1
        self.x_dim.visible = ndim >= 2
        self._rebuild_sliders()

    def _rebuild_sliders(self) -> None:
        shown = {self.y_dim.value, self.x_dim.value}
        sliders = []
        for dim, length in enumerate(self._array.shape):
            if dim in shown:
                continue
            slider = pn.widgets.IntSlider(label=self._dimension_label(dim), start=0, end=max(length - 1, 0),
                                          value=0, sizing_mode="stretch_width", disabled=length <= 1)
            slider.dim = dim
            slider.param.watch(lambda _event: self._refresh_view(), "value")
            sliders.append(slider)
        self.sliders.objects = sliders

    def _indices(self) -> dict[int, int]:
        return {slider.dim: slider.value for slider in self.sliders.objects}

    # ------------------------------------------------------------------ views
    def _displayed_dimensions_changed(self) -> None:
        if self._array is not None:
            self._rebuild_sliders()
            self._refresh_view()

    def _refresh_view(self) -> None:
        if self._array is not None:
            self._run(self._load_view)

    def _view_selection(self) -> ViewSelection | None:
        shape = self._array.shape
        if len(shape) == 0:
            return None
        if len(shape) == 1:
            return line_selection(shape, 0, {}, MAX_POINTS_PER_AXIS * 4)
        if self.y_dim.value == self.x_dim.value:
            raise ValueError("Pick two different dimensions for rows and columns.")
        return plane_selection(shape, self.y_dim.value, self.x_dim.value, self._indices(), MAX_POINTS_PER_AXIS)

    def _report_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)
        self.status_text.object = _escaped(f"Reading chunks {done}/{total}", "pzw-status")

    async def _load_view(self) -> None:
        arr = self._array
        try:
            selection = self._view_selection()
            self.progress.visible = True
            data = await arr.read(selection.selection if selection else (), progress=self._report_progress,
                                  budget_bytes=READ_BUDGET_BYTES)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.view_error.object = _escaped(f"Could not read /{arr.path}: {_error_text(exc)}", "pzw-error")
            self.progress.visible = False
            raise
        finally:
            self.progress.visible = False
        self.view_error.object = ""
        self.view_selection = selection
        self._render(np.asarray(data), selection)

    def _render(self, data: np.ndarray, selection: ViewSelection | None) -> None:
        if selection is None or not is_numeric(data.dtype):
            self.plot_area.objects = [pn.pane.Str(repr(data.tolist() if data.ndim == 0 else data),
                                                  sizing_mode="stretch_width")]
            self.view_summary = None
            self.status_text.object = ""
            return
        values = to_float(data)
        self.view_summary = summarise(values).as_dict() | {"downsampled": selection.downsampled}
        note = " (downsampled for display: every " + "×".join(map(str, selection.steps)) + " samples)" \
            if selection.downsampled else ""
        self.status_text.object = _escaped(f"Showing [{selection.as_text()}]{note}", "pzw-status")
        if values.ndim == 1:
            step = selection.steps[0]
            self.line.show(np.arange(values.size) * step, values, self._dimension_label(0))
            self.plot_area.objects = [pn.pane.Bokeh(self.line.figure, sizing_mode="stretch_both")]
            return
        plane = values.T if selection.transpose else values
        y_dim, x_dim = self.y_dim.value, self.x_dim.value
        self.image.show(plane, self._array.shape[y_dim], self._array.shape[x_dim],
                        self._dimension_label(y_dim), self._dimension_label(x_dim))
        self._limits = robust_limits(plane)
        self._restyle()
        if not self.plot_area.objects or self.plot_area.objects[0].object is not self.image.figure:
            self.plot_area.objects = [pn.pane.Bokeh(self.image.figure, sizing_mode="stretch_both")]

    def _restyle(self) -> None:
        low, high = self._limits
        self.image.style(self.colormap.value, low, high, self.log_scale.value)


def create_explorer(store: str | None = None, path: str | None = None) -> Explorer:
    explorer = Explorer(store, path)
    if store:
        pn.state.onload(lambda: explorer.open(store))
    return explorer
