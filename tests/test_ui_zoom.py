"""Deep zoom on CPython: which chunks a viewport needs, which level suits it, and the explorer on a
huge single-level array and a pyramid written by zarr-python (the browser tests repeat the main
paths in Chromium)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np
import pytest
import zarr

from pyzarr_web.ui import tiles
from pyzarr_web.ui.explorer import Explorer, create_explorer
from pyzarr_web.ui.pyramid import Pyramid, PyramidLevel
from pyzarr_web.ui.tiles import clamp_viewport, tiles_in, window_of


def test_window_and_tiles_cover_exactly_the_viewport():
    # full-resolution columns 300..812 at a 1:2 level are its columns 150..406
    assert window_of((300, 812, 700, 1100), (2.0, 2.0), (768, 1024)) == ((350, 550), (150, 406))
    assert window_of((0, 0.5, 0, 0.5), (4.0, 4.0), (10, 10)) == ((0, 1), (0, 1))  # never empty
    found = tiles_in(((350, 550), (150, 406)), (256, 256))
    assert sorted(found) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    centre = tiles_in(((0, 1024), (0, 1024)), (256, 256))
    assert set(centre[:4]) == {(1, 1), (1, 2), (2, 1), (2, 2)}  # the middle of the screen first
    assert clamp_viewport((-50, 100, 10, 20), 100, 80) == (0, 80, 10, 20)
    assert clamp_viewport((200, 300, 0, 10), 100, 80) is None


def _level(shape, factors):
    return PyramidLevel(f"l{factors[-1]}", SimpleNamespace(shape=shape, path=f"l{factors[-1]}"), factors)


def test_level_choice_and_hidden_indices_between_levels():
    pyramid = Pyramid([_level((64, 4096, 4096), (1, 1, 1)), _level((32, 2048, 2048), (2, 2, 2)),
                       _level((16, 1024, 1024), (4, 4, 4))])
    assert pyramid.auto_level((1, 2), (4096, 4096), 1024) == 2  # the whole image on 1024 pixels
    assert pyramid.auto_level((1, 2), (2048, 1500), 1024) == 1
    assert pyramid.auto_level((1, 2), (600, 600), 1024) == 0
    assert [pyramid.index_at(2, 0, z) for z in (0, 3, 4, 63)] == [0, 0, 1, 15]  # z downsampled too
    assert pyramid.find("l4") == 2 and pyramid.find("nope") is None


async def settle(explorer: Explorer) -> None:
    await asyncio.sleep(0)
    await explorer.when_idle()


@pytest.fixture
def huge(tmp_path):
    """An 8192 × 16384 uint16 array of 512² chunks (256 MiB a plane), only two chunks written."""
    path = tmp_path / "huge.zarr"
    arr = zarr.open_group(path, mode="w", zarr_format=3).create_array(
        "big", shape=(8192, 16384), chunks=(512, 512), dtype="u2", fill_value=7)
    arr[0:512, 512:1024] = np.arange(512 * 512, dtype="u2").reshape(512, 512)
    arr[4096:4608, 8192:8704] = 3
    zarr.consolidate_metadata(path)
    return path


async def test_a_huge_array_opens_on_a_screenful_and_zooms_out_as_a_bounded_overview(huge, monkeypatch):
    explorer = create_explorer(f"?store={huge}&path=big")
    await settle(explorer)
    state = explorer.state()
    assert (state["status"], state["level"], state["levels"]) == ("idle", "big", ["big"])
    assert state["viewport"] == {"x0": 0, "x1": 1024, "y0": 0, "y1": 1024}
    assert explorer._plane.shape == (1024, 1024)  # full resolution: the chunks in view only
    np.testing.assert_array_equal(explorer._plane[0:512, 512:].ravel(), np.arange(512 * 512, dtype="u2"))
    assert explorer.view_summary["downsampled"] is False

    monkeypatch.setattr("pyzarr_web.ui.explorer.OVERVIEW_DRAW_S", 0)
    drawn = []
    show = explorer._show_zoomed
    monkeypatch.setattr(explorer, "_show_zoomed", lambda planes, *a, **k: (
        drawn.append(int(np.isnan(planes[0]).sum()) if planes[0].dtype.kind == "f" else 0), show(planes, *a, **k))[-1])
    explorer.viewer.viewport = (0, 16384, 0, 8192)  # all of it: too many tiles for one view
    await settle(explorer)
    # progressive: each band of chunk rows drawn as it arrives (the rest transparent), then all
    assert len(drawn) == 8192 // 512 and drawn[0] > drawn[-2] > 0 and drawn[-1] == 0
    state = explorer.state()
    assert (state["status"], state["error"]) == ("idle", None)
    assert state["io"]["requests"] == 16 * 32 - 4  # every chunk once; the first view's 4 are cached
    assert explorer._plane.shape == (512, 1024) and explorer._plane_steps == (16, 16)
    assert explorer._plane[4096 // 16, 8192 // 16] == 3 and explorer.view_summary["downsampled"]

    monkeypatch.setattr("pyzarr_web.ui.explorer.OVERVIEW_MAX_CHUNKS", 100)
    explorer.viewer.viewport = (0, 16384, 0, 4096)
    await settle(explorer)
    assert explorer.status == "error" and "more than the 100 an overview reads: zoom in" in explorer.error
    assert explorer.plot_area.visible  # the last image stays, so the user can zoom back in


async def test_stop_ends_a_slow_overview_and_keeps_the_view(huge, monkeypatch):
    explorer = create_explorer(f"?store={huge}&path=big")
    await settle(explorer)
    started = asyncio.Event()
    real_read = explorer._array.read

    async def slow_read(*args, **kwargs):
        started.set()
        await asyncio.sleep(30)
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(explorer._array, "read", slow_read)
    explorer.viewer.viewport = (0, 16384, 0, 8192)
    await asyncio.wait_for(started.wait(), 5)
    explorer.stop()
    await settle(explorer)
    assert explorer.status == "idle" and "Stopped" in explorer.status_text.object
    assert explorer.state()["viewport"] == {"x0": 0, "x1": 1024, "y0": 0, "y1": 1024}  # what is still shown


@pytest.fixture
def pyramid_store(tmp_path):
    path = tmp_path / "pyr.zarr"
    root = zarr.open_group(path, mode="w", zarr_format=3)
    full = (np.arange(4096 * 4096, dtype="u4").reshape(4096, 4096) % 65521).astype("u2")
    for i in range(4):
        level = full[::2 ** i, ::2 ** i]
        root.create_array(str(i), shape=level.shape, chunks=(256, 256), dtype="u2")[:] = level
    zarr.consolidate_metadata(path)
    return path, full


async def test_zooming_in_shows_the_cached_coarser_level_first(pyramid_store, monkeypatch):
    path, full = pyramid_store
    explorer = create_explorer(f"?store={path}")
    await settle(explorer)
    assert explorer.state()["level"] == "2"  # 4096 across 1024 pixels
    drawn = []
    show = explorer._show_zoomed
    monkeypatch.setattr(explorer, "_show_zoomed", lambda data, plan, *a, **k: (
        drawn.append((plan.array.path, k.get("sharp", True))), show(data, plan, *a, **k))[-1])
    explorer.viewer.viewport = (1000, 1500, 2000, 2400)
    await settle(explorer)
    assert drawn == [("2", False), ("0", True)]  # the 1:4 level scaled up, then full resolution
    r0, c0 = map(int, explorer._plane_offsets)
    np.testing.assert_array_equal(explorer._plane, full[2000:2400, 1000:1500])
    assert r0 == 2000 and c0 == 1000
    assert "level=" not in explorer.url_query and "view=1000,1500,2000,2400" in explorer.url_query

    explorer.viewer.level = "3"
    await settle(explorer)
    assert explorer.state()["level"] == "3" and explorer.level_select.value == "3"
    explorer.level_select.value = "auto"
    await settle(explorer)
    assert explorer.viewer.level == "auto" and explorer.state()["level"] == "0"
    explorer.fit()
    await settle(explorer)
    assert explorer.state()["viewport"] == {"x0": 0, "x1": 4096, "y0": 0, "y1": 4096}
    assert explorer.state()["io"] == {"requests": 0, "bytes": 0}  # back to tiles still cached
    assert "Multiscale image /" in explorer.info_pane.object
    assert tiles.MAX_VIEW_BYTES >= 4 * 2048 * 2048  # a level in view fits, whatever its dtype


async def test_tile_reads_that_left_the_view_are_cancelled(pyramid_store, monkeypatch):
    path, _ = pyramid_store
    explorer = create_explorer(f"?store={path}")
    await settle(explorer)
    finest = explorer._pyramid.levels[0].array
    hanging = []

    async def never(selection, progress=None):
        hanging.append(asyncio.current_task())
        await asyncio.sleep(3600)

    monkeypatch.setattr(finest, "read", never)
    explorer.viewer.viewport = (0, 512, 0, 512)  # level 0: four tiles, one block read that never ends
    await asyncio.sleep(0.05)
    assert len(hanging) == 1 and explorer.status == "loading"
    explorer.viewer.viewport = (0, 4096, 0, 4096)  # back to the whole image, cached at level 2
    await settle(explorer)
    assert explorer.status == "idle" and explorer.state()["level"] == "2"
    await asyncio.sleep(0)
    assert all(task.cancelled() for task in hanging)  # the block, once all four tiles are cancelled


async def test_a_new_view_reads_its_tiles_as_one_block_and_a_pan_only_the_new_ones(pyramid_store, monkeypatch):
    path, full = pyramid_store
    explorer = create_explorer(f"?store={path}&view=1000,1500,2000,2400")
    await settle(explorer)
    finest = explorer._pyramid.levels[0].array
    reads = []
    real = finest.read

    async def counted(selection, progress=None):
        reads.append(selection)
        return await real(selection, progress=progress)

    monkeypatch.setattr(finest, "read", counted)
    explorer.viewer.viewport = (1000, 1500, 2900, 3300)  # no tile of it cached: one block
    await settle(explorer)
    assert reads == [(slice(2816, 3328), slice(768, 1536))]
    np.testing.assert_array_equal(explorer._plane, full[2900:3300, 1000:1500])
    reads.clear()
    explorer.viewer.viewport = (1100, 1600, 2900, 3300)  # a pan: only the new column of tiles
    await settle(explorer)
    assert sorted(r[0].start for r in reads) == [2816, 3072]
    assert {(r[1].start, r[1].stop) for r in reads} == {(1536, 1792)}
    np.testing.assert_array_equal(explorer._plane, full[2900:3300, 1100:1600])


def test_frames_put_samples_in_physical_and_map_units():
    from pyzarr_web.core.conventions import Axis as MsAxis
    from pyzarr_web.core.conventions import Georef, Level, Multiscale
    from pyzarr_web.ui.coords import Axis
    from pyzarr_web.ui.frames import frames_for

    axes = [Axis("y", 100), Axis("x", 200)]
    levels = [_level((100, 200), (1, 1))]
    utm = Multiscale("geozarr", levels=[Level("0")], georef=Georef(
        code="EPSG:32632", affine=(10, 0, 500000, 0, -10, 5000000)))
    fy, fx = frames_for(Pyramid(levels, utm), axes, (0, 1))
    assert (fy.world(0), fy.world(100), fx.world(200)) == (5000000, 4999000, 502000)
    assert fy.label == "y (EPSG:32632)" and not fy.downward  # north up
    assert fy.indices(4999500, 4999000) == (50, 100)
    placed = fy.placement(50, 5, 10)  # rows 50, 60, … 90 drawn north up: flipped
    assert (placed.start, placed.width, placed.flipped) == (4999000, 500, True)
    assert placed.coords[0] == 4999450  # centre of the first sample (rows 50..59)

    ome = Multiscale("ome-ngff", levels=[Level("s0", (0.5, 0.25), (10.0, 0.0))],
                     axes=[MsAxis("y", "space", "micrometer"), MsAxis("x", "space", "micrometer")])
    fy, fx = frames_for(Pyramid(levels, ome), axes, (0, 1))
    assert (fy.world(0), fx.world(4), fy.unit, fy.downward) == (9.75, 0.875, "µm", True)
    assert frames_for(Pyramid(levels), axes, (0, 1))[0].is_index  # nothing known: sample indices
