"""Codec warm-up (issue 13): which modules each codec's decoder imports, which codecs a store's
arrays use, and that :func:`warm` imports them ahead of any read, only while nothing is busy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numcodecs
import zarr
from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

from pyzarr_web.core.codecs.backends import BrowserBackend, NumcodecsBackend

REPO = Path(__file__).resolve().parent.parent


def test_browser_backend_modules_for_codec_ids():
    b = BrowserBackend()
    assert b.modules_for(["blosc"]) == ["blosc2"]
    assert b.modules_for(["zstd", "numcodecs.zstd", "lz4"]) == ["imagecodecs._zstd", "imagecodecs._lz4"]
    assert b.modules_for(["numcodecs.blosc", "zstd", "blosc"]) == ["blosc2", "imagecodecs._zstd"]
    # the standard library's decoders and codecs that are not compressors need nothing
    assert b.modules_for(["gzip", "zlib", "bz2", "bytes", "crc32c", "sharding_indexed", "shuffle"]) == []
    assert b.modules_for(["lzma"]) == ["lzma"]  # CPython has it; Pyodide falls back to imagecodecs


def test_numcodecs_backend_modules_for_codec_ids():
    assert NumcodecsBackend().modules_for(["blosc", "numcodecs.zstd", "gzip"]) == [
        "numcodecs.blosc", "numcodecs.zstd"]


def _write(root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = zarr.open_group(str(root), mode="w", zarr_format=3)
        g.create_array("blosc", shape=(8, 8), chunks=(4, 4), dtype="u2",
                       compressors=[BloscCodec(cname="zstd")])
        g.create_group("deep").create_array("sharded", shape=(8, 8), chunks=(2, 2), shards=(4, 4),
                                            dtype="u2", compressors=[ZstdCodec()])
        g.create_array("gzip", shape=(8,), chunks=(4,), dtype="u2", compressors=[GzipCodec()])
        v2 = zarr.open_group(str(root.with_name("v2.zarr")), mode="w", zarr_format=2)
        v2.create_array("lz4_filter", shape=(8,), chunks=(4,), dtype="u2", compressors=None,
                        filters=[numcodecs.LZ4()])


def test_codec_ids_of_a_stores_arrays(tmp_path):
    """Compressors nested in shards and v2 filters count; groups and stdlib codecs are there too."""
    import asyncio

    from pyzarr_web.core import Hierarchy, open_store
    from pyzarr_web.core.codecs.warmup import codec_ids

    _write(tmp_path / "s.zarr")

    async def ids(path):
        h = await Hierarchy.open(open_store(str(path)))
        return codec_ids(await h.walk())

    assert sorted(asyncio.run(ids(tmp_path / "s.zarr"))) == ["blosc", "gzip", "zstd"]
    assert asyncio.run(ids(tmp_path / "v2.zarr")) == ["lz4"]


# Runs in a fresh interpreter (nothing imported yet) with the browser backend.
_WARM = r'''
import asyncio, json, sys
from pyzarr_web.core import Hierarchy, open_store
from pyzarr_web.core.codecs import warmup

async def main():
    h = await Hierarchy.open(open_store(sys.argv[1]))
    ids = warmup.codec_ids(await h.walk())
    before = [m for m in ("blosc2", "imagecodecs._zstd") if m in sys.modules]
    busy = [True]
    task = warmup.warm_later(ids, busy=lambda: busy[0])
    await asyncio.sleep(0.5)
    while_busy = [m for m in ("blosc2", "imagecodecs._zstd") if m in sys.modules]
    busy[0] = False
    done = await task
    after = [m for m in ("blosc2", "imagecodecs._zstd") if m in sys.modules]
    print(json.dumps({"before": before, "while_busy": while_busy, "done": done, "after": after,
                      "again": warmup.warm_later(ids)}))

asyncio.run(main())
'''


def test_warm_imports_the_stores_codecs_once_not_busy(tmp_path):
    _write(tmp_path / "s.zarr")
    env = {**os.environ, "PYZARR_WEB_CODECS": "browser", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", _WARM, str(tmp_path / "s.zarr")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["before"] == [] and r["while_busy"] == []
    assert r["done"] == ["blosc2", "imagecodecs._zstd"] == r["after"]
    assert r["again"] is None  # nothing left to import
