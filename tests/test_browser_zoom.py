"""Pyramids and deep zoom in real Chromium: stores written by ome-zarr-py (0.4 and 0.5),
ndpyramid, topozarr (GeoZarr multiscales + proj:) and plain sibling arrays (a guessed pyramid),
served over HTTP with Range. A multiscale is one image; what a viewport shows equals what
zarr-python reads at the level shown, and it reads only the chunks in view."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import zarr

pytestmark = pytest.mark.browser

# the image the page received, as nested rows (row 0 at the top of the view)
IMAGE_JS = """() => {
  const r = Bokeh.documents[0].get_model_by_name("pzw-image");
  const im = r.data_source.data.image[0], [rows, cols] = im.shape, out = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(im.slice(i * cols, (i + 1) * cols)));
  return {rows: out, x: r.data_source.data.x[0], y: r.data_source.data.y[0],
          dw: r.data_source.data.dw[0], dh: r.data_source.data.dh[0]};
}"""


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def _channel(label: str, color: str, top: int) -> dict:
    return {"label": label, "color": color, "window": {"min": 0, "max": top, "start": 0, "end": top}}


@pytest.fixture(scope="module")
def ome_store(tmp_path_factory):
    """ome-zarr-py 0.5: 2 channels of 1536×2048, four levels, 256² chunks, omero channels, labels."""
    from ome_zarr import format as ome_format
    from ome_zarr import writer

    path = tmp_path_factory.mktemp("zoom") / "ome05.zarr"
    yy, xx = np.mgrid[0:1536, 0:2048]
    data = np.stack([(yy * 7 + xx * 3) % 4096, (yy ^ xx) % 1000]).astype("u2")
    ctx = _quiet()
    try:
        g = zarr.open_group(str(path), mode="w", zarr_format=3)
        writer.write_image(data, g, axes="cyx", fmt=ome_format.FormatV05(), scale_factors=[2, 4, 8],
                           scale={"y": 0.5, "x": 0.5}, axes_units={"y": "micrometer", "x": "micrometer"},
                           storage_options={"chunks": (1, 256, 256)},
                           omero={"channels": [_channel("A", "FF0000", 4095), _channel("B", "00FF00", 999)]})
        writer.write_labels((data[0] % 3).astype("u1"), g, "cells", axes="yx", fmt=ome_format.FormatV05())
    finally:
        ctx.__exit__(None, None, None)
    return path


def chunk_files_bytes(level_dir: Path, channel: int, rows: tuple[int, int], cols: tuple[int, int],
                      chunk: int) -> int:
    """Stored bytes of the chunks of a zarr v3 (c, y, x) level that a window intersects."""
    total = 0
    for r in range(rows[0] // chunk, (rows[1] - 1) // chunk + 1):
        for c in range(cols[0] // chunk, (cols[1] - 1) // chunk + 1):
            f = level_dir / "c" / str(channel) / str(r) / str(c)
            total += f.stat().st_size if f.exists() else 0
    return total


def call(page, js: str):
    return page.evaluate(f"() => window.zarrExplorer.{js}")


def image(page) -> tuple[np.ndarray, dict]:
    got = page.evaluate(IMAGE_JS)
    return np.array(got["rows"], dtype="f8"), got


def test_ome_pyramid_is_one_image_with_levels_and_deep_zoom(browser, http_server, ome_store):
    from conftest import booted_explorer

    url = http_server.add_store(ome_store)
    levels = zarr.open_group(str(ome_store), mode="r")
    with booted_explorer(browser, http_server) as page:
        state = call(page, f"open({url!r})")
        assert (state["status"], state["error"], state["kind"]) == ("idle", None, "group")
        assert state["levels"] == ["s0", "s1", "s2", "s3"] and state["shape"] == [2, 1536, 2048]
        # fit: 2048 samples across ~1024 screen pixels → the level with 2× pixels (s1)
        assert state["level"] == "s1"
        assert state["viewport"] == {"x0": 0, "x1": 2048, "y0": 0, "y1": 1536}
        shown, placed = image(page)
        np.testing.assert_array_equal(shown, levels["s1"][0])
        assert (placed["x"], placed["y"], placed["dw"], placed["dh"]) == (0, 0, 2048, 1536)

        # zoom in: full resolution, only the chunks in view
        state = call(page, "setViewport({x0: 300, x1: 812, y0: 700, y1: 1100})")
        assert (state["status"], state["level"]) == ("idle", "s0")
        shown, placed = image(page)
        np.testing.assert_array_equal(shown, levels["s0"][0, 700:1100, 300:812])
        ideal = chunk_files_bytes(ome_store / "s0", 0, (700, 1100), (300, 812), 256)
        assert 0 < state["io"]["bytes"] <= 1.2 * ideal, (state["io"], ideal)
        assert state["io"]["requests"] == 3 * 3  # chunk rows 2..4 × columns 1..3, nothing else

        # back to the whole image: its tiles are cached, nothing is read
        state = call(page, "setViewport({x0: 0, x1: 2048, y0: 0, y1: 1536})")
        assert state["level"] == "s1" and state["io"] == {"requests": 0, "bytes": 0}

        # a fixed level, and the other channel through the slider's selection
        state = call(page, "setLevel('s3')")
        assert state["level"] == "s3"
        np.testing.assert_array_equal(image(page)[0], levels["s3"][0])
        state = call(page, "setSelection('1,:,:')")
        np.testing.assert_array_equal(image(page)[0], levels["s3"][1])

        # the view is a link: level and viewport are in the URL and restore the same view
        call(page, "setViewport({x0: 1024, x1: 1536, y0: 512, y1: 1024})")
        query = parse_qs(urlparse(page.url).query)
        assert query["level"] == ["s3"] and query["view"] == ["1024,1536,512,1024"]
        page.goto(page.url)
        page.evaluate("() => window.zarrExplorer.ready")
        state = call(page, "whenIdle().then(() => window.zarrExplorer.state())")
        assert state["level"] == "s3" and state["viewport"] == {"x0": 1024, "x1": 1536, "y0": 512, "y1": 1024}
        np.testing.assert_array_equal(image(page)[0], levels["s3"][1, 64:128, 128:192])


def test_a_pan_gesture_reads_the_new_part(browser, http_server, ome_store):
    """Dragging the image (Bokeh's pan tool) changes the viewport; the view then reads it."""
    from conftest import booted_explorer

    url = http_server.add_store(ome_store)
    with booted_explorer(browser, http_server, f"store={url}&view=0,512,0,512") as page:
        state = call(page, "whenIdle().then(() => window.zarrExplorer.state())")
        assert (state["level"], state["viewport"]["x1"]) == ("s0", 512)
        box = page.locator("canvas").first.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx - box["width"] / 4, cy, steps=5)
        page.mouse.up()
        page.wait_for_function("() => window.zarrExplorer.state().viewport.x0 > 50")
        state = call(page, "whenIdle().then(() => window.zarrExplorer.state())")
        x0, x1 = state["viewport"]["x0"], state["viewport"]["x1"]
        assert x0 > 50 and x1 - x0 == pytest.approx(512, rel=1e-6)
        shown, placed = image(page)
        full = zarr.open_array(str(ome_store / "s0"), mode="r")[0]
        c0 = math.floor(x0)
        np.testing.assert_array_equal(shown, full[0:512, c0:c0 + shown.shape[1]])
        assert page.console_errors == []  # a hover formatter that throws also stops every pan


def _field(rows: int = 1024, cols: int = 2048) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    return ((yy * 5 + xx * 11) % 997 + (yy // 64 + xx // 64) % 2 * 1000).astype("f4")


def _ome04(path: Path) -> tuple[str, list[str]]:
    from ome_zarr import format as ome_format
    from ome_zarr import writer

    g = zarr.open_group(str(path), mode="w", zarr_format=2).create_group("img")
    writer.write_image(_field(), g, axes="yx", fmt=ome_format.FormatV04(), scale_factors=[2, 4],
                       storage_options={"chunks": (256, 256)})
    return "img", ["img/s0", "img/s1", "img/s2"]


def _world(rows: int = 1024, cols: int = 2048):
    import xarray as xr

    lat = np.linspace(90 - 90 / rows, -90 + 90 / rows, rows)
    lon = np.linspace(-180 + 180 / cols, 180 - 180 / cols, cols)
    return xr.Dataset({"tas": (("y", "x"), _field(rows, cols))}, coords={"y": lat, "x": lon})


def _ndpyramid(path: Path) -> tuple[str, list[str]]:
    import ndpyramid

    pyramid = ndpyramid.pyramid_coarsen(_world(), factors=[4, 2, 1], dims=["x", "y"], boundary="trim")
    pyramid.to_zarr(str(path), mode="w", zarr_format=2, consolidated=True)
    return "", ["2/tas", "1/tas", "0/tas"]  # ndpyramid numbers levels from the coarsest


def _topozarr(path: Path) -> tuple[str, list[str]]:
    import xproj  # noqa: F401  (the .proj accessor)
    from topozarr.coarsen import create_pyramid

    ds = _world().rename({"y": "lat", "x": "lon"}).proj.assign_crs(spatial_ref_crs={"EPSG": 4326})
    pyramid = create_pyramid(ds, levels=3, x_dim="lon", y_dim="lat")
    pyramid.dt.to_zarr(str(path), mode="w", encoding=pyramid.encoding, zarr_format=3)
    return "", ["0/tas", "1/tas", "2/tas"]


def _siblings(path: Path) -> tuple[str, list[str]]:
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    full = _field()
    for i in range(3):
        level = full[::2 ** i, ::2 ** i]
        root.create_array(str(i), shape=level.shape, chunks=(256, 256), dtype="f4")[:] = level
    zarr.consolidate_metadata(str(path))
    return "", ["0", "1", "2"]


@pytest.fixture(scope="module")
def zoom_page(browser, http_server):
    from conftest import booted_explorer

    with booted_explorer(browser, http_server) as page:
        yield page


@pytest.mark.parametrize("writer", [_ome04, _ndpyramid, _topozarr, _siblings],
                         ids=["ome-ngff-0.4", "ndpyramid", "geozarr-topozarr", "guessed"])
def test_every_pyramid_convention_is_one_zoomable_image(zoom_page, http_server, tmp_path, writer):
    ctx = _quiet()
    try:
        node, levels = writer(tmp_path / f"{writer.__name__.strip('_')}.zarr")
    finally:
        ctx.__exit__(None, None, None)
    store = tmp_path / f"{writer.__name__.strip('_')}.zarr"
    url = http_server.add_store(store)
    call(zoom_page, f"open({url!r})")
    state = call(zoom_page, f"select({node!r})") if node else call(zoom_page, "whenIdle().then(() => "
                                                                          "window.zarrExplorer.state())")
    assert (state["status"], state["error"]) == ("idle", None)
    assert state["levels"] == levels and state["shape"] == [1024, 2048]
    group = zarr.open_group(str(store), mode="r")
    # the whole image: 2048 columns on a screen of about 1024 pixels → the 1:2 level
    assert state["level"] == levels[1]
    np.testing.assert_array_equal(image(zoom_page)[0], group[levels[1]][:])
    state = call(zoom_page, "setViewport({x0: 1500, x1: 2048, y0: 600, y1: 1024})")
    assert state["level"] == levels[0]
    np.testing.assert_array_equal(image(zoom_page)[0], group[levels[0]][600:1024, 1500:2048])
