"""STAC browsing and store links in real Chromium, over HTTP: a catalog written by pystac is
opened by its URL, walked in the tree (each document read when its node opens), and the item's
Zarr asset (written by zarr-python) opens in place and shows the values numpy has; the way back
leads to the item. Two stores linked by their group attributes are crossed by their buttons."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from conftest import booted_explorer
from stac_fixtures import CUBE, HOSTILE, OTHER, write_catalog

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory, http_server):
    root = tmp_path_factory.mktemp("browserstac") / "stacweb"
    paths = write_catalog(root)
    return http_server.add_store(root), paths


def row(page, path: str):
    return page.locator(f".tv-row[role=treeitem][data-path='{path}']")


def state(page) -> dict:
    return page.evaluate("() => window.zarrExplorer.state()")


def wait_for_store(page, url: str) -> dict:
    page.wait_for_function("url => { const s = window.zarrExplorer.state(); "
                           "return s.store === url && s.status === 'idle' }", arg=url)
    return state(page)


def link_button(page, name: str):
    """The link button NAME once it is on the page; if it does not come, say what the page shows
    (state and a screenshot in test-output/), not only that a locator timed out."""
    button = page.get_by_role("button", name=name)
    try:
        button.wait_for(timeout=30_000)
    except Exception as exc:
        shot = Path("test-output/screenshots") / f"missing-link-{name.split(':')[0].strip('↓↑⤒ ')}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        buttons = page.get_by_role("button").all_text_contents()
        raise AssertionError(f"no button {name!r}; buttons {buttons}; state {state(page)}; see {shot}") from exc
    return button


def test_catalog_walk_to_the_zarr_asset_and_back(browser, http_server, served):
    base, paths = served
    catalog, cube = f"{base}/{paths['catalog']}", f"{base}/{paths['cube']}"
    with booted_explorer(browser, http_server, f"store={quote(catalog, safe='')}") as page:
        page.evaluate("() => window.zarrExplorer.whenIdle()")
        assert state(page)["status"] == "idle", state(page)["error"]
        assert row(page, "").locator(".tv-name").text_content() == "Test <script>catalog</script>"
        assert row(page, "c0/c0").count() == 0  # the collection is not read until it is opened
        row(page, "c0").locator(".tv-twisty").click()
        row(page, "c0/c0").wait_for()
        row(page, "c0/c0").click()  # selecting the item reads it: its assets appear
        row(page, "c0/c0/a0").wait_for()
        assert row(page, "c0/c0/a0").locator(".tv-meta").text_content() == "Zarr store"
        assert row(page, "c0/c0/a1").locator(".tv-meta").text_content() == "image/png"
        row(page, "c0/c0/a0").click()  # the Zarr asset opens in place
        assert wait_for_store(page, cube)["kind"] == "group"
        got = page.evaluate("() => window.zarrExplorer.select('temperature')")
        assert got["status"] == "idle" and got["shape"] == [6, 8]
        view = got["view"]
        assert (view["min"], view["max"]) == (float(CUBE.min()), float(CUBE.max()))
        assert view["mean"] == pytest.approx(float(CUBE.astype("f8").mean()))
        page.get_by_role("button", name="← Back to the STAC catalog").click()
        back = wait_for_store(page, catalog)
        assert back["path"] == "c0/c0"
        row(page, "c0/c0/a0").wait_for()


def test_group_links_cross_between_two_stores(browser, http_server, served):
    base, paths = served
    parent, child = f"{base}/{paths['parent']}", f"{base}/{paths['child']}"
    with booted_explorer(browser, http_server, f"store={quote(parent, safe='')}") as page:
        page.evaluate("() => window.zarrExplorer.whenIdle()")
        link_button(page, f"↓ Item: {HOSTILE}")  # a title is text, never markup
        page.evaluate("() => window.zarrExplorer.whenIdle()")  # the buttons of the settled view
        assert page.evaluate("() => window.__pwned") is None
        link_button(page, "↓ Child: The child").click()
        wait_for_store(page, child)
        link_button(page, "↑ Parent: parent.zarr")
        page.evaluate("() => window.zarrExplorer.whenIdle()")
        got = page.evaluate("() => window.zarrExplorer.select('other')")
        assert got["shape"] == [10] and got["view"]["max"] == float(OTHER.max())
        assert got["view"]["mean"] == pytest.approx(float(OTHER.mean()))
        page.evaluate("() => window.zarrExplorer.select('')")
        link_button(page, "⤒ Root: Root").click()
        wait_for_store(page, parent)
        np.testing.assert_equal(state(page)["path"], "")


def test_a_catalog_relative_to_the_page_and_a_broken_one(browser, http_server, served):
    base, paths = served
    relative = base.removeprefix(http_server.url) + "/" + paths["collection"]
    with booted_explorer(browser, http_server) as page:
        got = page.evaluate("url => window.zarrExplorer.open(url)", relative)
        assert got["status"] == "idle", got["error"]
        assert row(page, "").locator(".tv-name").text_content() == "Collection one"
        assert row(page, "c0").locator(".tv-meta").text_content() == ""  # the item: not read yet
        got = page.evaluate("url => window.zarrExplorer.open(url)", f"stac:{base}/{paths['cube']}/zarr.json")
        assert got["status"] == "error" and "zarr.json: not a STAC catalog" in got["error"]
