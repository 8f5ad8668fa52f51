"""The explorer on a STAC catalog and on linked stores, on CPython (local files: the same code
paths as over HTTP, which tests/test_browser_stac.py walks in Chromium)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from stac_fixtures import CUBE, HOSTILE, OTHER, write_catalog

from pyzarr_web.ui.explorer import Explorer


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("uistac")
    return root, write_catalog(root)


async def settle(explorer: Explorer) -> None:
    for _ in range(3):  # a Zarr asset opens once the catalog's load has settled
        await asyncio.sleep(0)
        await explorer.when_idle()
    await asyncio.gather(*explorer._stac_tasks)


def names(explorer: Explorer) -> dict[str, str]:
    return {row["path"]: row["name"] for row in explorer.tree.nodes}


async def test_catalog_walk_opens_the_zarr_asset_and_comes_back(fixtures):
    root, paths = fixtures
    explorer = Explorer()
    explorer.open(str(root / paths["catalog"]))
    await settle(explorer)
    assert explorer.status == "idle", explorer.error
    assert names(explorer) == {"": "Test <script>catalog</script>", "c0": "Collection one"}
    assert "STAC catalog" in explorer.tree_error.object and "<script>" not in explorer.group_pane.object
    explorer.tree.expanded = ["", "c0"]  # expanding reads the collection: its item appears
    await settle(explorer)
    assert names(explorer)["c0/c0"] == "item-1.json"  # the link has no title; not read yet
    explorer.tree.selected = "c0/c0"  # selecting reads the item: its assets appear
    await settle(explorer)
    rows = {row["path"]: row for row in explorer.tree.nodes}
    assert rows["c0/c0"]["name"] == "item-1" and rows["c0/c0"]["note"] == "item"
    assert (rows["c0/c0/a0"]["name"], rows["c0/c0/a0"]["note"]) == ("Cube", "Zarr store")
    assert rows["c0/c0/a1"]["note"] == "image/png"
    assert "STAC item &#x27;item-1&#x27;" in explorer.group_pane.object
    explorer.tree.selected = "c0/c0/a1"  # not Zarr: described, not opened
    await settle(explorer)
    assert "not a Zarr store" in explorer.group_pane.object and explorer.viewer.store.endswith("catalog.json")
    explorer.tree.selected = "c0/c0/a0"
    await settle(explorer)
    assert explorer.viewer.store == str(root / paths["cube"]) and explorer.status == "idle"
    assert explorer.back_links.objects
    explorer.select("temperature")
    await settle(explorer)
    assert explorer.view_summary["max"] == float(CUBE.max()) and explorer.view_summary["shape"] == [6, 8]
    explorer.back_links.objects[0].clicks += 1
    await settle(explorer)
    assert explorer.viewer.store == str(root / paths["catalog"]) and explorer.viewer.path == "c0/c0"
    assert "c0/c0/a0" in names(explorer) and not explorer.back_links.objects


async def test_a_catalog_path_in_the_url_is_read_down_to_it(fixtures):
    root, paths = fixtures
    explorer = Explorer()
    explorer.viewer.param.update(store=str(root / paths["catalog"]), path="c0/c0")
    await settle(explorer)
    assert explorer.status == "idle" and "c0/c0/a0" in names(explorer)
    explorer.select("c5")
    await settle(explorer)
    assert explorer.status == "error" and "no catalog entry at 'c5'" in explorer.error


async def test_group_links_open_the_other_store(fixtures):
    root, paths = fixtures
    explorer = Explorer()
    explorer.open(str(root / paths["parent"]))
    await settle(explorer)
    labels = [b.label for b in explorer.store_links.objects]
    assert labels == ["↓ Child: The child", f"↓ Item: {HOSTILE}"]  # not "self"; "license" is no store
    explorer.store_links.objects[0].clicks += 1
    await settle(explorer)
    assert explorer.viewer.store == str(root / paths["child"])
    assert [b.label for b in explorer.store_links.objects] == ["↑ Parent: parent.zarr", "⤒ Root: Root"]
    explorer.select("other")
    await settle(explorer)
    assert explorer.view_summary["max"] == float(OTHER.max()) and not explorer.store_links.objects
    np.testing.assert_equal(explorer._plane, OTHER)


async def test_a_link_inside_the_store_selects_the_node(fixtures):
    root, paths = fixtures
    explorer = Explorer()
    explorer.open(str(root / paths["family"]))
    await settle(explorer)
    assert [b.label for b in explorer.store_links.objects] == ["↓ Child: Kid"]
    explorer.store_links.objects[0].clicks += 1
    await settle(explorer)
    assert explorer.viewer.store == str(root / paths["family"]) and explorer.viewer.path == "kid"
