"""The explorer's logic on CPython, on stores written by zarr-python (the browser tests repeat the
important paths in Chromium)."""

import asyncio

import numpy as np
import pytest
import zarr

from pyzarr_web.ui.explorer import Explorer, create_explorer


@pytest.fixture
def cube_store(tmp_path):
    path = tmp_path / "cube.zarr"
    root = zarr.open_group(path, mode="w", zarr_format=3)
    root.attrs["title"] = "<script>alert(1)</script>"
    data = np.random.default_rng(0).normal(size=(5, 40, 30)).astype("f4")
    data[1, 3, 4] = np.nan
    arr = root.create_array("grp/cube", shape=data.shape, chunks=(1, 16, 16), dtype="f4",
                            dimension_names=["t", "y", "x"])
    arr[:] = data
    zarr.consolidate_metadata(path)
    return path, data


HOSTILE = "<img src=x onerror=alert(1)>"


async def settle(explorer: Explorer) -> None:
    await asyncio.sleep(0)
    await explorer.when_idle()


async def opened(store, path: str) -> Explorer:
    """An explorer showing PATH of STORE, as a URL would open it."""
    explorer = create_explorer(f"?store={store}&path={path}")
    await settle(explorer)
    return explorer


async def test_tree_select_slider_and_dimensions_follow_numpy(cube_store):
    path, data = cube_store
    explorer = Explorer()
    await explorer.open(str(path))
    await settle(explorer)
    assert [n["path"] for n in explorer.tree.nodes] == ["", "grp", "grp/cube"]
    assert explorer.tree.expanded == [""] and explorer.tree.selected == ""
    explorer.tree.selected = "grp"  # as a click in the page does
    await settle(explorer)
    assert explorer.viewer.path == "grp" and explorer.tree.expanded == ["", "grp"]
    assert explorer.tree.nodes[1]["count"] == 1
    explorer.select("grp/cube")
    await settle(explorer)
    assert explorer.status == "idle" and explorer.view_summary["shape"] == [40, 30]
    assert explorer.view_summary["mean"] == pytest.approx(float(data[0].astype("f8").mean()))

    explorer.sliders.objects[0].value = 1
    await settle(explorer)
    assert explorer.view_summary["nan_count"] == 1
    assert explorer.view_summary["max"] == pytest.approx(float(np.nanmax(data[1])))

    explorer.x_dim.value = 0  # rows y, columns t: x (dim 2) becomes the slider
    await settle(explorer)
    assert len(explorer.sliders.objects) == 1 and explorer.sliders.objects[0].label.startswith("x = 0")
    assert explorer.state()["selection"] == ":,:,0" and explorer.view_summary["shape"] == [40, 5]
    plane = explorer.image.source.data["image"][0]
    np.testing.assert_allclose(plane, data[:, :, 0].T, equal_nan=True)

    explorer.set_selection("2,10:20,:")
    await settle(explorer)
    assert explorer.state()["view"]["shape"] == [10, 30]
    np.testing.assert_allclose(explorer.image.source.data["image"][0], data[2, 10:20, :], equal_nan=True)
    assert "select=2,10:20,:" in explorer.url_query


async def test_tree_filter_shows_matches_with_their_ancestors(cube_store):
    path, _ = cube_store
    explorer = Explorer()
    await explorer.open(str(path))
    await settle(explorer)
    explorer.tree.filter = "CUB"
    assert explorer.tree.matches == ["", "grp", "grp/cube"]
    explorer.tree.filter = "nothing"
    assert explorer.tree.matches == []


async def test_store_errors_are_shown_and_the_app_keeps_working(cube_store, tmp_path):
    explorer = Explorer()
    await explorer.open(str(tmp_path / "missing.zarr"))
    await settle(explorer)
    assert explorer.status == "error" and "missing.zarr" in explorer.tree_error.object
    assert explorer.state()["error"] and explorer.state()["status"] == "error"
    path, _ = cube_store
    await explorer.open(str(path))
    await settle(explorer)
    assert explorer.status == "idle" and explorer.tree_error.object == ""
    assert explorer.attrs_pane.object == {"title": "<script>alert(1)</script>"}  # a JSON view: text


async def test_node_names_never_become_markup(tmp_path):
    import panel as pn

    path = tmp_path / "names.zarr"
    root = zarr.open_group(path, mode="w", zarr_format=3)
    root.create_group(HOSTILE).create_array("a", shape=(2, 2), dtype="i1")
    zarr.consolidate_metadata(path)
    explorer = await opened(path, "")
    explorer.select(HOSTILE)
    await settle(explorer)
    assert explorer.state()["kind"] == "group"
    shown = [pane.object for pane in explorer.panel().select(pn.pane.HTML) if pane.object]
    assert any("&lt;img src=x" in text for text in shown), "the group summary names the group, escaped"
    assert not [text for text in shown if "<img" in text]


async def test_a_new_read_cancels_the_previous_one(cube_store):
    path, data = cube_store
    explorer = await opened(path, "grp/cube")
    explorer.sliders.objects[0].value = 1
    first_load = explorer.loader.current
    for index in range(2, 5):
        explorer.sliders.objects[0].value = index  # each move cancels the load before it
    await settle(explorer)
    assert explorer.view_summary["mean"] == pytest.approx(float(np.nanmean(data[4].astype("f8"))))
    assert first_load.cancelled() and explorer.loader.current is not first_load


async def test_a_node_chosen_while_the_store_opens_is_shown(cube_store):
    """A selection that cancels the store's opening (a click or an API call right after the page
    starts) opens the store again for it, rather than leaving a view with no store."""
    path, data = cube_store
    explorer = create_explorer(f"?store={path}")
    await asyncio.sleep(0)  # the opening has started
    explorer.select("grp/cube")
    await settle(explorer)
    assert explorer.status == "idle" and explorer.state()["shape"] == [5, 40, 30]
    assert explorer.view_summary["mean"] == pytest.approx(float(np.nanmean(data[0].astype("f8"))))


async def test_api_calls_answer_with_the_settled_state_and_report_urls(cube_store):
    from pyzarr_web.ui import api

    path, data = cube_store
    explorer = Explorer()
    states, urls = [], []
    api.watch_state(explorer, states.append, lambda query, new_entry: urls.append((query, new_entry)))
    state = await api.call(explorer, "open", [str(path)])
    assert state["status"] == "idle" and state["kind"] == "group" and state["path"] == ""
    state = await api.call(explorer, "select", ["grp/cube"])
    assert (state["kind"], state["shape"], state["dtype"], state["selection"]) == ("array", [5, 40, 30], "<f4", "0,:,:")
    state = await api.call(explorer, "setSelection", ["-1,:,5:10"])
    assert state["view"]["shape"] == [40, 5] and state["view"]["mean"] == pytest.approx(float(data[4, :, 5:10].mean()))
    assert states[-1] == state
    assert urls[-1] == (f"store={path}&path=grp/cube&select=4,:,5:10", False)
    assert any(new_entry for query, new_entry in urls if "path=grp/cube" in query)

    state = await api.call(explorer, "navigate", [f"?store={path}&path=grp"])
    assert state["path"] == "grp" and state["kind"] == "group"
    state = await api.call(explorer, "navigate", [f"?store={path}&path=grp/cube&select=3,:,:"])
    assert state["selection"] == "3,:,:"
    with pytest.raises(ValueError):
        await api.call(explorer, "explode", [])


async def test_a_url_restores_node_selection_colormap_and_contrast(cube_store):
    path, data = cube_store
    explorer = create_explorer(f"?store={path}&path=grp/cube&select=3,:,2:7&cmap=magma&clim=-1,1.5")
    await settle(explorer)  # onload opened the store (no document: it runs at once)
    state = explorer.state()
    assert (state["path"], state["selection"], state["view"]["shape"]) == ("grp/cube", "3,:,2:7", [40, 5])
    assert explorer.colormap.value == "magma" and explorer.contrast.value == (-1.0, 1.5)
    assert explorer.image.linear.low == -1.0 and not explorer.auto_contrast.value
    assert "cmap=magma" in explorer.url_query and "clim=-1,1.5" in explorer.url_query
    broken = create_explorer(f"?store={path}&clim=oops")
    assert broken.auto_contrast.value
    await settle(broken)


async def test_info_shows_stored_size_and_compression_ratio(cube_store):
    path, data = cube_store
    explorer = await opened(path, "grp/cube")
    on_disk = sum(f.stat().st_size for f in (path / "grp" / "cube" / "c").rglob("*") if f.is_file())
    ratio = data.nbytes / on_disk
    assert f"compression ratio {ratio:.2f}" in explorer.info_pane.object
    assert "Codecs" in explorer.info_pane.object and "5 × 40 × 30" in explorer.info_pane.object


async def test_without_consolidated_metadata_the_url_path_is_found(tmp_path):
    from pyzarr_web.tools.serve import make_app, run_in_thread

    store = tmp_path / "plain.zarr"
    root = zarr.open_group(store, mode="w", zarr_format=3)
    root.create_array("hidden/deep", shape=(4, 4), dtype="i2")[:] = np.arange(16).reshape(4, 4)
    with run_in_thread(make_app(None, [store])) as base:
        explorer = await opened(f"{base}/data/plain.zarr", "")
        explorer.select("hidden/deep")  # not in the tree: HTTP cannot list, no consolidated metadata
        await settle(explorer)
        state = explorer.state()
        assert state["path"] == "hidden/deep" and state["view"]["max"] == 15
        assert (state["kind"], state["shape"], state["dtype"]) == ("array", [4, 4], "<i2")
        assert "may be incomplete" in explorer.tree_error.object
        explorer.viewer.tab = "info"  # the info view refreshes while it is shown
        assert "Compression ratio" in explorer.info_pane.object  # estimated from what was read over HTTP
        assert "Fill value</th><td>0<" in explorer.info_pane.object


async def test_a_read_shared_by_two_views_survives_the_first_being_superseded(cube_store):
    path, data = cube_store
    explorer = await opened(path, "grp/cube")
    explorer.set_selection("3,:,:")
    explorer.set_selection("3,:,:")  # e.g. a widget echo asking for the same view again
    await settle(explorer)
    assert explorer.status == "idle" and explorer.state()["selection"] == "3,:,:"
    assert explorer.view_summary["mean"] == pytest.approx(float(np.nanmean(data[3].astype("f8"))))


async def test_the_slider_reads_ahead_in_the_direction_it_moves(cube_store):
    path, data = cube_store
    explorer = await opened(path, "grp/cube")
    explorer.sliders.objects[0].value = 1
    await settle(explorer)
    ahead = [key for key in explorer.loader.pending_reads() if key[1] == "2,:,:"]
    assert ahead, "the next plane along the slider is being read"
    await explorer.loader._planes._tasks[ahead[0]]
    explorer.sliders.objects[0].value = 2
    await settle(explorer)
    assert explorer.view_summary["max"] == pytest.approx(float(np.nanmax(data[2])))


@pytest.mark.parametrize("zarr_format", [2, 3])
async def test_selection_steps_show_exactly_what_numpy_selects(tmp_path, zarr_format):
    path = tmp_path / f"steps-v{zarr_format}.zarr"
    data = np.random.default_rng(1).integers(0, 1000, size=(300, 260)).astype("u2")
    arr = zarr.open_group(path, mode="w", zarr_format=zarr_format).create_array(
        "img", shape=data.shape, chunks=(64, 64), dtype="u2")
    arr[:] = data
    explorer = await opened(path, "img")
    explorer.set_selection("10:200,3:250:7")
    await settle(explorer)
    expected = zarr.open_array(path / "img", mode="r")[10:200, 3:250:7]
    state = explorer.state()
    assert state["selection"] == "10:200,3:250:7" and state["view"]["shape"] == list(expected.shape)
    assert state["view"]["mean"] == pytest.approx(float(expected.mean()))
    np.testing.assert_array_equal(explorer.image.source.data["image"][0], expected)
    assert "select=10:200,3:250:7" in explorer.url_query

    explorer.set_selection("-50:,::-1")  # negative steps are refused, never shown as other data
    await settle(explorer)
    assert explorer.state()["status"] == "error" and "negative step" in explorer.state()["error"]
    assert explorer.state()["selection"] == "10:200,3:250:7"
    explorer.set_selection("-50:,-9")
    await settle(explorer)
    assert explorer.state()["status"] == "error" and "exactly that many" in explorer.state()["error"]
    explorer.set_selection("-50:,::2")
    await settle(explorer)
    np.testing.assert_array_equal(explorer.image.source.data["image"][0], data[-50:, ::2])


async def test_each_change_of_view_starts_exactly_one_load(cube_store, monkeypatch):
    """Writing back what a load settled on (the default selection) must not start another load,
    which would cancel the first and read twice."""
    path, _ = cube_store
    explorer = await opened(path, "")
    started = []
    run = explorer.loader.run
    monkeypatch.setattr(explorer.loader, "run", lambda load: started.append(load) or run(load))
    explorer.select("grp/cube")
    await settle(explorer)
    explorer.sliders.objects[0].value = 2
    await settle(explorer)
    from pyzarr_web.ui import api
    await api.call(explorer, "navigate", [f"?store={path}&path=grp"])
    assert len(started) == 3 and explorer.state()["kind"] == "group"


async def test_retry_reads_a_failed_view_again(cube_store, monkeypatch):
    from pyzarr_web.core import StoreError
    from pyzarr_web.core.stores.local import LocalStore

    path, data = cube_store
    failures = []
    get = LocalStore.get

    async def flaky_get(self, key, byte_range=None):  # the first read of one chunk fails, as a timeout would
        if key == "grp/cube/c/2/0/0" and not failures:
            failures.append(key)
            raise StoreError(f"GET {key}: no answer within 20 s")
        return await get(self, key, byte_range)

    monkeypatch.setattr(LocalStore, "get", flaky_get)
    explorer = await opened(path, "grp/cube")
    explorer.set_selection("2,:,:")
    await settle(explorer)
    assert explorer.status == "error" and explorer.retry_button.visible and "c/2/0/0" in explorer.error
    explorer.retry()
    await settle(explorer)
    assert explorer.status == "idle" and not explorer.retry_button.visible
    assert explorer.view_summary["mean"] == pytest.approx(float(np.nanmean(data[2].astype("f8"))))


async def test_a_virtual_arrays_info_says_where_its_chunks_live_once_found():
    """Found beside the view (a manifest read must not delay the image), then shown in the info."""
    from pathlib import Path

    repo = Path(__file__).parent / "data" / "icechunk-v2" / "repo"
    explorer = await opened(repo, "a")
    await asyncio.wait_for(asyncio.gather(*explorer._side_work.values()), 10)
    explorer.viewer.tab = "info"
    assert "Chunks live in" in explorer.info_pane.object and "6 chunks" in explorer.info_pane.object
    assert explorer.version_select.visible and "tag:v1" in explorer.version_select.options.values()
