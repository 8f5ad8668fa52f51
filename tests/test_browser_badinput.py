"""A representative subset of the bad-input suites through the real page: the explorer in
Chromium opens each broken store over HTTP, must end in an error naming the key, and must still
open a good store afterwards. One page serves every case (booting Pyodide is the costly part)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import zarr
from badinput import (
    LIMITS,
    META_CASES,
    Marker,
    apply,
    corrupt_chunk,
    damage_shard,
    metadata_only,
    write_base,
    write_codec_store,
    write_pickle_store,
)
from conftest import open_page

pytestmark = pytest.mark.browser

META_IDS = ["v3-shape-bool", "v3-shape-2pow62-product", "v3-ndim-70", "v3-chunk-zero",
            "v3-grid-string", "v3-codecs-int", "v3-attributes-list", "v3-endian-unknown",
            "v3-key-separator", "v3-nested-100k", "v3-shard-inner-zero",
            "v2-dtype-endianness-equals", "v2-fixedscaleoffset-scale-0", "v2c-entry-string",
            "v2c-100k-members", "v3c-entry-shape-bool"]
CHUNK_CASES = [("blosc-lz4", "truncated"), ("blosc-memcpy", "truncated"), ("zstd", "bomb"),
               ("lz4", "garbage"), ("zlib", "truncated")]
SHARD_CASES = ["offset-2pow63", "nbytes-2pow40"]
LIMIT_CASES = ["chunk-of-1e9-elements", "whole-1e12-elements"]


@pytest.fixture(scope="module")
def stores(tmp_path_factory, http_server):
    """Every case store below one served directory; returns its URL."""
    root = tmp_path_factory.mktemp("badpage") / "badinput-page"
    cache = tmp_path_factory.mktemp("bases")
    root.mkdir()
    for case in META_CASES:
        if case.id in META_IDS:
            write_base(case.base, root / case.id, cache)
            apply(case, root / case.id)
    for codec, how in CHUNK_CASES:
        write_codec_store(root / f"{codec}-{how}", codec)
        corrupt_chunk(root / f"{codec}-{how}", codec, how)
    for how in SHARD_CASES:
        write_base("v3s", root / f"shard-{how}", cache)
        damage_shard(root / f"shard-{how}", how)
    for name in LIMIT_CASES:
        metadata_only(root / f"limit-{name}", **LIMITS[name][0])
    # the worker's file system is virtual: the CLI suite proves no marker appears; here the
    # page must refuse the codec by name
    write_pickle_store(root / "pickle-v2", 2, pickle.dumps(Marker("/tmp/unpickled")))
    good = root / "good"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(str(good), shape=(5, 7), chunks=(2, 3), dtype="<f4")[:] = \
            np.arange(35, dtype="<f4").reshape(5, 7)
    return http_server.add_store(root)


@pytest.fixture(scope="module")
def explorer(browser, http_server, stores):
    page = open_page(browser, http_server.url)
    page.goto(f"{http_server.url}/")
    page.evaluate("() => window.zarrExplorer.ready")
    yield page
    assert page.external_requests == []
    page.context.close()


def open_store(page, url: str) -> dict:
    return page.evaluate(f"() => window.zarrExplorer.open({url!r})")


def assert_still_works(page, base: str) -> None:
    state = open_store(page, f"{base}/good")
    assert state["status"] == "idle" and state["error"] is None, state
    assert state["shape"] == [5, 7] and state["view"]["max"] == 34


def assert_error(state: dict, *expect: str) -> None:
    assert state["status"] == "error", state
    for text in expect:
        assert text in state["error"], state["error"]


@pytest.mark.parametrize("case", [c for c in META_CASES if c.id in META_IDS], ids=lambda c: c.id)
def test_broken_metadata_in_the_page(explorer, stores, case):
    base = stores
    url = f"{base}/{case.id}"
    assert_error(open_store(explorer, url), f"{url}/{case.document}", *case.expect)
    assert_still_works(explorer, base)


@pytest.mark.parametrize("codec, how", CHUNK_CASES)
def test_broken_chunk_in_the_page(explorer, stores, codec, how):
    base = stores
    assert_error(open_store(explorer, f"{base}/{codec}-{how}"), "chunk '0.0'")
    assert_still_works(explorer, base)


@pytest.mark.parametrize("how", SHARD_CASES)
def test_broken_shard_index_in_the_page(explorer, stores, how):
    base = stores
    assert_error(open_store(explorer, f"{base}/shard-{how}"), "shard 'c/0/0'", "index entry")
    assert_still_works(explorer, base)


def test_chunk_budget_in_the_page(explorer, stores):
    base = stores
    assert_error(open_store(explorer, f"{base}/limit-chunk-of-1e9-elements"), "budget")
    assert_still_works(explorer, base)


def test_a_trillion_samples_open_on_a_window_and_never_read_whole(explorer, stores):
    """10^6 × 10^6 bytes in 1000² chunks: the page shows its first screenful (4 chunks), and
    zoomed out to all of it refuses the million chunks with what to do, keeping the view."""
    base = stores
    state = open_store(explorer, f"{base}/limit-whole-1e12-elements")
    assert (state["status"], state["error"], state["view"]["max"]) == ("idle", None, 7)
    assert state["viewport"] == {"x0": 0, "x1": 1024, "y0": 0, "y1": 1024}
    assert state["io"]["requests"] <= 2 * 2 + 2  # the chunks in view (absent: fill value) and metadata
    state = explorer.evaluate("() => window.zarrExplorer.setViewport({x0: 0, x1: 1e6, y0: 0, y1: 1e6})")
    assert_error(state, "chunks", "zoom in")
    assert state["io"]["requests"] == 0
    assert_still_works(explorer, base)


def test_pickle_payload_in_the_page(explorer, stores):
    base = stores
    assert_error(open_store(explorer, f"{base}/pickle-v2"), "pickle", "refused")
    assert_still_works(explorer, base)
