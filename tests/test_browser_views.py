"""The explorer's views in real Chromium, driven as a user would (tree, sliders, pickers, tabs,
hover) and through window.zarrExplorer, on a store zarr-python writes here. One page is booted
for the module; each test starts from a fresh open() of the store.

Screenshots of the main views are written to test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import zarr
from conftest import REPO, booted_explorer

pytestmark = pytest.mark.browser
SHOTS = REPO / "test-output" / "screenshots"
XSS = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">'


def _cf_sst(raw: np.ndarray) -> np.ndarray:
    """What CF says the stored int16 values mean: fill masked, then scale and offset."""
    values = raw.astype("f8")
    values[raw == -32768] = np.nan
    return values * 0.01 + 10.0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("views") / "views.zarr"
    rng = np.random.default_rng(7)
    root = zarr.open_group(path, mode="w", zarr_format=3)
    root.attrs["title"] = "views test store"
    ocean = root.create_group("ocean")
    ocean.attrs.update({"description": XSS, "nested": {"html": "<b>bold?</b>"}})
    raw = (rng.normal(0, 300, size=(6, 30, 40))).astype("i2")
    raw[2, 5, 7] = -32768
    sst = ocean.create_array("sst", shape=raw.shape, chunks=(1, 16, 16), dtype="i2", fill_value=-32768,
                             dimension_names=["time", "lat", "lon"], compressors=zarr.codecs.ZstdCodec(level=3))
    sst[:] = raw
    sst.attrs.update({"units": "degC", "long_name": "Sea surface temperature", "scale_factor": 0.01,
                      "add_offset": 10.0, "_FillValue": -32768})
    for name, values, attrs in (
        ("time", np.arange(6, dtype="i4") * 7, {"units": "days since 2020-01-01"}),
        ("lat", np.linspace(29, -29, 30).astype("f4"), {"units": "degrees_north"}),
        ("lon", np.linspace(-78, 78, 40).astype("f4"), {"units": "degrees_east"}),
    ):
        arr = ocean.create_array(name, shape=values.shape, dtype=values.dtype, dimension_names=[name])
        arr[:] = values
        arr.attrs.update(attrs)
    misc = root.create_group("misc")
    words = np.array([f"word-{i}" for i in range(24)], dtype=object).reshape(4, 6)
    misc.create_array("words", shape=(4, 6), dtype=str)[:] = words
    waves = (rng.normal(size=(20, 24)) + 1j * rng.normal(size=(20, 24))).astype("c8")
    misc.create_array("waves", shape=waves.shape, chunks=(10, 12), dtype="c8")[:] = waves
    profile = np.cumsum(rng.normal(size=500)).astype("f8")
    misc.create_array("profile", shape=(500,), chunks=(128,), dtype="f8")[:] = profile
    misc.create_array("answer", shape=(), dtype="i8")[()] = 42
    broken = misc.create_array("broken", shape=(8, 8), chunks=(4, 4), dtype="f4",
                               compressors=zarr.codecs.GzipCodec())
    broken[:] = 1.0
    zarr.consolidate_metadata(path)
    (path / "misc" / "broken" / "c" / "1" / "1").write_bytes(b"this is not gzip data")
    return path, {"sst": raw, "words": words, "waves": waves, "profile": profile}


@pytest.fixture(scope="module")
def explorer(browser, http_server, store):
    url = http_server.add_store(store[0])
    with booted_explorer(browser, http_server, f"store={url}") as page:
        page.store_url = url
        yield page


def api(page, method: str, *args):
    quoted = ", ".join(repr(a) for a in args)
    return page.evaluate(f"() => window.zarrExplorer.{method}({quoted})")


def settle(page) -> dict:
    return page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=re.compile(f"^{name}$")).click()


def test_tree_navigation_by_clicking(explorer, store):
    api(explorer, "open", explorer.store_url)
    explorer.locator(".tv-row[data-path='ocean']").click()
    sst = explorer.locator(".tv-row[data-path='ocean/sst']")
    sst.wait_for()
    state = settle(explorer)
    assert (state["path"], state["kind"]) == ("ocean", "group")
    assert "6×30×40" in sst.text_content() and "int16" in sst.text_content()
    sst.click()
    state = settle(explorer)
    assert (state["path"], state["shape"], state["dtype"], state["selection"]) == \
        ("ocean/sst", [6, 30, 40], "<i2", "0,:,:")
    assert "path=ocean/sst" in explorer.url


def test_state_slider_and_displayed_dimensions_follow_numpy(explorer, store):
    _, data = store
    api(explorer, "open", f"{explorer.store_url}")
    api(explorer, "select", "ocean/sst")
    decoded = _cf_sst(data["sst"])

    def check(view, expected):
        assert view["shape"] == list(expected.shape)
        assert view["min"] == pytest.approx(np.nanmin(expected)) and view["max"] == pytest.approx(np.nanmax(expected))
        assert view["mean"] == pytest.approx(np.nanmean(expected))
        assert view["nan_count"] == int(np.isnan(expected).sum())
        assert view["downsampled"] is False

    check(settle(explorer)["view"], decoded[0])
    # move the time slider with the keyboard, as a user would
    handle = explorer.locator(".bk-input-group", has_text="time =").locator(".noUi-handle")
    handle.focus()
    explorer.keyboard.press("ArrowRight")
    explorer.keyboard.press("ArrowRight")
    explorer.wait_for_function("() => window.zarrExplorer.state().selection === '2,:,:'")
    state = settle(explorer)
    check(state["view"], decoded[2])
    assert state["view"]["nan_count"] == 1
    assert explorer.locator(".bk-slider-title", has_text="time = 2020-01-15 (index 2)").count() == 1
    shot(explorer, "image-view")

    # show (lat, time) planes: lon becomes the slider
    explorer.locator(".bk-input-group", has_text="Columns (x)").locator("select").select_option(label="time (6)")
    explorer.wait_for_function("() => window.zarrExplorer.state().selection === ':,:,0'")
    check(settle(explorer)["view"], decoded[:, :, 0].T)
    assert "select=:,:,0" in explorer.url


def test_hover_shows_indices_coordinates_and_value(explorer, store):
    _, data = store
    api(explorer, "select", "ocean/sst")
    api(explorer, "setSelection", "3,:,:")
    box = explorer.locator("canvas").first.bounding_box()
    explorer.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    tooltip = explorer.locator(".bk-tooltip-content").first
    tooltip.wait_for()
    text = tooltip.inner_text()
    lat = re.search(r"lat \(degrees_north\):\s*(-?[\d.]+)\s+\[(\d+)\]", text)
    lon = re.search(r"lon \(degrees_east\):\s*(-?[\d.]+)\s+\[(\d+)\]", text)
    value = re.search(r"Sea surface temperature \(degC\):\s*(-?[\d.]+|NaN)", text)
    assert lat and lon and value, text
    i, j = int(lat.group(2)), int(lon.group(2))
    assert float(lat.group(1)) == pytest.approx(np.linspace(29, -29, 30)[i], abs=1e-3)
    assert float(lon.group(1)) == pytest.approx(np.linspace(-78, 78, 40)[j], abs=1e-3)
    assert float(value.group(1)) == pytest.approx(_cf_sst(data["sst"])[3, i, j], abs=1e-4)


def test_attributes_are_inert_text(explorer):
    api(explorer, "select", "ocean")
    tab(explorer, "Info")
    explorer.get_by_text("window.__xss = 1", exact=False).first.wait_for()
    assert explorer.evaluate("() => window.__xss") is None
    assert explorer.evaluate("""() => { let found = false; const walk = (root) => {
        for (const e of root.querySelectorAll('img[src="x"], script')) {
          if (e.textContent.includes('__xss') || e.getAttribute('src') === 'x') found = true; }
        for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot); };
        walk(document); return found; }""") is False
    shot(explorer, "info-view")
    tab(explorer, "Data")


def test_table_view_shows_strings_complex_and_pages(explorer, store):
    _, data = store
    state = api(explorer, "select", "misc/words")
    assert state["kind"] == "array" and state["view"]["shape"] == [4, 6]
    tab(explorer, "Table")
    explorer.locator(".slick-row").first.wait_for()
    assert "word-0" in explorer.locator(".slick-row").first.inner_text()
    assert explorer.get_by_text("rows 1–24 of 24").count() == 1
    shot(explorer, "table-view")

    state = api(explorer, "select", "misc/waves")  # complex: magnitude by default
    magnitude = np.abs(data["waves"]).astype("f8")
    assert state["view"]["max"] == pytest.approx(magnitude.max(), rel=1e-6)
    assert "j" in explorer.locator(".slick-row").first.inner_text()
    tab(explorer, "Data")


def test_line_and_scalar_views(explorer, store):
    _, data = store
    state = api(explorer, "select", "misc/profile")
    assert state["view"]["shape"] == [500] and state["view"]["mean"] == pytest.approx(data["profile"].mean())
    line = explorer.evaluate("""() => Bokeh.documents[0].get_model_by_name('pzw-line').data_source.data.y.length""")
    assert line == 500
    state = api(explorer, "select", "misc/answer")
    assert state["shape"] == [] and state["kind"] == "array"
    explorer.get_by_text("= 42").first.wait_for()


def test_errors_are_shown_where_they_happen_and_the_app_keeps_working(explorer, http_server):
    state = api(explorer, "open", f"{http_server.url}/data/no-such-store.zarr")
    assert state["status"] == "error" and "no-such-store.zarr" in state["error"]
    explorer.get_by_text("Could not open").first.wait_for()
    assert explorer.get_by_text("should point at the store's root").count() >= 1

    api(explorer, "open", explorer.store_url)
    state = api(explorer, "select", "misc/broken")
    assert state["status"] == "error" and "c/1/1" in state["error"]
    explorer.get_by_text("Could not read /misc/broken").first.wait_for()
    shot(explorer, "error-corrupt-chunk")
    state = api(explorer, "setSelection", "oops")
    assert state["status"] == "error" and "oops" in state["error"]

    state = api(explorer, "select", "ocean/sst")  # the rest still works
    assert state["status"] == "idle" and state["error"] is None and state["view"]["shape"] == [30, 40]
    assert explorer.get_by_text("Could not read").count() == 0


def test_back_and_forward_move_between_nodes(explorer):
    api(explorer, "open", explorer.store_url)
    api(explorer, "select", "misc/profile")
    api(explorer, "select", "ocean/sst")
    assert "path=ocean/sst" in explorer.url
    explorer.go_back()
    explorer.wait_for_function("() => window.zarrExplorer.state().path === 'misc/profile'")
    assert settle(explorer)["view"]["shape"] == [500]
    explorer.go_forward()
    explorer.wait_for_function("() => window.zarrExplorer.state().path === 'ocean/sst'")


def test_a_shared_url_restores_the_view(browser, http_server, store):
    url = http_server.add_store(store[0])
    query = f"store={url}&path=ocean/sst&select=4,:,:&cmap=magma&clim=5,12&log=1&tab=info"
    with booted_explorer(browser, http_server, query) as page:
        page.wait_for_function("() => window.zarrExplorer.state().path === 'ocean/sst'")
        state = settle(page)
        assert state["selection"] == "4,:,:" and state["view"]["shape"] == [30, 40]
        page.get_by_text("Compression ratio").or_(page.get_by_text("Stored size")).first.wait_for()  # the Info tab
        assert "log=1" in page.url and "tab=info" in page.url and "clim=5,12" in page.url
        tab(page, "Data")
        page.wait_for_function("() => !window.location.search.includes('tab=')")
        page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('pzw-image') !== null")
        mapper = page.evaluate("""() => { const r = Bokeh.documents[0].get_model_by_name('pzw-image');
            const m = r.glyph.color_mapper; return [m.type, m.low, m.high, m.palette[0]]; }""")
        assert mapper[:2] == ["LogColorMapper", 5] and mapper[2] >= 12  # a log scale spans a decade at least
        assert mapper[3].lower() in ("#000003", "#000004")  # magma starts near black
