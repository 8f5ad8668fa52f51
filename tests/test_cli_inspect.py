"""``pyzarr-web tree`` / ``cat`` on directories, zips and HTTP URLs, with the exact JSON schema."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from pyzarr_web.tools.cli import main
from pyzarr_web.tools.serve import make_app, run_in_thread


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    data = np.arange(6 * 8, dtype="<u2").reshape(6, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(base / "v3.zarr"), mode="w", zarr_format=3)
        g.attrs["title"] = "demo"
        img = g.create_array("img/level0", shape=(6, 8), chunks=(2, 2), shards=(4, 4),
                             dtype="<u2", dimension_names=["y", "x"])
        img[:] = data
        g2 = zarr.open_group(str(base / "v2.zarr"), mode="w", zarr_format=2)
        a = g2.create_array("t", shape=(6, 8), chunks=(3, 3), dtype=">f4")
        a.attrs["_ARRAY_DIMENSIONS"] = ["time", "lon"]
        a[:] = data
        zarr.consolidate_metadata(str(base / "v2.zarr"))
    shutil.make_archive(str(base / "v3"), "zip", base / "v3.zarr")
    return base, data


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


#: the "store" member of `tree --json` for a plain Zarr store
PLAIN = {"kind": "zarr", "ref": None, "snapshot": None}

V3_NODES = [
    {"path": "", "kind": "group", "zarr_format": 3, "attributes": {"title": "demo"}},
    {"path": "img", "kind": "group", "zarr_format": 3, "attributes": {}},
    {"path": "img/level0", "kind": "array", "zarr_format": 3, "shape": [6, 8], "dtype": "<u2",
     "chunks": [2, 2], "shards": [4, 4], "dimension_names": ["y", "x"], "attributes": {}},
]


@pytest.mark.parametrize("where", ["dir", "zip", "http"])
def test_tree_json(stores, where):
    base, _ = stores
    if where == "http":
        with run_in_thread(make_app(None, [base / "v3.zarr"])) as url:
            # without listing or consolidation only the root can be discovered over HTTP
            result = run("tree", f"{url}/data/v3.zarr", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"store": PLAIN, "discovery": "metadata", "nodes": V3_NODES[:1]}
        return
    source = base / ("v3.zarr" if where == "dir" else "v3.zip")
    result = run("tree", source, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"store": PLAIN, "discovery": "listing", "nodes": V3_NODES}


def test_tree_json_v2_consolidated_over_http(stores):
    base, _ = stores
    with run_in_thread(make_app(None, [base / "v2.zarr"])) as url:
        result = run("tree", f"{url}/data/v2.zarr", "--json")
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.output)["nodes"]
    assert json.loads(result.output)["discovery"] == "consolidated"
    assert [n["path"] for n in nodes] == ["", "t"]
    assert nodes[1] == {"path": "t", "kind": "array", "zarr_format": 2, "shape": [6, 8],
                        "dtype": ">f4", "chunks": [3, 3], "shards": None,
                        "dimension_names": ["time", "lon"],
                        "attributes": {"_ARRAY_DIMENSIONS": ["time", "lon"]}}


def test_tree_text(stores):
    base, _ = stores
    result = run("tree", base / "v3.zarr")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "/  (group, v3)", "  img/  (group, v3)",
        "    level0  [6, 8] <u2 chunks=[2, 2] shards=[4, 4] dims=['y', 'x'] (v3)"]


@pytest.mark.parametrize("where", ["dir", "zip", "http"])
def test_cat(stores, tmp_path, where):
    base, data = stores
    out = tmp_path / "out.npy"
    if where == "http":
        with run_in_thread(make_app(None, [base / "v3.zarr"])) as url:
            result = run("cat", f"{url}/data/v3.zarr", "img/level0", "--select", "1:5,::3",
                         "--out", out)
    else:
        source = base / ("v3.zarr" if where == "dir" else "v3.zip")
        result = run("cat", source, "img/level0", "--select", "1:5,::3", "--out", out)
    assert result.exit_code == 0, result.output
    got = np.load(out)
    assert got.dtype == data.dtype and np.array_equal(got, data[1:5, ::3])


def test_cat_default_is_whole_array(stores, tmp_path):
    base, data = stores
    out = tmp_path / "all.npy"
    result = run("cat", base / "v2.zarr", "t", "--out", out)
    assert result.exit_code == 0, result.output
    got = np.load(out)
    assert got.dtype == np.dtype(">f4") and np.array_equal(got, data)


@pytest.mark.parametrize("args, message", [
    (["tree", "/nonexistent/x.zarr"], "not an http(s) URL"),
    (["cat", "{v3}", "img/nope", "--out", "{out}"], "no group or array at 'img/nope'"),
    (["cat", "{v3}", "img", "--out", "{out}"], "is a group, not an array"),
    (["cat", "{v3}", "img/level0", "--select", "1,2,3", "--out", "{out}"], "too many indices"),
    (["cat", "{v3}", "img/level0", "--select", "9", "--out", "{out}"], "out of bounds"),
    (["cat", "{v3}", "img/level0", "--select", "a:b", "--out", "{out}"], "bad selection"),
])
def test_errors_go_to_stderr_with_nonzero_status(stores, tmp_path, args, message):
    base, _ = stores
    args = [a.format(v3=base / "v3.zarr", out=tmp_path / "x.npy") for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert not (tmp_path / "x.npy").exists()
