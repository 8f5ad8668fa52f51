"""Icechunk format version 2 (Icechunk 2.x): a repository that icechunk 2.3 wrote with the history
of tests/icechunk_fixtures.py, kept in tests/data/icechunk-v2/ because icechunk 2 needs Python
>= 3.12 (tests/data/make_icechunk_v2.py rewrites it), with what icechunk's own reader read at each
ref. Read through the core from its folder and over HTTP, in the browser too."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pyzarr_web.core import Hierarchy, MetadataError, StoreError, base_store, open_store
from pyzarr_web.core.stores.icechunk import HEADER_BYTES
from pyzarr_web.tools.harness import RequestLog
from pyzarr_web.tools.serve import make_app, run_in_thread

DATA = Path(__file__).parent / "data" / "icechunk-v2"
HISTORY = json.loads((DATA / "history.json").read_text())
IDS = HISTORY["ids"]
EXPECTED = dict(np.load(DATA / "expected.npz"))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def read_all(source: str, **options):
    h = await Hierarchy.open(open_store(source, **options))
    return h, {n.path: await (await h.array(n.path)).read() for n in await h.walk() if n.kind == "array"}


@pytest.fixture(scope="module")
def served():
    log = RequestLog(make_app(None, [DATA]))
    with run_in_thread(log) as base:
        yield f"{base}/data/icechunk-v2", log


@pytest.mark.parametrize("ref", ["main", "tag:v1", "dev"])
@pytest.mark.parametrize("where", ["folder", "http"])
def test_every_ref_equals_icechunk(served, ref, where):
    base, _ = served
    source = str(DATA / "repo") if where == "folder" else f"icechunk:{base}/repo"
    # the virtual chunks were written as file:// URLs where the generator ran: moved here
    h, ours = run(read_all(source, ref=ref, target_base=str(DATA / "icv") if where == "folder" else f"{base}/icv"))
    expected = {k.split("|")[1]: v for k, v in EXPECTED.items() if k.startswith(ref + "|")}
    assert sorted(ours) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=f"{ref} {name}")
    snapshot = {"main": IDS["second"], "dev": IDS["dev edit"], "tag:v1": IDS["first"]}[ref]
    assert h.store.info() == {"kind": "icechunk", "ref": ref, "snapshot": snapshot}


def test_history_and_refs_come_from_the_repo_file(served):
    base, log = served
    store = base_store(open_store(f"icechunk:{base}/repo"))
    history = run(store.history())
    assert [(e["id"], e["message"]) for e in history] == [(e["id"], e["message"]) for e in HISTORY["main"]]
    assert run(store.refs()) == {"branches": ["dev", "main"], "tags": ["v1"]}  # over HTTP too
    log.clear()
    run(Hierarchy.open(open_store(f"icechunk:{base}/repo", ref=f"snapshot:{IDS['first']}")))
    assert not [r for r in log.requests if "/refs/" in r.path]


def test_unknown_refs(tmp_path):
    with pytest.raises(StoreError, match=r"no branch 'nope' \(the repository has dev, main\)"):
        run(Hierarchy.open(open_store(str(DATA / "repo"), ref="nope")))
    with pytest.raises(StoreError, match="no snapshot 0000000000000000000A in the repository"):
        run(Hierarchy.open(open_store(str(DATA / "repo"), ref="snapshot:0000000000000000000A")))


@pytest.mark.parametrize("damage, expect", [
    (lambda raw: raw[:HEADER_BYTES - 2] + b"\x01" + raw[HEADER_BYTES - 1:],
     "an Icechunk snapshot file where a repo info was expected"),
    (lambda raw: raw[:HEADER_BYTES + 30], "cannot decompress"),
])
def test_damaged_repo_file_is_named(tmp_path, damage, expect):
    copy = tmp_path / "repo"
    shutil.copytree(DATA / "repo", copy)
    (copy / "repo").write_bytes(damage((copy / "repo").read_bytes()))
    with pytest.raises(MetadataError, match=expect) as info:
        run(Hierarchy.open(open_store(str(copy))))
    assert f"{copy}/repo" in str(info.value)
