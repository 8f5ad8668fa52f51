"""STAC fixtures written by pystac: a catalog -> collection -> item whose "data" asset is a Zarr
store written by zarr-python, and two Zarr stores whose group attributes link to each other
(the HTTP-extension style ``links``). Everything lives under one folder, served as one store
(``/data/<folder>``), with relative hrefs as pystac writes a self-contained catalog."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pystac
import zarr

CUBE = np.arange(6 * 8, dtype="float32").reshape(6, 8) * 0.5 - 3
OTHER = np.arange(10, dtype="int16") * 7
HOSTILE = "<img src=x onerror=window.__pwned=1>"


def write_catalog(root: Path) -> dict:
    """Write the fixtures under ROOT; returns the relative paths of what the tests open."""
    data = root / "data"
    cube = zarr.open_group(data / "cube.zarr", mode="w", zarr_format=3)
    cube.create_array("temperature", data=CUBE, chunks=(3, 4))
    zarr.consolidate_metadata(data / "cube.zarr")

    catalog = pystac.Catalog("root-cat", "A <b>test</b> catalog", title="Test <script>catalog</script>")
    extent = pystac.Extent(pystac.SpatialExtent([[-10, -10, 10, 10]]),
                           pystac.TemporalExtent([[datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), None]]))
    collection = pystac.Collection("coll-1", "Collection one", extent, title="Collection one")
    item = pystac.Item("item-1", {"type": "Point", "coordinates": [0, 0]}, [0, 0, 0, 0],
                       datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC), {})
    catalog.add_child(collection)
    collection.add_item(item)
    catalog.normalize_hrefs(str(root))
    item.add_asset("data", pystac.Asset(str(data / "cube.zarr"), title="Cube",
                                        media_type="application/vnd+zarr; version=3", roles=["data"]))
    item.add_asset("thumbnail", pystac.Asset(str(data / "thumb.png"), media_type="image/png",
                                             roles=["thumbnail"]))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(pystac.CatalogType.SELF_CONTAINED)

    # two stores linked to each other by group attributes
    parent = zarr.open_group(root / "linked" / "parent.zarr", mode="w", zarr_format=3,
                             attributes={"links": [{"rel": "child", "href": "../child.zarr", "title": "The child"},
                                                   {"rel": "self", "href": "./"},
                                                   {"rel": "item", "href": "../child.zarr", "title": HOSTILE},
                                                   {"rel": "license", "href": "https://example.org/l"}]})
    parent.create_array("x", data=np.zeros(3, "uint8"))
    child = zarr.open_group(root / "linked" / "child.zarr", mode="w", zarr_format=2,
                            attributes={"links": [{"rel": "parent", "href": "../parent.zarr"},
                                                  {"rel": "root", "href": "../parent.zarr", "title": "Root"}]})
    child.create_array("other", data=OTHER, chunks=(4,))
    # a store without consolidated metadata whose root links to a child group inside it
    family = zarr.open_group(root / "linked" / "family.zarr", mode="w", zarr_format=3,
                             attributes={"links": [{"rel": "child", "href": "./kid/", "title": "Kid"}]})
    family.create_group("kid").create_array("vals", data=OTHER[::-1].copy())
    return {"catalog": "catalog.json", "collection": f"{collection.id}/collection.json",
            "item": f"{collection.id}/{item.id}/{item.id}.json", "cube": "data/cube.zarr",
            "parent": "linked/parent.zarr", "child": "linked/child.zarr",
            "family": "linked/family.zarr"}
