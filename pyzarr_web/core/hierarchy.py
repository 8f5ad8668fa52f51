"""Hierarchy: the nodes (groups and arrays) of a store, from consolidated metadata when present,
else by listing where the store can list, else only what can be found by name."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .array import ZarrArray
from .errors import MetadataError, NodeNotFoundError
from .metadata import ArrayMetadata, GroupMetadata, parse_json, parse_v2_array, parse_v3
from .store import Store


@dataclass
class Node:
    path: str  # no leading slash; "" for the root
    kind: str  # "group" | "array"
    zarr_format: int
    attributes: dict
    metadata: ArrayMetadata | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _node(path: str, meta: ArrayMetadata | GroupMetadata) -> Node:
    kind = "array" if isinstance(meta, ArrayMetadata) else "group"
    return Node(path, kind, meta.zarr_format, meta.attributes,
                meta if kind == "array" else None)


def _v2_node(path: str, zarray: dict | None, zgroup: dict | None, zattrs: dict | None,
             where: str) -> Node | None:
    attributes = zattrs or {}
    if zarray is not None:
        return _node(path, parse_v2_array(zarray, attributes, where))
    if zgroup is not None:
        if zgroup.get("zarr_format") != 2:
            raise MetadataError(f"{where}: zarr_format must be 2, got {zgroup.get('zarr_format')!r}")
        return Node(path, "group", 2, attributes)
    return None


def _path_key(path: str) -> tuple:
    return tuple(path.split("/")) if path else ()


class Hierarchy:
    def __init__(self, store: Store, root: Node, consolidated: dict[str, Node] | None = None):
        self.store = store
        self.root = root
        self._nodes = consolidated

    @property
    def consolidated(self) -> bool:
        return self._nodes is not None

    @classmethod
    async def open(cls, store: Store) -> "Hierarchy":
        raw = await store.get("zarr.json")
        if raw is not None:
            doc = parse_json(raw, f"{store.describe()}/zarr.json")
            root = _node("", parse_v3(doc, f"{store.describe()}/zarr.json"))
            return cls(store, root, _v3_consolidated(doc, store.describe()))
        zmeta, zarray, zgroup, zattrs = await asyncio.gather(
            *(store.get(k) for k in (".zmetadata", ".zarray", ".zgroup", ".zattrs")))
        docs = [None if r is None else parse_json(r, f"{store.describe()}/{k}")
                for r, k in ((zarray, ".zarray"), (zgroup, ".zgroup"), (zattrs, ".zattrs"))]
        root = _v2_node("", *docs, store.describe())
        if root is None:
            raise NodeNotFoundError(f"{store.describe()}: no Zarr group or array at the root "
                                    f"(no zarr.json, .zgroup or .zarray)")
        consolidated = None
        if zmeta is not None and root.kind == "group":
            consolidated = _v2_consolidated(parse_json(zmeta, f"{store.describe()}/.zmetadata"),
                                            store.describe())
        return cls(store, root, consolidated)

    async def _load(self, path: str) -> Node | None:
        """Read one node's metadata by name (root's format first, then the other)."""
        formats = (3, 2) if self.root.zarr_format == 3 else (2, 3)
        where = f"{self.store.describe()}/{path}"
        for fmt in formats:
            if fmt == 3:
                raw = await self.store.get(_join(path, "zarr.json"))
                if raw is not None:
                    return _node(path, parse_v3(parse_json(raw, where + "/zarr.json"),
                                                where + "/zarr.json"))
            else:
                raws = await asyncio.gather(*(self.store.get(_join(path, k))
                                              for k in (".zarray", ".zgroup", ".zattrs")))
                docs = [None if r is None else parse_json(r, where) for r in raws]
                node = _v2_node(path, *docs, where)
                if node is not None:
                    return node
        return None

    async def node(self, path: str) -> Node:
        path = path.strip("/")
        if path == "":
            return self.root
        if self._nodes is not None and path in self._nodes:
            return self._nodes[path]
        node = await self._load(path)
        if node is None:
            raise NodeNotFoundError(f"{self.store.describe()}: no group or array at {path!r}")
        return node

    async def array(self, path: str) -> ZarrArray:
        node = await self.node(path)
        if node.kind != "array":
            raise NodeNotFoundError(f"{self.store.describe()}: {path or '/'!r} is a group, "
                                    f"not an array")
        return ZarrArray(self.store, node.path, node.metadata)

    async def walk(self) -> list[Node]:
        """All nodes, depth first, root first, children sorted by name."""
        if self._nodes is not None:
            nodes = [self.root, *(n for p, n in self._nodes.items() if p)]
        elif self.store.can_list:
            nodes = [self.root, *await self._list_children(self.root)]
        else:
            nodes = [self.root]
        return sorted(nodes, key=lambda n: _path_key(n.path))

    async def _list_children(self, node: Node) -> list[Node]:
        if node.kind != "group":
            return []
        _, dirs = await self.store.list_dir(_join(node.path, "") if node.path else "")
        children = [c for c in await asyncio.gather(*(self._load(_join(node.path, d))
                                                      for d in dirs)) if c is not None]
        below = await asyncio.gather(*(self._list_children(c) for c in children))
        return [n for c, sub in zip(children, below) for n in (c, *sub)]


def _v3_consolidated(doc: dict, where: str) -> dict[str, Node] | None:
    cm = doc.get("consolidated_metadata")
    if not isinstance(cm, dict) or not isinstance(cm.get("metadata"), dict):
        return None
    return {path.strip("/"): _node(path.strip("/"), parse_v3(sub, f"{where}/{path}/zarr.json"))
            for path, sub in cm["metadata"].items()}


def _v2_consolidated(doc: dict, where: str) -> dict[str, Node]:
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        raise MetadataError(f"{where}/.zmetadata: no 'metadata' object")
    paths = {k.rsplit("/", 1)[0] if "/" in k else "" for k in meta
             if k.rsplit("/", 1)[-1] in (".zarray", ".zgroup")}
    nodes = {}
    for path in paths:
        prefix = f"{path}/" if path else ""
        node = _v2_node(path, meta.get(prefix + ".zarray"), meta.get(prefix + ".zgroup"),
                        meta.get(prefix + ".zattrs"), f"{where}/.zmetadata[{path or '/'}]")
        nodes[path] = node
    return nodes
