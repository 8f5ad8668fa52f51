"""Kerchunk references as a store, on CPython: references written by kerchunk itself
(SingleHdf5ToZarr, MultiZarrToZarr, refs_to_dataframe) from NetCDF4/HDF5 files written here,
read through the core and compared with xarray reading the same references through fsspec's
reference filesystem. Targets local, relative and over real HTTP with Range; requests counted
against the ideal; bad references named."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys

import numpy as np
import pytest
import xarray as xr
from kerchunk_fixtures import (
    NFILES,
    SHAPE,
    TIMES,
    multi_refs,
    single_refs,
    write_hdf5,
    write_json,
    write_netcdf,
    write_parquet,
)

from pyzarr_web.core import Hierarchy, MetadataError, StoreError, ZarrError, open_store, parse_source, raw_store, wrap
from pyzarr_web.core.store import RangeRequest, Store, WrapperStore
from pyzarr_web.core.stores.cloud import public_https_url
from pyzarr_web.core.stores.kerchunk import parse_references
from pyzarr_web.core.stores.kerchunk_templates import render
from pyzarr_web.core.wrappers import BatchingStore
from pyzarr_web.tools.harness import RequestLog, chunk_refs, ideal_requests, touched_ranges
from pyzarr_web.tools.serve import make_app, run_in_thread

#: a read may not hang: every one here finishes well within this
DEADLINE = 30


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("kerchunk") / "kc"
    root.mkdir()
    return root, write_netcdf(root), write_hdf5(root)


@pytest.fixture(scope="module")
def served(data):
    """The data folder over HTTP (Range, CORS) at /data/kc/, every request logged."""
    root, _, _ = data
    log = RequestLog(make_app(None, [root]))
    with run_in_thread(log) as base:
        yield f"{base}/data/kc", log


def reference_dataset(refs_path, **options) -> xr.Dataset:
    """What xarray reads through fsspec's reference filesystem (no decoding: raw values)."""
    return xr.open_dataset("reference://", engine="zarr", mask_and_scale=False, decode_times=False,
                           backend_kwargs={"consolidated": False,
                                           "storage_options": {"fo": str(refs_path), **options}})


async def read_all(source: str, **options) -> dict[str, np.ndarray]:
    h = await Hierarchy.open(open_store(source, **options))
    out = {}
    for node in await h.walk():
        if node.kind == "array":
            out[node.path] = await (await h.array(node.path)).read()
    return out


def run(coro):
    """Run CORO to its end on a loop of its own (kerchunk's MultiZarrToZarr runs its own loop,
    so these tests are not coroutines), failing it after DEADLINE seconds."""
    return asyncio.run(asyncio.wait_for(coro, DEADLINE))


def assert_same_as_fsspec(source: str, refs_path, **options) -> dict[str, np.ndarray]:
    ours = run(read_all(source))
    expected = reference_dataset(refs_path, **options)
    assert sorted(ours) == sorted(expected.variables)
    for name, value in ours.items():
        np.testing.assert_array_equal(value, expected[name].values, err_msg=name)
        assert value.dtype == expected[name].dtype, name
    return ours


# ------------------------------------------------------------------------------- JSON, local


def test_single_file_relative_targets(data):
    root, names, _ = data
    refs = single_refs(root, names[0], names[0])  # written relative to the reference file
    assert any(isinstance(v, str) and v.startswith("base64:") for v in refs["refs"].values()), \
        "the fixture should hold base64 inline data"
    path = write_json(root / "single.json", refs)
    # fsspec resolves relative targets against the working directory: it reads a twin with
    # absolute paths
    twin = write_json(root / "single-abs.json", single_refs(root, names[0], str(root / names[0])))
    ours = assert_same_as_fsspec(str(path), twin)
    assert ours["temp"].shape == (TIMES, *SHAPE[1:])


def test_virtual_concatenation_reads_as_one_array(data):
    root, names, _ = data
    refs = multi_refs([single_refs(root, n, str(root / n)) for n in names])
    path = write_json(root / "multi.json", refs)
    ours = assert_same_as_fsspec(str(path), path)
    assert ours["temp"].shape == (TIMES * NFILES, *SHAPE[1:])
    np.testing.assert_array_equal(ours["time"], np.arange(TIMES * NFILES))
    h = run(Hierarchy.open(open_store(str(path))))
    assert h.store.info() == {"kind": "kerchunk", "ref": None, "snapshot": None}
    assert run(h.node("temp")).attributes["units"] == "K"


def test_version_0_document(data):
    """Version 0: the document is the mapping; metadata may be inline JSON objects."""
    root, names, _ = data
    refs = single_refs(root, names[1], str(root / names[1]))["refs"]
    v0 = {k: json.loads(v) if k.rsplit("/", 1)[-1].startswith(".z") else v for k, v in refs.items()}
    path = write_json(root / "v0.json", v0)
    assert_same_as_fsspec(str(path), path)


def test_templates_and_generators(data):
    """Version 1 ``templates`` and ``gen``: the HDF5 file's back-to-back chunks described by
    one generator, the file name by templates (one calling another with an argument); fsspec
    reads the same document with Jinja."""
    root, _, h5 = data
    refs = single_refs(root, h5, str(root / h5))
    chunks = sorted((int(k.split("/")[1].split(".")[0]), v) for k, v in chunk_refs(refs, "grid").items())
    first, length = chunks[0][1][1], chunks[0][1][2]
    assert [c[1][1] for c in chunks] == [first + i * length for i in range(len(chunks))], \
        "h5py should lay these chunks out back to back"
    gen_refs = {k: v for k, v in refs["refs"].items() if k not in {f"grid/{i}.0" for i, _ in chunks}}
    doc = {"version": 1,
           "templates": {"d": str(root), "f": "{{d}}/{{name}}.h5"},
           "gen": [{"key": "grid/{{i}}.0", "url": "{{f(d=d, name='grid')}}",
                    "offset": f"{{{{{first} + i * {length}}}}}", "length": str(length),
                    "dimensions": {"i": {"stop": len(chunks)}}}],
           "refs": gen_refs}
    path = write_json(root / "gen.json", doc)
    ours = assert_same_as_fsspec(str(path), path, simple_templates=False)
    np.testing.assert_array_equal(ours["grid"], np.arange(64 * 48).reshape(64, 48))


def test_parquet_references(data, tmp_path):
    root, names, _ = data
    refs = multi_refs([single_refs(root, n, str(root / n)) for n in names])
    folder = tmp_path / "refs.parq"
    write_parquet(folder, refs, record_size=5)  # several records per variable
    assert (folder / "temp" / "refs.1.parq").is_file()
    assert parse_source(str(folder)).kind == "kerchunk-parquet"
    plain = tmp_path / "plain"
    shutil.copytree(folder, plain)
    assert parse_source(str(plain)).kind == "kerchunk-parquet"  # recognised by its .zmetadata
    ours = run(read_all(str(plain)))
    expected = reference_dataset(write_json(tmp_path / "same.json", refs))
    for name in expected.variables:
        np.testing.assert_array_equal(ours[name], expected[name].values, err_msg=name)


@pytest.mark.parametrize("hidden", [["pyarrow.parquet"], ["pyarrow.parquet", "fastparquet"]])
def test_parquet_readers(data, tmp_path, monkeypatch, hidden):
    """Without pyarrow, fastparquet reads the records; without either, the error says what to
    use instead (as in the browser)."""
    root, names, _ = data
    refs = multi_refs([single_refs(root, n, str(root / n)) for n in names])
    folder = write_parquet(tmp_path / "refs.parq", refs, record_size=5)
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    if len(hidden) == 1:
        ours = run(read_all(str(folder)))
        expected = reference_dataset(write_json(tmp_path / "same.json", refs))
        np.testing.assert_array_equal(ours["temp"], expected["temp"].values)
    else:
        with pytest.raises(StoreError, match=r"refs\.parq/\w+/refs\.0\.parq: Kerchunk Parquet references cannot be "
                                             r"read here.*Use Kerchunk JSON"):
            run(read_all(str(folder)))


# ------------------------------------------------------------------------------------- HTTP


def test_over_http_relative_targets_and_request_count(data, served):
    """References served over HTTP with relative targets resolve against the reference URL;
    a region read asks for the referenced ranges, back-to-back ones of a file merged: at most
    1.05x the ideal requests and bytes."""
    root, names, h5 = data
    base, log = served
    singles = [single_refs(root, n, n) for n in names]
    write_json(root / "rel-multi.json", multi_refs(singles))
    ours = run(read_all(f"{base}/rel-multi.json"))
    expected = reference_dataset(write_json(root / "abs-multi.json", multi_refs(
        [single_refs(root, n, str(root / n)) for n in names])))  # the same files, by path
    np.testing.assert_array_equal(ours["temp"], expected["temp"].values)

    h5refs = single_refs(root, h5, h5)
    write_json(root / "rel-grid.json", h5refs)
    for source, array, region, refs in [
        (f"{base}/rel-multi.json", "temp", (slice(2, 7), slice(10, 30), slice(0, 25)), multi_refs(singles)),
        (f"{base}/rel-grid.json", "grid", (slice(5, 40), slice(None)), h5refs),
    ]:
        # as open_store stacks it, and as the explorer does: its own wrapper (a traffic counter)
        # between wrap() and the raw store
        for opener in (open_store, lambda url: wrap(WrapperStore(raw_store(url)))):
            log.clear()
            arr, value = run(_read_region(source, array, region, opener))
            got = [r for r in log.under("/data/kc/") if not r.path.endswith(".json")]
            touched = touched_ranges(refs, array, arr.shape, arr.chunks, region)
            ideal_n, ideal_bytes = ideal_requests(touched)
            assert len(got) <= 1.05 * ideal_n, (len(got), ideal_n)
            assert sum(r.body_bytes for r in got) <= 1.05 * ideal_bytes
            assert value.shape == tuple(len(range(n)[s]) for n, s in zip(arr.shape, region))
    assert ideal_n < len(touched), "the HDF5 chunks should coalesce"


async def _read_region(source, array, region, opener=open_store):
    h = await Hierarchy.open(opener(source))
    arr = await h.array(array)
    return arr, await arr.read(region)


def test_target_base_override(data, served):
    """Targets recorded at paths that do not exist here, moved to where the files are served."""
    root, names, _ = data
    base, _ = served
    refs = multi_refs([single_refs(root, n, f"/gone/archive/{n}") for n in names])
    path = write_json(root / "moved.json", refs)
    with pytest.raises(StoreError, match=r"reference 'temp/0\.0\.0' -> /gone/archive/part0\.nc "
                                         r"bytes \d+-\d+: the target file does not exist"):
        run(read_all(str(path)))
    ours = run(read_all(str(path), target_base=base + "/"))
    expected = reference_dataset(write_json(root / "moved-back.json",
                                            multi_refs([single_refs(root, n, str(root / n)) for n in names])))
    np.testing.assert_array_equal(ours["temp"], expected["temp"].values)
    again = run(read_all(f"{path}#target_base={base}"))
    np.testing.assert_array_equal(again["temp"], ours["temp"])


def test_cloud_urls_map_to_public_https():
    assert public_https_url("s3://bucket/dir/a b.nc") == "https://bucket.s3.amazonaws.com/dir/a%20b.nc"
    assert public_https_url("gs://bucket/x/y.nc") == "https://storage.googleapis.com/bucket/x/y.nc"
    assert public_https_url("https://a/b") == "https://a/b"
    with pytest.raises(StoreError, match="BUCKET"):
        public_https_url("s3:///key")


# ---------------------------------------------------------------------------- bad references


@pytest.mark.parametrize("how", ["local", "http"])
def test_missing_target_and_offset_past_the_end(data, served, how):
    root, names, _ = data
    base, _ = served
    prefix = str(root) if how == "local" else base
    refs = single_refs(root, names[0], f"{prefix}/{names[0]}")
    refs["refs"]["temp/0.0.0"] = [f"{prefix}/nothere.nc", 10, 100]
    refs["refs"]["temp/0.0.1"] = [f"{prefix}/{names[0]}", 10**7, 100]
    path = write_json(root / f"bad-{how}.json", refs)
    with pytest.raises(StoreError, match=rf"reference 'temp/0\.0\.0' -> {prefix}/nothere\.nc bytes 10-109"
                                         r".*(does not exist)"):
        run(_read_region(str(path), "temp", (0, slice(0, 15), slice(0, 20))))
    past = "range not satisfiable" if how == "http" else "ends after 0 of the 100 bytes"
    with pytest.raises(StoreError, match=rf"reference 'temp/0\.0\.1' -> {prefix}/part0\.nc "
                                         rf"bytes 10000000-10000099.*{past}"):
        run(_read_region(str(path), "temp", (0, slice(0, 15), slice(20, 40))))


@pytest.mark.parametrize("doc, expect", [
    (b'{"version": 1, "refs": {".zgroup": ', "invalid JSON"),
    (b'{"version": 3, "refs": {}}', "unknown Kerchunk reference version 3"),
    (b'{"version": 1, "refs": {"a/0": ["u", -1, 5]}}', "reference 'a/0'.*non-negative"),
    (b'{"version": 1, "refs": {"a/0": 5}}', "reference 'a/0' is 5"),
    (b'{"version": 1, "refs": {"a/0": "base64:!!"}}', "reference 'a/0': bad base64"),
    (b'{"version": 1, "templates": {"u": "x"}, "refs": {"a/0": ["{{nope}}/x", 0, 5]}}',
     "reference 'a/0'.*unknown name 'nope'"),
    (b'{"version": 1, "templates": {"t": "{{t()}}"}, "refs": {"a/0": ["{{t()}}", 0, 5]}}',
     r"refs.json: template 't': template expression {{t\(\)}}: 't' is not a template with parameters"),
    (b'{"version": 1, "refs": {}, "gen": [{"key": "k{{i}}", "url": "u", '
     b'"dimensions": {"i": {"stop": 100000000}}}]}', r"gen\[0\]: generates 100000000 references"),
    (b'{"version": 1, "templates": {"u": "x"}, "refs": {"a/0": ["{{().__class__}}", 0, 5]}}',
     "unsupported syntax"),
])
def test_malformed_references(tmp_path, doc, expect):
    path = tmp_path / "refs.json"
    path.write_bytes(doc)
    with pytest.raises(ZarrError, match=expect) as info:
        run(Hierarchy.open(open_store(str(path))))
    assert str(path) in str(info.value)


def test_missing_reference_file(tmp_path):
    with pytest.raises(StoreError, match="reference file not found"):
        run(Hierarchy.open(open_store(str(tmp_path / "absent.json"))))


def test_template_expressions():
    names = {"u": "host/path", "i": 3}
    assert render("http://{{u}}/{{ i * 2 + 1 }}-{{'%03d' % i}}", names, "t") == "http://host/path/7-003"
    for bad in ("{{ i ** 2 }}", "{{ 'a' * 10 }}", "{{ u.upper() }}", "{{ i | string }}"):
        with pytest.raises(MetadataError, match="t: template expression"):
            render(bad, names, "t")
    assert parse_references({"version": 1, "refs": {"k": ["{{u}}/f", 1, 2]}, "templates": {"u": "x"}},
                            "t")["k"].url == "x/f"


# ------------------------------------------------------------------------- batching wrapper


class _Recorder(Store):
    """Records each get_ranges batch; each batch waits for RELEASE before answering."""

    def __init__(self):
        self.batches: list[tuple[str, list]] = []
        self.release = asyncio.Event()
        self.cancelled = 0

    async def get(self, key, byte_range=None):
        return b"x" * 100

    async def get_ranges(self, key, ranges):
        self.batches.append((key, list(ranges)))
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if key == "bad":
            raise StoreError("bad key")
        return [bytes([r.offset]) * r.length for r in ranges]


async def test_batching_gathers_concurrent_ranges_per_key():
    inner = _Recorder()
    store = BatchingStore(inner)
    reads = [asyncio.ensure_future(store.get(k, RangeRequest(o, 2))) for k, o in
             [("a", 0), ("a", 2), ("b", 5), ("a", 4)]]
    await asyncio.sleep(0.01)
    assert sorted((k, [r.offset for r in rs]) for k, rs in inner.batches) == [("a", [0, 2, 4]), ("b", [5])]
    inner.release.set()
    assert await asyncio.gather(*reads) == [b"\0\0", b"\2\2", b"\5\5", b"\4\4"]

    bad = [asyncio.ensure_future(store.get("bad", RangeRequest(o, 1))) for o in (0, 1)]
    for r in bad:
        with pytest.raises(StoreError, match="bad key"):
            await r

    inner.release.clear()
    waiting = [asyncio.ensure_future(store.get("c", RangeRequest(o, 1))) for o in (0, 1)]
    await asyncio.sleep(0.01)
    for w in waiting:
        w.cancel()
    await asyncio.sleep(0.01)
    assert inner.cancelled == 1, "a batch nobody waits for is cancelled"


# ------------------------------------------------------------------------------------- CLI


def test_cli_tree_and_cat(data, served, tmp_path):
    from click.testing import CliRunner

    from pyzarr_web.tools.cli import main

    root, names, _ = data
    base, _ = served
    path = write_json(root / "cli.json", multi_refs([single_refs(root, n, f"/moved/{n}") for n in names]))
    for source in (str(path), f"kerchunk:{path}"):
        result = CliRunner().invoke(main, ["tree", source, "--json", "--target-base", base])
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert out["store"] == {"kind": "kerchunk", "ref": None, "snapshot": None}
        assert {n["path"]: n.get("shape") for n in out["nodes"]}["temp"] == [TIMES * NFILES, *SHAPE[1:]]
    text = CliRunner().invoke(main, ["tree", str(path)]).output
    assert text.splitlines()[0] == "[Kerchunk references]"
    npy = tmp_path / "slice.npy"
    result = CliRunner().invoke(main, ["cat", str(path), "temp", "--select", "5,:,3:9", "--out", npy,
                                       "--target-base", base])
    assert result.exit_code == 0, result.output
    expected = reference_dataset(write_json(root / "cli-abs.json", multi_refs(
        [single_refs(root, n, str(root / n)) for n in names])))
    np.testing.assert_array_equal(np.load(npy), expected["temp"].values[5, :, 3:9])
    failed = CliRunner().invoke(main, ["cat", str(path), "temp", "--out", npy])
    assert failed.exit_code == 1 and "reference 'temp/" in failed.output and "/moved/part" in failed.output


def test_where_chunks_live(data):
    root, names, _ = data
    refs = multi_refs([single_refs(root, n, n) for n in names])
    path = write_json(root / "where.json", refs)
    h = run(Hierarchy.open(open_store(str(path))))
    files = run(h.store.chunk_files("temp/"))
    expected = {}
    for url, _, length in (v for v in chunk_refs(refs, "temp").values()):
        count, size = expected.get(str(root / url), (0, 0))
        expected[str(root / url)] = (count + 1, size + length)
    assert files == expected and len(files) == NFILES


# ------------------------------------------------------------------ misbehaving target servers


@pytest.mark.parametrize("fault, expect", [
    ("hang", "no response after"),
    ("drip", "not complete after"),
    ("e403", "HTTP 403, access denied"),
    ("loop", "redirects"),
])
def test_misbehaving_target_server_is_named_and_bounded(data, monkeypatch, fault, expect):
    """Targets on a server that hangs, drips, refuses or loops: the read fails within the
    timeouts, naming the reference key, the target URL and range, and what the server did."""
    import time

    from fault_server import FaultServer

    from pyzarr_web.core.stores import http

    monkeypatch.setattr(http, "TIMEOUTS", http.Timeouts(first_byte=1.0, idle=1.0, total=3.0))
    monkeypatch.setattr(http, "BACKOFF", 0.05)
    root, names, _ = data
    with FaultServer(root.parent) as server:
        base = f"{server.case().url}/{fault}/{root.name}"
        path = write_json(root / f"fault-{fault}.json", single_refs(root, names[0], f"{base}/{names[0]}"))
        started = time.monotonic()
        with pytest.raises(StoreError, match=rf"reference 'temp/0\.0\.0' -> {base}/part0\.nc bytes \d+-\d+: "
                                             rf".*{expect}"):
            run(_read_region(str(path), "temp", (0, slice(0, 15), slice(0, 20))))
        assert time.monotonic() - started < 8
