"""Broken chunks, shard indexes, resource limits, hostile names and a pickle payload: each case
ends in a clear error of ours naming the key (or exactly zarr-python's data), with memory and
time bounded before anything is allocated or requested. Chunks run on both codec backends;
the CLI runs in a subprocess, so a crash in native code shows as a signal, not a dead test
session."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr
from badinput import (
    CHUNK_DAMAGE,
    CODECS,
    LIMITS,
    SHARD_DAMAGE,
    SHARD_ENTRY_REFUSED,
    SHARD_READABLE,
    Marker,
    corrupt_chunk,
    damage_shard,
    metadata_only,
    served_cases,
    write_base,
    write_codec_store,
    write_pickle_store,
)
from click.testing import CliRunner

from pyzarr_web.core import BudgetError, CodecError, Hierarchy, StoreError, ZarrError, open_store
from pyzarr_web.tools.cli import main
from pyzarr_web.tools.terminal import UNSAFE, safe


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_cases(tmp_path_factory, "chunks") as served:
        yield served


def source(served, name: str, where: str) -> str:
    root, url = served
    return str(root / name) if where == "dir" else f"{url}/{name}"


async def read(src: str, path: str = "", selection=None):
    h = await Hierarchy.open(open_store(src))
    return await (await h.array(path)).read(selection)


def cli(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyzarr_web.tools.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def assert_one_error(proc: subprocess.CompletedProcess, *expect: str) -> str:
    """Exit status 1 (not a signal), one 'error:' line on stderr naming what is expected."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for text in expect:
        assert text in proc.stderr, proc.stderr
    return proc.stderr


# ------------------------------------------------------------------------------ codecs

@pytest.mark.parametrize("how", CHUNK_DAMAGE)
@pytest.mark.parametrize("codec", CODECS)
async def test_damaged_chunk_is_refused_within_memory(codec, how, backend, served):
    name = f"{codec}-{how}"
    path = served[0] / name
    if not path.exists():
        write_codec_store(path, codec)
        corrupt_chunk(path, codec, how)
    tracemalloc.start()
    try:
        with pytest.raises(CodecError, match=r"chunk '0\.0'") as info:
            await read(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if how == "bomb":
        assert "exceeds" in str(info.value) or "more than" in str(info.value)
    # the stored bytes themselves, plus decoder state (lzma's dictionary is 8 MiB): never the
    # 32 MiB a bomb expands to
    stored = (path / "0.0").stat().st_size
    assert peak < stored + (12 << 20), f"{codec} {how}: peak {peak} bytes"


@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("codec", ["blosc-lz4", "blosc-memcpy", "lz4", "zstd"])
def test_cli_refuses_truncated_native_chunk(codec, where, served):
    """c-blosc used to read past a truncated buffer, or crash (signal 11)."""
    name = f"cli-{codec}-truncated"
    path = served[0] / name
    if not path.exists():
        write_codec_store(path, codec)
        corrupt_chunk(path, codec, "truncated")
    out = served[0].parent / f"{name}-{where}.npy"
    assert_one_error(cli("cat", source(served, name, where), "", "--out", out), "chunk '0.0'")
    assert not out.exists()


async def test_blosc_header_claiming_more_than_it_holds(served, backend):
    """The issue's case: 208 bytes of an uncompressed blosc chunk whose header says 416."""
    from numcodecs import Blosc
    path = served[0] / f"blosc-208-{backend}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(str(path), shape=(100,), chunks=(100,), dtype="<i4", zarr_format=2,
                          compressors=Blosc(clevel=0))[:] = np.arange(100)
    raw = (path / "0").read_bytes()
    assert len(raw) == 416 and int.from_bytes(raw[4:8], "little") == 400
    (path / "0").write_bytes(raw[:208])
    with pytest.raises(CodecError, match=r"chunk '0': blosc: header announces 416 compressed "
                                         r"bytes, got 208"):
        await read(str(path))


# ------------------------------------------------------------------------------ shard indexes

def zarr_read(path: Path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(str(path), mode="r")[...]


@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("how", SHARD_DAMAGE)
async def test_damaged_shard_index(how, where, served, base_cache):
    name = f"shard-{how}"
    path = served[0] / name
    if not path.exists():
        write_base("v3s", path, base_cache)
        damage_shard(path, how)
    src = source(served, name, where)
    if how in SHARD_READABLE:
        expected = zarr_read(path)
        assert np.array_equal(await read(src), expected)
        return
    with pytest.raises(ZarrError, match="c/0/0") as info:
        await read(src)
    if where == "dir":  # over HTTP the server's answer to an impossible range decides the type
        assert isinstance(info.value, (CodecError, StoreError))
    if how in SHARD_ENTRY_REFUSED:
        assert isinstance(info.value, CodecError) and "index entry" in str(info.value)


# ------------------------------------------------------------------------------ resource limits

@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("name", LIMITS)
def test_reads_beyond_the_budgets_are_refused_up_front(name, where, served, tmp_path):
    create, selection, message = LIMITS[name]
    metadata_only(served[0] / f"limit-{name}", **create)
    start = time.monotonic()
    proc = cli("cat", source(served, f"limit-{name}", where), "", "--select", selection,
               "--out", tmp_path / "x.npy")
    assert time.monotonic() - start < 20
    assert_one_error(proc, message, "budget")
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize("name", LIMITS)
async def test_budget_refusals_allocate_nothing(name, served):
    create, selection, _ = LIMITS[name]
    path = metadata_only(served[0] / f"limit-{name}", **create)
    h = await Hierarchy.open(open_store(str(path)))
    arr = await h.array("")
    tracemalloc.start()
    try:
        with pytest.raises(BudgetError):
            await arr.read(selection)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


@pytest.mark.parametrize("selection, expected", [("0:10", np.full(10, 7, "u1")),
                                                 ("-3:", np.full(3, 7, "u1"))])
async def test_small_reads_of_huge_arrays_cost_what_they_show(served, selection, expected):
    path = metadata_only(served[0] / "limit-shape-2pow62", shape=(2**62,), chunks=(1000,),
                         dtype="u1")
    assert np.array_equal(await read(str(path), "", selection), expected)


def test_symlink_cycle_is_a_clear_error(served, base_cache):
    path = served[0] / "symlink-cycle"
    if not path.exists():
        write_base("v3c", path, base_cache)
        root = json.loads((path / "zarr.json").read_text())
        del root["consolidated_metadata"]  # so the tree is listed, links and all
        (path / "zarr.json").write_text(json.dumps(root))
        (path / "g").mkdir()
        (path / "g" / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
        os.symlink("..", path / "g" / "loop")
    proc = cli("tree", path, timeout=30)
    assert_one_error(proc, str(path / "g" / "loop"), "symbolic link cycle")


async def test_local_store_refuses_offsets_past_64_bits(served, base_cache):
    from pyzarr_web.core.store import RangeRequest
    from pyzarr_web.core.stores.local import LocalStore
    path = served[0] / "range-2pow63"
    if not path.exists():
        write_base("v3", path, base_cache)
    with pytest.raises(StoreError, match="zarr.json: byte range .* out of bounds"):
        await LocalStore(path).get("zarr.json", RangeRequest(2**63, 1))


# ------------------------------------------------------------------------------ hostile names

HOSTILE_NAMES = {
    "newline": "line\n  forged  [6, 8] <i2 chunks=[3, 4] (v3)",
    "escape": "esc\x1b[2Jcleared",
    "osc": "osc\x1b]0;title\x07",
    "bell": "bell\x07",
    "carriage-return": "cr\rover",
    "del": "del\x7f",
    "c1-csi": "c1\x9b31m",
    "bidi-override": "bidi\u202etxt.exe",
    "bidi-isolate": "iso\u2066late",
    "line-separator": "ls\u2028sep",
}


@pytest.fixture(scope="module")
def named_store(served):
    """A consolidated v3 store whose groups carry the hostile names."""
    path = served[0] / "hostile-names"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.open_group(str(path), mode="w", zarr_format=3)
        for name in HOSTILE_NAMES.values():
            (path / name).mkdir()
            (path / name / "zarr.json").write_text(json.dumps(
                {"zarr_format": 3, "node_type": "group", "attributes": {"t": name}}))
        zarr.consolidate_metadata(str(path))
    assert root is not None
    return path


@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("kind", HOSTILE_NAMES)
def test_tree_text_escapes_control_characters(kind, where, served, named_store):
    result = CliRunner().invoke(main, ["tree", source(served, "hostile-names", where)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")[:-1]
    assert len(lines) == 1 + len(HOSTILE_NAMES)  # one line per node: no forged lines
    assert not UNSAFE.search(result.stdout.replace("\n", ""))
    name = HOSTILE_NAMES[kind]
    assert f"  {safe(name)}/  (group, v3)" in lines


@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("kind", HOSTILE_NAMES)
def test_tree_json_keeps_names_exact(kind, where, served, named_store):
    result = CliRunner().invoke(main, ["tree", source(served, "hostile-names", where), "--json"])
    assert result.exit_code == 0, result.output
    assert not UNSAFE.search(result.stdout.replace("\n", ""))  # json.dumps escapes them itself
    nodes = {n["path"]: n for n in json.loads(result.stdout)["nodes"]}
    name = HOSTILE_NAMES[kind]
    assert nodes[name]["attributes"] == {"t": name}


def test_errors_naming_hostile_keys_are_escaped(served, base_cache):
    name = "err\x1b[31mred\nline"
    path = served[0] / name
    if not path.exists():
        write_base("v3", path, base_cache)
        (path / "zarr.json").write_bytes(b"{broken")
    result = CliRunner().invoke(main, ["tree", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr
    assert "err\\x1b[31mred\\x0aline/zarr.json: invalid JSON" in result.stderr


# ------------------------------------------------------------------------------ pickle

@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_pickle_payload_is_never_unpickled(zarr_format, where, served, tmp_path):
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(Marker(str(marker)))
    # the payload is live: unpickling it in another process creates the marker
    probe = tmp_path / "probe"
    subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=pickle.dumps(Marker(str(probe))), check=True,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert probe.exists()

    name = f"pickle-v{zarr_format}"
    write_pickle_store(served[0] / name, zarr_format, payload)
    src = source(served, name, where)
    for args in (["tree", src], ["cat", src, "", "--out", tmp_path / "x.npy"]):
        proc = cli(*args)
        assert_one_error(proc, "pickle", "refused")
    assert not marker.exists()
