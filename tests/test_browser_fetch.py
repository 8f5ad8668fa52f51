"""The browser's fetch pump (web/fetch.js, issue 13) in the product's runtime: a read of many
chunks crosses into JavaScript once, each chunk is decoded while later ones are still being
fetched, and cancelling a read aborts the requests it still had pending. Real Chromium, real
HTTP; a hanging server (tests/fault_server.py) for the cancellation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import booted_harness
from fault_server import FaultServer

pytestmark = pytest.mark.browser

DATA = np.arange(64, dtype="u2").reshape(8, 8)

PUMP = r'''
import asyncio
import js


def h_pump():
    p = js.pyzarrPump
    return {"batches": p.batches, "requests": p.requests, "aborted": p.aborted, "queued": p.queued}


async def h_read_counted(url, limit, path="grid"):
    """Read the whole array PATH with the pump LIMITed; the pump's counters around the read and
    how many requests were still queued when the first chunk was decoded."""
    arr = await (await Hierarchy.open(open_store(url))).array(path)
    default, js.pyzarrPump.limit = js.pyzarrPump.limit, limit
    queued_at_first_tick = []

    def progress(done, total):
        if not queued_at_first_tick:
            queued_at_first_tick.append(js.pyzarrPump.queued)

    before = h_pump()
    try:
        a = await arr.read((), progress=progress)
    finally:
        js.pyzarrPump.limit = default
    return json.dumps({"before": before, "after": h_pump(), "sum": int(a.astype("u8").sum()),
                       "queued_at_first_tick": queued_at_first_tick[0]})


async def h_cancelled_read(url, limit):
    """Start reading the whole array from a server that never answers chunk requests, LIMIT
    at a time, cancel the read once its requests are out, and wait for the pump to abort them."""
    arr = await (await Hierarchy.open(open_store(url))).array("grid")
    default, js.pyzarrPump.limit = js.pyzarrPump.limit, limit
    before = h_pump()
    task = asyncio.ensure_future(arr.read(()))
    while js.pyzarrPump.requests - before["requests"] < 16:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # the first ones reach the server
    task.cancel()
    try:
        await task
        outcome = "finished"
    except asyncio.CancelledError:
        outcome = "cancelled"
    for _ in range(500):
        if js.pyzarrPump.aborted > before["aborted"]:
            break
        await asyncio.sleep(0.01)
    js.pyzarrPump.limit = default
    return json.dumps({"outcome": outcome, "before": before, "after": h_pump()})
'''


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    import zarr

    root = tmp_path_factory.mktemp("pump") / "stores"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(root / "grid.zarr"), mode="w", zarr_format=3)
        g.create_array("grid", shape=DATA.shape, chunks=(2, 2), dtype=DATA.dtype)[...] = DATA
        g.create_array("sharded", shape=DATA.shape, shards=(4, 4), chunks=(2, 2), dtype=DATA.dtype)[...] = DATA
    return root


@pytest.fixture(scope="module")
def harness(request, stores):
    with booted_harness(request, stores) as h:
        h.run(PUMP + "\n'ok'")
        yield h


def test_a_read_of_many_chunks_is_one_batch_decoded_as_it_arrives(harness):
    harness.log.clear()
    out = harness.call("h_read_counted", harness.store_url("grid.zarr"), 1)
    assert out["sum"] == int(DATA.sum())
    before, after = out["before"], out["after"]
    assert (after["batches"] - before["batches"], after["requests"] - before["requests"]) == (1, 16)
    chunk_requests = [r for r in harness.log.under("/data/stores/grid.zarr/grid/c/")]
    assert len(chunk_requests) == 16
    # one request at a time: the first chunk was decoded while others still waited their turn
    assert out["queued_at_first_tick"] > 0, out


def test_a_read_of_several_shards_is_two_batches(harness):
    harness.log.clear()
    out = harness.call("h_read_counted", harness.store_url("grid.zarr"), 16, "sharded")
    assert out["sum"] == int(DATA.sum())
    before, after = out["before"], out["after"]
    # the 4 shard indexes, then the 16 inner chunks, merged into one range per shard
    assert (after["batches"] - before["batches"], after["requests"] - before["requests"]) == (2, 8)
    assert len(harness.log.under("/data/stores/grid.zarr/sharded/c/")) == 8


def test_cancelling_a_read_aborts_its_pending_fetches(harness, stores):
    with FaultServer(stores) as faults:
        case = faults.case()
        out = harness.call("h_cancelled_read", f"{case.url}/hang@chunk/grid.zarr", 4, timeout=60)
        chunk_requests = [r for r in case.requests() if r.method == "GET" and "/grid/c/" in r.path]
    assert out["outcome"] == "cancelled"
    before, after = out["before"], out["after"]
    assert after["requests"] - before["requests"] == 16
    # all 16 aborted: the 4 the server holds and the 12 still queued, which are never sent
    assert after["aborted"] - before["aborted"] == 16, out
    assert after["queued"] == 0
    assert len(chunk_requests) == 4, chunk_requests
