"""The explorer in real Chromium: the built site, served over HTTP with Range, reading stores that
zarr-python writes in the test. What the page shows is checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from numcodecs import GZip, Zlib

pytestmark = pytest.mark.browser

# The image the page received: the data source of the image glyph in the page's Bokeh document.
IMAGE_STATS_JS = """() => {
  const doc = window.Bokeh && window.Bokeh.documents[0];
  const source = doc && doc.get_model_by_name("pzw-image-source");
  const image = source && source.data.image && source.data.image[0];
  if (!image || !image.shape || image.shape[0] * image.shape[1] <= 1) return null;
  let min = Infinity, max = -Infinity, sum = 0, n = 0;
  for (const v of image) { if (!Number.isNaN(v)) { min = Math.min(min, v); max = Math.max(max, v); sum += v; n++; } }
  return {shape: Array.from(image.shape), min, max, mean: sum / n, n};
}"""


def write_store(root_dir, zarr_format: int, compressor: str):
    """A store with nested groups, attributes, a 3-D cube and a 2-D image."""
    path = root_dir / f"{root_dir.name}-v{zarr_format}-{compressor}.zarr"  # served names are unique per session
    rng = np.random.default_rng(zarr_format)
    cube = rng.normal(280, 10, size=(4, 48, 64)).astype("f4")
    image = (np.add.outer(np.arange(96), np.arange(80)) * 50 % 4096).astype("u2")
    root = zarr.open_group(path, mode="w", zarr_format=zarr_format)
    root.attrs["title"] = "browser test store"
    if zarr_format == 2:
        codec = {"none": None, "zlib": Zlib(level=3), "gzip": GZip(level=5)}[compressor]
        kwargs = {"compressors": codec}
    else:
        kwargs = {"compressors": None if compressor == "none" else zarr.codecs.GzipCodec(level=5)}
    sub = root.create_group("climate")
    sub.attrs["units"] = "K"
    sub.create_array("cube", shape=cube.shape, chunks=(1, 24, 32), dtype="f4", **kwargs)[:] = cube
    root.create_group("images").create_array("gradient", shape=image.shape, chunks=(40, 40), dtype="u2",
                                             **kwargs)[:] = image
    zarr.consolidate_metadata(path)
    return path, cube, image


def open_explorer(page, http_server, store_path, query: str = "") -> None:
    url = http_server.add_store(store_path)
    page.goto(f"{http_server.url}/?store={url}{query}")
    page.evaluate("() => window.zarrExplorer.ready")


def tree_row(page, path: str):
    return page.locator(f".tv-row[role=treeitem][data-path='{path}']")


def wait_for_image(page, shape):
    handle = page.wait_for_function(
        f"() => {{ const s = ({IMAGE_STATS_JS})(); "
        f"return s && s.shape.join() === '{','.join(map(str, shape))}' && s; }}")
    return handle.json_value()


@pytest.mark.parametrize("zarr_format,compressor", [(2, "zlib"), (2, "none"), (3, "gzip"), (3, "none")])
def test_tree_then_image_matches_numpy(page, http_server, tmp_path, zarr_format, compressor):
    store, cube, image = write_store(tmp_path, zarr_format, compressor)
    open_explorer(page, http_server, store)
    tree_row(page, "climate").wait_for()
    assert tree_row(page, "images").get_attribute("aria-expanded") == "false"

    # selecting a group expands it; its array then shows shape and dtype
    tree_row(page, "images").click()
    tree_row(page, "images/gradient").wait_for()
    assert tree_row(page, "images/gradient").text_content() == "gradient96×80 uint16"
    tree_row(page, "images/gradient").click()

    stats = wait_for_image(page, image.shape)
    assert stats["min"] == image.min() and stats["max"] == image.max()
    assert stats["mean"] == pytest.approx(image.astype("f8").mean(), rel=1e-6)
    assert page.external_requests == []


def test_the_plot_canvas_shows_an_image(page, http_server, tmp_path):
    store, cube, _ = write_store(tmp_path, 3, "gzip")
    open_explorer(page, http_server, store, "&path=climate/cube")
    stats = wait_for_image(page, cube.shape[1:])
    assert stats["mean"] == pytest.approx(cube[0].astype("f8").mean(), rel=1e-5)
    canvas = page.locator("canvas").first
    png = canvas.screenshot()
    import imagecodecs

    pixels = imagecodecs.png_decode(png).astype("f8")
    assert pixels[..., :3].std() > 10, "the plot canvas is blank"
    assert page.external_requests == [] and not [e for e in page.console_errors if "favicon" not in e]


def test_tree_keyboard_filter_and_api_selection_in_the_page(page, http_server, tmp_path):
    """The tree view (a panel.custom component) in the product: Pyodide worker, built site."""
    store, _, image = write_store(tmp_path, 3, "gzip")
    open_explorer(page, http_server, store)
    tree_row(page, "images").click()
    tree_row(page, "images/gradient").click()
    wait_for_image(page, image.shape)
    page.keyboard.press("ArrowUp")  # back to the group, by keyboard
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.zarrExplorer.state().path === 'images'")
    page.locator(".tv-filter").fill("cub")
    page.wait_for_selector(".tv-row[data-path='climate/cube']")
    assert [tree_row(page, p).count() for p in ("", "climate", "images")] == [1, 1, 0]
    page.locator(".tv-filter").fill("")
    page.evaluate("() => window.zarrExplorer.select('climate/cube')")
    page.wait_for_selector(".tv-row[data-path='climate/cube'][aria-selected=true]")
    assert page.locator(".tv-row[aria-selected=true]").count() == 1
    assert page.external_requests == [] and not [e for e in page.console_errors if "favicon" not in e]
