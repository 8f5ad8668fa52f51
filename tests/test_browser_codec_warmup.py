"""Codecs ready before they are needed (issue 13), in the product page in real Chromium: once a
store is open and the app idle, the worker has imported the modules its arrays' codecs decode
with, before any chunk is read; and the usual ones (blosc, zstd) once the app is idle after
startup, with no store at all."""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, ZstdCodec
from zarr.codecs.numcodecs import LZ4

pytestmark = pytest.mark.browser

MODULES_JS = """(names) => self.pyodide.runPython(
  `import sys, json; json.dumps([m for m in ${JSON.stringify(names)} if m in sys.modules])`)"""


def imported(page, names: list[str]) -> list[str]:
    (worker,) = page.workers
    return json.loads(worker.evaluate(MODULES_JS, names))


def wait_imported(page, names: list[str], timeout_s: float = 40.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        got = imported(page, names)
        if got == names or time.monotonic() > deadline:
            return got
        page.wait_for_timeout(200)


def write_store(path):
    data = (np.add.outer(np.arange(64), np.arange(48)) * 37 % 5000).astype("u2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.open_group(path, mode="w", zarr_format=3)
        for name, compressor in (("blosc", BloscCodec(cname="zstd")), ("zstd", ZstdCodec()),
                                 ("lz4", LZ4())):  # lz4: not among the codecs warmed at startup
            root.create_array(name, shape=data.shape, chunks=(32, 24), dtype="u2",
                              compressors=[compressor])[:] = data
        zarr.consolidate_metadata(path)
    return data


def test_store_codecs_imported_while_idle_before_any_chunk(page, http_server, tmp_path):
    data = write_store(tmp_path / "warm-codecs.zarr")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    url = http_server.add_store(tmp_path / "warm-codecs.zarr")
    page.goto(f"{http_server.url}/?store={url}")
    page.evaluate("() => window.zarrExplorer.ready")
    page.evaluate("() => window.zarrExplorer.whenIdle()")

    wanted = ["blosc2", "imagecodecs._zstd", "imagecodecs._lz4"]
    assert wait_imported(page, wanted) == wanted
    store_keys = [u[len(url) + 1:] for u in requests if u.startswith(url + "/")]
    assert store_keys and all(k.rsplit("/", 1)[-1] == "zarr.json" for k in store_keys), store_keys

    # the first read installs no codec package: they are there
    def codec_archives():
        return [u for u in requests if "/py/blosc2." in u or "/py/imagecodecs." in u]
    assert len(codec_archives()) == 2
    state = page.evaluate("() => window.zarrExplorer.select('lz4')")
    assert state["status"] == "idle" and state["shape"] == list(data.shape) and state["view"], state
    assert len(codec_archives()) == 2
    assert page.console_errors == []


def test_usual_codecs_imported_once_idle_after_startup(page, http_server):
    page.goto(f"{http_server.url}/")
    page.evaluate("() => window.zarrExplorer.ready")
    usual = ["blosc2", "imagecodecs._zstd"]
    assert imported(page, usual) == []  # not before the app is interactive
    assert wait_imported(page, usual) == usual
    assert page.console_errors == []
