"""The explorer: a tree of the store on the left, the selected node's summary and data on the right.

What is shown is the :class:`~pyzarr_web.ui.viewer.Viewer`'s parameters; widgets write them, and
every view is derived from them. A change of store, node or selection starts one load
(:class:`~pyzarr_web.ui.loader.Loader`) that brings the views to the wanted state step by step —
open the store, select the node, read the plane — skipping the steps already done, and writes the
canonical form of what it settled on back to the Viewer (e.g. the default selection of an array).
A change of style (colormap, contrast, log scale) only restyles the image.
"""

from __future__ import annotations

import asyncio
import html
import math
import time

import numpy as np
import panel as pn
import param

from pyzarr_web.core import Hierarchy, NodeNotFoundError, ZarrError, raw_store, store_kind, wrap
from pyzarr_web.core.catalogs import is_catalog, location
from pyzarr_web.core.codecs.warmup import codec_ids, warm_later
from pyzarr_web.core.hierarchy import LISTED_BY
from pyzarr_web.core.links import inner_path, node_links
from pyzarr_web.core.store import base_store
from pyzarr_web.core.stores.cloud import is_cloud_url
from pyzarr_web.core.wrappers import TrafficCounter
from pyzarr_web.ui import info, urlstate
from pyzarr_web.ui.channels import (
    MAX_COMPOSITE_CHANNELS,
    ChannelStyle,
    channel_dim,
    composite,
    default_styles,
    label_rgba,
)
from pyzarr_web.ui.coords import Axis, cf_decode, dimension_names, format_value, read_axes
from pyzarr_web.ui.frames import Frame, frames_for
from pyzarr_web.ui.loader import FULL_READ_BYTES, MAX_DISPLAY_POINTS, Loader, ProgressThrottle, read_strides
from pyzarr_web.ui.localopen import LocalOpener
from pyzarr_web.ui.plots import Histogram, ImagePlot, LinePlot, Placement
from pyzarr_web.ui.pyramid import Pyramid, open_labels, open_pyramid, single
from pyzarr_web.ui.slicing import ViewSpec, stride_for
from pyzarr_web.ui.stac import LinkButtons, StacTree, link_label
from pyzarr_web.ui.table import ValueTable
from pyzarr_web.ui.tiles import TileCache, TilePlan, Viewport, clamp_viewport, plan
from pyzarr_web.ui.tree import TreeModel
from pyzarr_web.ui.treeview import TreeView
from pyzarr_web.ui.values import is_numeric, robust_limits, sample, summarise, to_float
from pyzarr_web.ui.viewer import TABS, Viewer

STYLESHEET = """
.pzw-info table { border-collapse: collapse; font-size: 13px; }
.pzw-info th { text-align: left; padding: 2px 14px 2px 0; color: #555; font-weight: 600; white-space: nowrap;
               vertical-align: top; }
.pzw-info td { padding: 2px 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
.pzw-info h3 { margin: 0 0 6px 0; font-size: 15px; }
.pzw-error { color: #9b1c1c; background: #fdecec; border: 1px solid #f5c2c2; border-radius: 4px;
             padding: 6px 10px; font-size: 13px; white-space: pre-wrap; }
.pzw-status { color: #555; font-size: 12px; }
.pzw-empty { color: #555; font-size: 14px; padding: 24px 8px; max-width: 640px; }
.pzw-summary { font-size: 13px; white-space: pre-wrap; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.pzw-stats { font-size: 13px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
"""
# Below 760 px (phone-width embeds) the sidebar stacks above the view, as wide as the page,
# and the header drops its title so the URL box and Open button keep their room.
_NARROW = "@media (max-width: 760px) {{ :host {{ {} }} }}"
_NARROW_FIT = _NARROW.format("min-width: 0 !important;")  # Bokeh sums fixed-width children into min-width
_NARROW_BODY = _NARROW.format("flex-direction: column !important; flex-wrap: nowrap !important; "
                              "min-width: 0 !important;")
_NARROW_SIDEBAR = _NARROW.format("width: auto !important; height: auto !important; flex: 0 0 auto !important;")
_NARROW_HIDDEN = _NARROW.format("display: none !important;")
_NARROW_SHRINK = _NARROW.format("min-width: 0 !important; width: auto !important; flex: 1 1 0 !important;")
_WRAP = ":host { flex-wrap: wrap !important; }"
SIDEBAR_WIDTH = 300
SIDE_PANEL_WIDTH = 290  # display controls, statistics and histogram, right of the plot
TILE_CACHE_BYTES = 128 * 2**20  # decoded deep-zoom tiles kept, all levels together
#: most chunks a strided overview of a zoomed-out single-level image reads before refusing
OVERVIEW_MAX_CHUNKS = 4096
OVERVIEW_DRAW_S = 0.5  # an overview in progress is redrawn this often

_SHOWN, _HIDDEN = {"visibility": "visible"}, {"visibility": "hidden"}
_WANTED = ("store", "ref", "path", "selection", "displayed", "level", "viewport", "composite", "channels",
           "labels")
_TAB_INDEX = {name: index for index, name in enumerate(TABS)}
_EMPTY_STORE = ("Enter the URL of a Zarr store (the folder that holds zarr.json, .zgroup or .zmetadata) "
                "above and press Open. Stores on other sites must send CORS headers. A store on your own "
                "disk opens with Open folder… or Open file… (a .zip or .ozx), or dropped on this page: "
                "it is read here, nothing is uploaded.")


def _short(number: float) -> str:
    return f"{number:.3g}"


def _escaped(text: str, css_class: str) -> str:
    """Text inside a styled div; escaping makes store content inert, never markup."""
    return f'<div class="{css_class}">{html.escape(text)}</div>' if text else ""


def _text_pane(text: str = "") -> pn.pane.HTML:
    """A pane for our escaped HTML; the stylesheet goes with it, as each pane is its own shadow DOM."""
    return pn.pane.HTML(text, sizing_mode="stretch_width", stylesheets=[STYLESHEET])


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


def _error_html(prefix: str, exc: BaseException, hint: str | None = None) -> str:
    hint = _hint(exc) if hint is None else hint
    return _escaped(f"{prefix}: {_error_text(exc)}" + (f"\n{hint}" if hint else ""), "pzw-error")


class Explorer(param.Parameterized):
    status = param.Selector(default="idle", objects=["idle", "loading", "error"])
    error = param.String(default="", doc="Last error, also shown next to the part that failed.")
    url_query = param.String(default="", doc="Query string that reopens this view (?store=…&path=…).")

    def __init__(self, viewer: Viewer | None = None) -> None:
        super().__init__()
        self.viewer = viewer or Viewer()
        self.loader = Loader()
        # what is loaded now; the load brings it to what the viewer asks for
        self._target: tuple | None = None  # the (store, path, selection, displayed) being loaded
        self._store_open: tuple | None = None  # (URL, version) whose hierarchy is open (None: none tried yet)
        self._hierarchy: Hierarchy | None = None
        self._tree = TreeModel([])
        self._node = None  # the selected Node
        self._array = None
        self._axes: list[Axis] = []
        self.spec: ViewSpec | None = None
        self._plane: np.ndarray | None = None  # the decoded slice shown
        self._plane_steps: tuple[int, ...] = ()  # array samples per shown sample, per displayed axis
        self._stored_bytes: int | None = None
        self._chunk_files: dict[str, tuple[int, int]] | None = None  # a virtual array's files: (chunks, bytes)
        self._side_work: dict[str, asyncio.Task] = {}  # see _beside
        self._pyramid: Pyramid | None = None  # the selected multiscale group's levels
        self._tiles = TileCache(TILE_CACHE_BYTES)
        self._traffic: TrafficCounter | None = None  # requests and bytes reaching the network
        self._drawn: tuple | None = None  # (plane key, level, viewport) of the zoomable view shown
        self._shown_level: str | None = None  # path of the array the image comes from
        self._viewport_shown: Viewport | None = None
        self._plane_offsets: tuple[float, ...] = ()  # full-resolution index of the plane's first sample
        self._frames: tuple[Frame, Frame] | None = None  # world axes of the zoomable image drawn
        self._styles: list[ChannelStyle] | None = None  # channels of the composite drawn (None: no composite)
        self._windows: dict[str, tuple[float, float]] = {}  # the window each composited channel was drawn with
        self._channel_planes: list[np.ndarray] | None = None  # each active channel's plane, for the composite
        self._label_pyramids: dict[str, Pyramid] = {}  # the OME label images of the selected image
        self._label_plane: np.ndarray | None = None  # the overlaid label image, on the plane's grid
        self._label_read: TilePlan | None = None  # the label tiles the view being read includes
        self._samples = np.zeros(0)  # of the displayed plane, for contrast and histogram
        self.view_summary: dict | None = None
        self.timings: dict | None = None
        self._last_move: tuple[int, int] | None = None  # (dimension, direction) of the last slider move
        self._slider_dims: list[int] = []  # the array dimension each slider moves
        self._stac: StacTree | None = None  # the STAC catalog shown in the tree, if the store is one
        self._stac_tasks: set[asyncio.Task] = set()  # documents being read for expanded tree nodes
        self._opened_from: tuple[str, str, str] | None = None  # (asset URL, catalog URL, tree path)
        self._build_widgets()
        self._layout = self._build_layout()
        self.viewer.param.watch(self._wanted_changed, list(_WANTED))
        self.viewer.param.watch(self._show_style, ["colormap", "auto_contrast", "clim", "log_scale"])
        self.viewer.param.watch(lambda _e: self._redraw(), "complex_part")
        self.viewer.param.watch(lambda _e: self._show_tab(), "tab")
        self.viewer.param.watch(lambda _e: self._show_controls(), "controls")
        self._show_controls()
        self.viewer.param.watch(lambda *_events: self._update_url(), [p for p in Viewer.param if p != "name"])

    # ---------------------------------------------------------------- widgets
    def _build_widgets(self) -> None:
        v = self.viewer
        self.url_input = pn.widgets.TextInput(value=v.store, placeholder="https://example.org/data.zarr",
                                              sizing_mode="stretch_width", min_width=160,
                                              stylesheets=[_NARROW_SHRINK])
        self.open_button = pn.widgets.Button(label="Open", color="primary", width=70)
        self.local_opener = LocalOpener(width=220, height=34, stylesheets=[_NARROW_HIDDEN])
        self.sidebar_toggle = pn.widgets.Toggle(label="☰ Tree", value=True, width=80)
        self.tree = TreeView(height=480, sizing_mode="stretch_width")
        self.tree_error = _text_pane()
        self.back_links = LinkButtons(self._back_to_catalog)  # the STAC catalog a store came from
        self.store_links = LinkButtons(self._follow_link)  # a group's links to other nodes
        # an Icechunk repository's branches, tags and snapshots (its history, newest first)
        self.version_select = pn.widgets.Select(label="Version", options={}, sizing_mode="stretch_width",
                                                visible=False)
        self.empty_pane = _text_pane(_escaped(_EMPTY_STORE, "pzw-empty"))
        self.group_pane = _text_pane()
        self.info_pane = _text_pane()
        self.attrs_pane = pn.pane.JSON({}, depth=2, sizing_mode="stretch_width")
        self.view_error = _text_pane()
        self.retry_button = pn.widgets.Button(label="Retry", width=80, visible=False)
        self.selection_input = pn.widgets.TextInput(label="Selection", width=180)
        self.y_dim = pn.widgets.Select(label="Rows (y)", options={}, width=150)
        self.x_dim = pn.widgets.Select(label="Columns (x)", options={}, width=150)
        self.colormap = pn.widgets.Select.from_param(v.param.colormap, label="Colormap", width=120)
        self.log_scale = pn.widgets.Checkbox.from_param(v.param.log_scale, label="Log scale")
        self.auto_contrast = pn.widgets.Checkbox.from_param(v.param.auto_contrast, label="Auto contrast")
        # a plain RangeSlider: EditableRangeSlider's own JS callbacks clamp each input against the
        # other's stale value, which corrupted limits restored from ?clim= (seen in Chromium)
        self.contrast = pn.widgets.RangeSlider(label="Contrast", start=0.0, end=1.0, value=(0.0, 1.0),
                                               step=0.001, width=SIDE_PANEL_WIDTH - 20, format="0[.]000")
        self.complex_part = pn.widgets.Select.from_param(v.param.complex_part, label="Complex as", width=120)
        self.labels_select = pn.widgets.Select(label="Labels", options={"none": ""}, value="", width=140,
                                               visible=False)
        self.level_select = pn.widgets.Select(label="Level", options={"auto": "auto"}, value="auto", width=240,
                                              visible=False)
        self.fit_button = pn.widgets.Button(label="Fit", width=60, visible=False, align="end")
        self.stop_button = pn.widgets.Button(label="Stop", width=60, styles=_HIDDEN)
        self.composite_toggle = pn.widgets.Checkbox.from_param(v.param.composite, label="Colour composite")
        self.channel_rows = pn.Column(sizing_mode="stretch_width")  # one row of controls per channel
        self.channel_panel = pn.Column(self.composite_toggle, self.channel_rows, width=SIDE_PANEL_WIDTH,
                                       visible=False)
        self.sliders = pn.Column(sizing_mode="stretch_width")
        # shown and hidden through its style, not `visible`: that would make the page lay out
        # everything again (~100 ms a toggle), and the bar's row stays put
        self.progress = pn.indicators.Progress(value=0, max=1, sizing_mode="stretch_width", height=8,
                                               styles=_HIDDEN)
        self.status_text = _text_pane()
        self.stats_pane = _text_pane()
        self.image = ImagePlot()
        self.line = LinePlot()
        self.histogram = Histogram()
        self.table = ValueTable()
        self.plot_area = pn.Column(sizing_mode="stretch_both", min_height=420, min_width=320)
        self.scalar_pane = _text_pane()

        self.open_button.on_click(lambda _event: self.open(self.url_input.value))
        self.local_opener.param.watch(lambda event: self.open(event.new), "opened")
        self.local_opener.param.watch(
            lambda event: setattr(self.tree_error, "object", _escaped(event.new, "pzw-error")), "status")
        self.retry_button.on_click(lambda _event: self.retry())
        self.fit_button.on_click(lambda _event: self.fit())
        self.stop_button.on_click(lambda _event: self.stop())
        self.level_select.param.watch(lambda event: setattr(self.viewer, "level", event.new), "value")
        self.labels_select.param.watch(lambda event: setattr(self.viewer, "labels", event.new), "value")
        self.version_select.param.watch(self._version_picked, "value")
        self.viewer.param.watch(lambda event: setattr(self.level_select, "value", event.new)
                                if event.new in self.level_select.options.values() else None, "level")
        self.url_input.param.watch(lambda _event: self.open(self.url_input.value), "enter_pressed")
        self.tree.param.watch(lambda event: self.select(event.new), "selected")
        self.tree.param.watch(self._stac_expanded, "expanded")
        self.selection_input.param.watch(lambda event: self.set_selection(event.new), "enter_pressed")
        for axis, widget in enumerate((self.y_dim, self.x_dim)):
            widget.param.watch(lambda event, axis=axis: self._pick_displayed(axis, event.new), "value")
        self.contrast.param.watch(self._contrast_moved, "value")
        self.image.on_view = self._panned
        # dynamic: only the shown tab has models on the page (fewer to build and send at startup)
        self.tabs = pn.Tabs(sizing_mode="stretch_both", dynamic=True, stylesheets=[_NARROW_FIT])  # filled by panel()
        self.tabs.param.watch(lambda event: setattr(self.viewer, "tab", TABS[event.new]), "active")

    def _build_layout(self) -> pn.viewable.Viewable:
        self._header = header = pn.Row(
            pn.pane.HTML("<b style='font-size:18px;white-space:nowrap'>pyzarr-web</b>", width=110,
                         align="center", stylesheets=[_NARROW_HIDDEN]),
            self.sidebar_toggle, self.url_input, self.open_button, self.local_opener, sizing_mode="stretch_width",
            stylesheets=[_NARROW_FIT])
        self._sidebar = sidebar = pn.Column(self.version_select, self.back_links, self.tree, self.tree_error,
                                            width=SIDEBAR_WIDTH, sizing_mode="stretch_height",
                                            visible=self.sidebar_toggle.param.value, stylesheets=[_NARROW_SIDEBAR])
        self.array_controls = pn.Row(self.selection_input, self.y_dim, self.x_dim, self.complex_part,
                                     sizing_mode="stretch_width", stylesheets=[_WRAP, _NARROW_FIT])
        # a row of its own: Bokeh sizes a row by all its widgets, and one row of both is too wide at 1024 px
        self.zoom_controls = pn.Row(self.level_select, self.labels_select, self.fit_button, visible=False,
                                    sizing_mode="stretch_width", stylesheets=[_WRAP, _NARROW_FIT])
        self.display_controls = pn.Column(self.colormap, pn.Row(self.auto_contrast, self.log_scale),
                                          self.contrast, width=SIDE_PANEL_WIDTH)
        self.side_panel = pn.Column(self.channel_panel, self.display_controls, self.stats_pane, self.histogram.figure,
                                    width=SIDE_PANEL_WIDTH, visible=False)
        self.side_panel_shown = pn.Column(self.side_panel, margin=0)  # hidden in a figure-only embed
        self.data_controls = pn.Column(self.array_controls, self.zoom_controls, self.sliders,
                                       sizing_mode="stretch_width", stylesheets=[_NARROW_FIT])
        self.data_view = pn.Column(
            self.data_controls,
            pn.Row(self.progress, self.stop_button, sizing_mode="stretch_width"), self.status_text, self.scalar_pane,
            pn.Row(self.plot_area, self.side_panel_shown, sizing_mode="stretch_both", stylesheets=[_WRAP, _NARROW_FIT]),
            sizing_mode="stretch_both", visible=False, stylesheets=[_NARROW_FIT])
        data_tab = pn.Column(self.empty_pane, pn.Row(self.view_error, self.retry_button, sizing_mode="stretch_width"),
                             self.group_pane, self.store_links, self.data_view, name="Data",
                             sizing_mode="stretch_both", stylesheets=[_NARROW_FIT])
        info_tab = pn.Column(self.info_pane, pn.pane.HTML("<h3 style='font-size:15px'>Attributes</h3>"),
                             self.attrs_pane, name="Info", sizing_mode="stretch_width")
        self.tabs.extend([data_tab, ("Table", self.table.panel()), info_tab])
        self.tabs.active = _TAB_INDEX[self.viewer.tab]
        body = pn.Row(sidebar, self.tabs, sizing_mode="stretch_both", stylesheets=[_NARROW_BODY])
        return pn.Column(header, body, sizing_mode="stretch_both", stylesheets=[_NARROW_FIT])

    def panel(self) -> pn.viewable.Viewable:
        return self._layout

    # ------------------------------------------------------------ scheduling
    def _wanted(self, **overrides) -> tuple:
        """The view (store, path, selection, displayed, level, viewport) the viewer asks for, with OVERRIDES."""
        wanted = {name: overrides.get(name, getattr(self.viewer, name)) for name in _WANTED}
        wanted["displayed"] = tuple(wanted["displayed"] or ())
        return tuple(wanted.values())

    def _wanted_changed(self, *_events) -> None:
        if self._wanted() != self._target:  # not what the running load already works towards
            self._start()

    def _start(self) -> asyncio.Task:
        self._target = self._wanted()
        self.status = "loading"  # now, not when the task first runs: the URL waits for the load
        if self._traffic is not None:
            self._traffic.reset()  # state()["io"] counts what this view change costs
        return self.loader.run(self._guarded)

    def _settle_on(self, **canonical) -> None:
        """Write what the load settled on back to the viewer, without starting another load."""
        self._target = self._wanted(**canonical)  # before the update, whose watchers compare with it
        self.viewer.param.update(**canonical)

    async def _guarded(self) -> None:
        try:
            await self._converge()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown in the UI next to what failed; the app keeps working
            self.error = _error_text(exc)
            self.status = "error"
            self.retry_button.visible = True
            return
        self.error = ""
        self.status = "idle"
        self.retry_button.visible = False
        self._update_url()

    async def when_idle(self) -> None:
        """Wait until no load is running (used by tests and the page's JS API)."""
        await self.loader.when_idle()

    async def _converge(self) -> None:
        """Bring the views to the viewer's state, skipping the steps already done."""
        v = self.viewer
        if (v.store, v.ref) != self._store_open:
            await self._open_store(v.store)
        if self._stac is not None:
            await self._select_stac(v.path or "")
            return
        if self._hierarchy is None:
            return
        if self._node is None or self._node.path != (v.path or ""):
            await self._select_node(v.path or "")
        if self._array is None:
            return
        spec = self._wanted_spec()
        if spec != self.spec or self._plane is None:
            self._show_spec(spec)
            await self._load_view()
        elif self._zoomable() is not None and self._drawn != self._view_key():
            await self._load_view()  # the same plane, another part or level of it

    # ------------------------------------------------------------------ store
    def retry(self) -> asyncio.Task:
        """Try the failed step again (a store that did not answer, a chunk that timed out)."""
        if self._hierarchy is None:
            self._store_open = None
        return self._start()

    def open(self, url: str) -> asyncio.Task:
        """Open (or reopen) the store at URL, showing its root."""
        self._store_open = None  # reopening the same URL reads it again
        self.viewer.param.update(store=url.strip(), ref="", path="", selection=None, displayed=None, level="auto",
                                 viewport=None)
        return self._start()

    async def _open_store(self, url: str) -> None:
        self._store_open = url, self.viewer.ref
        try:
            await self._read_store(url)
        except asyncio.CancelledError:  # another view change came first: open it again for that one
            self._store_open = None
            raise

    async def _read_store(self, url: str) -> None:
        self.url_input.value = url
        self._hierarchy, self._node, self._array, self._pyramid = None, None, None, None
        self.loader.forget()
        self._tiles.clear()
        self._tree = TreeModel([])
        self.tree.param.update(nodes=[], selected=None, expanded=[""], filter="")
        self.tree_error.object = ""
        self._clear_node_views()
        self.empty_pane.visible = not url
        self._stac = None
        came_from = self._opened_from if self._opened_from and self._opened_from[0] == url else None
        self.back_links.show([(f"← Back to the STAC catalog ({came_from[1]})", came_from[1])] if came_from else [])
        if not url:
            return
        if await is_catalog(url):
            await self._open_catalog(url)
            return
        try:
            self._traffic = TrafficCounter(raw_store(url, ref=self.viewer.ref or None))
            hierarchy = await Hierarchy.open(wrap(self._traffic))
            path = self.viewer.path
            self._tree = TreeModel(await hierarchy.walk(include=[path] if path else ()))
        except Exception as exc:
            self.tree_error.object = _error_html(f"Could not open {url}", exc)
            raise
        self._hierarchy = hierarchy
        # issue 13: import the store's codecs while the user looks at the tree, not on first read
        warm_later(codec_ids(self._tree.nodes.values()), busy=lambda: self.status == "loading")
        self.tree.nodes = self._tree.rows()
        self.tree_error.object = self._listing_notice()
        self._beside("versions", self._show_versions())  # the history can take many reads

    async def _show_versions(self) -> None:
        """A versioned store's branches, tags and history (newest first) in the version picker."""
        store = base_store(self._hierarchy.store)
        info = store.info()
        self.version_select.visible = info["kind"] == "icechunk"
        if not self.version_select.visible:
            return
        try:
            refs, history = await asyncio.gather(store.refs(), store.history())
        except ZarrError as exc:  # the data still opens; say why there is no picker
            self.version_select.visible = False
            self.tree_error.object += _error_html("Could not read the repository's versions", exc, hint="")
            return
        current = self.viewer.ref or info["ref"]
        # over HTTP a format-1 repository cannot list its refs: offer main and the one open
        refs = {"branches": sorted({*refs["branches"], "main"}), "tags": refs["tags"]}
        if current.startswith("tag:") and current[4:] not in refs["tags"]:
            refs["tags"] = [*refs["tags"], current[4:]]
        elif ":" not in current and current not in refs["branches"]:
            refs["branches"] = [*refs["branches"], current]
        options = {f"branch {b}": b for b in refs["branches"]} | {f"tag {t}": f"tag:{t}" for t in refs["tags"]}
        for entry in history:
            when = str(entry["time"])[:19].replace("T", " ")
            options[f"{entry['id'][:8]}… {when} {entry['message'] or ''}".strip()] = f"snapshot:{entry['id']}"
        options.setdefault(current, current)
        self.version_select.param.update(options=options, value=current)

    def _version_picked(self, event) -> None:
        if event.new and event.new != (self.viewer.ref or base_store(self._hierarchy.store).info()["ref"]):
            self.viewer.ref = event.new

    # ------------------------------------------------------------------- STAC
    async def _open_catalog(self, url: str) -> None:
        """Show the STAC catalog, collection or item at URL in the tree (down to the path asked for)."""
        self._stac = stac = StacTree(location(url))
        try:
            await stac.load("")
        except Exception as exc:
            self.tree_error.object = _error_html(f"Could not open the STAC document {url}", exc, hint="")
            raise
        self.tree_error.object = _escaped("STAC catalog: expand its entries (each is read when opened); "
                                          "selecting a Zarr asset opens that store here.", "pzw-status")
        try:
            await stac.load_path(self.viewer.path or "")
        finally:
            self.tree.nodes = stac.rows()

    async def _select_stac(self, path: str) -> None:
        """Show what the catalog entry at PATH is; a Zarr asset is opened in its place."""
        stac = self._stac
        self._clear_node_views()
        self.data_view.visible = self.side_panel.visible = False
        self.tree.selected = path
        asset = stac.asset(path)
        if asset is not None and asset.zarr:
            self._opened_from = (asset.href, stac.url, path.rpartition("/")[0])
            asyncio.get_running_loop().call_soon(self.open, asset.href)  # once this load has settled
            return
        if not stac.is_document(path) and asset is None:
            exc = NodeNotFoundError(f"{stac.url}: no catalog entry at {path!r}")
            self.view_error.object = _error_html("Could not open the catalog entry", exc, "Pick one in the tree.")
            raise exc
        if stac.is_document(path):
            try:
                await stac.load(path)
            except Exception as exc:
                self.view_error.object = _error_html(f"Could not read {stac.summary(path).splitlines()[0]}", exc, "")
                raise
            finally:
                self.tree.nodes = stac.rows()
        self.group_pane.object = _escaped(stac.summary(path), "pzw-summary")

    def _stac_expanded(self, event) -> None:
        """Read the documents of catalog entries the user expands, each once."""
        stac = self._stac
        for path in set(event.new) - set(event.old or ()):
            if stac is not None and stac.is_document(path) and stac.document(path) is None:
                task = asyncio.ensure_future(self._stac_load(stac, path))
                self._stac_tasks.add(task)
                task.add_done_callback(self._stac_tasks.discard)

    async def _stac_load(self, stac: StacTree, path: str) -> None:
        try:
            await stac.load(path)
        except Exception:  # noted on its row ("unreadable"); selecting it says why
            pass
        if self._stac is stac:
            self.tree.nodes = stac.rows()

    def _back_to_catalog(self, catalog: str) -> None:
        """Reopen the catalog a store came from, at the item that holds it."""
        self._store_open = None
        path = self._opened_from[2] if self._opened_from else ""
        self.viewer.param.update(store=catalog, ref="", path=path, selection=None, displayed=None, level="auto",
                                 viewport=None)

    def _show_store_links(self, node) -> None:
        """A group's links to other stores, as buttons that open them (see core.links)."""
        store = self.viewer.store
        if self._hierarchy is None or base_store(self._hierarchy.store).info()["kind"] != "zarr" or \
                store.startswith("picked://"):
            return
        links, _problems = node_links(location(store), node.path, node.attributes)
        self.store_links.show([(link_label(link), f"stac:{link.href}" if link.rel == "stac" else link.href)
                               for link in links if link.rel != "self"])

    def _follow_link(self, url: str) -> None:
        """Select a linked node of this store; open a linked store in place of this one."""
        inside = inner_path(location(self.viewer.store), url)
        if inside is None:
            self.open(url)
        else:
            self.select(inside)

    def _listing_notice(self) -> str:
        """Say when the tree may miss nodes: without consolidated metadata HTTP cannot list."""
        h = self._hierarchy
        notes = [kind for kind in [store_kind(h.store.info())] if kind]  # issue 9: virtual stores
        read_from = h.store.describe()  # issue 12: the HTTPS URL an s3://, gs://, az:// URL became
        notes += [f"Reading {read_from}"] if is_cloud_url(self.viewer.store) else []
        notes += [f"No consolidated metadata: nodes found by {LISTED_BY[h.discovery]}."
                  ] if h.discovery in LISTED_BY and h.store.may_list else []
        notes += [] if h.complete else [
            "This listing may be incomplete: the store has no consolidated metadata and the server "
            "lists no folders (no bucket listing, no HTML directory listing), so only nodes its metadata "
            "points to were found. Open any other node by adding &path=… to the URL, or consolidate "
            "the store (zarr.consolidate_metadata)."]
        notes += h.problems[:5]
        return _escaped("\n".join(notes), "pzw-status")

    # ------------------------------------------------------------- selection
    def select(self, node_path: str | None) -> asyncio.Task | None:
        """Show node NODE_PATH with its default view."""
        if node_path is None or node_path == self.viewer.path:
            return None
        self._last_move = None
        self.viewer.param.update(path=node_path, selection=None, displayed=None, level="auto", viewport=None)
        return self.loader.current

    def _clear_node_views(self) -> None:
        """Forget the previous node's views. The figure and the sliders stay on the page to be
        reused by the next array (building them again costs the page hundreds of ms); the data
        view is hidden only when there is no array to show (see _show_spec and _select_node)."""
        self.info_pane.object, self.attrs_pane.object, self.group_pane.object = "", {}, ""
        self.view_error.object = self.status_text.object = self.stats_pane.object = self.scalar_pane.object = ""
        self.view_summary, self.spec, self._plane, self._drawn = None, None, None, None
        self._tiles.focus([])
        self._shown_level = self._viewport_shown = None
        self.histogram.clear()
        self.table.show(None, None)
        self.store_links.show([])

    async def _select_node(self, node_path: str) -> None:
        self._node = self._array = self._pyramid = None
        self._label_pyramids = {}
        self._clear_node_views()
        self.tree.selected = node_path
        try:
            node = self._tree.nodes.get(node_path) or await self._hierarchy.node(node_path)
        except Exception as exc:
            hint = "Pick a node in the tree, or check the path." if isinstance(exc, NodeNotFoundError) else None
            self.view_error.object = _error_html(f"Could not open /{node_path}", exc, hint)
            raise
        if node_path not in self._tree.nodes:  # found by path: HTTP could not list it
            self._tree = TreeModel([*self._tree.nodes.values(), node])
            self.tree.nodes = self._tree.rows()
        self.attrs_pane.object = dict(node.attributes)
        pyramid = await open_pyramid(self._hierarchy, self._tree.nodes, node)
        if pyramid is not None:  # one image with a level picker, not a group of arrays
            self._pyramid = pyramid
            is_ome = pyramid.multiscale.convention == "ome-ngff"  # only OME images have label images
            _, self._label_pyramids = await asyncio.gather(
                self._select_array(node, pyramid.levels[0].array),
                open_labels(self._hierarchy, self._tree.nodes, node) if is_ome else asyncio.sleep(0, {}))
            return
        if node.kind == "group":
            self.data_view.visible = self.side_panel.visible = False
            self._node = node
            self._settle_on(selection=None, displayed=None)
            self.info_pane.object = info.rows_html(f"Group /{node_path}", info.group_rows(
                node, self._tree.member_count(node_path)))
            self.group_pane.object = self._group_summary(node_path)
            self._show_store_links(node)
            return
        await self._select_array(node, await self._hierarchy.array(node_path))

    async def _select_array(self, node, array) -> None:
        self._stored_bytes = await array.stored_bytes()
        self._chunk_files = None
        try:
            self._axes = await read_axes(self._hierarchy, self._tree.nodes, array)
        except Exception:  # a broken coordinate must not hide the data: fall back to indices
            self._axes = [Axis(name, n) for name, n in zip(dimension_names(array), array.shape)]
        self._node, self._array = node, array
        self._show_array_info()
        self._beside("chunk files", self._learn_chunk_files(array))  # a manifest read: not before the image

    def _beside(self, what: str, work) -> None:
        """Run WORK (a coroutine) beside the loads rather than before the view it would delay: what
        only a picker or the info view shows. The previous work of the same kind is cancelled."""
        running = self._side_work.get(what)
        if running is not None and not running.done():
            running.cancel()
        self._side_work[what] = asyncio.ensure_future(work)

    async def _learn_chunk_files(self, array) -> None:
        files = await self._where_chunks_live(array)
        if files is not None and self._array is array:
            self._chunk_files = files
            self._show_array_info()

    async def _where_chunks_live(self, array) -> dict[str, tuple[int, int]] | None:
        """For an array of a virtual store (Kerchunk, Icechunk), the files its chunks are read
        from; None for plain stores, or when finding out takes too long (a huge manifest)."""
        store = base_store(self._hierarchy.store)
        if store.info()["kind"] == "zarr":
            return None
        try:
            return await asyncio.wait_for(store.chunk_files(f"{array.path}/" if array.path else ""), 5)
        except (TimeoutError, ZarrError):
            return None

    def _group_summary(self, node_path: str) -> str:
        """What a group holds, in place of data controls."""
        children = self._tree.children.get(node_path, [])
        lines = [f"Group /{node_path}: {len(children)} member(s) listed. Pick one in the tree to see its data."]
        for child in children[:50]:
            node = self._tree.nodes[child]
            meta = node.metadata
            what = f"{'×'.join(map(str, meta.shape)) or 'scalar'} {meta.dtype}" if meta is not None else "group"
            lines.append(f"  {node.name}  ({what})")
        if len(children) > 50:
            lines.append(f"  … and {len(children) - 50} more")
        attrs = len(self._node.attributes) if self._node is not None else 0
        lines.append(f"{attrs} attribute(s): see the Info tab.")
        return _escaped("\n".join(lines), "pzw-summary")

    # ------------------------------------------------------------ view spec
    def _wanted_spec(self) -> ViewSpec:
        """The viewer's selection of the current array; an unreadable one (from a URL) is reported
        and replaced by the default view."""
        v, shape = self.viewer, self._array.shape
        spec = ViewSpec.default(shape)
        if v.selection:
            try:
                spec = ViewSpec.from_text(v.selection, shape)
            except ZarrError as exc:
                self.view_error.object = _error_html("Ignored the selection in the URL", exc)
        if v.displayed and sorted(v.displayed) == sorted(spec.displayed):
            spec = spec.with_displayed(tuple(v.displayed))
        self._settle_on(selection=spec.text() if shape else None, displayed=list(spec.displayed))
        return spec

    def set_selection(self, text: str) -> asyncio.Task | None:
        """Apply selection TEXT (``?select=`` syntax) to the current array, or say why not."""
        if self._array is None:
            return None
        try:
            spec = ViewSpec.from_text(text, self._array.shape, previous=self.spec)
        except ZarrError as exc:
            self.view_error.object = _error_html("Selection not applied", exc)
            self.error, self.status = _error_text(exc), "error"
            return None
        self.viewer.param.update(selection=spec.text(), displayed=list(spec.displayed))
        return self.loader.current

    def _show_spec(self, spec: ViewSpec) -> None:
        """Make the array controls show SPEC, reusing the sliders on the page where there are as many."""
        self.spec = spec
        ndim = len(spec.shape)
        options = {f"{axis.name} ({axis.length})": d for d, axis in enumerate(self._axes)}
        # options and value in one update: a Select given options alone picks a value itself
        self.y_dim.param.update(options=options, value=spec.displayed[0] if ndim >= 2 else None, visible=ndim >= 2)
        self.x_dim.param.update(options=options, value=spec.displayed[-1] if ndim >= 1 else None, visible=ndim >= 1)
        self.selection_input.param.update(value=spec.text(), visible=ndim >= 1)
        self.complex_part.visible = self._array.dtype.kind == "c"
        self._show_levels()
        self._show_channels()
        self.data_view.visible = True
        self._slider_dims = [d for d in range(ndim) if d not in spec.displayed]
        if len(self.sliders.objects) != len(self._slider_dims):
            self.sliders.objects = [self._slider(k) for k in range(len(self._slider_dims))]
        for slider, dim in zip(self.sliders.objects, self._slider_dims):
            axis, index = self._axes[dim], spec.indices[dim]
            # the end first: a value beyond the old end would be refused
            slider.param.update(end=max(axis.length - 1, 1), value=index, label=axis.describe(index),
                                disabled=axis.length <= 1)

    def _show_levels(self) -> None:
        """The level picker and Fit button, for images that pan and zoom."""
        pyramid = self._zoomable()
        self.fit_button.visible = self.zoom_controls.visible = pyramid is not None
        names = list(self._label_pyramids) if pyramid is not None else []
        self.labels_select.param.update(options={"none": "", **{n: n for n in names}}, visible=bool(names),
                                        value=self.viewer.labels if self.viewer.labels in names else "")
        self.level_select.visible = pyramid is not None and len(pyramid.levels) > 1
        if not self.level_select.visible:
            return
        base = f"{self._node.path}/" if self._node.path else ""
        options = {"auto (as sharp as the screen)": "auto"}
        for level in pyramid.levels:
            shape, chunks = level.array.shape, level.array.chunks
            factor = max(level.factors[d] for d in self.spec.displayed)
            options[f"{level.path.removeprefix(base)}: {'×'.join(map(str, shape))}, chunks "
                    f"{'×'.join(map(str, chunks))}, 1:{_short(factor)}"] = level.path
        value = self.viewer.level if self.viewer.level in options.values() else "auto"
        self.level_select.param.update(options=options, value=value)

    def _show_channels(self) -> None:
        """Controls for a composite's channels (on/off, colour, window), bound to viewer.channels."""
        pyramid = self._zoomable()
        dim = channel_dim(pyramid.multiscale, len(self.spec.shape)) if pyramid is not None else None
        self.channel_panel.visible = dim is not None and dim not in self.spec.displayed and bool(
            pyramid.multiscale.channels) and 2 <= self.spec.shape[dim] <= MAX_COMPOSITE_CHANNELS
        styles = self._channel_styles()
        if styles is None:
            self.channel_rows.objects = []
            return
        if [r.name for r in self.channel_rows.objects] != [st.label for st in styles]:
            self.channel_rows.objects = [self._channel_row(i, st) for i, st in enumerate(styles)]
        for row, st in zip(self.channel_rows.objects, styles):
            active, color, window = row.objects
            active.value, color.value = st.active, f"#{st.color}"
            if st.window is not None:
                window.param.update(start=min(window.start, st.window[0]), end=max(window.end, st.window[1]),
                                    value=tuple(st.window))

    def _channel_row(self, index: int, style: ChannelStyle) -> pn.Row:
        top = float(np.iinfo(self._array.dtype).max) if self._array.dtype.kind in "iu" else 1.0
        top = min(top, 65535.0) if style.window is None else max(style.window[1] * 2, 1.0)
        low, high = style.window or (0.0, top)
        widgets = (pn.widgets.Checkbox(label=style.label, value=style.active, width=70),
                   pn.widgets.ColorPicker(value=f"#{style.color}", width=36),
                   pn.widgets.RangeSlider(start=min(0.0, low), end=max(top, high), value=(low, high), width=120,
                                          step=max((top - min(0.0, low)) / 1000, 1e-6), show_value=False))
        for widget in widgets:
            widget.param.watch(lambda _e, i=index: self._channel_edited(i), "value")
        return pn.Row(*widgets, name=style.label, margin=(0, 0))

    def _channel_edited(self, index: int) -> None:
        styles = self._channel_styles()
        if styles is None:
            return
        active, color, window = self.channel_rows.objects[index].objects
        edited = [st.to_json() for st in styles]
        edited[index] |= {"active": active.value, "color": color.value.lstrip("#"), "window": list(window.value)}
        if edited != (self.viewer.channels or [st.to_json() for st in styles]):
            self.viewer.channels = edited

    def _slider(self, k: int) -> pn.widgets.IntSlider:
        """The slider for the K-th hidden dimension (which one is _slider_dims[k])."""
        slider = pn.widgets.IntSlider(start=0, end=1, value=0, sizing_mode="stretch_width")
        slider.param.watch(lambda event: self._slider_moved(self._slider_dims[k], event), "value")
        return slider

    def _slider_moved(self, dim: int, event) -> None:
        if self.spec is None or event.new == self.spec.indices[dim] or self.spec.shape[dim] <= event.new:
            return  # the slider is showing the spec, not asking for another one
        self._last_move = (dim, 1 if event.new >= event.old else -1)
        event.obj.label = self._axes[dim].describe(event.new)
        self.viewer.selection = self.spec.with_index(dim, event.new).text()

    def _pick_displayed(self, axis: int, dim: int | None) -> None:
        """The rows (AXIS 0) or columns (AXIS -1) picker asks for dimension DIM; a dimension already
        shown on the other axis swaps places with this axis's one."""
        spec = self.spec
        if spec is None or dim is None or not spec.displayed:
            return
        displayed = list(spec.displayed)
        axis = axis if len(displayed) == 2 else 0
        if displayed[axis] == dim:
            return  # the picker is showing the spec, not asking for another one
        if dim in displayed:
            displayed[displayed.index(dim)] = displayed[axis]
        displayed[axis] = dim
        self.viewer.param.update(selection=spec.with_displayed(tuple(displayed)).text(), displayed=displayed)

    # ------------------------------------------------------------------ views
    def _report_progress(self, done: int, total: int) -> None:
        total = max(total, 1)
        self.progress.max = total  # before the value, which it bounds
        self.progress.value = min(done, total)
        self._show_progress(True)
        self.status_text.object = _escaped(f"Reading chunks {done}/{total}", "pzw-status")

    def _show_progress(self, shown: bool) -> None:
        styles = _SHOWN if shown else _HIDDEN
        if self.progress.styles != styles:
            self.progress.styles = self.stop_button.styles = styles

    def stop(self) -> None:
        """End a slow read (a zoomed-out overview) and keep what is shown; a new gesture reads again."""
        task = self.loader.current
        if task is None or task.done():
            return
        task.cancel()
        self._target = None  # the same view asked for again is read again
        self._show_progress(False)
        self.status_text.object = _escaped("Stopped. Zoom in to read less, or press Retry.", "pzw-status")
        self.retry_button.visible = True
        self.status = "idle"

    # ------------------------------------------------------------- deep zoom
    def _zoomable(self) -> Pyramid | None:
        """The levels an image view pans and zooms over: a multiscale's, or a single array's
        whose plane is too big to read whole. None for every other view (read as one plane)."""
        spec = self.spec
        if spec is None or len(spec.displayed) != 2:
            return None
        if self._pyramid is not None:
            return self._pyramid
        plane_bytes = math.prod(spec.shape[d] for d in spec.displayed) * self._array.dtype.itemsize
        return single(self._array) if plane_bytes > FULL_READ_BYTES else None

    def _view_key(self) -> tuple:
        v = self.viewer
        return self.spec, v.level, v.viewport, v.composite, repr(v.channels), v.labels

    def _default_viewport(self, pyramid: Pyramid, height: int, width: int) -> Viewport:
        """The whole image when some level shows it within the tile budget; else (a huge single
        array) the first screenful at full resolution, which reads only the chunks in it."""
        if len(pyramid.levels) > 1:
            return 0.0, float(width), 0.0, float(height)
        return 0.0, float(min(width, MAX_DISPLAY_POINTS)), 0.0, float(min(height, MAX_DISPLAY_POINTS))

    def _panned(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """A pan or zoom gesture ended: a zoomable view reads what is now on screen."""
        if self._viewport_shown is not None:
            fy, fx = self._frames
            self.viewer.viewport = (*fx.indices(x0, x1), *fy.indices(y0, y1))

    def fit(self) -> None:
        """Show the whole image (the default viewport)."""
        self.viewer.viewport = None

    def _level_for(self, pyramid: Pyramid, dims: tuple[int, int], viewport: Viewport) -> int:
        wanted = self.viewer.level
        if wanted != "auto":
            found = pyramid.find(wanted)
            if found is not None:
                return found
            self.view_error.object = _escaped(f"No level {wanted!r} in this image; showing the automatic level. "
                                              f"Levels: {', '.join(pyramid.paths)}", "pzw-error")
        x0, x1, y0, y1 = viewport
        return pyramid.auto_level(dims, (y1 - y0, x1 - x0), MAX_DISPLAY_POINTS)

    def _channel_styles(self) -> list[ChannelStyle] | None:
        """Every channel's style when the view is an additive composite of them, else None."""
        pyramid, spec = self._zoomable(), self.spec
        ms = pyramid.multiscale if pyramid is not None else None
        dim = channel_dim(ms, len(spec.shape)) if ms is not None else None
        if dim is None or dim in spec.displayed or not self.viewer.composite or not ms.channels:
            return None
        count = spec.shape[dim]
        if not 2 <= count <= MAX_COMPOSITE_CHANNELS:
            return None
        defaults = default_styles(ms, count)
        edited = self.viewer.channels or []
        return [ChannelStyle.from_json(e, d) if isinstance(e, dict) else d
                for e, d in zip(edited + [None] * count, defaults)]

    def _plane_indices(self, styles: list[ChannelStyle] | None) -> list[tuple[int, ...]]:
        """The full-resolution indices of each plane drawn: the view's one, or each active channel's."""
        indices = self.spec.indices
        if styles is None:
            return [indices]
        dim = channel_dim(self._pyramid.multiscale, len(indices))
        return [indices[:dim] + (c,) + indices[dim + 1:] for c, st in enumerate(styles) if st.active] or [indices]

    def _label_plan(self, shown: TilePlan, viewport: Viewport) -> TilePlan | None:
        """The tiles of the overlaid label image that cover VIEWPORT, at its level nearest SHOWN's."""
        labels = self._label_pyramids.get(self.viewer.labels)
        if labels is None:
            return None
        image = shown.pyramid.levels[0].array.shape
        full = labels.levels[0].array.shape
        ratio = full[-1] / image[shown.dims[1]], full[-2] / image[shown.dims[0]]  # label / image samples
        x0, x1, y0, y1 = viewport
        scaled = clamp_viewport((x0 * ratio[0], x1 * ratio[0], y0 * ratio[1], y1 * ratio[1]), full[-2], full[-1])
        ndim = len(full)
        level = labels.nearest(shown.factors[1] * ratio[0])
        return plan(labels, level, (ndim - 2, ndim - 1), (0,) * ndim, scaled) if scaled else None

    def _on_plane_grid(self, labels: np.ndarray, label_plan: TilePlan, shown: TilePlan, shape) -> np.ndarray:
        """LABELS (the window of LABEL_PLAN) resampled, nearest sample, to the grid of SHOWN's window."""
        image = shown.pyramid.levels[0].array.shape
        full = label_plan.pyramid.levels[0].array.shape
        grids = []
        for axis, (dim, n) in enumerate(zip(shown.dims, shape)):
            ratio = full[axis - 2] / image[dim]
            centres = (shown.window[axis][0] + np.arange(n) + 0.5) * shown.factors[axis] * ratio
            index = np.floor(centres / label_plan.factors[axis]).astype(np.int64) - label_plan.window[axis][0]
            grids.append(np.clip(index, 0, labels.shape[axis] - 1))
        return labels[np.ix_(*grids)]

    async def _read_zoomed(self, pyramid: Pyramid, indices: list[tuple[int, ...]]
                           ) -> tuple[list[np.ndarray], TilePlan, Viewport, tuple[int, int]]:
        """Read the tiles of the viewport at its level, for each plane of INDICES (and of the
        overlaid labels, whose window ends the list); while they come, show the nearest coarser
        level already cached, scaled up, so a zoom never blanks the view."""
        dims = self.spec.displayed
        full = pyramid.levels[0].array.shape
        height, width = full[dims[0]], full[dims[1]]
        viewport = self.viewer.viewport or self._default_viewport(pyramid, height, width)
        clamped = clamp_viewport(viewport, height, width)
        if clamped is None:
            raise ZarrError(f"the view {viewport} lies outside the image ({height} × {width} samples); "
                            f"press Fit to see all of it")
        level = self._level_for(pyramid, dims, clamped)
        wanted = [plan(pyramid, level, dims, i, clamped) for i in indices]
        overlay = self._label_plan(wanted[0], clamped)
        wanted += [overlay] if overlay is not None else []
        self._label_read = overlay
        self._tiles.focus(wanted)
        if all(self._tiles.has_all(w) for w in wanted):
            return [self._tiles.mosaic(w) for w in wanted], wanted[0], viewport, (1, 1)
        for coarser in range(level + 1, len(pyramid.levels)):
            stand_in = [plan(pyramid, coarser, dims, i, clamped) for i in indices]  # no labels: they come sharp
            if all(self._tiles.has_all(s) for s in stand_in):
                self._show_zoomed([self._tiles.mosaic(s) for s in stand_in], stand_in[0], viewport, sharp=False)
                await asyncio.sleep(0)  # to the page before the sharp tiles are read
                break
        progress = ProgressThrottle(self._report_progress)
        try:
            if wanted[0].fits:
                return await self._tiles.read(wanted, progress), wanted[0], viewport, (1, 1)
            self._label_read = None  # an overview shows no labels: they would cost as much again
            shown = viewport if len(indices) == 1 else None  # one plane: drawn as its bands arrive
            planes = [await self._overview(w, progress, shown) for w in wanted[:len(indices)]]
            return [data for data, _ in planes], wanted[0], viewport, planes[0][1]
        finally:
            if progress.shown:
                self._show_progress(False)

    async def _overview(self, wanted: TilePlan, progress, viewport: Viewport | None = None
                        ) -> tuple[np.ndarray, tuple[int, int]]:
        """A zoomed-out view of too many tiles: read strided, never more than OVERVIEW_MAX_CHUNKS
        chunks, a band of chunk rows at a time; with VIEWPORT, what has arrived is drawn every
        OVERVIEW_DRAW_S (the Stop button ends it early, keeping what is drawn)."""
        (r0, r1), (c0, c1) = wanted.window
        if len(wanted.tiles) > OVERVIEW_MAX_CHUNKS:
            raise ZarrError(
                f"the view covers {len(wanted.tiles):,} chunks of {wanted.array.path or '/'} at this level, more "
                f"than the {OVERVIEW_MAX_CHUNKS:,} an overview reads: zoom in (or open a pyramid of this array)")
        step = stride_for(max(r1 - r0, c1 - c0), MAX_DISPLAY_POINTS)  # one step: square samples
        band = math.ceil(wanted.chunks[0] / step) * step  # whole chunk rows, on the stride
        rows = len(range(r0, r1, step))
        out = np.full((rows, len(range(c0, c1, step))), np.nan, np.float32)
        data = None
        done, total, drawn_at = 0, len(wanted.tiles), time.perf_counter()
        for start in range(r0, r1, band):
            def tick(n: int, _total: int, before: int = done) -> None:
                progress(before + n, total)

            spans = {wanted.dims[0]: slice(start, min(start + band, r1), step), wanted.dims[1]: slice(c0, c1, step)}
            part = await wanted.array.read(tuple(spans.get(d, i) for d, i in enumerate(wanted.hidden)), progress=tick)
            part = part.T if wanted.dims[0] > wanted.dims[1] else part
            if data is None:
                data = np.empty((rows, out.shape[1]), part.dtype)
            at = (start - r0) // step
            data[at:at + part.shape[0]] = part
            done += math.ceil(part.shape[0] * step / wanted.chunks[0]) * math.ceil((c1 - c0) / wanted.chunks[1])
            if viewport is not None and time.perf_counter() - drawn_at > OVERVIEW_DRAW_S and at + part.shape[0] < rows:
                out[at:at + part.shape[0]] = part  # float with NaN (transparent) where nothing is read yet
                out[:at] = data[:at]
                self._show_zoomed([out], wanted, viewport, (step, step), sharp=False)
                await asyncio.sleep(0)
                drawn_at = time.perf_counter()
        return data, (step, step)

    def _show_zoomed(self, planes: list[np.ndarray], shown: TilePlan, viewport: Viewport,
                     steps: tuple[int, int] = (1, 1), sharp: bool = True) -> None:
        """Draw PLANES (one, or one per composited channel), the level window of SHOWN (every
        STEPS samples of it), where it lies in the full-resolution image."""
        (r0, _), (c0, _) = shown.window
        fy, fx = shown.factors
        overlay = self._label_read if sharp and steps == (1, 1) else None
        self._label_plane = None
        if overlay is not None:
            *planes, labels = planes
            self._label_plane = self._on_plane_grid(labels, overlay, shown, planes[0].shape)
        planes = [cf_decode(p, self._array.attributes) for p in planes]
        self._plane, self._channel_planes = planes[0], planes if self._styles is not None else None
        self._plane_steps, self._plane_offsets = (fy * steps[0], fx * steps[1]), (r0 * fy, c0 * fx)
        self._shown_level, self._viewport_shown = shown.array.path, viewport
        self._drawn = self._view_key() if sharp else None
        self._draw()

    async def _load_view(self) -> None:
        arr, spec = self._array, self.spec
        started = time.perf_counter()
        pyramid = self._zoomable()
        if pyramid is not None:
            self._styles = self._channel_styles()
            try:
                planes, shown, viewport, steps = await self._read_zoomed(pyramid, self._plane_indices(self._styles))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the image stays, so the user can zoom back in
                self.view_error.object = _error_html(f"Could not show /{arr.path}", exc)
                raise
            self.view_error.object = ""
            read_done = time.perf_counter()
            self._show_zoomed(planes, shown, viewport, steps)
            await self._describe_later(started, read_done)
            return
        strides = read_strides(spec, arr.dtype.itemsize)
        progress = ProgressThrottle(self._report_progress)
        try:
            data = await self.loader.plane(arr, spec, strides, progress)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.view_error.object = _error_html(f"Could not read /{arr.path} [{spec.text()}]", exc)
            self._plane = None  # nothing of this view is shown: a retry reads it again
            self.plot_area.visible = self.side_panel.visible = False  # not another view's image
            raise
        finally:
            if progress.shown:
                self._show_progress(False)
        self.view_error.object = ""
        data = np.asarray(data)
        if spec.transposed:
            data = data.T
        self._plane = cf_decode(data, arr.attributes)
        self._plane_steps = tuple(spec.step(d) * strides.get(d, 1) for d in spec.displayed)
        self._plane_offsets = tuple(spec.ranges[d][0] for d in spec.displayed)
        self._shown_level, self._viewport_shown = arr.path, None
        read_done = time.perf_counter()
        if self._draw():
            await self._describe_later(started, read_done)
        self.loader.read_ahead(arr, spec, strides, self._last_move)

    async def _describe_later(self, started: float, read_done: float) -> None:
        """Statistics after the image: it goes to the page now, the figures in a second patch."""
        if self.viewer.tab == "info":
            self._show_array_info()  # the compression ratio estimate grows with what has been read
        try:
            await asyncio.sleep(0)
        finally:
            self._describe()  # even when superseded: the plane shown and its figures go together
        self.timings = {"read_ms": round((read_done - started) * 1000, 1),
                        "render_ms": round((time.perf_counter() - read_done) * 1000, 1)}

    def _show_array_info(self) -> None:
        array = info.rows_html(f"Array /{self._array.path}", info.array_rows(self._array, self._stored_bytes)
                               + info.chunk_file_rows(self._chunk_files))
        if self._pyramid is not None:
            array = info.rows_html(f"Multiscale image /{self._node.path}",
                                   info.multiscale_rows(self._pyramid)) + array
        self.info_pane.object = array

    def _value_label(self) -> str:
        attrs = self._array.attributes
        name = attrs.get("long_name") or attrs.get("standard_name") or self._array.path.rsplit("/", 1)[-1]
        units = attrs.get("units")
        return f"{name} ({units})" if isinstance(units, str) and "since" not in units else str(name)

    def _redraw(self) -> None:
        """Derive every data view (plot, statistics, histogram, table) from the decoded plane."""
        if self._draw():
            self._describe()

    def _draw(self) -> bool:
        """Show the decoded plane as an image or a line (or its value); False when there is
        nothing to summarise. The page colour-maps the image while the statistics are worked out."""
        data, spec = self._plane, self.spec
        if data is None:
            return False
        self._fill_table()
        if not is_numeric(data.dtype) or data.ndim == 0:
            self.plot_area.objects = []
            self.view_summary = {"shape": list(data.shape), "min": None, "max": None, "mean": None,
                                 "nan_count": 0, "downsampled": False}
            self.scalar_pane.object = _escaped(
                f"{self._value_label()} = {format_value(data[()])}" if data.ndim == 0
                else f"{data.dtype} values are shown in the Table tab.", "pzw-stats")
            self.status_text.object = ""
            self.display_controls.visible = False
            return False
        self.scalar_pane.object = ""
        self.display_controls.visible = data.ndim == 2 and self._channel_planes is None  # a composite has its own
        self.side_panel.visible = self.plot_area.visible = True
        display_steps = tuple(stride_for(n, MAX_DISPLAY_POINTS) for n in data.shape)
        shown = to_float(data[tuple(slice(None, None, s) for s in display_steps)], self.viewer.complex_part,
                         np.float32 if data.ndim == 2 else np.float64)  # images go to the page as float32
        steps = tuple(r * s for r, s in zip(self._plane_steps, display_steps))
        self._samples = sample(shown)
        label = self._value_label()
        if shown.ndim == 2:
            if self.viewer.auto_contrast and np.isfinite(self._samples).any():
                self._set_limits(robust_limits(self._samples))  # needs only the samples
            self._show_image(shown, steps, label)
            figure = self.image.figure
        else:
            self.line.show(shown, self._axes[spec.displayed[0]], steps[0], label, offset=self._plane_offsets[0])
            figure = self.line.figure
        if not self.plot_area.objects or self.plot_area.objects[0].object is not figure:
            self.plot_area.objects = [pn.pane.Bokeh(figure, sizing_mode="stretch_both")]
        downsampled = any(s > 1 for s in display_steps) or any(
            s > spec.step(d) for s, d in zip(self._plane_steps, spec.displayed))
        note = f" — downsampled for display, every {'×'.join(map(_short, steps))} samples" if downsampled else ""
        self.status_text.object = _escaped(f"{self._level_note()}Showing {shown.shape}{note}",
                                           "pzw-status")  # same for each slider step
        self.view_summary = {"downsampled": downsampled}  # completed by _describe
        return True

    def _describe(self) -> None:
        """Exact statistics over every decoded value of the plane, and the histogram of the samples."""
        data = self._plane
        summary = summarise(data, self.viewer.complex_part)
        self.view_summary = summary.as_dict() | self.view_summary
        if data.ndim == 2:
            self._fit_contrast_slider()
        self.stats_pane.object = info.rows_html("Slice statistics", [
            ("min", format_value(summary.min)), ("max", format_value(summary.max)),
            ("mean", format_value(summary.mean)), ("NaN count", f"{summary.nan_count:,}"),
            ("values", f"{data.size:,}")])
        self.histogram.show(self._samples)

    def _level_note(self) -> str:
        pyramid = self._zoomable()
        if pyramid is None or self._shown_level is None:
            return ""
        paths = pyramid.paths
        at = f"level {self._shown_level} ({paths.index(self._shown_level) + 1} of {len(paths)}), " \
            if len(paths) > 1 and self._shown_level in paths else ""
        return f"Zoomable: {at}drag to pan, scroll to zoom. "

    def _show_image(self, shown: np.ndarray, steps: tuple[int, ...], label: str) -> None:
        spec = self.spec
        y_dim, x_dim = spec.displayed
        self.image.value_label = label
        if self._viewport_shown is not None:  # deep zoom: placed by the axes' frames
            fy, fx = self._frames = frames_for(self._zoomable(), self._axes, spec.displayed)
            y, x = (frame.placement(offset, n, step)
                    for frame, offset, n, step in zip(self._frames, self._plane_offsets, shown.shape, steps))
            x0, x1, y0, y1 = self._viewport_shown
            self.image.show(shown, steps, y, x, style=self._style(), view=(*fx.span(x0, x1), *fy.span(y0, y1)),
                            downward=fy.downward, scale_unit=fx.unit if fx.unit == fy.unit else None,
                            rgba=self._composite(shown.shape), labels=self._labels_rgba(shown.shape))
            return
        self.image.show(shown, steps, Placement.of(self._axes[y_dim], spec.ranges[y_dim], steps[0]),
                        Placement.of(self._axes[x_dim], spec.ranges[x_dim], steps[1]), style=self._style())

    def _labels_rgba(self, shape: tuple[int, int]) -> np.ndarray | None:
        if self._label_plane is None:
            return None
        thin = tuple(slice(None, None, stride_for(n, MAX_DISPLAY_POINTS)) for n in self._label_plane.shape)
        colors = self._label_pyramids[self.viewer.labels].multiscale.label_colors or {}
        return label_rgba(self._label_plane[thin][:shape[0], :shape[1]], colors)

    def _composite(self, shape: tuple[int, int]) -> np.ndarray | None:
        """The active channels as one RGBA picture of SHAPE (None when the view is no composite)."""
        if self._channel_planes is None:
            return None
        thin = tuple(slice(None, None, stride_for(n, MAX_DISPLAY_POINTS)) for n in self._plane.shape)
        active = [st for st in self._styles if st.active] or self._styles[:1]
        rgba, windows = composite([to_float(p[thin], self.viewer.complex_part, np.float32)[:shape[0], :shape[1]]
                                   for p in self._channel_planes], active)
        self._windows = dict(zip((st.label for st in active), windows))
        return rgba

    def _show_controls(self) -> None:
        """Embeds: 'minimal' drops the header and the tree, 'none' everything but the figure."""
        mode = self.viewer.controls
        self._header.visible = mode == "full"
        self.sidebar_toggle.value = mode == "full"
        self.data_controls.visible = self.side_panel_shown.visible = mode != "none"

    def _show_tab(self) -> None:
        self.tabs.active = _TAB_INDEX[self.viewer.tab]
        if self.viewer.tab == "info" and self._array is not None:
            self._show_array_info()
        self._fill_table()

    def _fill_table(self) -> None:
        """The table follows the view only while its tab is shown: re-rendering a hidden grid on
        every slider move would cost the page time for nothing."""
        if self.viewer.tab != "table" or self._plane is None:
            return
        displayed = self.spec.displayed
        self.table.show(self._plane, [self._axes[d] for d in displayed],
                        offsets=self._plane_offsets, steps=self._plane_steps)

    # --------------------------------------------------------------- contrast
    def _set_limits(self, limits: tuple[float, float]) -> None:
        """Contrast limits the view computed (auto contrast), applied with the next image."""
        with param.parameterized.discard_events(self.viewer):
            self.viewer.clim = tuple(float(v) for v in limits)
        self._update_url()

    def _fit_contrast_slider(self) -> None:
        """Slider bounds that span this slice and the limits in use; bounds and value in one update,
        so the slider never holds a value outside its bounds."""
        summary, clim = self.view_summary, self.viewer.clim
        if summary["min"] is None:
            return
        low, high = summary["min"], max(summary["max"], summary["min"] + 1e-12)
        value = clim if clim is not None else (low, high)
        self.contrast.param.update(start=min(low, value[0]), end=max(high, value[1]), value=tuple(value))

    def _contrast_moved(self, event) -> None:
        if self.viewer.clim is None or tuple(event.new) != tuple(self.viewer.clim):
            self.viewer.param.update(clim=tuple(event.new), auto_contrast=False)

    def _style(self) -> tuple[str, float, float, bool]:
        v = self.viewer
        low, high = v.clim if v.clim is not None else robust_limits(self._samples)
        return v.colormap, low, high, v.log_scale

    def _show_style(self, *events) -> None:
        if any(e.name == "auto_contrast" and e.new for e in events) and self._samples.size:
            self._set_limits(robust_limits(self._samples))
        self.image.style(*self._style())
        if self._plane is not None and self._plane.ndim == 2 and self.view_summary:
            self._fit_contrast_slider()

    # -------------------------------------------------------------- JS API
    def _update_url(self) -> None:
        """The URL follows views that loaded, not views asked for: a reload or a restarted worker
        then reopens something that worked, not the view that failed or crashed it."""
        if self.status == "idle":
            self.url_query = urlstate.encode(self.viewer)

    def state(self) -> dict:
        """Plain description of what is shown (the page's ``zarrExplorer.state()``)."""
        arr, node = self._array, self._node
        is_array = arr is not None and node is not None
        pyramid = self._zoomable()
        viewport = self._viewport_shown
        if viewport is None and self._plane is not None and self._plane.ndim == 2:
            (y0, x0), (ny, nx) = self._plane_offsets, self._plane.shape  # the whole plane is drawn
            viewport = (x0, x0 + nx * self._plane_steps[1], y0, y0 + ny * self._plane_steps[0])
        return {
            "status": self.status, "store": self.viewer.store, "path": self.viewer.path,
            "kind": node.kind if node is not None else None,
            "shape": list(arr.shape) if is_array else None,
            "dtype": arr.dtype.str if is_array else None,
            "selection": self.spec.text() if self.spec is not None else None,
            "view": self.view_summary, "error": self.error or None,
            "timings": self.timings,  # of the last view: read (fetch + decode) and Python-side render
            "level": self._shown_level,
            "levels": pyramid.paths if pyramid is not None else ([arr.path] if is_array else []),
            "viewport": dict(zip(("x0", "x1", "y0", "y1"), map(float, viewport))) if viewport else None,
            "io": {"requests": self._traffic.requests, "bytes": self._traffic.bytes} if self._traffic else None,
            "channels": [st.to_json() | {"window": list(self._windows.get(st.label, st.window or ()))}
                         for st in self._styles] if self._channel_planes is not None else None,
        }


def create_explorer(query: str = "") -> Explorer:
    """An explorer showing the view QUERY (``?store=…&path=…``) describes, loaded once the page is."""
    viewer = Viewer(**urlstate.decode(query))
    dark = viewer.theme == "dark" or (viewer.theme == "auto" and urlstate.query_params(query).get("prefers") == "dark")
    pn.config.theme = "dark" if dark else "default"  # before any widget exists: Panel styles them as built
    explorer = Explorer(viewer)
    explorer._update_url()
    if viewer.store:
        pn.state.onload(explorer._start)
    return explorer
