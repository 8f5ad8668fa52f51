"""<zarr-explorer> (web/embed.js) on a host page of another origin than the site, in Chromium:
two elements on one page, attributes that change the view, the API over postMessage, and
messages from a foreign origin ignored both ways."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import zarr
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

pytestmark = pytest.mark.browser


def _page_server(html: str):
    """A server of one HTML page (at /) on an origin of its own."""
    from pyzarr_web.tools.serve import run_in_thread

    async def page(_request):
        return HTMLResponse(html)

    return run_in_thread(Starlette(routes=[Route("/", page)]))


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "embedded.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    image = (np.arange(40 * 50) % 97).reshape(40, 50).astype("u2")
    cube = np.arange(3 * 20 * 30, dtype="f4").reshape(3, 20, 30)
    root.create_array("image", shape=image.shape, chunks=(20, 25), dtype="u2")[:] = image
    root.create_array("cube", shape=cube.shape, chunks=(1, 20, 30), dtype="f4")[:] = cube
    zarr.consolidate_metadata(str(path))
    return path, image, cube


def test_two_explorers_on_a_page_of_another_origin(browser, http_server, store):
    path, image, cube = store
    url = http_server.add_store(path)
    foreign_html = """<script>
      // another origin's frame: drives the plain explorer frame next to it, and forges an answer
      // to the host page for its <zarr-explorer> element's next call
      window.attack = () => window.parent.frames[0].postMessage(
        {type: "pyzarr-call", id: 1, method: "select", args: ["cube"]}, "*");
      window.forge = (id) => {  // a burst, so that one lands while the call is pending
        const forged = {type: "pyzarr-result", id, result: "forged"};
        const timer = setInterval(() => window.parent.postMessage(forged, "*"), 2);
        setTimeout(() => clearInterval(timer), 3000);
      };
    </script>"""
    with contextlib.ExitStack() as stack:
        foreign = stack.enter_context(_page_server(foreign_html))
        host = stack.enter_context(_page_server(f"""<!doctype html><html><body>
          <script src="{http_server.url}/embed.js"></script>
          <zarr-explorer id="a" store="{url}" path="image" height="520px" controls="minimal"></zarr-explorer>
          <zarr-explorer id="b" store="{url}" path="cube" select="2,:,:" height="420px" controls="none"></zarr-explorer>
          <iframe id="plain" style="width:600px;height:300px"></iframe>
          <iframe id="foreign" src="{foreign}/"></iframe>
        </body></html>"""))
        assert len({host, foreign, http_server.url}) == 3  # three origins
        context = browser.new_context(viewport={"width": 1280, "height": 1200})
        stack.callback(context.close)
        page = context.new_page()
        page.set_default_timeout(120_000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(host + "/")
        settled = "(id) => document.getElementById(id).whenIdle().then(() => document.getElementById(id).state())"
        first, second = page.evaluate(settled, "a"), page.evaluate(settled, "b")
        assert (first["status"], first["path"], first["view"]["max"]) == ("idle", "image", image.max())
        assert (second["path"], second["selection"], second["view"]["mean"]) == ("cube", "2,:,:", cube[2].mean())
        assert page.evaluate("() => document.getElementById('a').getBoundingClientRect().height") == 520

        # an attribute change changes the view
        page.evaluate("() => document.getElementById('a').setAttribute('path', 'cube')")
        page.wait_for_function("() => document.getElementById('a').state().then((s) => s.path === 'cube' && "
                               "s.status === 'idle')", polling=200)
        # the API over postMessage
        state = page.evaluate("() => document.getElementById('a').select('image')")
        assert (state["path"], state["view"]["max"]) == ("image", image.max())
        state = page.evaluate("() => document.getElementById('a').setSelection('10:20,:')")
        assert state["view"]["shape"] == [10, 50]

        # a forged answer from another origin is not taken for the element's own
        attacker = page.frame_locator("#foreign").locator("body")
        next_id = page.evaluate("() => document.getElementById('a')._lastId + 1")
        attacker.evaluate("(body, id) => window.forge(id)", next_id)
        state = page.evaluate("() => document.getElementById('a').select('cube')")
        assert state != "forged" and state["path"] == "cube"

        # a foreign origin's call is ignored by an embedded explorer (here a plain frame of the site,
        # embedded by the host page, which the foreign frame can address)
        page.evaluate("(src) => document.getElementById('plain').src = src",
                      f"{http_server.url}/?store={url}&path=image&controls=none&embedder={host}")
        plain = page.frame_locator("#plain").locator("body")
        plain.evaluate("() => window.zarrExplorer.ready.then(() => window.zarrExplorer.whenIdle())")
        attacker.evaluate("() => window.attack()")
        page.wait_for_timeout(2000)
        state = plain.evaluate("() => window.zarrExplorer.state()")
        assert (state["path"], state["status"]) == ("image", "idle")
        assert errors == []
