"""The tree's data side on CPython: the rows TreeView draws (from a store written by zarr-python,
walked by our core), the filter, and how selection and expansion follow each other."""

import asyncio

import pytest
import zarr

from pyzarr_web.core import Hierarchy, open_store
from pyzarr_web.ui.tree import TreeModel, matching
from pyzarr_web.ui.treeview import TreeView


@pytest.fixture
def image_store(tmp_path):
    """An OME-NGFF 0.4 image with two levels and a label image, next to a plain group."""
    path = tmp_path / "image.zarr"
    root = zarr.open_group(path, mode="w", zarr_format=2)
    image = root.create_group("image")
    image.attrs["multiscales"] = [{"version": "0.4", "datasets": [{"path": "0"}, {"path": "1"}]}]
    image.create_array("0", shape=(4, 64, 48), chunks=(1, 32, 32), dtype="u2")
    image.create_array("1", shape=(4, 32, 24), chunks=(1, 32, 32), dtype="u2")
    labels = image.create_group("labels")
    labels.attrs["labels"] = ["cells"]
    cells = labels.create_group("cells")
    cells.attrs.update({"multiscales": [{"version": "0.4", "datasets": [{"path": "0"}]}],
                        "image-label": {"version": "0.4"}})
    cells.create_array("0", shape=(64, 48), chunks=(32, 32), dtype="u4")
    root.create_group("<b>bold").create_array("scalar", shape=(), dtype="f8")
    zarr.consolidate_metadata(path)
    return path


def walk(path) -> TreeModel:
    async def go():
        return TreeModel(await (await Hierarchy.open(open_store(str(path)))).walk())
    return asyncio.run(go())


def test_rows_say_kind_shape_dtype_count_and_multiscale(image_store):
    rows = {r["path"]: r for r in walk(image_store).rows()}
    assert rows[""] == {"path": "", "name": "", "kind": "group", "shape": None, "dtype": None,
                        "count": 2, "multiscale": None}
    assert rows["image"]["multiscale"] == "image" and rows["image"]["count"] == 3
    assert rows["image/labels/cells"]["multiscale"] == "label"
    assert rows["image/labels"]["multiscale"] is None and rows["image/labels"]["count"] == 1
    assert rows["image/0"] == {"path": "image/0", "name": "0", "kind": "array", "shape": [4, 64, 48],
                               "dtype": "uint16", "count": None, "multiscale": None}
    assert rows["<b>bold/scalar"]["shape"] == [] and rows["<b>bold"]["name"] == "<b>bold"
    # parents come before their children: the view hangs each row under an earlier one
    order = list(rows)
    assert all(order.index(p.rsplit("/", 1)[0] if "/" in p else "") < order.index(p) for p in order if p)


def test_matching_keeps_ancestors_in_the_given_order():
    paths = ["", "a", "a/temp", "a/b", "a/b/Temperature", "c"]
    assert matching(paths, "TEMP") == ["", "a", "a/temp", "a/b", "a/b/Temperature"]
    assert matching(paths, "nothing") == []


def test_filter_sets_matches_and_clears_them():
    tree = TreeView(nodes=[{"path": p, "name": p.rsplit("/", 1)[-1], "kind": "group"} for p in ["", "a", "a/x", "b"]])
    assert tree.matches is None
    tree.filter = "X"
    assert tree.matches == ["", "a", "a/x"]
    tree.nodes = [*tree.nodes, {"path": "b/xy", "name": "xy", "kind": "array"}]
    assert tree.matches == ["", "a", "a/x", "b", "b/xy"]
    tree.filter = "  "
    assert tree.matches is None


def test_selecting_expands_ancestors_and_the_host_sees_one_change():
    tree = TreeView()
    seen = []
    tree.param.watch(lambda e: seen.append(("selected", e.new)), "selected")
    tree.param.watch(lambda e: seen.append(("expanded", e.new)), "expanded")
    tree.selected = "a/b/c"
    assert tree.expanded == ["", "a", "a/b"]
    assert seen == [("expanded", ["", "a", "a/b"]), ("selected", "a/b/c")]
    seen.clear()
    tree.selected = "a/d"  # ancestors already open: no expansion change
    tree.selected = None
    assert seen == [("selected", "a/d"), ("selected", None)] and tree.expanded == ["", "a", "a/b"]
    tree.nodes = [{"path": "g", "name": "g", "kind": "group"}, {"path": "g/h", "name": "h", "kind": "group"}]
    tree.selected = "g/h"  # a group opens to show what it holds
    assert tree.expanded == ["", "a", "a/b", "g", "g/h"]
