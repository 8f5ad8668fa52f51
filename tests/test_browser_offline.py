"""Offline (issue 10): `pyzarr-web bundle` writes one folder with the site and a store written by
zarr-python; served by any static server, the page opens that store; once its service worker has
kept the folder, the server is stopped and a reload still starts the explorer and reads the
store's values (whole chunks and shard ranges, answered from the kept copy) as numpy has them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from pyzarr_web.tools.cli import main
from pyzarr_web.tools.serve import make_app, run_in_thread

pytestmark = pytest.mark.browser

PLAIN = np.arange(40 * 30, dtype="int32").reshape(40, 30)
SHARDED = (np.arange(64 * 64, dtype="float32").reshape(64, 64) / 7).astype("float32")


@pytest.fixture(scope="module")
def viewer(tmp_path_factory, site_dir):
    root = tmp_path_factory.mktemp("offline")
    group = zarr.open_group(root / "field.zarr", mode="w", zarr_format=3)
    group.create_array("plain", data=PLAIN, chunks=(10, 10))
    group.create_array("sharded", data=SHARDED, chunks=(8, 8), shards=(32, 32))
    result = CliRunner().invoke(main, ["bundle", str(root / "field.zarr"), "--out", str(root / "viewer"),
                                       "--site", str(site_dir)])
    assert result.exit_code == 0, result.output
    assert "opened as stores/field.zarr" in result.output
    return root / "viewer"


def test_a_bundle_refuses_to_overwrite_another_folder(viewer, tmp_path, site_dir):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["bundle", str(viewer / "stores" / "field.zarr"), "--out", str(tmp_path / "mine"),
                                       "--site", str(site_dir)])
    assert result.exit_code != 0 and "is not a bundle" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_the_bundle_opens_its_store_and_works_offline(browser, viewer):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        with run_in_thread(make_app(viewer, [])) as url:
            page.goto(f"{url}/")
            page.evaluate("() => window.zarrExplorer.ready")
            page.evaluate("() => window.zarrExplorer.whenIdle()")
            state = page.evaluate("() => window.zarrExplorer.state()")
            assert state["store"] == "stores/field.zarr" and state["kind"] == "group", state
            # the worker has kept everything (install done) and controls the page (claimed)
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            kept = page.evaluate("""async () => {
                const names = await caches.keys();
                return (await (await caches.open(names[0])).keys()).map((r) => r.url) }""")
            assert any(k.endswith("/stores/field.zarr/sharded/c/0/0") for k in kept), kept[:5]
        # the server is gone: everything now comes from the kept copy
        page.reload()
        page.evaluate("() => window.zarrExplorer.ready")
        for name, want in (("plain", PLAIN), ("sharded", SHARDED)):
            got = page.evaluate(f"() => window.zarrExplorer.select('{name}')")
            assert got["status"] == "idle", got
            assert got["shape"] == list(want.shape), json.dumps({k: v for k, v in got.items() if k != "view"})
            assert (got["view"]["min"], got["view"]["max"]) == (float(want.min()), float(want.max()))
            assert got["view"]["mean"] == pytest.approx(float(want.astype("f8").mean()))
        manifest = json.loads(page.evaluate("() => fetch('app.webmanifest').then((r) => r.text())"))
        assert manifest["start_url"] == "./" and manifest["display"] == "standalone"
    finally:
        context.close()
