"""Deep zoom at scale in real Chromium, on the procedural stores (pyzarr_web/tools/synthetic.py): a
1 Tpx OME-NGFF 0.5 sharded pyramid, a global GeoZarr pyramid and a 1 Tpx single-level array.
What the page shows equals the stores' formula at the level shown, and what it reads (counted by
the server) is the chunks in view."""

from __future__ import annotations

import numpy as np
import pytest
from test_browser_zoom import call, image

pytestmark = pytest.mark.browser


def shown_region(page, store, level: str, north_up: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(what the page shows, the formula's values for the level window of the page's viewport).
    The page places the image in world units (micrometres, degrees); the viewport is in samples.
    A map (NORTH_UP) reaches the page with its rows reversed."""
    shown, _ = image(page)
    vp = page.evaluate("() => window.zarrExplorer.state().viewport")
    arr = store.array(level)
    factor = store.array("0" if "0" in store.arrays else "").shape[-1] // arr.shape[-1]
    r0, c0 = int(vp["y0"]) // factor, int(vp["x0"]) // factor
    expected = arr[r0:r0 + shown.shape[0], c0:c0 + shown.shape[1]].astype("f8")
    return shown, expected[::-1] if north_up else expected


def test_a_terapixel_pyramid_opens_coarse_and_zooms_reading_only_the_chunks_in_view(browser, synthetic_server):
    from conftest import booted_explorer

    store = synthetic_server.stores["ome.zarr"]
    with booted_explorer(browser, synthetic_server) as page:
        state = call(page, f"open({synthetic_server.store_url('ome.zarr')!r})")
        assert (state["status"], state["error"]) == ("idle", None)
        assert state["levels"] == [str(i) for i in range(11)] and state["shape"] == [2**20, 2**20]
        assert state["viewport"] == {"x0": 0, "x1": 2**20, "y0": 0, "y1": 2**20}
        assert int(state["level"]) >= 9  # ~1000 screen pixels across 2^20: one of the coarsest
        np.testing.assert_array_equal(*shown_region(page, store, state["level"]))

        synthetic_server.reset()
        view = {"x0": 300_000, "x1": 300_700, "y0": 700_000, "y1": 700_500}
        state = page.evaluate("(v) => window.zarrExplorer.setViewport(v)", view)
        assert (state["status"], state["level"], state["viewport"]) == ("idle", "0", view)
        shown, expected = shown_region(page, store, "0")
        assert shown.shape == (500, 700)
        np.testing.assert_array_equal(shown, expected)
        ideal = store.array("0").stored_bytes(((700_000, 700_500), (300_000, 300_700)))
        served = synthetic_server.totals("/synthetic/ome.zarr/")
        assert served == state["io"]
        assert ideal["chunk_bytes"] < served["bytes"] <= 1.2 * (ideal["chunk_bytes"] + ideal["index_bytes"])
        assert set(synthetic_server.stats("/synthetic/ome.zarr/")) <= {
            f"/synthetic/ome.zarr/0/c/{r}/{c}" for r in (683, 684) for c in (292, 293)}


def test_a_global_geozarr_pyramid_shows_the_formula_at_every_zoom(browser, synthetic_server):
    from conftest import booted_explorer

    store = synthetic_server.stores["geo.zarr"]
    with booted_explorer(browser, synthetic_server) as page:
        state = call(page, f"open({synthetic_server.store_url('geo.zarr')!r})")
        assert (state["status"], state["error"], state["levels"]) == ("idle", None, [str(i) for i in range(8)])
        np.testing.assert_array_equal(*shown_region(page, store, state["level"], north_up=True))
        state = page.evaluate("(v) => window.zarrExplorer.setViewport(v)",
                              {"x0": 65_000, "x1": 67_048, "y0": 30_000, "y1": 31_024})
        assert state["level"] in ("0", "1")
        np.testing.assert_array_equal(*shown_region(page, store, state["level"], north_up=True))


def test_a_terapixel_single_array_opens_on_a_window_of_its_chunks(browser, synthetic_server):
    from conftest import booted_explorer

    store = synthetic_server.stores["huge.zarr"]
    with booted_explorer(browser, synthetic_server) as page:
        synthetic_server.reset()
        state = call(page, f"open({synthetic_server.store_url('huge.zarr')!r})")
        assert (state["status"], state["error"], state["level"]) == ("idle", None, "")
        np.testing.assert_array_equal(*shown_region(page, store, ""))
        vp = state["viewport"]
        ideal = store.array("").stored_bytes(((vp["y0"], vp["y1"]), (vp["x0"], vp["x1"])))
        chunk_bytes = synthetic_server.totals("/synthetic/huge.zarr/c/")["bytes"]
        assert chunk_bytes == ideal["chunk_bytes"] and ideal["chunks"] <= 16
