"""Discovery without listing or consolidated metadata: the tree is found by probing the metadata
documents of what the metadata refers to (OME-NGFF, GeoZarr / ndpyramid / zarr-conventions
multiscales, xarray / CF), over real HTTP on stores written by zarr-python; bounds and errors."""

from __future__ import annotations

import asyncio
import json
import warnings

import numpy as np
import pytest
import zarr

from pyzarr_web.core import Hierarchy, StoreError, open_store
from pyzarr_web.core.discovery import array_references, group_references, resolve
from pyzarr_web.core.hierarchy import MAX_PROBES, MAX_ROUNDS
from pyzarr_web.core.store import WrapperStore
from pyzarr_web.core.stores.memory import MemoryStore
from pyzarr_web.tools.serve import make_app, run_in_thread

OME_05 = {"ome": {"version": "0.5", "multiscales": [{
    "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
    "datasets": [{"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]},
                 {"path": "s1", "coordinateTransformations": [{"type": "scale", "scale": [2, 2]}]}],
}]}}


def _write_ome_v3(root):
    """OME-NGFF 0.5 image with a label image, plus an array nothing refers to."""
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes=OME_05)
    img = np.arange(64, dtype="u2").reshape(8, 8)
    g.create_array("s0", shape=(8, 8), chunks=(4, 4), dtype="u2", dimension_names=["y", "x"])[:] = img
    g.create_array("s1", shape=(4, 4), chunks=(4, 4), dtype="u2",
                   dimension_names=["y", "x"])[:] = img[::2, ::2]
    labels = g.create_group("labels", attributes={"ome": {"version": "0.5", "labels": ["cells"]}})
    cells = labels.create_group("cells", attributes={"ome": {"version": "0.5", "multiscales": [
        {"axes": OME_05["ome"]["multiscales"][0]["axes"], "datasets": [{"path": "0"}]}],
        "image-label": {"version": "0.5"}}})
    cells.create_array("0", shape=(8, 8), chunks=(8, 8), dtype="u1")[:] = 1
    g.create_array("unreferenced", shape=(2,), dtype="u1")


def _write_plate_v2(root):
    """OME-NGFF 0.4 plate: wells A/1 and B/2, one field each, one level each."""
    g = zarr.open_group(str(root), mode="w", zarr_format=2, attributes={"plate": {
        "version": "0.4", "rows": [{"name": "A"}, {"name": "B"}],
        "columns": [{"name": "1"}, {"name": "2"}],
        "wells": [{"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                  {"path": "B/2", "rowIndex": 1, "columnIndex": 1}]}})
    for i, well in enumerate(("A/1", "B/2")):
        w = g.create_group(well, attributes={"well": {"version": "0.4", "images": [{"path": "0"}]}})
        field = w.create_group("0", attributes={"multiscales": [{"version": "0.4",
                                                                 "datasets": [{"path": "0"}]}]})
        field.create_array("0", shape=(3, 3), chunks=(3, 3), dtype="i4")[:] = i


def _write_xarray_v2(root):
    """What xarray writes (zarr v2, unconsolidated): variables and coordinates named by
    ``_ARRAY_DIMENSIONS``, CF ``coordinates`` / ``grid_mapping``."""
    g = zarr.open_group(str(root), mode="w", zarr_format=2)
    temp = g.create_array("temp", shape=(2, 3, 4), chunks=(1, 3, 4), dtype="f4")
    temp[:] = np.arange(24, dtype="f4").reshape(2, 3, 4)
    temp.attrs.update({"_ARRAY_DIMENSIONS": ["time", "lat", "lon"], "units": "K",
                       "coordinates": "height", "grid_mapping": "crs"})
    for name, n in (("time", 2), ("lat", 3), ("lon", 4)):
        a = g.create_array(name, shape=(n,), chunks=(n,), dtype="f8")
        a[:] = np.arange(n)
        a.attrs["_ARRAY_DIMENSIONS"] = [name]
    g.create_array("height", shape=(), dtype="f4").attrs["_ARRAY_DIMENSIONS"] = []
    g.create_array("crs", shape=(), dtype="i4").attrs["_ARRAY_DIMENSIONS"] = []
    g.create_array("unrelated", shape=(1,), dtype="u1").attrs["_ARRAY_DIMENSIONS"] = ["z"]


def _write_geozarr_v3(root):
    """GeoZarr pyramid: level groups named by an OGC TileMatrixSet's matrix ids, each an xarray
    dataset (band + x/y coordinates, v3 dimension_names)."""
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"multiscales": {
        "tile_matrix_set": {"id": "WebMercatorQuad", "crs": "EPSG:3857", "tileMatrices": [
            {"id": "0", "cellSize": 20.0, "matrixWidth": 1, "matrixHeight": 1},
            {"id": "1", "cellSize": 10.0, "matrixWidth": 2, "matrixHeight": 2}]},
        "resampling_method": "nearest"}})
    for level, n in (("0", 4), ("1", 8)):
        lg = g.create_group(level)
        lg.create_array("band", shape=(n, n), chunks=(4, 4), dtype="f4",
                        dimension_names=["y", "x"])[:] = float(level)
        for dim in ("x", "y"):
            lg.create_array(dim, shape=(n,), dtype="f8", dimension_names=[dim])[:] = np.arange(n)


def _write_layout_v3(root):
    """zarr-conventions multiscales: ``layout[*].asset`` naming arrays inside level groups."""
    g = zarr.open_group(str(root), mode="w", zarr_format=3, attributes={"multiscales": {
        "layout": [{"asset": "r10m/data", "transform": {"scale": [1.0, 1.0]}},
                   {"asset": "r20m/data", "derived_from": "r10m/data",
                    "transform": {"scale": [2.0, 2.0]}}]}})
    g.create_array("r10m/data", shape=(4, 4), dtype="u1")[:] = 10
    g.create_array("r20m/data", shape=(2, 2), dtype="u1")[:] = 20


WRITERS = {"ome.zarr": _write_ome_v3, "plate.zarr": _write_plate_v2,
           "xarray.zarr": _write_xarray_v2, "geozarr.zarr": _write_geozarr_v3,
           "layout.zarr": _write_layout_v3}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("discovery")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, write in WRITERS.items():
            write(base / name)
    (base / "plate.zarr" / "B" / ".zgroup").unlink()  # an intermediate group without metadata
    with run_in_thread(make_app(None, [base / n for n in WRITERS])) as url:
        yield base, f"{url}/data"


async def _walk(source, include=()):
    h = await Hierarchy.open(open_store(source))
    nodes = await h.walk(include)
    return h, {n.path: n for n in nodes}


async def test_ome_ngff_05_image_and_labels_over_http(served):
    base, url = served
    h, nodes = await _walk(f"{url}/ome.zarr")
    assert not h.complete and not h.consolidated
    assert sorted(nodes) == ["", "labels", "labels/cells", "labels/cells/0", "s0", "s1"]
    assert "unreferenced" not in nodes  # nothing refers to it: the listing is incomplete
    # s0, s1, labels; y, x (dimension names), labels/cells; labels/cells/0, labels/cells/labels
    assert h.probes == 8 and h.problems == []
    arr = await h.array("s1")
    np.testing.assert_array_equal(await arr.read(), np.arange(64, dtype="u2").reshape(8, 8)[::2, ::2])
    # the same store on disk lists completely
    h_dir, nodes_dir = await _walk(str(base / "ome.zarr"))
    assert h_dir.complete and set(nodes_dir) == set(nodes) | {"unreferenced"}


async def test_ome_ngff_04_plate_v2_with_implicit_group(served):
    _, url = served
    h, nodes = await _walk(f"{url}/plate.zarr")
    assert sorted(nodes) == ["", "A", "A/1", "A/1/0", "A/1/0/0", "B", "B/2", "B/2/0", "B/2/0/0"]
    assert nodes["B"].implicit and nodes["B"].kind == "group"  # its .zgroup was removed
    assert not nodes["A"].implicit and nodes["A/1"].attributes["well"]["images"] == [{"path": "0"}]
    assert nodes["A/1/0/0"].kind == "array" and nodes["A/1/0/0"].zarr_format == 2
    assert (await (await h.array("B/2/0/0")).read()).tolist() == [[1] * 3] * 3
    with pytest.raises(KeyError):
        await h.node("B")  # implicit: no metadata document to open


async def test_xarray_v2_dimensions_and_cf_references(served):
    _, url = served
    h, nodes = await _walk(f"{url}/xarray.zarr")
    assert list(nodes) == [""] and h.probes == 0  # an xarray root refers to nothing
    h, nodes = await _walk(f"{url}/xarray.zarr", include=["temp"])
    assert sorted(nodes) == ["", "crs", "height", "lat", "lon", "temp", "time"]
    assert "unrelated" not in nodes
    assert h.probes == 6 * 3  # temp, then time/lat/lon/height/crs; 3 v2 documents each
    assert nodes["lat"].metadata.dimension_names == ["lat"]
    again = await h.walk(["temp", "lat"])  # incremental: nothing new to probe
    assert len(again) == len(nodes) and h.probes == 18
    await h.walk(["unrelated"])  # a path typed by the user joins the tree, z does not exist
    assert h.probes == 18 + 2 * 3 and "unrelated" in {n.path for n in await h.walk()}


async def test_geozarr_tile_matrix_set_levels_and_variables(served):
    _, url = served
    h, nodes = await _walk(f"{url}/geozarr.zarr")
    assert sorted(nodes) == ["", "0", "1"] and h.probes == 2
    # a variable found in one level is looked for in the others; dimension names give coords
    nodes = {n.path for n in await h.walk(["0/band"])}
    assert nodes == {"", "0", "1", "0/band", "0/x", "0/y", "1/band", "1/x", "1/y"}
    arr = await h.array("1/band")
    assert arr.shape == (8, 8) and float(await arr.read("0,0")) == 1.0


async def test_zarr_conventions_layout_assets(served):
    _, url = served
    h, nodes = await _walk(f"{url}/layout.zarr")
    assert sorted(nodes) == ["", "r10m", "r10m/data", "r20m", "r20m/data"]
    assert (await (await h.array("r20m/data")).read()).tolist() == [[20, 20], [20, 20]]


# ---- bounds, errors and the reference extractors, on in-memory stores that cannot list ----

class Unlisted(MemoryStore):
    can_list = False


def _v3_group(attributes: dict) -> bytes:
    return json.dumps({"zarr_format": 3, "node_type": "group", "attributes": attributes}).encode()


async def test_probes_are_bounded_and_discovery_resumes():
    wells = [{"path": f"R{i}/C"} for i in range(3000)]  # 6000 paths with their row groups
    values = {"zarr.json": _v3_group({"plate": {"wells": wells}})}
    values.update({f"R{i}/C/zarr.json": _v3_group({}) for i in range(3000)})
    h = await Hierarchy.open(Unlisted(values))
    first = await h.walk()
    assert h.probes == MAX_PROBES
    wells_found = [n for n in first if n.path.endswith("/C")]
    assert len(wells_found) == MAX_PROBES // 2 and len(first) == 1 + MAX_PROBES  # + implicit rows
    assert "stopped at 2000 metadata requests" in h.problems[-1]
    await h.walk()  # goes on where it stopped
    await h.walk()
    nodes = await h.walk()
    assert h.probes == 6000 and len(nodes) == 1 + 6000  # rows are implicit groups


async def test_rounds_are_bounded():
    # every group refers to the next, 20 deep: one path per round
    values = {"zarr.json": _v3_group({"coordinates": "g"})}
    path = ""
    for _ in range(20):
        path = f"{path}/g" if path else "g"
        values[f"{path}/zarr.json"] = _v3_group({"coordinates": "g"})
    h = await Hierarchy.open(Unlisted(values))
    nodes = await h.walk()
    assert len(nodes) == 1 + MAX_ROUNDS and "rounds of references" in h.problems[-1]


async def test_unreadable_node_is_reported_and_the_rest_found():
    class Failing(WrapperStore):
        async def get(self, key, byte_range=None):
            if key == "bad/zarr.json":
                raise StoreError("GET …/bad/zarr.json failed: HTTP 500")
            return await self.inner.get(key, byte_range)

    values = {"zarr.json": _v3_group({"multiscales": [{"datasets": [
        {"path": "bad"}, {"path": "good"}, {"path": "broken"}, {"path": "gone"}]}]}),
        "good/zarr.json": _v3_group({}), "broken/zarr.json": b"{not json"}
    h = await Hierarchy.open(Failing(Unlisted(values)))
    assert {n.path for n in await h.walk()} == {"", "good"}
    assert len(h.problems) == 2
    assert any("HTTP 500" in p for p in h.problems) and any("invalid JSON" in p for p in h.problems)


def test_reference_extractors():
    ome04 = {"multiscales": [{"datasets": [{"path": "0"}, {"path": "1"}]}],
             "bioformats2raw.layout": 3}
    assert group_references(ome04) == [(0, "0"), (0, "1"), (0, "labels"), (0, "OME"), (0, "0")]
    assert group_references({"series": ["0", "1"]}) == [(1, "0"), (1, "1")]
    assert group_references({"ome": {"labels": ["a", 3, "b"]}}) == [(0, "a"), (0, "b")]
    assert group_references({"multiscales": "nonsense", "plate": [1], "well": {"images": 2}}) == []
    assert array_references({"grid_mapping": "crsOSGB: x y crsWGS84: lat lon",
                             "cell_measures": "area: cell_area", "bounds": "time_bnds",
                             "coordinates": 7}, ["time"]) == [
        (1, "time"), (1, "crsOSGB"), (1, "x"), (1, "y"), (1, "crsWGS84"), (1, "lat"), (1, "lon"),
        (1, "time_bnds"), (1, "cell_area")]
    assert resolve("a", "b/c") == "a/b/c" and resolve("", "x") == "x"
    for bad in ("/abs", "../up", "a//b", ".zattrs", "http://x/y", "a?b", "a#b", "", "a/./b"):
        assert resolve("a", bad) is None, bad


async def test_listable_and_consolidated_stores_are_complete(served, tmp_path):
    base, _ = served
    h = await Hierarchy.open(open_store(str(base / "xarray.zarr")))
    assert h.complete and len(await h.walk()) == 8 and h.probes == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _write_layout_v3(tmp_path / "c.zarr")
        zarr.consolidate_metadata(str(tmp_path / "c.zarr"))
    with run_in_thread(make_app(None, [tmp_path / "c.zarr"])) as url:
        h = await Hierarchy.open(open_store(f"{url}/data/c.zarr"))
        assert h.consolidated and h.complete
        assert len(await h.walk()) == 5 and h.probes == 0


async def test_cancelled_walk_is_taken_up_again():
    gate = asyncio.Event()

    class Slow(Unlisted):
        async def get(self, key, byte_range=None):
            if key != "zarr.json":
                await gate.wait()
            return await super().get(key, byte_range)

    values = {"zarr.json": _v3_group({"multiscales": [{"datasets": [{"path": "0"}]}]}),
              "0/zarr.json": _v3_group({})}
    h = await Hierarchy.open(Slow(values))
    task = asyncio.create_task(h.walk())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    assert {n.path for n in await h.walk()} == {"", "0"}
