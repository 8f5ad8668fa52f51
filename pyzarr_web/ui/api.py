"""The explorer's automation surface, behind the page's ``window.zarrExplorer``.

The page relays each call to the worker, which awaits it here and answers with the resulting
state; ``open``/``select``/``setSelection``/``setViewport``/``setLevel`` answer only once the resulting
view is fully loaded (for deep zoom: sharp, every tile of the level in view drawn).
Kept free of browser imports so it is tested on CPython too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyzarr_web.ui import urlstate
from pyzarr_web.ui.explorer import Explorer


async def call(explorer: Explorer, method: str, args: list[Any]) -> dict:
    """Run one API METHOD with ARGS, wait until the explorer is idle, return its state."""
    if method == "open":
        explorer.open(str(args[0]))
    elif method == "select":
        explorer.select(str(args[0]))
    elif method == "setSelection":
        explorer.set_selection(str(args[0]))
    elif method == "setViewport":
        box = args[0]
        explorer.viewer.viewport = tuple(float(box[k]) for k in ("x0", "x1", "y0", "y1"))
    elif method == "setLevel":
        explorer.viewer.level = str(args[0])
    elif method == "navigate":  # browser back/forward: restore the view a URL describes
        explorer.viewer.param.update(**urlstate.decode(str(args[0])))
    elif method not in ("whenIdle", "state"):
        raise ValueError(f"zarrExplorer has no method {method!r}")
    await explorer.when_idle()
    return explorer.state()


def watch_state(explorer: Explorer, on_state: Callable[[dict], None],
                on_url: Callable[[str, bool], None]) -> None:
    """Report every settled state (for the synchronous ``state()``) and every URL change;
    a change of node is a new history entry, anything else replaces the current one."""
    last = {"path": explorer.viewer.path, "first": True}  # the page's own URL is the first entry

    def status_changed(event) -> None:
        if event.new != "loading":
            on_state(explorer.state())

    def url_changed(event) -> None:
        if not event.new:
            return
        path = explorer.viewer.path
        new_entry = path != last["path"] and not last["first"]
        last.update(path=path, first=False)
        on_url(event.new, new_entry)

    explorer.param.watch(status_changed, "status")
    explorer.param.watch(url_changed, "url_query")
