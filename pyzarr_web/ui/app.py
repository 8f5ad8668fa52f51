"""Placeholder explorer so the bundle can be exercised end to end; the real one replaces it."""

from __future__ import annotations

import panel as pn


def create_app(store: str | None = None, path: str | None = None) -> pn.viewable.Viewable:
    """Build the explorer for STORE (a URL), optionally selecting PATH."""
    return pn.Column(pn.pane.Markdown("# pyzarr-web"), pn.widgets.TextInput(name="Store URL", value=store or ""))
