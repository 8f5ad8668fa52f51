"""STAC browsing in the explorer's tree, and buttons that follow links to other stores.

:class:`StacTree` is a STAC catalog, collection or item as tree rows: each document below it is
a group (its JSON fetched when the group is expanded or selected), each asset a leaf, a Zarr
asset marked as such. Tree paths are positions, not ids (ids and titles are any text): the
``i``-th child of a document is ``…/cI``, its ``j``-th asset ``…/aJ``. Titles are only ever
text (the tree sets ``textContent``; summaries are escaped).

:class:`LinkButtons` shows links (a group's ``parent``/``child``/``root`` stores, the catalog a
store was opened from) as buttons that call back with the URL; labels are text.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import panel as pn

from pyzarr_web.core.catalogs import reader_for
from pyzarr_web.core.links import Asset, Link, StacDocument

#: rows of one document shown at most (a catalog may list tens of thousands of items)
MAX_ROWS = 2000


def _name(href: str) -> str:
    return urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1] or href


class StacTree:
    """The documents of the catalog at URL read so far, as tree rows (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.reader = reader_for(url)
        self._hrefs: dict[str, str] = {"": url}  # tree path -> document URL
        self._links: dict[str, Link] = {}
        self._docs: dict[str, StacDocument] = {}
        self._assets: dict[str, Asset] = {}
        self.errors: dict[str, str] = {}  # tree path -> why its document could not be read

    @staticmethod
    def _join(path: str, segment: str) -> str:
        return f"{path}/{segment}" if path else segment

    def is_document(self, path: str) -> bool:
        return path in self._hrefs

    def document(self, path: str) -> StacDocument | None:
        return self._docs.get(path)

    def asset(self, path: str) -> Asset | None:
        return self._assets.get(path)

    async def load(self, path: str) -> StacDocument:
        """The document at tree PATH, read now if it was not (its parent must be loaded)."""
        doc = self._docs.get(path)
        if doc is None:
            try:
                doc = await self.reader.read(self._hrefs[path])
            except Exception as exc:
                self.errors[path] = str(exc)
                raise
            self.errors.pop(path, None)
            self._docs[path] = doc
            for i, link in enumerate(doc.children[:MAX_ROWS]):
                child = self._join(path, f"c{i}")
                self._hrefs[child], self._links[child] = link.href, link
            for j, asset in enumerate(doc.assets[:MAX_ROWS]):
                self._assets[self._join(path, f"a{j}")] = asset
        return doc

    async def load_path(self, path: str) -> None:
        """Load every document from the root down to PATH (a tree path from a URL)."""
        parts = path.split("/") if path else []
        for i in range(len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in self._hrefs:
                await self.load(prefix)

    def rows(self) -> list[dict]:
        """Every known node as :class:`~pyzarr_web.ui.treeview.TreeView` rows."""
        out = []
        for path, href in self._hrefs.items():
            doc = self._docs.get(path)
            link = self._links.get(path)
            name = doc.label if doc else (link.title if link and link.title else _name(href))
            count = (min(len(doc.children), MAX_ROWS) + min(len(doc.assets), MAX_ROWS)) if doc else (
                0 if path in self.errors else None)
            note = f"{doc.kind}" if doc else ("unreadable" if path in self.errors else "")
            out.append({"path": path, "name": name, "kind": "group", "shape": None, "dtype": None,
                        "count": count, "multiscale": None, "note": note})
        for path, asset in self._assets.items():
            out.append({"path": path, "name": asset.title or asset.key, "kind": "array", "shape": None,
                        "dtype": None, "count": None, "multiscale": None,
                        "note": "Zarr store" if asset.zarr else (asset.type or "asset")})
        return out  # the tree keeps siblings in the order given: documents, then assets

    def summary(self, path: str) -> str:
        """What the node at PATH is, as plain text (the caller escapes it)."""
        asset = self._assets.get(path)
        if asset is not None:
            kind = "Zarr store: selecting it opens it" if asset.zarr else "not a Zarr store (not opened here)"
            roles = f"\nroles: {', '.join(asset.roles)}" if asset.roles else ""
            return f"Asset {asset.key!r} ({asset.type or 'no media type'}), {kind}\n{asset.href}{roles}"
        doc = self._docs.get(path)
        if doc is None:
            return f"{self._hrefs.get(path, '')}\n{self.errors.get(path, '')}"
        lines = [f"STAC {doc.kind} {doc.id!r} (STAC {doc.stac_version})", doc.url]
        if doc.title:
            lines.append(f"title: {doc.title}")
        if doc.description:
            lines.append(doc.description)
        lines.append(f"{len(doc.children)} child document(s), {len(doc.assets)} asset(s), "
                     f"{len(doc.zarr_assets)} of them Zarr: expand it in the tree.")
        return "\n".join(lines)


class LinkButtons(pn.Column):
    """One button per link (label: text), calling ``on_open(url)`` when pressed. Empty, it takes no
    room; it is never hidden, so the page has one change to apply (its children), not two that
    could arrive in either order."""

    def __init__(self, on_open: Callable[[str], object], **params) -> None:
        super().__init__(sizing_mode="stretch_width", **params)
        self._on_open = on_open
        self._shown: list[tuple[str, str]] = []

    def show(self, links: list[tuple[str, str]]) -> None:
        if links == self._shown:  # the buttons on the page stay (a click on one is not lost)
            return
        self._shown = list(links)
        buttons = []
        for label, url in links:
            button = pn.widgets.Button(label=label[:120], color="light", sizing_mode="stretch_width",
                                       description=url[:500])
            button.on_click(lambda _event, url=url: self._on_open(url))
            buttons.append(button)
        self.objects = buttons


def link_label(link: Link) -> str:
    """A button's text for a link: where it leads, by relation."""
    what = {"parent": "↑ Parent", "root": "⤒ Root", "self": "↻ This store", "child": "↓ Child",
            "group": "↓ Group", "item": "↓ Item", "stac": "STAC"}.get(link.rel, link.rel)
    return f"{what}: {link.title or _name(link.href)}"
