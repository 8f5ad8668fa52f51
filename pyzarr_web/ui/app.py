"""Entry point the worker glue (and `panel serve`) uses to build the explorer."""

from __future__ import annotations

import panel as pn

from pyzarr_web.ui.explorer import create_explorer


def create_app(store: str | None = None, path: str | None = None) -> pn.viewable.Viewable:
    """Build the explorer for STORE (a URL), selecting PATH once the store is open."""
    return create_explorer(store, path).panel()
