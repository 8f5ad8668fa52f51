"""The layout in real Chromium at the sizes people use: a laptop (1280×800), a small window
(1024×768) and a phone-width embed (400 wide). One page is booted and resized."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from conftest import booted_explorer

pytestmark = pytest.mark.browser

# Every visible control's box (page coordinates), through the shadow roots Bokeh and Panel use.
CONTROLS_JS = """() => { const out = []; const walk = (root) => {
  for (const e of root.querySelectorAll('input, select, button, .noUi-handle, canvas')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden')
      out.push({tag: e.tagName,
                label: (e.getAttribute('placeholder') || e.textContent || e.className || '').slice(0, 40),
                left: r.left + window.scrollX, right: r.right + window.scrollX, top: r.top + window.scrollY,
                bottom: r.bottom + window.scrollY});
  }
  for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot); };
  walk(document); return out; }"""


@pytest.fixture(scope="module")
def page(browser, http_server, tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "layout.zarr"
    root = zarr.open_group(path, mode="w", zarr_format=3)
    cube = root.create_group("group").create_array("cube", shape=(5, 60, 80), chunks=(1, 30, 40), dtype="f4",
                                                   dimension_names=["t", "y", "x"])
    cube[:] = np.random.default_rng(3).normal(size=cube.shape).astype("f4")
    root["group"].attrs["about"] = "a group with one cube"
    zarr.consolidate_metadata(path)
    url = http_server.add_store(path)
    with booted_explorer(browser, http_server, viewport={"width": 1280, "height": 800}) as page:
        page.store_url = url
        yield page


def controls(page) -> list[dict]:
    return page.evaluate(CONTROLS_JS)


def test_without_a_store_the_page_says_what_to_do(page):
    page.get_by_text("Enter the URL of a Zarr store").first.wait_for()
    assert page.evaluate("() => window.zarrExplorer.state().store") == ""


@pytest.mark.parametrize("width,height", [(1280, 800), (1024, 768)])
def test_every_control_is_inside_the_viewport(page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    state = page.evaluate(f"() => window.zarrExplorer.open({page.store_url!r})"
                          ".then(() => window.zarrExplorer.select('group/cube'))")
    assert state["status"] == "idle" and state["view"]["shape"] == [60, 80]
    page.wait_for_timeout(200)  # let the page lay out the resized view
    boxes = controls(page)
    assert len(boxes) >= 10, boxes
    outside = [b for b in boxes if b["left"] < 0 or b["right"] > width + 1 or b["bottom"] > height + 1]
    assert not outside, outside
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def test_at_phone_width_nothing_needs_sideways_scrolling(page):
    page.set_viewport_size({"width": 400, "height": 800})
    page.evaluate(f"() => window.zarrExplorer.open({page.store_url!r})"
                  ".then(() => window.zarrExplorer.select('group/cube'))")
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400
    wide = [b for b in controls(page) if b["right"] > 401 or b["left"] < 0]
    assert not wide, wide
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_group_shows_its_summary_and_no_data_controls(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    state = page.evaluate(f"() => window.zarrExplorer.open({page.store_url!r})"
                          ".then(() => window.zarrExplorer.select('group'))")
    assert (state["kind"], state["status"]) == ("group", "idle")
    page.get_by_text("1 member(s) listed").first.wait_for()
    page.get_by_text("cube  (5×60×80 float32)").first.wait_for()
    labels = [b["label"] for b in controls(page)]
    assert not page.get_by_text("Rows (y)").first.is_visible()
    assert not page.get_by_text("Colormap").first.is_visible()
    assert not any(b["tag"] == "CANVAS" for b in controls(page)), labels
