"""Cloud URLs and discovery by listing (issue 12), against real servers: a local S3 server
(moto, tests/s3_server.py) and a ``python -m http.server``-style directory listing."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import threading

import numpy as np
import pytest
from click.testing import CliRunner
from s3_server import WIDE_KEYS, env_for, write_plain

from pyzarr_web.core import Hierarchy, StoreError, open_store, wrap
from pyzarr_web.core.stores.cloud import Bucket, locate, public_https_url, with_endpoint
from pyzarr_web.core.stores.http import HttpStore
from pyzarr_web.core.stores.http_httpx import fetch
from pyzarr_web.core.stores.listing import MAX_PAGES, list_bucket, list_html
from pyzarr_web.tools.cli import main


def run(server, *args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env or env_for(server))


def walk(source, **options):
    async def go():
        h = await Hierarchy.open(open_store(source, **options))
        return h, [n.path for n in await h.walk()]
    return asyncio.run(go())


# ---------------------------------------------------------------- URL forms (no server)

@pytest.mark.parametrize("url, https, list_url, prefix", [
    ("s3://my-bucket/x.zarr", "https://my-bucket.s3.amazonaws.com/x.zarr",
     "https://my-bucket.s3.amazonaws.com", "x.zarr/"),
    ("s3://my-bucket/x.zarr?region=eu-west-1", "https://my-bucket.s3.eu-west-1.amazonaws.com/x.zarr",
     "https://my-bucket.s3.eu-west-1.amazonaws.com", "x.zarr/"),
    ("s3://dotted.bucket/a/x.zarr", "https://s3.amazonaws.com/dotted.bucket/a/x.zarr",
     "https://s3.amazonaws.com/dotted.bucket", "a/x.zarr/"),
    ("gs://b/x y.zarr", "https://storage.googleapis.com/b/x%20y.zarr",
     "https://storage.googleapis.com/storage/v1/b/b/o", "x y.zarr/"),
    ("az://cont/x.zarr?account=acct", "https://acct.blob.core.windows.net/cont/x.zarr",
     "https://acct.blob.core.windows.net/cont", "x.zarr/"),
    ("abfs://cont@acct.dfs.core.windows.net/d/x.zarr", "https://acct.blob.core.windows.net/cont/d/x.zarr",
     "https://acct.blob.core.windows.net/cont", "d/x.zarr/"),
    ("s3://b/x.zarr?endpoint=http://127.0.0.1:9000/", "http://127.0.0.1:9000/b/x.zarr",
     "http://127.0.0.1:9000/b", "x.zarr/"),
    ("https://s3.us-west-2.amazonaws.com/b/x.zarr", "https://s3.us-west-2.amazonaws.com/b/x.zarr",
     "https://s3.us-west-2.amazonaws.com/b", "x.zarr/"),
    ("https://b.storage.googleapis.com/x.zarr", "https://b.storage.googleapis.com/x.zarr",
     "https://storage.googleapis.com/storage/v1/b/b/o", "x.zarr/"),
])
def test_cloud_url_forms(url, https, list_url, prefix):
    where = locate(url)
    assert (where.url, where.bucket.list_url, where.bucket.prefix) == (https, list_url, prefix)


def test_cloud_url_errors_and_plain_urls():
    assert locate("https://example.org/x.zarr").bucket is None
    assert public_https_url("s3://bkt/k") == "https://bkt.s3.amazonaws.com/k"
    with pytest.raises(StoreError, match="storage account"):
        locate("az://cont/x.zarr")
    with pytest.raises(StoreError, match="AWS_ALLOW_HTTP"):
        locate("s3://b/x.zarr", endpoint="http://127.0.0.1:1", allow_http=False)
    with pytest.raises(StoreError, match="unknown option 'colour'"):
        locate("s3://b/x.zarr?colour=red")
    assert with_endpoint("s3://b/x.zarr", "http://h:1") == "s3://b/x.zarr?endpoint=http%3A%2F%2Fh%3A1"
    assert with_endpoint("https://h/x.zarr", "http://h:1") == "https://h/x.zarr"


# ---------------------------------------------------------------- S3 (moto)

def test_s3_url_with_endpoint_lists_what_metadata_does_not_name(s3_server):
    result = run(s3_server, "tree", "s3://pub/plain.zarr", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["discovery"] == "listing"
    assert [n["path"] for n in out["nodes"]] == ["", "a", "a/b", "hidden", "hidden/deep"]


def test_s3_endpoint_option_and_cat(s3_server, tmp_path):
    env = {"AWS_ALLOW_HTTP": "true", "AWS_ENDPOINT_URL": None}
    result = run(s3_server, "cat", "s3://pub/plain.zarr", "a/b", "--endpoint", s3_server.endpoint,
                 "--out", tmp_path / "b.npy", env=env)
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "b.npy").tolist() == list(range(6))


def test_plain_http_endpoint_needs_allow_http(s3_server):
    result = run(s3_server, "tree", "s3://pub/plain.zarr", env={"AWS_ENDPOINT_URL": s3_server.endpoint,
                                                                "AWS_ALLOW_HTTP": None})
    assert result.exit_code == 1
    assert "AWS_ALLOW_HTTP=true" in result.output


def test_listing_pages_past_1000_keys(s3_server):
    h, paths = walk("s3://pub/wide.zarr", cloud={"endpoint": s3_server.endpoint})
    assert paths == ["", "zz"] and h.discovery == "listing"
    keys, dirs = asyncio.run(h.store.list_dir(""))
    assert len(keys) == WIDE_KEYS + 1 and dirs == ["zz"]  # junk keys and zarr.json, over two pages


def test_bucket_at_a_custom_host_needs_its_s3_url(s3_server):
    """At a custom host only an s3:// URL says it is a bucket: its http URL is a web server that
    does not list folders, so discovery follows the metadata."""
    h, paths = walk(f"{s3_server.endpoint}/pub/plain.zarr")
    assert h.discovery == "metadata" and "hidden/deep" not in paths  # not known to be a bucket
    assert paths == [""]  # nothing in the metadata names a child


def test_private_bucket_says_it_needs_credentials(s3_server):
    result = run(s3_server, "tree", "s3://priv/plain.zarr")
    assert result.exit_code == 1
    assert f"{s3_server.endpoint}/priv/plain.zarr/zarr.json" in result.output
    assert "HTTP 403" in result.output and "needs credentials" in result.output
    assert "or a public URL" in result.output


# ---------------------------------------------------------------- HTML directory listing

@pytest.fixture(scope="module")
def listing_server(tmp_path_factory):
    """The standard library's directory-listing server (``python -m http.server``)."""
    root = tmp_path_factory.mktemp("html")
    write_plain(root / "plain.zarr")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Files and directory listings; an S3 listing request is forbidden (HTTP 403)."""

    def do_GET(self):
        if "list-type=2" in self.path:
            self.send_error(403, "AccessDenied")
        else:
            super().do_GET()

    def log_message(self, *args):
        pass


def test_html_directory_listing(listing_server):
    result = CliRunner().invoke(main, ["tree", f"{listing_server}/plain.zarr", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["discovery"] == "html"
    assert [n["path"] for n in out["nodes"]] == ["", "a", "a/b", "hidden", "hidden/deep"]


def test_html_listing_keeps_only_entries_below_the_folder():
    page = b"""<html><body><a href="../">../</a><a href="?C=N;O=D">Name</a>
      <a href="/elsewhere/">Parent Directory</a><a href="http://other.example/x/">x</a>
      <a href="zarr.json">zarr.json</a><a href="sub%20dir/">sub dir/</a><a href="a/b/">deep</a>
      <a href="#top">top</a></body></html>"""

    async def get(url):
        assert url == "http://h/s.zarr/"
        return page
    assert asyncio.run(list_html(get, "http://h/s.zarr/")) == (["zarr.json"], ["sub dir"])


def test_listing_forbidden_falls_back_to_metadata(listing_server):
    """A bucket whose listing API answers 403 is read by following its metadata, and says so."""
    store = HttpStore(f"{listing_server}/plain.zarr", fetch, bucket=Bucket("s3", listing_server, "plain.zarr/"))

    async def go():
        h = await Hierarchy.open(wrap(store))
        return h, [n.path for n in await h.walk()]
    h, paths = asyncio.run(go())
    assert h.discovery == "metadata" and paths == [""] and not h.complete
    assert any(f"GET {listing_server}/?list-type=2" in p and "no bucket listing (HTTP 403" in p
               and "follows the metadata" in p for p in h.problems), h.problems


# ---------------------------------------------------------------- listing answers (hostile too)

def pages(answers: dict):
    """A page getter answering each listing URL (by its continuation parameter) from ANSWERS."""
    asked = []

    async def get(url):
        asked.append(url)
        for marker, body in answers.items():
            if marker in url:
                return body
        raise AssertionError(url)
    return get, asked


def test_azure_listing_pages():
    first = b"""<?xml version="1.0" encoding="utf-8"?><EnumerationResults
      ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="c"><Prefix>x.zarr/</Prefix>
      <Delimiter>/</Delimiter><Blobs><Blob><Name>x.zarr/zarr.json</Name><Properties><Content-Length>2
      </Content-Length></Properties></Blob><BlobPrefix><Name>x.zarr/a/</Name></BlobPrefix></Blobs>
      <NextMarker>2!abc</NextMarker></EnumerationResults>"""
    second = b"""<EnumerationResults><Blobs><BlobPrefix><Name>x.zarr/b/</Name></BlobPrefix></Blobs>
      <NextMarker /></EnumerationResults>"""
    get, asked = pages({"marker=2%21abc": second, "comp=list": first})
    bucket = locate("az://c/x.zarr?account=acct").bucket
    assert asyncio.run(list_bucket(get, bucket, "")) == (["zarr.json"], ["a", "b"])
    assert asked[0] == ("https://acct.blob.core.windows.net/c?restype=container&comp=list&delimiter=%2F"
                        "&prefix=x.zarr%2F")


def test_gcs_listing_pages():
    first = json.dumps({"kind": "storage#objects", "nextPageToken": "tok", "prefixes": ["x.zarr/a/"],
                        "items": [{"kind": "storage#object", "name": "x.zarr/zarr.json", "size": "2"}]})
    second = json.dumps({"kind": "storage#objects", "prefixes": ["x.zarr/b/"]})
    get, asked = pages({"pageToken=tok": second.encode(), "prefix=": first.encode()})
    assert asyncio.run(list_bucket(get, locate("gs://bkt/x.zarr").bucket, "")) == (["zarr.json"], ["a", "b"])
    assert asked[1].startswith("https://storage.googleapis.com/storage/v1/b/bkt/o?delimiter=%2F")


S3_PAGE = ('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>{t}</IsTruncated>'
           '{token}<Contents><Key>{key}</Key></Contents></ListBucketResult>')


@pytest.mark.parametrize("body, message", [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
     b"<ListBucketResult><Contents><Key>&lol2;</Key></Contents></ListBucketResult>",
     "refusing a listing with a DOCTYPE"),
    (b"<ListBucketResult><Contents>", "not well-formed XML"),
    (b"<Error><Code>AccessDenied</Code></Error>", "not an S3 ListBucketResult but <Error>"),
    (S3_PAGE.format(t="false", token="", key="other/zarr.json").encode(),
     "'other/zarr.json', outside the folder 'x.zarr/'"),
    (S3_PAGE.format(t="true", token="", key="x.zarr/k").encode(), "truncated listing without a continuation"),
])
def test_hostile_s3_listings(body, message):
    get, _ = pages({"list-type=2": body})
    with pytest.raises(StoreError, match=message) as info:
        asyncio.run(list_bucket(get, locate("s3://bkt/x.zarr").bucket, ""))
    assert "https://bkt.s3.amazonaws.com/?list-type=2" in str(info.value)


def test_endless_listing_is_cut_off():
    body = S3_PAGE.format(t="true", token="<NextContinuationToken>again</NextContinuationToken>",
                          key="x.zarr/k").encode()
    get, asked = pages({"list-type=2": body})
    with pytest.raises(StoreError, match=f"past {MAX_PAGES} pages"):
        asyncio.run(list_bucket(get, locate("s3://bkt/x.zarr").bucket, ""))
    assert len(asked) == MAX_PAGES


# ---------------------------------------------------------------- obstore with credentials

def test_private_bucket_with_credentials_through_obstore(s3_server, tmp_path):
    """With credentials in the environment the CLI signs its requests (obstore): the private
    bucket lists and reads; the same URL without them was refused (above)."""
    env = {**env_for(s3_server), **s3_server.credentials}
    result = run(s3_server, "tree", "s3://priv/plain.zarr", "--json", env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["discovery"] == "listing"
    assert [n["path"] for n in out["nodes"]] == ["", "a", "a/b", "hidden", "hidden/deep"]
    result = run(s3_server, "cat", "s3://priv/plain.zarr", "hidden/deep", "--out", tmp_path / "d.npy", env=env)
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "d.npy").tolist() == [1.5] * 4


def test_obstore_store_ranges_sizes_and_missing_keys(s3_server, monkeypatch):
    from pyzarr_web.core.store import RangeRequest, SuffixRequest
    from pyzarr_web.core.stores.objectstore import ObjectStore

    async def go():
        store = ObjectStore("s3://priv/plain.zarr", endpoint=s3_server.endpoint, allow_http=True)
        whole = await store.get("zarr.json")
        parts = [await store.get("zarr.json", RangeRequest(2, 5)), await store.get("zarr.json", SuffixRequest(4))]
        sizes = await store.sizes("a/")
        return whole, parts, sizes, await store.get("nothing/here"), await store.list_dir("")

    for name, value in s3_server.credentials.items():
        monkeypatch.setenv(name, value)
    whole, parts, sizes, missing, listing = asyncio.run(go())
    assert parts == [whole[2:7], whole[-4:]] and missing is None
    assert sizes["a/zarr.json"] > 0 and set(sizes) >= {"a/zarr.json", "a/b/zarr.json"}
    assert listing == (["zarr.json"], ["a", "hidden"])


def test_listing_reads_a_bounded_number_of_folders(monkeypatch):
    """A folder with more sub-folders than the bound reads the metadata of the first ones and
    says how many it left."""
    import pyzarr_web.core.hierarchy as hierarchy
    from pyzarr_web.core.stores.memory import MemoryStore

    monkeypatch.setattr(hierarchy, "MAX_PROBES", 3)
    group = b'{"zarr_format": 3, "node_type": "group"}'
    store = MemoryStore({"zarr.json": group, **{f"g{i}/zarr.json": group for i in range(5)}})

    async def go():
        h = await Hierarchy.open(store)
        return h, [n.path for n in await h.walk()]
    h, paths = asyncio.run(go())
    assert paths == ["", "g0", "g1", "g2"]
    assert h.problems == ["/: 2 folders not read (a listing reads at most 3 folders' metadata)"]


def test_bucket_region_redirect_is_followed(s3_server):
    """A bucket asked at another region's endpoint answers 301 PermanentRedirect naming its own
    endpoint (as S3 does): the store moves there and lists and reads from it."""
    moto_host = s3_server.endpoint.split("//", 1)[1]
    asked = []

    class WrongRegion(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            body = (f"<Error><Code>PermanentRedirect</Code><Message>use the endpoint below</Message>"
                    f"<Endpoint>{moto_host}</Endpoint><Bucket>pub</Bucket></Error>").encode()
            self.send_response(301)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WrongRegion)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        h, paths = walk("s3://pub/plain.zarr", cloud={"endpoint": f"http://127.0.0.1:{server.server_address[1]}"})
    finally:
        server.shutdown()
    assert asked == ["/pub/plain.zarr/zarr.json"]  # moved once, then every request went to the bucket
    assert h.store.describe() == f"{s3_server.endpoint}/pub/plain.zarr"
    assert h.discovery == "listing" and paths == ["", "a", "a/b", "hidden", "hidden/deep"]
