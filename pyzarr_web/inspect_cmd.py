"""Bodies of ``pyzarr-web tree`` and ``pyzarr-web cat``: the browser's core, driven from a shell."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import numpy as np

from .core import Hierarchy, Node, ZarrError, open_store, parse_selection
from .terminal import safe


def node_json(node: Node) -> dict:
    """One node in the ``tree --json`` schema (array fields only on arrays)."""
    out: dict = {"path": node.path, "kind": node.kind, "zarr_format": node.zarr_format}
    meta = node.metadata
    if meta is not None:
        out.update(shape=list(meta.shape), dtype=meta.dtype.str, chunks=list(meta.read_chunks),
                   shards=list(meta.shards) if meta.shards else None,
                   dimension_names=meta.dimension_names)
    out["attributes"] = node.attributes
    return out


def _line(node: Node) -> str:
    indent = "  " * (node.path.count("/") + 1 if node.path else 0)
    meta = node.metadata
    if meta is None:
        return f"{indent}{node.name}/  (group, v{node.zarr_format})"  # the root prints as "/"
    shards = f" shards={list(meta.shards)}" if meta.shards else ""
    dims = f" dims={meta.dimension_names}" if meta.dimension_names else ""
    return (f"{indent}{node.name or '/'}  {list(meta.shape)} {meta.dtype.str} "
            f"chunks={list(meta.read_chunks)}{shards}{dims} (v{node.zarr_format})")


def _fail(error: Exception) -> None:
    click.echo(safe(f"error: {error}"), err=True)
    raise SystemExit(1)


async def _tree(source: str) -> list[Node]:
    h = await Hierarchy.open(open_store(source))
    return await h.walk()


def tree(source: str, as_json: bool = False) -> None:
    try:
        nodes = asyncio.run(_tree(source))
    except ZarrError as e:
        _fail(e)
    if as_json:
        click.echo(json.dumps({"nodes": [node_json(n) for n in nodes]}, default=str))
    else:
        for n in nodes:
            click.echo(safe(_line(n)))


async def _cat(source: str, array_path: str, selection: tuple) -> np.ndarray:
    h = await Hierarchy.open(open_store(source))
    arr = await h.array(array_path)
    return await arr.read(selection)


def cat(source: str, array_path: str, selection_text: str, out_path: Path) -> None:
    try:
        result = asyncio.run(_cat(source, array_path, parse_selection(selection_text)))
    except ZarrError as e:
        _fail(e)
    try:
        np.save(out_path, result, allow_pickle=result.dtype.hasobject)
    except OSError as e:
        _fail(e)
    click.echo(safe(f"wrote {out_path}: shape {list(result.shape)} dtype {result.dtype.str}"),
               err=True)
