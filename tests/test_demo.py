"""The demo sample store (zarr-python is the reference reader) and `pyzarr-web demo` wiring."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import zarr

from pyzarr_web.tools import demo
from pyzarr_web.tools.demo import SAMPLE_NODES, is_sample_store, write_sample_store
from pyzarr_web.tools.serve import make_app, run_in_thread


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, float]:
    path = tmp_path_factory.mktemp("demo") / "sample.zarr"
    start = time.perf_counter()
    write_sample_store(path)
    return path, time.perf_counter() - start


@pytest.fixture(scope="module")
def store(written) -> Path:
    return written[0]


def test_small_and_fast(written):
    path, seconds = written
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    assert size < 5_000_000, size
    assert seconds < 3.0, seconds
    assert not list(path.parent.glob(".sample.zarr.tmp-*"))  # temp dir renamed away


def test_documented_nodes(store):
    root = zarr.open_group(store, mode="r")
    assert root.metadata.zarr_format == 3
    for path, spec in SAMPLE_NODES.items():
        node = root[path]
        if spec is None:
            assert isinstance(node, zarr.Group), path
        else:
            assert isinstance(node, zarr.Array), path
            assert (node.shape, str(node.dtype)) == spec, path
    found = {name for name, _ in root.members(max_depth=None)}
    assert found == set(SAMPLE_NODES)


def test_consolidated_metadata_lists_every_node(store):
    meta = json.loads((store / "zarr.json").read_text())
    consolidated = meta["consolidated_metadata"]["metadata"]
    assert set(consolidated) == set(SAMPLE_NODES)
    assert consolidated["climate/temperature"]["dimension_names"] == ["time", "lat", "lon"]


def test_attributes(store):
    root = zarr.open_group(store, mode="r")
    assert root.attrs["title"] and root.attrs["description"]
    climate = root["climate"]
    assert climate.attrs["title"] and climate.attrs["Conventions"].startswith("CF")
    t = climate["temperature"]
    assert t.metadata.dimension_names == ("time", "lat", "lon")
    assert t.attrs["units"] == "K" and t.attrs["long_name"]
    assert climate["lat"].attrs["units"] == "degrees_north"
    assert climate["lon"].attrs["units"] == "degrees_east"
    assert climate["time"].attrs["units"].startswith("days since")
    for name in ("time", "lat", "lon"):
        assert climate[name].metadata.dimension_names == (name,)
    assert root["images/mandelbrot"].attrs["long_name"]


def test_codecs_and_sharding(store):
    root = zarr.open_group(store, mode="r")
    for path in ("climate/temperature", "images/mandelbrot", "climate/lat"):
        arr = root[path]
        assert [type(c).__name__ for c in arr.compressors] == ["GzipCodec"], path
        assert arr.shards is None
    assert root["climate/temperature"].chunks == (4, 45, 90)
    ripples = root["sharded/ripples"]
    assert ripples.shards == (128, 128) and ripples.chunks == (32, 32)
    assert [type(c).__name__ for c in ripples.compressors] == ["GzipCodec"]
    assert (store / "sharded" / "ripples" / "c" / "1" / "1").is_file()  # 2x2 shard files


def test_data_is_deterministic_and_sensible(store):
    root = zarr.open_group(store, mode="r")
    fields = demo.climate_fields()
    np.testing.assert_array_equal(root["climate/temperature"][:], fields["temperature"])
    np.testing.assert_array_equal(root["images/mandelbrot"][:], demo.mandelbrot())
    np.testing.assert_array_equal(root["sharded/ripples"][:], demo.ripples())

    t = root["climate/temperature"][:]
    assert np.isfinite(t).all() and 200 < t.min() < t.max() < 320
    lat = root["climate/lat"][:]
    assert lat[0] == -89 and lat[-1] == 89 and np.all(np.diff(lat) == 2)
    assert np.all(np.diff(root["climate/time"][:]) > 0)
    # Seasons: the north is colder in January (t=0) than in July (t=6), the south the reverse.
    north, south = lat > 30, lat < -30
    assert t[0][north].mean() < t[6][north].mean() and t[0][south].mean() > t[6][south].mean()
    m = root["images/mandelbrot"][:]
    assert (m == 0).mean() > 0.1 and m.max() > 60000 and len(np.unique(m)) > 1000


def test_existing_store_is_reused(store):
    before = (store / "zarr.json").stat().st_mtime_ns
    assert is_sample_store(store)
    write_sample_store(store)
    assert (store / "zarr.json").stat().st_mtime_ns == before


def test_foreign_directory_is_not_overwritten(tmp_path):
    foreign = tmp_path / "sample.zarr"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a pyzarr-web sample store"):
        write_sample_store(foreign)
    assert (foreign / "precious.txt").read_text() == "mine"


def test_damaged_demo_store_is_rewritten(tmp_path, store):
    import shutil

    copy = tmp_path / "sample.zarr"
    shutil.copytree(store, copy)
    shutil.rmtree(copy / "images")
    (copy / "climate" / "temperature" / "zarr.json").unlink()
    assert not is_sample_store(copy)
    write_sample_store(copy)
    assert is_sample_store(copy)


def test_served_over_http(store):
    with run_in_thread(make_app(None, [store])) as base:
        meta = httpx.get(f"{base}/data/sample.zarr/zarr.json").json()
        assert meta["attributes"]["title"]
        chunk = httpx.get(f"{base}/data/sample.zarr/climate/temperature/c/0/0/0")
        assert chunk.status_code == 200 and chunk.content[:2] == b"\x1f\x8b"  # gzip member
        # Shard index (the last bytes of a shard file) via a suffix range, as the reader does.
        index = httpx.get(f"{base}/data/sample.zarr/sharded/ripples/c/0/0", headers={"Range": "bytes=-68"})
        assert index.status_code == 206 and len(index.content) == 68


def test_run_demo_writes_then_serves(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("pyzarr_web.tools.serve.serve", lambda *a, **k: calls.append((a, k)))
    demo.run_demo(tmp_path / "demo-data", host="127.0.0.1", port=0, open_browser=False)
    store = tmp_path / "demo-data" / "sample.zarr"
    assert is_sample_store(store)
    assert calls == [(([store],), {"host": "127.0.0.1", "port": 0, "site": None, "open_browser": False})]
    assert "Writing the sample store" in capsys.readouterr().out
    demo.run_demo(tmp_path / "demo-data", host="127.0.0.1", port=0, open_browser=False)
    assert "Using the sample store" in capsys.readouterr().out


def test_the_cells_image_is_an_ome_pyramid_with_channels_and_labels(store):
    """What `pyzarr-web demo` shows of deep zoom: read as the explorer does, and checked against
    the arrays zarr-python reads."""
    from pyzarr_web.core import Hierarchy, open_store
    from pyzarr_web.core.conventions import read_level_metadata, read_multiscale

    async def read(path):
        h = await Hierarchy.open(open_store(str(store)))
        node = await h.node(path)
        return await read_level_metadata(read_multiscale(node.attributes, 3, path), h, path)

    image, labels = asyncio.run(read("cells")), asyncio.run(read("cells/labels/nuclei"))
    assert (image.convention, image.version, image.problems) == ("ome-ngff", "0.5", [])
    assert [lv.path for lv in image.levels] == ["s0", "s1", "s2", "s3"]
    assert [c.label for c in image.channels] == ["nuclei", "membranes"]
    assert [a.unit for a in image.axes] == [None, "micrometer", "micrometer"]
    assert labels.is_label and [lv.shape for lv in labels.levels] == [(2048 >> i,) * 2 for i in range(4)]
    root = zarr.open_group(store, mode="r")
    np.testing.assert_array_equal(root["cells/s2"][:], root["cells/s0"][:, ::4, ::4])
    assert root["cells/s0"].shards == (1, 1024, 1024)
