"""Icechunk repositories on CPython: a repository written by the icechunk package (two commits
on main, a tag, a second branch, native, inline and virtual chunks, the virtual ones in a file
served over real HTTP with Range), read through the core from its folder and over HTTP at every
ref, compared with icechunk's own reader; history, refs, the CLI; damaged files named."""

from __future__ import annotations

import asyncio
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from icechunk_fixtures import read_with_icechunk, write_repo, write_virtual_file

from pyzarr_web.core import Hierarchy, MetadataError, StoreError, open_store, parse_source
from pyzarr_web.core.codecs.backends import get_backend
from pyzarr_web.core.stores.icechunk import HEADER_BYTES, IcechunkStore, encode_id
from pyzarr_web.tools.cli import main
from pyzarr_web.tools.harness import RequestLog
from pyzarr_web.tools.serve import make_app, run_in_thread

DEADLINE = 30


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """(repository folder, snapshot ids, folder of the virtual file, HTTP base of both, request
    log)."""
    root = tmp_path_factory.mktemp("icechunk") / "ic"
    folder = root / "icv"
    _, chunks_at = write_virtual_file(folder)
    path = root / "repo"
    ids = write_repo(path, folder, chunks_at)
    log = RequestLog(make_app(None, [root]))
    with run_in_thread(log) as base:
        yield path, ids, folder, base + "/data/ic", log


async def read_all(source: str, **options) -> tuple[Hierarchy, dict[str, np.ndarray]]:
    h = await Hierarchy.open(open_store(source, **options))
    out = {}
    for node in await h.walk():
        if node.kind == "array":
            out[node.path] = await (await h.array(node.path)).read()
    return h, out


@pytest.mark.parametrize("ref, theirs", [
    (None, {"branch": "main"}),
    ("tag:v1", {"tag": "v1"}),
    ("dev", {"branch": "dev"}),
    ("branch:dev", {"branch": "dev"}),
    ("snapshot:first", {"snapshot_id": "first"}),
])
def test_every_ref_equals_icechunk(repo, ref, theirs):
    path, ids, folder, _, _ = repo
    if ref and ref.startswith("snapshot:"):
        ref, theirs = f"snapshot:{ids['first']}", {"snapshot_id": ids["first"]}
    expected = read_with_icechunk(path, folder, **theirs)
    h, ours = run(read_all(str(path), ref=ref))
    assert sorted(ours) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
        assert ours[name].dtype == value.dtype
    snapshot = ids["second"] if ref is None else ids["dev edit"] if "dev" in ref else ids["first"]
    assert h.store.info() == {"kind": "icechunk", "ref": ref.removeprefix("branch:") if ref else "main",
                              "snapshot": snapshot}
    assert h.root.attributes == {"title": "icechunk test"}


def test_virtual_chunks_are_ranges_of_their_file(repo):
    """Virtual chunks read over HTTP (their folder served, the targets moved there): the four
    lie back to back in virtual.bin, so one request fetches them all."""
    path, ids, folder, base, log = repo
    h = run(Hierarchy.open(open_store(str(path), target_base=f"{base}/icv/")))
    log.clear()
    value = run(_read(h, "virt"))
    got = [r for r in log.requests if r.path.endswith("virtual.bin")]
    assert len(got) == 1 and got[0].range == f"bytes=100-{100 + 4 * 80 - 1}", got
    np.testing.assert_array_equal(value, read_with_icechunk(path, folder, branch="main")["virt"])


async def _read(h, path):
    return await (await h.array(path)).read()


def test_repository_over_http(repo):
    path, ids, folder, base, log = repo
    expected = read_with_icechunk(path, folder, tag="v1")
    source = f"icechunk:{base}/repo#ref=tag:v1"
    assert parse_source(source).options == {"ref": "tag:v1"}
    h, ours = run(read_all(source))
    assert h.store.info()["snapshot"] == ids["first"]
    for name, value in expected.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
    h = run(Hierarchy.open(open_store(f"icechunk:{base}/repo")))
    with pytest.raises(StoreError, match=r"chunk 'virt/c/\d/\d' -> file://.*virtual\.bin bytes \d+-\d+: "
                                         r"file://.*: a local file cannot be read here"):
        run(_read(h, "virt"))  # a repository on a server cannot make us read local files
    _, main_ = run(read_all(f"icechunk:{base}/repo#target_base={base}/icv"))
    np.testing.assert_array_equal(main_["virt"], read_with_icechunk(path, folder, branch="main")["virt"])


def test_history_and_refs(repo):
    path, ids, _, _, _ = repo
    store = _icechunk(str(path))
    history = run(store.history())
    assert [e["message"] for e in history] == ["second", "first", "Repository initialized"]
    assert [e["id"] for e in history[:2]] == [ids["second"], ids["first"]]
    assert history[-1]["id"] == "1CECHNKREP0F1RSTCMT0"
    assert all(e["time"].endswith("+00:00") for e in history)
    assert run(store.refs()) == {"branches": ["dev", "main"], "tags": ["v1"]}


def _icechunk(source: str, **options) -> IcechunkStore:
    store = open_store(source, **options)
    while not isinstance(store, IcechunkStore):
        store = store.inner
    return store


def test_cli(repo, tmp_path):
    path, ids, folder, _, _ = repo
    result = CliRunner().invoke(main, ["tree", str(path), "--json", "--ref", "tag:v1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["store"] == {"kind": "icechunk", "ref": "tag:v1", "snapshot": ids["first"]}
    assert sorted(n["path"] for n in out["nodes"]) == ["", "a", "x"]
    text = CliRunner().invoke(main, ["tree", f"icechunk:{path}"]).output
    assert text.splitlines()[0] == f"[Icechunk repository at main (snapshot {ids['second']})]"
    npy = tmp_path / "a.npy"
    result = CliRunner().invoke(main, ["cat", str(path), "a", "--select", "25:45,5:15", "--out", npy,
                                       "--ref", "dev"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.load(npy), read_with_icechunk(path, folder, branch="dev")["a"][25:45, 5:15])


# ------------------------------------------------------------------------------ bad input


def test_unknown_refs_and_ref_syntax(repo, tmp_path):
    path, _, _, _, _ = repo
    with pytest.raises(StoreError, match=r"no branch 'nope' \(no refs/branch.nope/ref.json\)"):
        run(Hierarchy.open(open_store(str(path), ref="nope")))
    with pytest.raises(StoreError, match="no tag 'v9'"):
        run(Hierarchy.open(open_store(str(path), ref="tag:v9")))
    with pytest.raises(StoreError, match="snapshot id is 20 characters"):
        open_store(str(path), ref="snapshot:xyz")
    with pytest.raises(StoreError, match="expected a branch name"):
        open_store(str(path), ref="head:main")
    with pytest.raises(StoreError, match="snapshots/0000000000000000000A: not found"):
        run(Hierarchy.open(open_store(str(path), ref="snapshot:0000000000000000000A")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="not an Icechunk repository .no repo file and no refs"):
        run(Hierarchy.open(open_store(f"icechunk:{tmp_path / 'empty'}")))
    with pytest.raises(StoreError, match="'ref' does not apply to a kerchunk store"):
        open_store(str(tmp_path / "x.json"), ref="main")


def _damaged(repo, tmp_path, damage) -> str:
    """A copy of the repository whose current main snapshot went through DAMAGE(bytes)."""
    path, ids, _, _, _ = repo
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    snapshot = copy / "snapshots" / ids["second"]
    snapshot.write_bytes(damage(snapshot.read_bytes()))
    return str(copy)


def _recompressed(raw: bytes, change) -> bytes:
    import numcodecs

    body = bytes(get_backend().zstd(raw[HEADER_BYTES:], 1 << 24))
    return raw[:HEADER_BYTES] + numcodecs.Zstd().encode(change(body))


@pytest.mark.parametrize("damage, expect", [
    (lambda raw: raw[:HEADER_BYTES - 3] + b"\x09" + raw[HEADER_BYTES - 2:],
     "Icechunk format version 9, but this reader knows versions 1 and 2"),
    (lambda raw: raw[:HEADER_BYTES - 2] + b"\x02" + raw[HEADER_BYTES - 1:],
     "an Icechunk manifest file where a snapshot was expected"),
    (lambda raw: b"PK" + raw[2:], "not an Icechunk file"),
    (lambda raw: raw[:HEADER_BYTES + 20], "cannot decompress"),
    (lambda raw: _recompressed(raw, lambda b: b[:len(b) // 3]), "corrupt snapshot .*outside the"),
    (lambda raw: _recompressed(raw, lambda b: b"\xff\xff\xff\x7f" + b[4:]), "corrupt snapshot"),
])
def test_damaged_snapshot_is_named(repo, tmp_path, damage, expect):
    _, ids, _, _, _ = repo
    source = _damaged(repo, tmp_path, damage)
    with pytest.raises(MetadataError, match=expect) as info:
        run(Hierarchy.open(open_store(source)))
    assert f"snapshots/{ids['second']}" in str(info.value)


def test_missing_virtual_target_is_named(repo, tmp_path):
    path, ids, folder, _, _ = repo
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    url = f"file://{folder.resolve()}/virtual.bin"
    moved = url.replace("virtual.bin", "virtual.gon")  # same length: the flatbuffer stays valid
    manifests = list((copy / "manifests").iterdir())
    for m in manifests:
        raw = m.read_bytes()
        body = bytes(get_backend().zstd(raw[HEADER_BYTES:], 1 << 24))
        if url.encode() in body:
            import numcodecs

            m.write_bytes(raw[:HEADER_BYTES] + numcodecs.Zstd().encode(body.replace(url.encode(), moved.encode())))
    h = run(Hierarchy.open(open_store(str(copy))))
    with pytest.raises(StoreError, match=r"chunk 'virt/c/\d/\d' -> .*virtual\.gon bytes \d+-\d+: the target file "
                                         r"does not exist"):
        run(_read(h, "virt"))


def test_ids_encode_as_crockford_base32():
    assert encode_id(bytes(12)) == "0" * 20
    assert encode_id(b"\xff" * 12) == "Z" * 19 + "G"  # 96 bits: the last character holds one


def test_the_fixture_has_inline_native_and_virtual_chunks(repo):
    path, _, _, _, _ = repo
    store = _icechunk(str(path))
    snapshot = run(store.snapshot())

    async def refs(name):
        node = snapshot.nodes[f"/{name}"]
        return [r for m, _ in node.manifests for r in (await store._manifest(m, node.node_id)).values()]

    kinds = {name: {type(r).__name__ if isinstance(r, bytes) else r.url.split(":")[0].split("/")[0]
                    for r in run(refs(name))} for name in ("a", "x", "virt")}
    assert kinds == {"a": {"chunks"}, "x": {"bytes"}, "virt": {"file"}}


def test_where_chunks_live_and_stored_sizes(repo):
    path, _, folder, _, _ = repo
    store = _icechunk(str(path))
    files = run(store.chunk_files("virt/"))
    assert files == {f"file://{folder.resolve()}/virtual.bin": (4, 4 * 80)}
    everything = run(store.chunk_files(""))
    assert everything[f"{path}/chunks/"][0] == 6 and everything["inline"][0] == 1  # "x", compressed
    h = run(Hierarchy.open(open_store(str(path))))
    assert run(h.store.chunk_files("virt/")) == files  # through the wrappers
    assert run(run(h.array("a")).stored_bytes()) == everything[f"{path}/chunks/"][1]
