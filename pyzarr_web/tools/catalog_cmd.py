"""``pyzarr-web tree`` of a STAC catalog, collection or item: the documents below it, their
assets, and which assets are Zarr stores (to open with ``tree``/``cat``/``serve`` or the page)."""

from __future__ import annotations

import asyncio
import json

import click

from pyzarr_web.core import ZarrError
from pyzarr_web.core.catalogs import location, reader_for
from pyzarr_web.core.links import StacDocument

from .terminal import safe


async def _walk(source: str, max_depth: int) -> list[tuple[int, StacDocument | str, object]]:
    url = location(source)
    return [entry async for entry in reader_for(url).walk(url, max_depth=max_depth)]


def _lines(entries) -> list[str]:
    out = []
    for depth, doc, link in entries:
        indent = "  " * depth
        if isinstance(doc, str):
            out.append(f"{indent}! {link.title or link.href}: {doc}")
            continue
        out.append(f"{indent}{doc.label}  [{doc.kind} {doc.id}]  {doc.url}")
        for asset in doc.assets:
            mark = "  [zarr]" if asset.zarr else ""
            kind = f" ({asset.type})" if asset.type else ""
            out.append(f"{indent}  @{asset.key}{kind}  {asset.href}{mark}")
    return out


def tree(source: str, as_json: bool = False, max_depth: int = 8) -> None:
    """Print the catalog at SOURCE: one line per document (indented by depth) and per asset,
    Zarr assets marked ``[zarr]``; with AS_JSON one object per document (``depth``, the
    document, or ``error`` for a child that could not be read)."""
    try:
        entries = asyncio.run(_walk(source, max_depth))
    except ZarrError as e:
        click.echo(safe(f"error: {e}"), err=True)
        raise SystemExit(1) from None
    if as_json:
        docs = [{"depth": depth, **(doc.to_json() if not isinstance(doc, str)
                                    else {"url": link.href, "error": doc})} for depth, doc, link in entries]
        click.echo(json.dumps({"store": {"kind": "stac"}, "documents": docs}))
        return
    for line in _lines(entries):
        click.echo(safe(line))
