"""Bodies of ``pyzarr-web tree`` and ``pyzarr-web cat``: the browser's core, driven from a shell."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import numpy as np

from pyzarr_web.core import Hierarchy, Node, ZarrError, open_store, parse_selection, store_kind
from pyzarr_web.core.catalogs import is_catalog
from pyzarr_web.core.conventions import (
    Georef,
    Multiscale,
    grid_mapping_name,
    guess_multiscale,
    read_cf_georef,
    read_level_metadata,
    read_multiscale,
)
from pyzarr_web.core.links import node_links

from . import catalog_cmd
from .terminal import safe


def node_json(node: Node, multiscale: Multiscale | None = None,
              georef: Georef | None = None) -> dict:
    """One node in the ``tree --json`` schema (array fields only on arrays, ``multiscale`` only
    on multiscale groups, ``crs`` only on arrays a CF grid mapping georeferences)."""
    out: dict = {"path": node.path, "kind": node.kind, "zarr_format": node.zarr_format}
    if multiscale is not None:
        out["multiscale"] = multiscale.to_json()
    if georef is not None:
        out["crs"] = georef.to_json()
    meta = node.metadata
    if meta is not None:
        out.update(shape=list(meta.shape), dtype=meta.dtype.str, chunks=list(meta.read_chunks),
                   shards=list(meta.shards) if meta.shards else None,
                   dimension_names=meta.dimension_names)
    out["attributes"] = node.attributes
    return out


def _line(node: Node, mark: str = "") -> str:
    indent = "  " * (node.path.count("/") + 1 if node.path else 0)
    mark = f"  {mark}" if mark else ""
    meta = node.metadata
    if meta is None:  # the root prints as "/"
        return f"{indent}{node.name}/  (group, v{node.zarr_format}){mark}"
    shards = f" shards={list(meta.shards)}" if meta.shards else ""
    dims = f" dims={meta.dimension_names}" if meta.dimension_names else ""
    return (f"{indent}{node.name or '/'}  {list(meta.shape)} {meta.dtype.str} "
            f"chunks={list(meta.read_chunks)}{shards}{dims} (v{node.zarr_format}){mark}")


def _marks(multiscales: dict[str, Multiscale]) -> dict[str, str]:
    """Text after each line: a multiscale group's convention and levels; each level's rank."""
    out = {}
    for path, ms in multiscales.items():
        kind = "label image" if ms.is_label else "multiscale"
        version = f" {ms.version}" if ms.version else ""
        problems = f", {len(ms.problems)} problems" if ms.problems else ""
        out[path] = (f"[{kind}: {ms.convention}{version}, {len(ms.levels)} levels"
                     f"{problems}]")
        for i, level in enumerate(ms.levels):
            full = f"{path}/{level.path}" if path else level.path
            out[full] = f"[level {i} of {path or '/'}]"
    return out


def _fail(error: Exception) -> None:
    click.echo(safe(f"error: {error}"), err=True)
    raise SystemExit(1)


async def _tree(source: str, **options) -> tuple[Hierarchy, list[Node], dict[str, Multiscale]]:
    """The hierarchy, its nodes, and the multiscale of each multiscale group (level shapes read
    from the level arrays' metadata); groups without a convention get a guess from their arrays."""
    h = await Hierarchy.open(open_store(source, **options))
    nodes = await h.walk()
    found = {n.path: ms for n in nodes if n.kind == "group"
             for ms in [read_multiscale(n.attributes, n.zarr_format, n.path)] if ms}
    await asyncio.gather(*(read_level_metadata(ms, h, path) for path, ms in found.items()))
    children: dict[str, list[Node]] = {}
    for n in nodes:
        if n.path:
            children.setdefault(n.path.rpartition("/")[0], []).append(n)
    for n in nodes:
        guess = None if n.path in found else guess_multiscale(children.get(n.path, []))
        if n.kind == "group" and guess is not None:
            found[n.path] = guess
    return h, nodes, found


def _cf_georefs(nodes: list[Node]) -> dict[str, Georef]:
    """Arrays georeferenced by the CF ``grid_mapping`` variable they name (a sibling)."""
    by_path = {n.path: n for n in nodes}
    out = {}
    for n in nodes:
        name = grid_mapping_name(n.attributes) if n.metadata is not None else None
        parent = n.path.rpartition("/")[0]
        mapping = by_path.get(f"{parent}/{name}" if parent else name) if name else None
        if mapping is not None:
            georef, _ = read_cf_georef(n.attributes, n.metadata.dimension_names,
                                       mapping.attributes, n.path)
            if georef is not None:
                out[n.path] = georef
    return out


def _links(h: Hierarchy, node: Node) -> list[dict]:
    """A group's links to other stores (and STAC objects), hrefs resolved; bad ones skipped."""
    if node.kind != "group":
        return []
    return [link.to_json() for link in node_links(h.store.describe(), node.path, node.attributes)[0]]


def tree(source: str, as_json: bool = False, **options) -> None:
    # a STAC catalog unless options say the source is a virtual or versioned store
    if not (options.get("ref") or options.get("target_base")) and asyncio.run(is_catalog(source)):
        return catalog_cmd.tree(source, as_json)
    try:
        h, nodes, multiscales = asyncio.run(_tree(source, **options))
    except ZarrError as e:
        _fail(e)
    if as_json:
        georefs = _cf_georefs(nodes)
        click.echo(json.dumps({"store": h.store.info(), "discovery": h.discovery,
                               "nodes": [node_json(n, multiscales.get(n.path), georefs.get(n.path))
                                         | ({"links": links} if (links := _links(h, n)) else {})
                                         for n in nodes]},
                              default=str))
    else:
        kind = store_kind(h.store.info())
        if kind:
            click.echo(safe(f"[{kind}]"))
        marks = _marks(multiscales)
        for n in nodes:
            click.echo(safe(_line(n, marks.get(n.path, ""))))
            indent = "  " * (n.path.count("/") + 2 if n.path else 1)
            for link in _links(h, n):
                click.echo(safe(f"{indent}-> {link['rel']}: {link['href']}"))


async def _cat(source: str, array_path: str, selection: tuple, **options) -> np.ndarray:
    h = await Hierarchy.open(open_store(source, **options))
    arr = await h.array(array_path)
    return await arr.read(selection)


def cat(source: str, array_path: str, selection_text: str, out_path: Path, **options) -> None:
    try:
        result = asyncio.run(_cat(source, array_path, parse_selection(selection_text), **options))
    except ZarrError as e:
        _fail(e)
    try:
        np.save(out_path, result, allow_pickle=result.dtype.hasobject)
    except OSError as e:
        _fail(e)
    click.echo(safe(f"wrote {out_path}: shape {list(result.shape)} dtype {result.dtype.str}"),
               err=True)
