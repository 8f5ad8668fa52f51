"""Virtual and versioned stores in the product's runtime: Pyodide in Chromium, over real HTTP
with Range.

* Kerchunk references that kerchunk wrote here (NetCDF4 files combined by MultiZarrToZarr,
  relative targets), compared with xarray reading the same references through fsspec;
  requests counted against the ideal; Parquet references refused with what to use instead.
* An Icechunk repository written by the icechunk package, read at each ref and compared with
  icechunk's own reader, its virtual chunks fetched from the served folder.
* The explorer page opening both from ``?store=``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import xarray as xr
from conftest import booted_explorer, booted_harness
from icechunk_fixtures import read_with_icechunk, write_repo, write_virtual_file
from kerchunk_fixtures import (
    NFILES,
    TIMES,
    multi_refs,
    single_refs,
    write_hdf5,
    write_json,
    write_netcdf,
    write_parquet,
)

from pyzarr_web.tools.harness import ideal_requests, touched_ranges, unpack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """kerchunk/: the NetCDF and HDF5 files and their references (relative targets), plus a
    twin of the combined references with absolute paths for fsspec, and a Parquet folder."""
    root = tmp_path_factory.mktemp("kcbrowser") / "stores"
    folder = root / "kerchunk"
    folder.mkdir(parents=True)
    names, h5 = write_netcdf(folder), write_hdf5(folder)
    relative = multi_refs([single_refs(folder, n, n) for n in names])
    write_json(folder / "multi.json", relative)
    grid = single_refs(folder, h5, h5)
    write_json(folder / "grid.json", grid)
    twin = write_json(root / "multi-abs.json", multi_refs([single_refs(folder, n, str(folder / n))
                                                           for n in names]))
    write_parquet(folder / "multi.parq", relative, record_size=10)
    expected = xr.open_dataset("reference://", engine="zarr", mask_and_scale=False, decode_times=False,
                               backend_kwargs={"consolidated": False, "storage_options": {"fo": str(twin)}})
    return root, {"multi": relative, "grid": grid}, expected


@pytest.fixture(scope="module")
def icechunk_repo(stores):
    """icechunk/repo, its virtual chunks in icechunk/icv/virtual.bin; (folder, snapshot ids)."""
    folder = stores[0] / "icechunk"
    _, chunks_at = write_virtual_file(folder / "icv")
    return folder, write_repo(folder / "repo", folder / "icv", chunks_at)


@pytest.fixture(scope="module")
def harness(request, stores, icechunk_repo):
    with booted_harness(request, stores[0]) as h:
        yield h


def test_references_read_in_the_browser_equal_fsspec(harness, stores):
    _, refs, expected = stores
    for name in ("temp", "time", "flag"):
        out = harness.read("kerchunk/multi.json", name, [(Ellipsis,)])
        value = out["results"][0].get("value")
        assert value is not None, out["results"][0]
        np.testing.assert_array_equal(value, expected[name].values, err_msg=name)
    assert value.shape == expected["flag"].shape
    out = harness.read("kerchunk/multi.json", "temp", [(slice(None),)])
    assert out["results"][0]["value"].shape == (TIMES * NFILES, 30, 40)


@pytest.mark.parametrize("store, array, region", [
    ("multi", "temp", (slice(2, 7), slice(10, 30), slice(0, 25))),
    ("grid", "grid", (slice(5, 40), slice(0, 48))),
    ("grid", "grid", (slice(3, 60, 17), 7)),
])
def test_requests_and_bytes_within_5_percent_of_ideal(harness, stores, store, array, region):
    _, refs, _ = stores
    url = harness.store_url(f"kerchunk/{store}.json")
    harness.call("h_read", url, array, [])  # metadata and references first
    harness.log.clear()
    out = harness.read(f"kerchunk/{store}.json", array, [region])
    assert "value" in out["results"][0], out["results"][0]
    got = [r for r in harness.log.under(harness.store_url("kerchunk/"))
           if not r.path.endswith((".json", "/.zmetadata"))]
    shape, chunks = {"temp": ((TIMES * NFILES, 30, 40), (1, 15, 20)), "grid": ((64, 48), (8, 48))}[array]
    ideal_n, ideal_bytes = ideal_requests(touched_ranges(refs[store], array, shape, chunks, region))
    assert len(got) <= 1.05 * ideal_n, (len(got), ideal_n)
    assert sum(r.body_bytes for r in got) <= 1.05 * ideal_bytes, (sum(r.body_bytes for r in got), ideal_bytes)


def test_parquet_references_say_what_to_use_instead(harness):
    url = harness.store_url("kerchunk/multi.parq")
    text = harness.run(f"_e = 'no error'\n"
                       f"try:\n    _h = await Hierarchy.open(open_store({url!r}))\n"
                       f"    await (await _h.array('temp')).read((0,))\n"
                       f"except Exception as e:\n    _e = f'{{type(e).__name__}}: {{e}}'\n_e")
    assert text.startswith("StoreError:") and "refs.0.parq" in text, text
    assert "cannot be read here" in text and "Kerchunk JSON" in text, text


def test_explorer_page_opens_a_reference_file(browser, http_server, stores):
    root, _, expected = stores
    url = http_server.add_store(root / "kerchunk") + "/multi.json"
    with booted_explorer(browser, http_server, f"store={url}&path=temp") as page:
        state = page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")
        assert state["status"] != "error", state
        assert state["shape"] == [TIMES * NFILES, 30, 40]
        page.get_by_text("Kerchunk references", exact=True).wait_for()  # the store's kind is shown
        first = expected["temp"].values[0]
        assert state["view"]["min"] == pytest.approx(float(first.min()))
        assert state["view"]["mean"] == pytest.approx(float(first.mean()), rel=1e-5)


# --------------------------------------------------------------------------------- Icechunk


@pytest.mark.parametrize("ref, theirs", [("main", {"branch": "main"}), ("tag:v1", {"tag": "v1"}),
                                         ("dev", {"branch": "dev"}), ("snapshot:first", None)])
def test_icechunk_refs_in_the_browser_equal_icechunk(harness, icechunk_repo, ref, theirs):
    folder, ids = icechunk_repo
    if theirs is None:
        ref, theirs = f"snapshot:{ids['first']}", {"snapshot_id": ids["first"]}
    expected = read_with_icechunk(folder / "repo", folder / "icv", **theirs)
    url = f"icechunk:{harness.store_url('icechunk/repo')}"
    base = harness.store_url("icechunk/icv")
    for name, value in expected.items():
        out = harness.call("h_read", url, name, [[]], ref=ref, target_base=base)
        result = out["results"][0]
        assert "ok" in result, result
        np.testing.assert_array_equal(unpack(result["ok"]), value, err_msg=f"{ref} {name}")
    info = json.loads(harness.run(f"_h = await Hierarchy.open(open_store({url + '#ref=' + ref!r}))\n"
                                  f"import json\njson.dumps(_h.store.info())"))
    snapshot = {"main": ids["second"], "dev": ids["dev edit"]}.get(ref, ids["first"])
    assert info == {"kind": "icechunk", "ref": ref, "snapshot": snapshot}


def test_icechunk_format_2_in_the_browser(harness):
    """The format-2 repository icechunk 2.3 wrote (tests/data/icechunk-v2), at each ref."""
    data = Path(__file__).parent / "data" / "icechunk-v2"
    shutil.copytree(data, harness.stores_root / "icechunk-v2", dirs_exist_ok=True)
    expected = dict(np.load(data / "expected.npz"))
    url = f"icechunk:{harness.store_url('icechunk-v2/repo')}"
    for key, value in expected.items():
        ref, name = key.split("|")
        out = harness.call("h_read", url, name, [[]], ref=ref, target_base=harness.store_url("icechunk-v2/icv"))
        result = out["results"][0]
        assert "ok" in result, result
        np.testing.assert_array_equal(unpack(result["ok"]), value, err_msg=key)


def test_icechunk_errors_in_the_browser(harness):
    url = f"icechunk:{harness.store_url('icechunk/repo')}"
    code = ("_e = 'no error'\ntry:\n    _h = await Hierarchy.open(open_store({url!r}, ref={ref!r}))\n"
            "    await (await _h.array('virt')).read()\n"
            "except Exception as e:\n    _e = f'{{type(e).__name__}}: {{e}}'\n_e")
    missing = harness.run(code.format(url=url, ref="tag:nope"))
    assert missing.startswith("StoreError:") and "no tag 'nope'" in missing, missing
    local = harness.run(code.format(url=url, ref="main"))
    assert "chunk 'virt/c/" in local and "a local file cannot be read here" in local, local


def test_explorer_page_opens_an_icechunk_repository(browser, http_server, stores, icechunk_repo):
    folder, ids = icechunk_repo
    expected = read_with_icechunk(folder / "repo", folder / "icv", tag="v1")["a"]
    base = http_server.add_store(folder)
    store = quote(f"icechunk:{base}/repo#ref=tag:v1&target_base={base}/icv", safe=":/")
    with booted_explorer(browser, http_server, f"store={store}&path=a") as page:
        state = page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")
        assert state["status"] != "error", state
        assert state["shape"] == list(expected.shape)
        page.get_by_text(f"Icechunk repository at tag:v1 (snapshot {ids['first']})", exact=True).wait_for()
        assert state["view"]["min"] == pytest.approx(float(expected.min()))
        assert state["view"]["mean"] == pytest.approx(float(expected.mean()), rel=1e-5)
        # the version picker lists branches, tags and the history; picking a branch reopens the node there
        versions = page.locator("select").filter(has=page.locator("option", has_text="branch main"))
        assert "tag v1" in versions.inner_text() and ids["first"][:8] in versions.inner_text()
        versions.select_option(label="branch main")
        page.wait_for_function("() => window.zarrExplorer.state().status === 'idle' && "
                               "new URLSearchParams(location.search).get('ref') === 'main'")
        state = page.evaluate("() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.state())")
        latest = read_with_icechunk(folder / "repo", folder / "icv", branch="main")["a"]
        assert state["path"] == "a" and state["view"]["mean"] == pytest.approx(float(latest.mean()), rel=1e-5)
        assert float(latest.mean()) != pytest.approx(float(expected.mean()), rel=1e-5)  # the commit after v1
