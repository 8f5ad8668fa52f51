"""Errors after startup never vanish: the page's error banner, a dead worker's pending and later
`zarrExplorer` calls, and Restart (a new worker without reloading the page). Real Chromium, the
built site, real Pyodide: the worker is broken from inside (a real fatal error, an uncaught error,
a failed download), the way it breaks in use."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import zarr
from test_browser_explorer import open_explorer, wait_for_image, write_store

pytestmark = pytest.mark.browser

BANNER = "#pyzarr-banner"

# Zero the whole wasm heap, then call into Python: the interpreter's own data is gone, so the
# wasm traps and Pyodide takes its fatal-error path (as after memory corruption or a crash in C).
CORRUPT_AND_RUN = """() => {
  self.pyodide._module.HEAPU8.fill(0);
  try { self.pyodide.runPython("1 + 1"); } catch (e) { return String(e); }
  return "Python survived";
}"""


def worker(page):
    (w,) = page.workers
    return w


def banner(page) -> dict:
    page.locator(BANNER).wait_for(state="visible", timeout=20_000)
    return page.evaluate("""() => ({
      title: document.getElementById("pyzarr-banner-title").textContent,
      message: document.getElementById("pyzarr-banner-message").textContent,
      elements: document.getElementById("pyzarr-banner-message").children.length,
      restart: !document.getElementById("pyzarr-banner-restart").hidden,
    })""")


def settled(page, promise_js: str) -> str:
    """'resolved', 'rejected: <message>' or (after 10 s) 'pending' for the promise PROMISE_JS."""
    return page.evaluate(f"""() => Promise.race([
      ({promise_js}).then(() => 'resolved', (e) => 'rejected: ' + e.message),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 10000))])""")


def test_fatal_error_rejects_calls_and_restart_brings_the_app_back(page, http_server, tmp_path):
    store, _, image = write_store(tmp_path, 2, "zlib")
    open_explorer(page, http_server, store)
    # the page's URL state moves on from the one it was opened with: Restart must use the new one
    store_url = page.evaluate("() => window.zarrExplorer.select('climate/cube')")["store"]
    page.wait_for_function("() => window.location.search.includes('path=climate')", timeout=30_000)

    # the gradient's chunks are held back: select() is still waiting for them when Python dies
    held = []
    chunks = re.compile(r"/images/gradient/\d+\.\d+$")
    page.route(chunks, lambda route: held.append(route))
    page.evaluate("() => { window.pendingSelect = window.zarrExplorer.select('images/gradient'); }")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "select() never asked for a chunk"

    crash = worker(page).evaluate(CORRUPT_AND_RUN)
    assert crash != "Python survived"

    shown = banner(page)
    assert shown["title"] == "Python crashed" and shown["restart"]
    assert "Pyodide suffered a fatal error" in shown["message"] and shown["elements"] == 0
    pending = settled(page, "window.pendingSelect")
    assert pending.startswith("rejected: pyzarr-web: the Python worker died: Pyodide suffered a fatal error")
    later = settled(page, "window.zarrExplorer.open('/nowhere')")
    assert later == pending  # at once, with the same error
    state = page.evaluate("() => window.zarrExplorer.state()")
    assert state["status"] == "error" and state["error"] == pending.removeprefix("rejected: ")

    # Restart: a new worker for the page's current URL
    page.unroute(chunks)
    url_state = parse_qs(urlparse(page.url).query)
    page.get_by_role("button", name="Restart").click()
    page.evaluate("() => window.zarrExplorer.ready")
    assert not page.locator(BANNER).is_visible()
    assert len(page.workers) == 1
    state = page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")
    assert state["status"] != "error" and [state["store"], state["path"]] == url_state["store"] + url_state["path"]
    assert state["store"] == store_url and state["path"] == "climate/cube"  # not the page's first URL
    # one app on the page: the old Bokeh document and its views are gone
    assert page.evaluate("""() => [Bokeh.documents.length,
      Bokeh.index.roots.every((view) => view.model.document === Bokeh.documents[0])]""") == [1, True]
    state = page.evaluate("() => window.zarrExplorer.select('images/gradient')")
    assert state["kind"] == "array" and state["shape"] == list(image.shape)
    stats = wait_for_image(page, image.shape)
    assert stats["min"] == image.min() and stats["max"] == image.max()
    assert page.external_requests == []


def test_a_crashed_worker_is_reported_and_later_calls_reject(page, http_server):
    page.goto(http_server.url + "/")
    page.evaluate("() => window.zarrExplorer.ready")
    # an error nothing in the worker catches: the page hears of it through worker.onerror
    worker(page).evaluate("() => { setTimeout(() => { throw new Error('worker broke: test'); }); }")
    shown = banner(page)
    assert shown["title"] == "The Python worker crashed" and "worker broke: test" in shown["message"]
    assert settled(page, "window.zarrExplorer.select('x')").startswith(
        "rejected: pyzarr-web: the Python worker died: ")
    assert page.evaluate("() => window.zarrExplorer.state().status") == "error"
    assert page.external_requests == []


def test_a_failed_lazy_import_is_shown(page, http_server, tmp_path, site_dir):
    """zstd chunks need imagecodecs, which the page installs on first use: its download fails."""
    path = tmp_path / "errors-zstd.zarr"
    data = np.arange(64 * 48, dtype="u2").reshape(64, 48)
    zarr.create_array(path, data=data, chunks=(32, 24), compressors=zarr.codecs.ZstdCodec())
    archive = json.loads((site_dir / "manifest.json").read_text())["lazy"]["imagecodecs"]["url"]
    page.route(f"**/{archive}", lambda route: route.fulfill(status=404, body="gone"))
    open_explorer(page, http_server, path)
    page.evaluate("() => window.zarrExplorer.whenIdle()")

    shown = banner(page)
    assert shown["title"] == "A package could not be loaded" and not shown["restart"]
    assert "imagecodecs" in shown["message"] and "HTTP 404" in shown["message"]
    page.get_by_role("button", name="Dismiss").click()
    assert not page.locator(BANNER).is_visible()
    # the view says what went wrong, and the worker lives on
    state = page.evaluate("() => window.zarrExplorer.state()")
    assert "imagecodecs" in state["error"] and "died" not in state["error"]
    assert settled(page, "window.zarrExplorer.whenIdle()") == "resolved"
    assert page.external_requests == []


def test_exceptions_in_python_callbacks_are_shown(page, http_server):
    page.goto(http_server.url + "/")
    page.evaluate("() => window.zarrExplorer.ready")
    # a Python callback on a model of the document that raises when the page changes it
    worker(page).evaluate("""() => self.pyodide.runPython(`
from panel.io.state import state
def broken(attr, old, new):
    raise RuntimeError("callback broke: test")
state.curdoc.roots[0].on_change("tags", broken)
`)""")
    page.evaluate("() => { Bokeh.documents[0].roots()[0].tags = ['changed by the page']; }")
    shown = banner(page)
    assert shown["title"] == "An error in the app" and "callback broke: test" in shown["message"]
    assert not shown["restart"]
    page.get_by_role("button", name="Dismiss").click()

    # an async callback that fails with nobody awaiting it (asyncio would only log it)
    worker(page).evaluate("""() => self.pyodide.runPython(`
import asyncio
async def broken_task():
    raise RuntimeError("task broke: test")
asyncio.ensure_future(broken_task()) and None
`)""")
    shown = banner(page)
    assert shown["title"] == "An error in the app" and "RuntimeError: task broke: test" in shown["message"]
    # the worker still answers
    state = page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")
    assert state["status"] != "error"
    assert page.external_requests == []
