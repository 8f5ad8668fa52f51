"""Opening a STAC catalog, collection or item given as a source: ``stac:URL`` forces it; a
``*.json`` source other than ``zarr.json`` is a STAC document when its first bytes name a
``stac_version`` (otherwise it stays a Kerchunk reference file, see :mod:`.sources`)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from .errors import ZarrError
from .links import StacReader, is_local
from .sources import IN_BROWSER, _page_url, _transport
from .store import RangeRequest
from .stores.urls import UrlStore

PREFIX = "stac:"
#: bytes read to tell a STAC document from a Kerchunk reference file
SNIFF_BYTES = 64 << 10


def location(text: str) -> str:
    """The absolute URL or path of a STAC source (its ``stac:`` prefix dropped)."""
    text = text[len(PREFIX):] if text.startswith(PREFIX) else text
    if not is_local(text):
        return text
    return _page_url(text) if IN_BROWSER else os.path.abspath(text)


def reader_for(url: str) -> StacReader:
    """A reader of the documents of the catalog at URL: local files only when it is local itself."""
    return StacReader(UrlStore(_transport(), local_files=is_local(url) and not IN_BROWSER))


async def is_catalog(text: str) -> bool:
    """Whether the source TEXT is a STAC document (see the module's docstring); a source that
    cannot be read is not one (opening it as a store then says why)."""
    if text.startswith(PREFIX):
        return True
    name = urlsplit(text).path.rstrip("/").rsplit("/", 1)[-1].lower()
    if not name.endswith(".json") or name == "zarr.json" or text.partition(":")[0] in ("kerchunk", "icechunk",
                                                                                         "picked"):
        return False
    url = location(text)
    try:
        head = await reader_for(url).store.get(url, RangeRequest(0, SNIFF_BYTES))
    except ZarrError:
        return False
    return head is not None and b'"stac_version"' in head
