"""Entry point the worker glue uses to build the explorer from the page's URL."""

from __future__ import annotations

from urllib.parse import parse_qs

from pyzarr_web.ui.explorer import Explorer, create_explorer


def query_params(query: str) -> dict[str, str]:
    """``?a=1&b=2`` → {"a": "1", "b": "2"} (the last value wins; empty values are dropped)."""
    return {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}


def explorer_from_query(query: str) -> Explorer:
    """An explorer restoring the view a ``?store=…&path=…&select=…&cmap=…&clim=lo,hi`` URL describes."""
    params = query_params(query)
    contrast = None
    if "clim" in params:
        try:
            low, high = (float(v) for v in params["clim"].split(","))
            contrast = (low, high)
        except ValueError:
            contrast = None  # a malformed clim falls back to automatic contrast
    return create_explorer(params.get("store"), params.get("path"), selection=params.get("select"),
                           colormap=params.get("cmap"), contrast=contrast)

