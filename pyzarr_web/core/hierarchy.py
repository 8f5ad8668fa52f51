"""Hierarchy: the nodes (groups and arrays) of a store, from consolidated metadata when present,
else by listing where the store can list, else by probing the metadata documents of the nodes the
metadata found so far refers to (:mod:`.discovery`) — a listing that may be incomplete
(:attr:`Hierarchy.complete` is False)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .array import ZarrArray
from .discovery import array_references, group_references, multiscale_levels, resolve
from .errors import ListingUnavailable, NodeNotFoundError, ZarrError
from .links import linked_node_paths
from .metadata.documents import parse_json
from .metadata.model import (
    ArrayMetadata,
    GroupMetadata,
    parse_v2_consolidated,
    parse_v2_node,
    parse_v3,
    parse_v3_consolidated,
)
from .store import Store


@dataclass
class Node:
    path: str  # no leading slash; "" for the root
    kind: str  # "group" | "array"
    zarr_format: int
    attributes: dict
    metadata: ArrayMetadata | None = None
    #: a group with no metadata document of its own, shown because nodes below it were found
    implicit: bool = False

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
             where: Callable[[str], str]) -> Node | None:
    meta = parse_v2_node(zarray, zgroup, zattrs, where)
    return None if meta is None else _node(path, meta)


def _path_key(path: str) -> tuple:
    return tuple(path.split("/")) if path else ()


#: how a store's nodes were found by listing (:attr:`Hierarchy.discovery`), in words
LISTED_BY = {"listing": "listing its folders (a bucket's listing API)",
             "html": "the server's HTML directory listing"}

#: bounds of discovery by probing: metadata requests in all, and rounds of references followed
MAX_PROBES = 2000
MAX_ROUNDS = 8
#: probes in flight at once from one walk (the store's own limit may be lower)
PROBE_CONCURRENCY = 32


class Hierarchy:
    def __init__(self, store: Store, root: Node, consolidated: dict[str, Node] | None = None):
        self.store = store
        self.root = root
        self._nodes = consolidated
        self._arrays: dict[str, ZarrArray] = {}
        # probing discovery's state, kept between walks: nodes found, paths probed, and each
        # multiscale level's sibling levels
        self._found: dict[str, Node] = {}
        self._tried: set[str] = set()
        self._levels: dict[str, list[str]] = {}
        #: metadata requests made by :meth:`walk`'s probing discovery
        self.probes = 0
        #: why probing stopped short or skipped a node (limits reached, unreadable metadata)
        self.problems: list[str] = []
        #: the nodes below the root found by listing; None until a listing succeeded
        self._listed: list[Node] | None = None
        #: False once listing was tried and the store does not list
        self._may_list = store.can_list or store.may_list
        #: folders whose metadata the listing read (bounded by MAX_PROBES)
        self._folders = 0

    @property
    def consolidated(self) -> bool:
        return self._nodes is not None

    @property
    def complete(self) -> bool:
        """True when :meth:`walk` lists every node: consolidated metadata, a store that can list,
        or a root array. False when the tree was found by probing referenced names (a
        non-listable store without consolidated metadata): nodes nothing refers to are missing
        — open them by path."""
        return (self.consolidated or self.store.can_list or self._listed is not None
                or self.root.kind == "array")

    @property
    def discovery(self) -> str:
        """How :meth:`walk` found the nodes: "consolidated" (metadata), "listing" (a file system,
        archive or bucket listing API), "html" (a web server's directory listing), "links" (group
        links to child nodes, the Zarr HTTP-extension way, led to some) or "metadata" (following
        what the metadata refers to)."""
        if self.consolidated:
            return "consolidated"
        if self._listed is not None:
            return self.store.listing
        linked = {resolve(node.path, rel) for node in self._found.values() if node.kind == "group"
                  for rel in linked_node_paths(node.attributes)}
        return "links" if linked & set(self._found) else "metadata"

    @classmethod
    async def open(cls, store: Store) -> Hierarchy:
        raw = await store.get("zarr.json")
        if raw is not None:
            where = f"{store.describe()}/zarr.json"
            doc = parse_json(raw, where)
            root = _node("", parse_v3(doc, where))
            consolidated = parse_v3_consolidated(doc, where)
            return cls(store, root, None if consolidated is None else _nodes(consolidated))
        zmeta, zarray, zgroup, zattrs = await asyncio.gather(
            *(store.get(k) for k in (".zmetadata", ".zarray", ".zgroup", ".zattrs")))
        docs = [None if r is None else parse_json(r, f"{store.describe()}/{k}")
                for r, k in ((zarray, ".zarray"), (zgroup, ".zgroup"), (zattrs, ".zattrs"))]
        root = _v2_node("", *docs, lambda k: f"{store.describe()}/{k}")
        if root is None:
            raise NodeNotFoundError(f"{store.describe()}: no Zarr group or array at the root "
                                    f"(no zarr.json, .zgroup or .zarray)")
        consolidated = None
        if zmeta is not None and root.kind == "group":
            where = f"{store.describe()}/.zmetadata"
            consolidated = _nodes(parse_v2_consolidated(parse_json(zmeta, where), where))
        return cls(store, root, consolidated)

    async def _load(self, path: str, formats: tuple[int, ...] | None = None) -> Node | None:
        """Read one node's metadata by name (root's format first, then the other)."""
        if formats is None:
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
                docs = [None if r is None else parse_json(r, f"{where}/{k}")
                        for r, k in zip(raws, (".zarray", ".zgroup", ".zattrs"))]
                node = _v2_node(path, *docs, lambda k: f"{where}/{k}")
                if node is not None:
                    return node
        return None

    async def node(self, path: str) -> Node:
        path = path.strip("/")
        if path == "":
            return self.root
        if self._nodes is not None and path in self._nodes:
            return self._nodes[path]
        if path in self._found:
            return self._found[path]
        node = await self._load(path)
        if node is None:
            raise NodeNotFoundError(f"{self.store.describe()}: no group or array at {path!r}")
        return node

    async def array(self, path: str) -> ZarrArray:
        node = await self.node(path)
        if node.kind != "array":
            raise NodeNotFoundError(f"{self.store.describe()}: {path or '/'!r} is a group, "
                                    f"not an array")
        # one ZarrArray per path, so its fetch counts add up over the reads of a session
        arr = self._arrays.get(node.path)
        if arr is None:
            arr = self._arrays[node.path] = ZarrArray(self.store, node.path, node.metadata)
        return arr

    async def walk(self, include: Sequence[str] = ()) -> list[Node]:
        """All nodes, depth first, root first, children sorted by name.

        On a store that cannot list and has no consolidated metadata, the nodes are found by
        probing what the metadata refers to (:attr:`complete` is then False). ``include`` adds
        paths known from elsewhere (a URL, a path the user typed): they are probed too and what
        they refer to is followed. Discovery is incremental: walking again with new ``include``
        paths probes only what has not been tried."""
        if self._nodes is not None:
            nodes = [self.root, *(n for p, n in self._nodes.items() if p)]
        elif await self._try_listing():
            nodes = [self.root, *self._listed]
        else:
            await self._discover(include)
            nodes = list(self._found.values())
            nodes += _implicit_ancestors(self._found, self.root.zarr_format)
        return sorted(nodes, key=lambda n: _path_key(n.path))

    async def _try_listing(self) -> bool:
        """List the nodes once, if the store may list; a store that turns out not to list
        (:class:`ListingUnavailable`) is followed by its metadata from then on, and a bucket
        that refused says so in :attr:`problems`."""
        if self._listed is None and self._may_list:
            try:
                self._listed = await self._list_children(self.root)
            except ListingUnavailable as e:
                if self.store.can_list:
                    raise
                self._may_list = False
                if self.store.listing != "html":
                    self.problems.append(f"{e}; the tree follows the metadata instead")
        return self._listed is not None

    async def _probe(self, path: str) -> Node | None:
        """One node's metadata in the root's format only (a hierarchy does not mix formats),
        counted in :attr:`probes` as requests. Missing documents (404) mean no node."""
        self.probes += 1 if self.root.zarr_format == 3 else 3
        return await self._load(path, (self.root.zarr_format,))

    async def _discover(self, include: Sequence[str] = (), max_probes: int = MAX_PROBES,
                        max_rounds: int = MAX_ROUNDS) -> None:
        """Add to ``self._found`` the nodes reachable by references (:mod:`.discovery`) from the
        root and from ``include``, breadth first: each round probes every new path (and its
        ancestors) concurrently, and the nodes found feed the next round. A walk makes at most
        ``max_probes`` requests and follows ``max_rounds`` rounds of references."""
        self._found.setdefault("", self.root)
        # references are recomputed from every node found so far (cheap, no I/O), so paths a
        # previous walk left unprobed (limits, cancellation) are taken up again
        frontier = list(self._found.values())
        extra = [p for p in (resolve("", i.strip("/")) for i in include) if p]
        start = self.probes
        per_probe = 1 if self.root.zarr_format == 3 else 3
        limit = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def probe(path: str) -> Node | None:
            async with limit:
                try:
                    node = await self._probe(path)
                except ZarrError as e:  # one unreadable node does not hide the others
                    self.problems.append(f"{path}: {e}")
                    node = None
                self._tried.add(path)
                return node

        for round_ in range(max_rounds + 1):
            wanted: dict[str, None] = {}
            for path in extra + [p for node in frontier for p in self._referenced(node)]:
                parts = path.split("/")
                for i in range(1, len(parts) + 1):
                    p = "/".join(parts[:i])
                    if p not in self._tried and p not in self._found:
                        wanted[p] = None
            extra = []
            if not wanted:
                return
            budget = max((max_probes - (self.probes - start)) // per_probe, 0)
            stop = round_ == max_rounds or len(wanted) > budget
            if stop:
                keep = 0 if round_ == max_rounds else budget
                why = (f"{max_rounds} rounds of references" if round_ == max_rounds
                       else f"{max_probes} metadata requests")
                self.problems.append(f"discovery stopped at {why}; {len(wanted) - keep} "
                                     f"referenced paths not probed yet (walk again to go on)")
                wanted = dict.fromkeys(list(wanted)[:keep])
            results = await asyncio.gather(*(probe(p) for p in wanted))
            frontier = [n for n in results if n is not None]
            self._found.update((n.path, n) for n in frontier)
            if stop:
                return

    def _referenced(self, node: Node) -> list[str]:
        """Absolute paths ``node``'s metadata refers to; also the same sub-path in the other
        levels of a multiscale pyramid when ``node`` lies inside one level."""
        if node.kind == "group":
            refs = group_references(node.attributes)
            levels = [p for p in (resolve(node.path, rel)
                                  for rel in multiscale_levels(node.attributes)) if p]
            for level in levels:
                self._levels[level] = levels
        else:
            refs = array_references(node.attributes, node.metadata.dimension_names)
        out = []
        for up, rel in refs:
            base: str | None = node.path
            for _ in range(up):
                base = None if not base else base.rsplit("/", 1)[0] if "/" in base else ""
            path = None if base is None else resolve(base, rel)
            if path is not None and path != node.path:
                out.append(path)
        parts = node.path.split("/")
        for i in range(1, len(parts)):
            level = "/".join(parts[:i])
            rest = "/".join(parts[i:])
            out += [f"{other}/{rest}" for other in self._levels.get(level, ()) if other != level]
        return out

    async def _list_children(self, node: Node) -> list[Node]:
        if node.kind != "group":
            return []
        _, dirs = await self.store.list_dir(_join(node.path, "") if node.path else "")
        budget = max(MAX_PROBES - self._folders, 0)  # each folder costs a metadata read
        if len(dirs) > budget:
            self.problems.append(f"{node.path or '/'}: {len(dirs) - budget} folders not read "
                                 f"(a listing reads at most {MAX_PROBES} folders' metadata)")
            dirs = dirs[:budget]
        self._folders += len(dirs)
        children = [c for c in await asyncio.gather(*(self._load(_join(node.path, d))
                                                      for d in dirs)) if c is not None]
        below = await asyncio.gather(*(self._list_children(c) for c in children))
        return [n for c, sub in zip(children, below) for n in (c, *sub)]


def _implicit_ancestors(found: dict[str, Node], zarr_format: int) -> list[Node]:
    """Groups without a metadata document of their own above found nodes, so a tree built from
    the nodes reaches everything found."""
    out: dict[str, Node] = {}
    for path in found:
        parts = path.split("/") if path else []
        for i in range(1, len(parts)):
            p = "/".join(parts[:i])
            if p not in found and p not in out:
                out[p] = Node(p, "group", zarr_format, {}, implicit=True)
    return list(out.values())


def _nodes(consolidated: dict[str, ArrayMetadata | GroupMetadata]) -> dict[str, Node]:
    return {path: _node(path, meta) for path, meta in consolidated.items()}
