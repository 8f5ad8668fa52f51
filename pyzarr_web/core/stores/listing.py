"""Listing a folder of a store over HTTP: a bucket's listing API (S3 ``ListObjectsV2``, the GCS
JSON API, Azure ``List Blobs``) page by page, or a web server's HTML directory listing (nginx,
Apache, ``python -m http.server``).

Answers are not trusted: pages, body sizes and entries are bounded, XML with a DOCTYPE (entity
declarations: billion laughs, external entities) is refused before parsing, and only entries
directly under the folder asked for are kept. Every error names the URL.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlencode, urljoin, urlsplit

from ..errors import StoreError
from .cloud import Bucket

#: pages of one folder's listing (1000 entries each) before giving up
MAX_PAGES = 100
#: largest listing page read (a 1000-entry S3 page is ~300 kB)
MAX_BODY = 16 << 20
#: largest error document read for a redirect
MAX_ERROR = 64 << 10
#: entries of one folder (files and sub-folders)
MAX_ENTRIES = 100_000

#: ``get_page(url) -> body``; raises :class:`ListingUnavailable` when the server does not list
PageGetter = Callable[[str], Awaitable[bytes]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(body: bytes, url: str) -> ET.Element:
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in body.upper():
        raise StoreError(f"GET {url}: refusing a listing with a DOCTYPE or entity declarations")
    try:
        return ET.fromstring(body)
    except ET.ParseError as e:
        raise StoreError(f"GET {url}: the listing is not well-formed XML ({e})") from e


def _texts(root: ET.Element, *path: str) -> list[str]:
    """Text of the elements at PATH (local names, namespaces ignored) below ROOT."""
    level = [root]
    for name in path:
        level = [c for e in level for c in e if _local(c.tag) == name]
    return [e.text or "" for e in level]


def _s3_page(body: bytes, url: str) -> tuple[list[str], list[str], str | None]:
    root = _xml(body, url)
    if _local(root.tag) != "ListBucketResult":
        raise StoreError(f"GET {url}: not an S3 ListBucketResult but <{_local(root.tag)}>")
    truncated = _texts(root, "IsTruncated") == ["true"]
    token = (_texts(root, "NextContinuationToken") or [""])[0] if truncated else ""
    if truncated and not token:
        raise StoreError(f"GET {url}: a truncated listing without a continuation token")
    return _texts(root, "Contents", "Key"), _texts(root, "CommonPrefixes", "Prefix"), token or None


def _azure_page(body: bytes, url: str) -> tuple[list[str], list[str], str | None]:
    root = _xml(body, url)
    if _local(root.tag) != "EnumerationResults":
        raise StoreError(f"GET {url}: not an Azure EnumerationResults but <{_local(root.tag)}>")
    marker = (_texts(root, "NextMarker") or [""])[0]
    return (_texts(root, "Blobs", "Blob", "Name"), _texts(root, "Blobs", "BlobPrefix", "Name"),
            marker or None)


def _gcs_page(body: bytes, url: str) -> tuple[list[str], list[str], str | None]:
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise StoreError(f"GET {url}: the listing is not JSON ({e})") from e
    items = doc.get("items", []) if isinstance(doc, dict) else None
    prefixes = doc.get("prefixes", []) if isinstance(doc, dict) else None
    if not (isinstance(items, list) and isinstance(prefixes, list)):
        raise StoreError(f"GET {url}: not a GCS objects listing")
    keys = [i.get("name") for i in items if isinstance(i, dict)]
    token = doc.get("nextPageToken")
    return ([k for k in keys if isinstance(k, str)], [p for p in prefixes if isinstance(p, str)],
            token if isinstance(token, str) and token else None)


def s3_redirect_endpoint(body: bytes) -> str | None:
    """The host an S3 ``PermanentRedirect`` error names (the bucket's region endpoint), if it
    is a plain host name."""
    try:
        root = _xml(body[:MAX_ERROR], "")
    except StoreError:
        return None
    host = (_texts(root, "Endpoint") or [""])[0].strip().lower()
    return host if _local(root.tag) == "Error" and re.fullmatch(r"[a-z0-9.-]+(:\d+)?", host) else None


_PAGES = {"s3": _s3_page, "gcs": _gcs_page, "azure": _azure_page}


def _page_url(bucket: Bucket, prefix: str, token: str | None) -> str:
    if bucket.api == "s3":
        query = {"list-type": "2", "delimiter": "/", "prefix": prefix,
                 **({"continuation-token": token} if token else {})}
    elif bucket.api == "gcs":
        query = {"delimiter": "/", "prefix": prefix, **({"pageToken": token} if token else {})}
    else:
        query = {"restype": "container", "comp": "list", "delimiter": "/", "prefix": prefix,
                 **({"marker": token} if token else {})}
    base = bucket.list_url if urlsplit(bucket.list_url).path else bucket.list_url + "/"
    return f"{base}?{urlencode(query, quote_via=quote)}"


def _names(full: str, entries: list[str], where: str) -> list[str]:
    """Names directly under the folder FULL among the bucket keys ENTRIES ("a/" -> "a")."""
    out = []
    for entry in entries:
        if not entry.startswith(full):
            raise StoreError(f"GET {where}: the listing has {entry!r}, outside the folder "
                             f"{full!r} asked for")
        name = entry[len(full):].rstrip("/")
        if name and "/" not in name:  # "" is the folder's own marker object
            out.append(name)
    return out


async def list_bucket(get_page: PageGetter, bucket: Bucket, prefix: str) -> tuple[list[str], list[str]]:
    """(keys, sub-folders) directly under PREFIX of the store in BUCKET, all pages."""
    full = bucket.prefix + prefix
    keys: set[str] = set()
    dirs: set[str] = set()
    token = None
    for _ in range(MAX_PAGES):
        url = _page_url(bucket, full, token)
        page_keys, page_dirs, token = _PAGES[bucket.api](await get_page(url), url)
        keys.update(_names(full, page_keys, url))
        dirs.update(_names(full, page_dirs, url))
        if len(keys) + len(dirs) > MAX_ENTRIES:
            raise StoreError(f"GET {url}: more than {MAX_ENTRIES} entries in one folder")
        if token is None:
            return sorted(keys), sorted(dirs)
    raise StoreError(f"GET {url}: the listing goes on past {MAX_PAGES} pages")


class _Links(HTMLParser):
    """The ``href`` of every ``<a>`` of a page (parsed, never rendered)."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


async def list_html(get_page: PageGetter, folder_url: str) -> tuple[list[str], list[str]]:
    """(files, sub-folders) of a web server's HTML directory listing of FOLDER_URL (ending in
    "/"): the links that lead directly below it; sort links (``?C=N;O=D``), the parent and
    links elsewhere are ignored."""
    body = await get_page(folder_url)
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    files, dirs = set(), set()
    for href in parser.hrefs[:MAX_ENTRIES]:
        target = urlsplit(urljoin(folder_url, href))
        if target.query or target.fragment:
            continue
        plain = target._replace(fragment="").geturl()
        if not plain.startswith(folder_url):
            continue
        rest = unquote(plain[len(folder_url):])
        name = rest.rstrip("/")
        if name and "/" not in name and name not in (".", ".."):
            (dirs if rest.endswith("/") else files).add(name)
    return sorted(files), sorted(dirs)
