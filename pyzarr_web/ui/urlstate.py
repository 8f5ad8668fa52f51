"""The query string of a view, both ways: one codec for the page's URL, the JS API and the tests.

``?store=URL&ref=tag:v1&path=PATH&select=0,:,:&level=PATH&view=x0,x1,y0,y1&labels=NAME&composite=0&cmap=magma&clim=0,300
&log=1&tab=info`` (&endpoint=URL: the custom endpoint of an s3:// store). Parameters at
their defaults are left out, so a URL says only what differs. A value that cannot be read is
dropped (the view falls back to its default) rather than breaking the page.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from pyzarr_web.core.stores.cloud import with_endpoint
from pyzarr_web.ui.coords import format_value
from pyzarr_web.ui.viewer import CONTROLS, TABS, THEMES, Viewer


def query_params(query: str) -> dict[str, str]:
    """``?a=1&b=2`` → {"a": "1", "b": "2"} (the last value wins; empty values are dropped)."""
    return {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}


def _limits(text: str) -> tuple[float, float] | None:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        return None
    return (low, high) if low < high else None


def _viewport(text: str) -> tuple[float, ...] | None:
    try:
        x0, x1, y0, y1 = (float(v) for v in text.split(","))
    except ValueError:
        return None
    return (x0, x1, y0, y1) if x0 < x1 and y0 < y1 else None


def decode(query: str) -> dict:
    """Viewer parameter values a query string sets; parameters it does not mention are reset to
    their defaults, so a URL always describes a whole view."""
    params = query_params(query)
    clim = _limits(params["clim"]) if "clim" in params else None
    cmap = params.get("cmap")
    tab = params.get("tab")
    return {
        "store": with_endpoint(params.get("store", "").strip(), params.get("endpoint")),
        "ref": params.get("ref", ""),
        "path": params.get("path", ""),
        "selection": params.get("select"),
        "level": params.get("level") or Viewer.level,
        "viewport": _viewport(params["view"]) if "view" in params else None,
        "labels": params.get("labels", ""),
        "composite": params.get("composite") not in ("0", "false"),
        "colormap": cmap if cmap in Viewer.param.colormap.objects else Viewer.colormap,
        "auto_contrast": clim is None,
        "clim": clim,
        "log_scale": params.get("log") in ("1", "true"),
        "tab": tab if tab in TABS else Viewer.tab,
        "controls": params.get("controls") if params.get("controls") in CONTROLS else Viewer.controls,
        "theme": params.get("theme") if params.get("theme") in THEMES else Viewer.theme,
    }


def encode(viewer: Viewer) -> str:
    """The query string that reopens VIEWER's view ('' when no store is open)."""
    if not viewer.store:
        return ""
    query = {"store": viewer.store}
    if viewer.ref:
        query["ref"] = viewer.ref
    if viewer.path:
        query["path"] = viewer.path
    if viewer.selection:
        query["select"] = viewer.selection
    if viewer.level != Viewer.level:
        query["level"] = viewer.level
    if viewer.viewport is not None:
        query["view"] = ",".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in viewer.viewport)
    if viewer.labels:
        query["labels"] = viewer.labels
    if not viewer.composite:
        query["composite"] = "0"
    if viewer.colormap != Viewer.colormap:
        query["cmap"] = viewer.colormap
    if not viewer.auto_contrast and viewer.clim is not None:
        query["clim"] = ",".join(format_value(v) for v in viewer.clim)
    if viewer.log_scale:
        query["log"] = "1"
    if viewer.tab != Viewer.tab:
        query["tab"] = viewer.tab
    for name in ("controls", "theme"):
        if getattr(viewer, name) != getattr(Viewer, name):
            query[name] = getattr(viewer, name)
    return urlencode(query, safe="/:,")
