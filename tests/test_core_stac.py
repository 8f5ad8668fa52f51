"""STAC browsing and store links on CPython: a pystac catalog -> collection -> item -> Zarr
asset walked over real HTTP (and from disk), the asset opened as a store, group links followed
across two stores, the CLI's ``tree`` of both, and hostile documents refused naming the URL."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from stac_fixtures import CUBE, HOSTILE, OTHER, write_catalog

from pyzarr_web.core import Hierarchy, MetadataError, StoreError, open_store
from pyzarr_web.core.catalogs import is_catalog, reader_for
from pyzarr_web.core.links import MAX_STAC_BYTES, inner_path, node_links, parse_stac, resolve_href
from pyzarr_web.tools.cli import main
from pyzarr_web.tools.serve import make_app, run_in_thread

BASE = "https://example.org/cat/catalog.json"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("stac") / "stacfix"
    paths = write_catalog(root)
    (root / "kerchunk.json").write_text(json.dumps({"version": 1, "refs": {"zarr.json": "{}"}}))
    (root / "huge.json").write_bytes(b'{"type": "Catalog", "stac_version": "1.1.0", "id": "x", "pad": "'
                                     + b"x" * (MAX_STAC_BYTES + 10) + b'"}')
    (root / "broken-child.json").write_text(json.dumps(
        {"type": "Catalog", "stac_version": "1.1.0", "id": "b", "description": "",
         "links": [{"rel": "child", "href": "missing.json"}, {"rel": "child", "href": "kerchunk.json"},
                   {"rel": "child", "href": "broken-child.json"}, {"rel": "child", "href": "catalog.json"}]}))
    with run_in_thread(make_app(None, [root])) as url:
        yield root, f"{url}/data/{root.name}", paths


async def _walk(url):
    return [entry async for entry in reader_for(url).walk(url)]


@pytest.mark.parametrize("where", ["http", "disk"])
async def test_walk_reaches_the_zarr_asset_and_it_opens(catalog, where):
    root, http, paths = catalog
    base = http if where == "http" else str(root)
    entries = await _walk(f"{base}/{paths['catalog']}")
    assert [(depth, doc.kind, doc.id) for depth, doc, _ in entries] == [
        (0, "catalog", "root-cat"), (1, "collection", "coll-1"), (2, "item", "item-1")]
    item = entries[-1][1]
    assert item.url == f"{base}/{paths['item']}"
    assert [(a.key, a.zarr) for a in item.assets] == [("data", True), ("thumbnail", False)]
    assert item.zarr_assets[0].href == f"{base}/{paths['cube']}"
    assert entries[0][1].title == "Test <script>catalog</script>"  # kept as text, shown as text
    h = await Hierarchy.open(open_store(item.zarr_assets[0].href))
    np.testing.assert_array_equal(await (await h.array("temperature")).read(()), CUBE)


async def test_is_catalog_tells_stac_from_kerchunk(catalog):
    root, http, paths = catalog
    assert await is_catalog(f"{http}/{paths['item']}")
    assert await is_catalog(str(root / paths["catalog"]))
    assert not await is_catalog(f"{http}/kerchunk.json")
    assert not await is_catalog(f"{http}/missing.json")
    assert not await is_catalog(f"{http}/{paths['cube']}")
    assert await is_catalog(f"stac:{http}/{paths['catalog']}")


async def test_a_huge_document_is_refused_without_downloading_it(catalog):
    _, http, _ = catalog
    url = f"{http}/huge.json"
    reader = reader_for(url)
    with pytest.raises(MetadataError, match=f"{url}: metadata document of {MAX_STAC_BYTES + 1} bytes"):
        await reader.read(url)


async def test_unreadable_children_are_reported_in_place(catalog):
    _, http, _ = catalog
    entries = await _walk(f"{http}/broken-child.json")
    errors = [doc for _, doc, _ in entries if isinstance(doc, str)]
    assert len(entries) == 1 + 4 + 2  # the catalog's own subtree is walked below it
    assert any("missing.json: no such STAC document" in e for e in errors)
    assert any("kerchunk.json: not a STAC catalog" in e for e in errors)
    assert any("broken-child.json: cycle" in e for e in errors)


async def test_a_missing_root_document_is_an_error_naming_it(catalog):
    _, http, _ = catalog
    with pytest.raises(StoreError, match="nothing.json: no such STAC document"):
        await _walk(f"{http}/nothing.json")


def _doc(**fields) -> bytes:
    return json.dumps({"type": "Feature", "stac_version": "1.1.0", "id": "i", **fields}).encode()


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "invalid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b"[" * 500 + b"]" * 500, "nested 500 levels"),
    (json.dumps({"type": "Catalog", "id": "x"}).encode(), "not a STAC catalog"),
    (json.dumps({"type": "FeatureCollection", "stac_version": "1.0.0"}).encode(), "not a STAC catalog"),
    (_doc(id=7), "id must be a non-empty string"),
    (_doc(links={"rel": "child"}), "links must be a list"),
    (_doc(links=[{"href": "x.json"}]), r"links\[0\]: rel must be"),
    (_doc(links=[{"rel": "child", "href": 3}]), "href must be a non-empty string"),
    (_doc(links=[{"rel": "item", "href": "file:///etc/passwd"}]), "points at a local file"),
    (_doc(links=[{"rel": "child", "href": "C:\\\\secret.json"}]), "points at a local file"),
    (_doc(links=[{"rel": "child", "href": "javascript:alert(1)"}]), "scheme"),
    (_doc(links=[{"rel": "child", "href": "https://u:p@evil.example/c.json"}]), "credentials"),
    (_doc(links=[{"rel": "child", "href": "a\nb"}]), "control characters"),
    (_doc(assets=[]), "assets must be an object"),
    (_doc(assets={"a": "x.zarr"}), r"assets\['a'\] must be an object"),
    (_doc(assets={"a": {"href": "x.zarr", "roles": "data"}}), "roles must be a list"),
    (_doc(assets={"a": {"href": "data:text/html,<b>"}}), "scheme"),
    (_doc(title=["x"]), "title must be a string"),
])
def test_hostile_documents_are_refused_naming_the_url(raw, message):
    with pytest.raises(MetadataError, match=message) as info:
        parse_stac(raw, BASE)
    assert BASE in str(info.value)


def test_zarr_assets_are_recognised_and_hrefs_resolved():
    doc = parse_stac(_doc(
        links=[{"rel": "store", "href": "s3://bucket/store.zarr", "title": "Store"},
               {"rel": "child", "href": "/top.json"}, {"rel": "item", "href": "sub/i.json"},
               {"rel": "parent", "href": "../up.json"}],
        assets={"vnd": {"href": "a", "type": "application/vnd+zarr"},
                "dot": {"href": "b", "type": "application/vnd.zarr; version=2; profile=multiscales"},
                "ext": {"href": "c", "zarr:zarr_format": 3},
                "suffix": {"href": "https://x.example/d.zarr/", "roles": ["data"]},
                "tif": {"href": "e.tif", "type": "image/tiff; application=geotiff", "roles": ["data"]}}), BASE)
    assert [(a.key, a.zarr) for a in doc.assets] == [
        ("vnd", True), ("dot", True), ("ext", True), ("suffix", True), ("tif", False), ("store", True)]
    assert [a.key for a in doc.zarr_assets][:2] == ["suffix", "store"]  # the data role first
    assert [c.href for c in doc.children] == ["https://example.org/top.json", "https://example.org/cat/sub/i.json"]
    assert doc.assets[0].href == "https://example.org/cat/a"
    assert [link.rel for link in doc.links] == ["store", "parent"]
    assert doc.links[1].href == "https://example.org/up.json"


def test_local_documents_may_point_at_local_files_web_ones_not():
    assert resolve_href("/data/cat/catalog.json", "../x.json", "w") == "/data/x.json"
    assert resolve_href("/data/cat/catalog.json", "file:///d/x.json", "w") == "/d/x.json"
    assert resolve_href(BASE, "s3://b/k.zarr", "w") == "s3://b/k.zarr"
    with pytest.raises(MetadataError, match="local file"):
        resolve_href(BASE, "file:///d/x.json", "w")


async def test_group_links_lead_across_stores(catalog):
    _, http, paths = catalog
    parent = await Hierarchy.open(open_store(f"{http}/{paths['parent']}"))
    links, problems = node_links(parent.store.describe(), "", parent.root.attributes)
    assert problems == []
    assert [(link.rel, link.href, link.title) for link in links] == [
        ("child", f"{http}/{paths['child']}", "The child"), ("self", f"{http}/{paths['parent']}/", ""),
        ("item", f"{http}/{paths['child']}", HOSTILE)]
    child = await Hierarchy.open(open_store(links[0].href))
    np.testing.assert_array_equal(await (await child.array("other")).read(()), OTHER)
    back, _ = node_links(child.store.describe(), "", child.root.attributes)
    assert {(link.rel, link.href) for link in back} == {("parent", f"{http}/{paths['parent']}"),
                                                         ("root", f"{http}/{paths['parent']}")}


async def test_child_links_inside_a_store_find_its_nodes_without_a_listing(catalog):
    _, http, paths = catalog
    h = await Hierarchy.open(open_store(f"{http}/{paths['family']}"))
    assert not h.complete  # HTTP, no consolidated metadata: found by what metadata points to
    assert [n.path for n in await h.walk()] == ["", "kid"]
    assert h.discovery == "links"  # what tree --json reports
    np.testing.assert_equal(await (await h.array("kid/vals")).read(()), OTHER[::-1])
    assert inner_path(f"{http}/{paths['family']}", f"{http}/{paths['family']}/kid/") == "kid"
    assert inner_path(f"{http}/{paths['family']}", f"{http}/{paths['child']}") is None


def test_bad_group_links_are_skipped_and_reported():
    attrs = {"links": [{"rel": "child", "href": "file:///etc/passwd"}, {"rel": "parent", "href": "../p.zarr"},
                       "junk", {"rel": "about", "href": "x"}],
             "stac:encoding": "link", "stac:item": {"href": "https://api.example/items/1"}}
    links, problems = node_links("https://h.example/s/a.zarr", "g", attrs)
    assert [(link.rel, link.href) for link in links] == [
        ("parent", "https://h.example/s/a.zarr/p.zarr"), ("stac", "https://api.example/items/1")]
    assert len(problems) == 1 and "links[0]" in problems[0] and "local file" in problems[0]
    assert node_links("https://h.example/s", "", {"links": "x"})[1] == ["https://h.example/s: links must be a list, "
                                                                        "got str"]


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_tree_of_a_catalog(catalog):
    _, http, paths = catalog
    code, out = run("tree", f"{http}/{paths['catalog']}")
    assert code == 0, out
    assert f"@data (application/vnd+zarr; version=3)  {http}/{paths['cube']}  [zarr]" in out
    assert "      @thumbnail (image/png)" in out and "[zarr]" not in out.split("@thumbnail")[1]
    code, out = run("tree", f"{http}/{paths['catalog']}", "--json")
    docs = json.loads(out)["documents"]
    assert [(d["depth"], d["type"]) for d in docs] == [(0, "catalog"), (1, "collection"), (2, "item")]
    assert [a["href"] for a in docs[2]["assets"] if a["zarr"]] == [f"{http}/{paths['cube']}"]


def test_cli_tree_reports_errors_and_links(catalog):
    _, http, paths = catalog
    code, out = run("tree", f"stac:{http}/kerchunk.json")
    assert code == 1 and "kerchunk.json: not a STAC catalog" in out
    code, out = run("tree", f"{http}/{paths['child']}", "--json")
    root = json.loads(out)["nodes"][0]
    assert [(link["rel"], link["href"]) for link in root["links"]] == [
        ("parent", f"{http}/{paths['parent']}"), ("root", f"{http}/{paths['parent']}")]
    code, out = run("tree", f"{http}/{paths['parent']}")
    assert f"-> child: {http}/{paths['child']}" in out
