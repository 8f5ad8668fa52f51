"""Links between documents: STAC catalogs, collections and items, and the ``links`` a Zarr group
may carry to other stores. Both are hostile input: every field is checked before use, every
href is resolved against the URL of the document that holds it, and a document fetched over
HTTP can only point at other URLs, never at local files.

STAC (https://stacspec.org, 1.x): a JSON object is a STAC document when its ``type`` is
``Catalog``, ``Collection`` or ``Feature`` (an Item) and it has a string ``stac_version``. Its
``links`` (``rel`` ``child`` and ``item``) lead to the documents below it; an Item's (or a
Collection's) ``assets`` hold the data. An asset is a Zarr store when its media type is Zarr's
(``application/vnd+zarr`` or ``application/vnd.zarr``, parameters such as ``; version=3``
allowed), when it carries the STAC Zarr extension's fields (``zarr:zarr_format``,
``zarr:node_type``, ``zarr:consolidated``), or when its href ends in ``.zarr``; the STAC Zarr best
practices' ``store`` link of an Item names one too.

Zarr group links: no specification of them could be found, so this reads the common subset that
STAC and HTTP APIs share: a ``links`` attribute, a list of ``{"rel", "href", "title"?,
"type"?}`` objects, with ``rel`` one of ``parent``, ``self``, ``root``, ``child``, ``group`` or
``item``; and the zarr-conventions STAC convention's ``stac:item`` / ``stac:collection`` under
``stac:encoding: "link"`` (an absolute URL to the STAC object describing the group).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .errors import MetadataError, StoreError
from .metadata.documents import parse_json

#: largest STAC document read; the reader asks for no more than this (a static catalog's
#: documents are kilobytes; an Item with thousands of assets stays well below)
MAX_STAC_BYTES = 4 << 20
#: links and assets kept from one document
MAX_ENTRIES = 10_000
#: longest href, title or description kept (text beyond is cut, with an ellipsis)
MAX_HREF = 4096
MAX_TEXT = 2000

STAC_TYPES = {"Catalog": "catalog", "Collection": "collection", "Feature": "item"}
ZARR_MEDIA_TYPES = ("application/vnd+zarr", "application/vnd.zarr")
ZARR_EXTENSION_FIELDS = ("zarr:zarr_format", "zarr:node_type", "zarr:consolidated")
#: relations of a Zarr group's links that lead to another Zarr node
STORE_RELS = ("parent", "root", "self", "child", "group", "item")
_WEB_SCHEMES = ("http", "https", "s3", "s3a", "gs", "gcs", "az", "abfs")


@dataclass(frozen=True)
class Link:
    """A link as read: its relation, absolute HREF, and optional title and media type (text)."""

    rel: str
    href: str
    title: str = ""
    type: str = ""

    def to_json(self) -> dict:
        return {"rel": self.rel, "href": self.href, "title": self.title or None, "type": self.type or None}


@dataclass(frozen=True)
class Asset:
    """A STAC asset: its KEY in ``assets``, absolute HREF, and whether it is a Zarr store."""

    key: str
    href: str
    title: str = ""
    type: str = ""
    roles: tuple[str, ...] = ()
    zarr: bool = False

    def to_json(self) -> dict:
        return {"key": self.key, "href": self.href, "title": self.title or None, "type": self.type or None,
                "roles": list(self.roles), "zarr": self.zarr}


@dataclass(frozen=True)
class StacDocument:
    """One STAC document: where it was read (URL), its KIND ("catalog", "collection" or "item"),
    id, title and description (plain text), the documents below it (``children``: rel
    ``child`` and ``item`` links, in document order), its assets, and its other links
    (``parent``, ``root``, ``self``, ``store``…)."""

    url: str
    kind: str
    id: str
    stac_version: str
    title: str = ""
    description: str = ""
    children: tuple[Link, ...] = ()
    assets: tuple[Asset, ...] = ()
    links: tuple[Link, ...] = ()

    @property
    def label(self) -> str:
        return self.title or self.id

    @property
    def zarr_assets(self) -> list[Asset]:
        """The assets that are Zarr stores, those with the ``data`` role first."""
        found = [a for a in self.assets if a.zarr]
        return sorted(found, key=lambda a: "data" not in a.roles)

    def to_json(self) -> dict:
        return {"url": self.url, "type": self.kind, "id": self.id, "stac_version": self.stac_version,
                "title": self.title or None, "description": self.description or None,
                "children": [c.to_json() for c in self.children],
                "assets": [a.to_json() for a in self.assets], "links": [link.to_json() for link in self.links]}


def is_local(url: str) -> bool:
    """A file path (or ``file://`` URL) rather than a web or object-store URL."""
    return urlsplit(url).scheme.lower() not in _WEB_SCHEMES


def resolve_href(base: str, href: str, where: str) -> str:
    """HREF (absolute or relative) as an absolute URL or path, resolved against BASE, the
    location of the document that holds it. A document on the web may only point at web or
    object-store URLs (not at local files, ``javascript:`` or ``data:``, nor at URLs that carry
    credentials); a local document may also point at local files. Refused hrefs raise
    MetadataError naming WHERE."""
    if not isinstance(href, str) or not href.strip():
        raise MetadataError(f"{where}: href must be a non-empty string, got {href!r:.80}")
    href = href.strip()
    if len(href) > MAX_HREF or not href.isprintable():
        raise MetadataError(f"{where}: href is longer than {MAX_HREF} characters or holds control characters")
    if is_local(base) and base.startswith("file://"):
        base = base[len("file://"):]
    scheme = urlsplit(href).scheme.lower()
    if scheme in _WEB_SCHEMES:
        url = href
    elif len(scheme) > 1 and scheme != "file":
        raise MetadataError(f"{where}: href {href!r:.200} has a scheme ({scheme}:) this reader does not follow")
    elif is_local(base):
        url = href[len("file://"):] if scheme == "file" else urljoin(base, href)
    elif scheme == "file" or len(scheme) == 1:  # "C:\..." too
        raise MetadataError(f"{where}: href {href!r:.200} points at a local file, but the document was "
                            f"read from the web ({base})")
    else:
        url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme.lower() in _WEB_SCHEMES and (parts.username is not None or parts.password is not None):
        raise MetadataError(f"{where}: href {href!r:.200} carries credentials; refusing it")
    return url


def _text(value, where: str, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MetadataError(f"{where}: {name} must be a string, got {type(value).__name__}")
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"


def _link(item, base: str, where: str) -> Link:
    if not isinstance(item, dict):
        raise MetadataError(f"{where}: a link must be an object, got {type(item).__name__}")
    rel = item.get("rel")
    if not isinstance(rel, str) or not rel:
        raise MetadataError(f"{where}: rel must be a non-empty string, got {rel!r:.80}")
    return Link(rel[:200], resolve_href(base, item.get("href"), f"{where} (rel {rel[:80]!r})"),
                _text(item.get("title"), where, "title"), _text(item.get("type"), where, "type")[:200])


def read_links(value, base: str, where: str, rels: tuple[str, ...] | None = None) -> list[Link]:
    """The links in VALUE (a JSON ``links`` list) whose rel is one of RELS (all when None),
    hrefs resolved against BASE. A malformed or refused link is an error naming WHERE and the
    link's index."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MetadataError(f"{where}: links must be a list, got {type(value).__name__}")
    if len(value) > MAX_ENTRIES:
        raise MetadataError(f"{where}: {len(value)} links, more than the limit of {MAX_ENTRIES}")
    out = []
    for i, item in enumerate(value):
        rel = item.get("rel") if isinstance(item, dict) else None
        if rels is None or rel in rels:
            out.append(_link(item, base, f"{where}: links[{i}]"))
    return out


def is_zarr_asset(asset: dict) -> bool:
    """Whether a STAC asset object points at a Zarr store (see the module's docstring)."""
    media = asset.get("type")
    if isinstance(media, str) and media.split(";")[0].strip().lower() in ZARR_MEDIA_TYPES:
        return True
    if any(name in asset for name in ZARR_EXTENSION_FIELDS):
        return True
    href = asset.get("href")
    return isinstance(href, str) and urlsplit(href).path.rstrip("/").lower().endswith(".zarr")


def _assets(value, base: str, where: str) -> list[Asset]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise MetadataError(f"{where}: assets must be an object, got {type(value).__name__}")
    if len(value) > MAX_ENTRIES:
        raise MetadataError(f"{where}: {len(value)} assets, more than the limit of {MAX_ENTRIES}")
    out = []
    for key, asset in value.items():
        at = f"{where}: assets[{key[:80]!r}]"
        if not isinstance(asset, dict):
            raise MetadataError(f"{at} must be an object, got {type(asset).__name__}")
        roles = asset.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise MetadataError(f"{at}: roles must be a list of strings")
        out.append(Asset(key[:MAX_TEXT], resolve_href(base, asset.get("href"), at),
                         _text(asset.get("title"), at, "title"), _text(asset.get("type"), at, "type")[:200],
                         tuple(r[:200] for r in roles[:50]),
                         is_zarr_asset(asset)))
    return out


def is_stac(doc: dict) -> bool:
    """Whether a JSON object is a STAC Catalog, Collection or Item."""
    return doc.get("type") in STAC_TYPES and isinstance(doc.get("stac_version"), str)


def parse_stac(raw: bytes, url: str) -> StacDocument:
    """The STAC document in RAW, read from URL (hrefs resolve against it). MetadataError naming
    the URL when it is not JSON, too large, not STAC, or has a malformed field."""
    doc = parse_json(raw, url, MAX_STAC_BYTES)
    if not is_stac(doc):
        found = doc.get("type")
        raise MetadataError(f"{url}: not a STAC catalog, collection or item (type {found!r:.80}, "
                            f"stac_version {doc.get('stac_version')!r:.40}; expected type Catalog, "
                            f"Collection or Feature with a stac_version)")
    kind = STAC_TYPES[doc["type"]]
    ident = doc.get("id")
    if not isinstance(ident, str) or not ident:
        raise MetadataError(f"{url}: id must be a non-empty string, got {ident!r:.80}")
    links = read_links(doc.get("links"), url, url)
    if kind == "item" and doc.get("properties") is not None and not isinstance(doc.get("properties"), dict):
        raise MetadataError(f"{url}: properties must be an object")
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    title = _text(doc.get("title", props.get("title")), url, "title")
    description = _text(doc.get("description", props.get("description")), url, "description")
    assets = _assets(doc.get("assets"), url, url)
    stores = [Asset("store", link.href, link.title, link.type, ("data",), True)
              for link in links if link.rel == "store"]
    return StacDocument(url, kind, ident[:MAX_TEXT], doc["stac_version"][:40], title, description,
                        tuple(link for link in links if link.rel in ("child", "item")),
                        tuple(assets + [s for s in stores if s.href not in {a.href for a in assets}]),
                        tuple(link for link in links if link.rel not in ("child", "item")))


def store_links(attributes: dict, base: str, where: str) -> tuple[list[Link], list[str]]:
    """The links of a Zarr group's ATTRIBUTES to other stores (rel in :data:`STORE_RELS`, and a
    ``stac`` link from the STAC convention's ``link`` encoding), hrefs resolved against BASE
    (the group's URL, ending in "/"); and the problems met (a bad link is skipped, not fatal:
    the group still opens)."""
    links, problems = [], []
    value = attributes.get("links")
    if isinstance(value, list):
        for i, item in enumerate(value[:MAX_ENTRIES]):
            if not (isinstance(item, dict) and item.get("rel") in STORE_RELS):
                continue
            try:
                links.append(_link(item, base, f"{where}: links[{i}]"))
            except MetadataError as e:
                problems.append(str(e))
    elif value is not None:
        problems.append(f"{where}: links must be a list, got {type(value).__name__}")
    if attributes.get("stac:encoding") == "link":
        for kind in ("item", "collection"):
            target = attributes.get(f"stac:{kind}")
            if isinstance(target, dict):
                try:
                    link = _link({**target, "rel": "stac"}, base, f"{where}: stac:{kind}")
                    links.append(Link("stac", link.href, link.title or f"STAC {kind}", link.type))
                except MetadataError as e:
                    problems.append(str(e))
    return links, problems


class StacReader:
    """Reads STAC documents through STORE (a :class:`~.stores.urls.UrlStore`: keys are URLs or
    paths), each at most :data:`MAX_STAC_BYTES` (asked for by range, so a huge file is not
    downloaded), parsed once and kept."""

    def __init__(self, store):
        self.store = store
        self.documents: dict[str, StacDocument] = {}

    async def read(self, url: str) -> StacDocument:
        doc = self.documents.get(url)
        if doc is None:
            from .store import RangeRequest

            raw = await self.store.get(url, RangeRequest(0, MAX_STAC_BYTES + 1))
            if raw is None:
                raise StoreError(f"{url}: no such STAC document (HTTP 404 or missing file)")
            doc = self.documents[url] = parse_stac(raw, url)
        return doc

    async def walk(self, url: str, max_depth: int = 8, max_documents: int = 1000):
        """(depth, document or error text, link) for URL and everything below it, depth first
        in document order; a child that cannot be read is reported in place and the walk goes
        on. At most MAX_DOCUMENTS are read and MAX_DEPTH levels followed; a link back to a
        document already on the path is not followed again."""
        read = 0

        async def visit(link: Link | None, href: str, depth: int, path: tuple[str, ...]):
            nonlocal read
            if href in path:
                yield depth, f"{href}: cycle (links back to a document above it), not followed", link
                return
            if read >= max_documents:
                yield depth, f"{href}: not read (limit of {max_documents} documents reached)", link
                return
            read += 1
            try:
                doc = await self.read(href)
            except (MetadataError, StoreError) as e:
                if link is None:
                    raise
                yield depth, str(e), link
                return
            yield depth, doc, link
            if depth >= max_depth:
                return
            for child in doc.children:
                async for entry in visit(child, child.href, depth + 1, (*path, href)):
                    yield entry

        async for entry in visit(None, url, 0, ()):
            yield entry


def node_links(root: str, path: str, attributes: dict) -> tuple[list[Link], list[str]]:
    """:func:`store_links` of the group at PATH of the store whose root is ROOT (a URL or path):
    hrefs resolve against the group's own location, ``ROOT/PATH/``."""
    base = root.rstrip("/") + "/" + (f"{path}/" if path else "")
    return store_links(attributes, base, f"{root.rstrip('/')}/{path}" if path else root)


def linked_node_paths(attributes: dict) -> list[str]:
    """Node paths below a group that its ``child``/``group``/``item`` links name by a relative
    href (``sub``, ``./sub/``): nodes of the same store, found this way without a listing
    (:mod:`.discovery`). Anything else (absolute, ``..``, odd names) is left to :func:`store_links`."""
    from .nodepaths import resolve

    value = attributes.get("links")
    out = []
    for item in value[:MAX_ENTRIES] if isinstance(value, list) else ():
        href = item.get("href") if isinstance(item, dict) and item.get("rel") in ("child", "group", "item") else None
        if isinstance(href, str) and not urlsplit(href).scheme:
            path = resolve("", href.strip().removeprefix("./").rstrip("/"))
            if path is not None:
                out.append(path)
    return out


def inner_path(root: str, href: str) -> str | None:
    """The node path HREF names inside the store at ROOT, or None when it leads elsewhere."""
    from .nodepaths import resolve

    prefix = root.rstrip("/") + "/"
    if href.rstrip("/") == root.rstrip("/"):
        return ""
    return resolve("", href[len(prefix):].rstrip("/")) if href.startswith(prefix) else None
