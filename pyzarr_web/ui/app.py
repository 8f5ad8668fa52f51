"""Entry point the worker glue (and `panel serve`) uses to build the explorer."""

from __future__ import annotations

from urllib.parse import parse_qs

import panel as pn

from pyzarr_web.ui.explorer import Explorer, create_explorer


def explorer_from_query(query: str) -> Explorer:
    """An explorer restoring the view a ``?store=…&path=…&select=…&cmap=…&clim=lo,hi`` URL describes."""
    params = {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}
    contrast = None
    if "clim" in params:
        try:
            low, high = (float(v) for v in params["clim"].split(","))
            contrast = (low, high)
        except ValueError:
            contrast = None  # a malformed clim falls back to automatic contrast
    return create_explorer(params.get("store"), params.get("path"), selection=params.get("select"),
                           colormap=params.get("cmap"), contrast=contrast)


def create_app(store: str | None = None, path: str | None = None) -> pn.viewable.Viewable:
    """Build the explorer for STORE (a URL), selecting PATH once the store is open."""
    return create_explorer(store, path).panel()
