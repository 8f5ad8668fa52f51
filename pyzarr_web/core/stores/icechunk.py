"""Icechunk repositories, read-only, as a Zarr v3 store at one branch, tag or snapshot.

Written from the Icechunk specification, versions 1 (Icechunk 1.x) and 2 (Icechunk 2.x):

* version 1: ``refs/branch.NAME/ref.json`` and ``refs/tag.NAME/ref.json`` hold
  ``{"snapshot": ID}`` (a deleted tag also has ``ref.json.deleted``), and each snapshot names
  its parent;
* version 2: one ``repo`` file (FlatBuffers ``repo.fbs``, file type 6) lists the branches and
  tags (each an index into its list of snapshots), the deleted tags, and every snapshot with
  its parent, time and message;
* ``snapshots/ID``, ``manifests/ID`` and ``chunks/ID`` are named by 12-byte ids in Crockford
  base 32;
* snapshot and manifest files start with a 39-byte header (magic ``ICE🧊CHUNK``, 24 bytes of
  writer name, spec version, file type, compression) followed by a FlatBuffers table, zstd
  compressed (``snapshot.fbs`` / ``manifest.fbs``, read by :mod:`.flatbuf`);
* a snapshot lists every node (path, Zarr metadata as ``user_data``, for arrays the manifests
  and the chunk-index extents each covers) and its parent, time and message;
* a manifest holds each array's chunk references: inline bytes, a native chunk (a range of
  ``chunks/ID``) or a virtual chunk (a range of a file at a URL outside the repository).

Keys are those of the Zarr v3 store the repository holds (``a/b/zarr.json``, ``a/b/c/0/1``).
Virtual chunks can be read from elsewhere (files moved or mirrored, or served over HTTP):
``target_base`` replaces the folder of each virtual chunk's file.
Every problem names the file and what was wrong; a format version other than 1 and 2 is refused,
and so are version 2's dictionary-compressed virtual chunk locations (not written by default).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..codecs.backends import get_backend
from ..errors import CodecError, MetadataError, StoreError
from ..metadata.documents import parse_json
from ..store import ByteRequest, Once, Store, slice_value, split_listing
from .flatbuf import FlatBufferError, Table
from .urls import Target, read_target

MAGIC = "ICE🧊CHUNK".encode()
HEADER_BYTES = len(MAGIC) + 24 + 3
SPEC_VERSIONS = {1, 2}
FILE_TYPES = {1: "snapshot", 2: "manifest", 3: "attributes", 4: "transaction log", 5: "chunk",
              6: "repo info"}
#: largest snapshot or manifest accepted, decompressed
MAX_METADATA_BYTES = 256 << 20
#: manifests kept decoded at once
MANIFESTS_KEPT = 16
#: most snapshots :meth:`IcechunkStore.history` walks back
MAX_HISTORY = 10_000

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID = re.compile(f"^[{_CROCKFORD}]{{20}}$")
_NAME = re.compile(r"^[^/\\\x00]+$")


def encode_id(raw: bytes) -> str:
    """An object id as it appears in file names (Crockford base 32, no padding)."""
    bits = int.from_bytes(raw, "big")
    nbits = len(raw) * 8
    chars = -(-nbits // 5)
    bits <<= chars * 5 - nbits
    return "".join(_CROCKFORD[(bits >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


@dataclass(frozen=True)
class Ref:
    """What to read: a branch, a tag or a snapshot id."""

    kind: str  # "branch" | "tag" | "snapshot"
    name: str

    @classmethod
    def parse(cls, text: str | None) -> Ref:
        """``main`` (a branch), ``branch:NAME``, ``tag:NAME`` or ``snapshot:ID``."""
        text = (text or "main").strip()
        kind, sep, name = text.partition(":")
        if not sep:
            kind, name = "branch", text
        if kind not in ("branch", "tag", "snapshot") or not _NAME.match(name) or name in (".", ".."):
            raise StoreError(f"Icechunk ref {text!r}: expected a branch name, branch:NAME, tag:NAME "
                             f"or snapshot:ID")
        if kind == "snapshot" and not _ID.match(name.upper()):
            raise StoreError(f"Icechunk ref {text!r}: a snapshot id is 20 characters of "
                             f"Crockford base 32")
        return cls(kind, name.upper() if kind == "snapshot" else name)

    def __str__(self) -> str:
        return self.name if self.kind == "branch" else f"{self.kind}:{self.name}"


@dataclass
class NodeInfo:
    path: str  # "/" or "/a/b"
    user_data: bytes
    node_id: bytes = b""
    shape: list[tuple[int, int]] | None = None  # one (length, chunking) per dimension; None: a group
    manifests: list[tuple[str, list[tuple[int, int]]]] = field(default_factory=list)


@dataclass
class Snapshot:
    id: str
    parent: str | None
    flushed_at: int  # microseconds since the epoch
    message: str
    nodes: dict[str, NodeInfo]

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.flushed_at / 1e6, UTC).isoformat(timespec="seconds")


def unwrap(raw: bytes, where: str, file_type: int) -> bytes:
    """The FlatBuffers bytes of an Icechunk binary file, after checking its header."""
    if len(raw) < HEADER_BYTES or raw[:len(MAGIC)] != MAGIC:
        raise MetadataError(f"{where}: not an Icechunk file (no ICE🧊CHUNK header)")
    version, kind, compression = raw[HEADER_BYTES - 3:HEADER_BYTES]
    if version not in SPEC_VERSIONS:
        raise MetadataError(f"{where}: Icechunk format version {version}, but this reader knows "
                            f"versions 1 and 2 (the formats of Icechunk 1.x and 2.x)")
    if kind != file_type:
        raise MetadataError(f"{where}: an Icechunk {FILE_TYPES.get(kind, f'type-{kind}')} file "
                            f"where a {FILE_TYPES[file_type]} was expected")
    body = raw[HEADER_BYTES:]
    if compression == 0:
        return body
    if compression != 1:
        raise MetadataError(f"{where}: unknown Icechunk compression {compression}")
    limit = 4 << 20  # Icechunk's zstd frames do not declare their size: grow the output as needed
    while True:
        try:
            return get_backend().zstd(body, limit)
        except CodecError as e:
            if "exceeds" not in str(e) or limit >= MAX_METADATA_BYTES:
                raise MetadataError(f"{where}: cannot decompress ({e})") from None
        limit *= 8


def parse_snapshot(buf: bytes, where: str) -> Snapshot:
    try:
        root = Table.root(buf, where)
        nodes = {}
        for node in root.tables(2):
            path = node.string(1)
            info = NodeInfo(path, node.bytes(2) or b"", node.struct_bytes(0, 8) or b"")
            kind = node.scalar(3, "B")
            if kind == 1:  # ArrayNodeData
                data = node.table(4)
                info.shape = data.structs(0, "QQ") or [  # version 2: (length, number of chunks)
                    (d.scalar(0, "Q"), d.scalar(1, "I")) for d in data.tables(3)]
                info.manifests = [(encode_id(m.struct_bytes(0, 12) or b""), m.structs(1, "II"))
                                  for m in data.tables(2)]
            elif kind != 2:
                raise FlatBufferError(f"node {path!r}: unknown node type {kind}")
            nodes[path] = info
        parent = root.struct_bytes(1, 12)
        return Snapshot(encode_id(root.struct_bytes(0, 12) or b""),
                        None if parent is None else encode_id(parent),
                        root.scalar(3, "Q"), root.string(4) or "", nodes)
    except FlatBufferError as e:
        raise MetadataError(f"{where}: corrupt snapshot ({e})") from None


@dataclass
class RepoInfo:
    """The ``repo`` file of format version 2: refs and the snapshot tree."""

    branches: dict[str, str]
    tags: dict[str, str]
    deleted_tags: set[str]
    snapshots: dict[str, tuple[str | None, int, str]]  # id -> (parent id, flushed_at, message)


def parse_repo_info(buf: bytes, where: str) -> RepoInfo:
    try:
        root = Table.root(buf, where)
        entries = root.tables(4)
        ids = [encode_id(e.struct_bytes(0, 12) or b"") for e in entries]
        snapshots = {}
        for i, e in enumerate(entries):
            parent = e.scalar(1, "i")  # the parent's index in this list; -1: none
            if not -1 <= parent < len(ids) or parent == i:
                raise FlatBufferError(f"snapshot {ids[i]}: parent index {parent} out of range")
            snapshots[ids[i]] = (None if parent < 0 else ids[parent], e.scalar(2, "Q"), e.string(3) or "")

        def refs(field: int) -> dict[str, str]:
            out = {}
            for r in root.tables(field):
                index = r.scalar(1, "I")
                if index >= len(ids):
                    raise FlatBufferError(f"ref {r.string(0)!r}: snapshot index {index} out of range")
                out[r.string(0)] = ids[index]
            return out

        start, n = root.vector_length(3)
        deleted = {Table.string_at(buf, start + 4 * i, where) for i in range(n)}
        return RepoInfo(refs(2), refs(1), deleted, snapshots)
    except FlatBufferError as e:
        raise MetadataError(f"{where}: corrupt repo info ({e})") from None


def parse_manifest(buf: bytes, where: str, node_id: bytes) -> dict[tuple[int, ...], bytes | Target]:
    """NODE_ID's chunk references in a manifest: index -> inline bytes, or a Target whose url
    is ``chunks/ID`` (native) or the virtual chunk's location."""
    out: dict[tuple[int, ...], bytes | Target] = {}
    try:
        for array in Table.root(buf, where).tables(1):
            if array.struct_bytes(0, 8) != node_id:
                continue
            for ref in array.tables(1):
                index = tuple(ref.scalars(0, "I"))
                inline = ref.bytes(1)
                offset, length = ref.scalar(2, "Q"), ref.scalar(3, "Q")
                chunk_id = ref.struct_bytes(4, 12)
                if inline is not None:
                    out[index] = inline
                elif chunk_id is not None:
                    out[index] = Target(f"chunks/{encode_id(chunk_id)}", offset, length)
                elif (location := ref.string(5)) is not None:
                    out[index] = Target(location, offset, length)
                elif ref.has(8):
                    raise FlatBufferError(f"chunk {index}: its virtual location is compressed with the "
                                          f"manifest's zstd dictionary, which this reader does not support")
                else:
                    raise FlatBufferError(f"chunk {index}: neither inline, native nor virtual")
    except FlatBufferError as e:
        raise MetadataError(f"{where}: corrupt manifest ({e})") from None
    return out


class IcechunkStore(Store):
    """The Zarr store an Icechunk repository holds at REF. ``repo`` reads the repository's
    files (keys relative to its root), ``targets`` the files virtual chunks point to (keys are
    URLs); ``location`` names the repository in messages."""

    can_list = True
    bounded = True  # ``repo`` and ``targets`` are concurrency-bounded stores (see core.sources)

    def __init__(self, repo: Store, targets: Store, ref: str | None = None, location: str | None = None,
                 target_base: str | None = None):
        self.repo = repo
        self.targets = targets
        self.target_base = target_base
        self.ref = Ref.parse(ref)
        self.location = location or repo.describe()
        self.snapshot = Once(self._load)
        self._info: RepoInfo | None | bool = False  # False: not read yet; None: format 1
        self._manifests: OrderedDict[tuple[str, bytes], dict] = OrderedDict()

    # ------------------------------------------------------------------ snapshots and refs
    async def _file(self, key: str, file_type: int) -> bytes:
        raw = await self.repo.get(key)
        if raw is None:
            raise StoreError(f"{self.location}/{key}: not found")
        return unwrap(raw, f"{self.location}/{key}", file_type)

    async def read_snapshot(self, snapshot_id: str) -> Snapshot:
        key = f"snapshots/{snapshot_id}"
        snapshot = parse_snapshot(await self._file(key, 1), f"{self.location}/{key}")
        if snapshot.id != snapshot_id:
            raise MetadataError(f"{self.location}/{key}: holds snapshot {snapshot.id}, not {snapshot_id}")
        return snapshot

    async def repo_info(self) -> RepoInfo | None:
        """Format 2's ``repo`` file, or None for a format-1 repository (no such file)."""
        if self._info is False:
            raw = await self.repo.get("repo")
            self._info = None if raw is None else parse_repo_info(
                unwrap(raw, f"{self.location}/repo", 6), f"{self.location}/repo")
        return self._info

    async def resolve(self, ref: Ref) -> str:
        """The snapshot id a ref points to."""
        info = await self.repo_info()
        if ref.kind == "snapshot":
            if info is not None and ref.name not in info.snapshots:
                raise StoreError(f"{self.location}: no snapshot {ref.name} in the repository")
            return ref.name
        if info is not None:
            names = info.branches if ref.kind == "branch" else info.tags
            if ref.kind == "tag" and ref.name in info.deleted_tags:
                raise StoreError(f"{self.location}: tag {ref.name!r} was deleted")
            if ref.name not in names:
                raise StoreError(f"{self.location}: no {ref.kind} {ref.name!r} (the repository has "
                                 f"{', '.join(sorted(names)) or 'none'})")
            return names[ref.name]
        key = f"refs/{ref.kind}.{ref.name}/ref.json"
        raw = await self.repo.get(key)
        if raw is None:
            if await self.repo.get("refs/branch.main/ref.json") is None:
                raise StoreError(f"{self.location}: not an Icechunk repository (no repo file and "
                                 f"no refs/branch.main/ref.json)")
            raise StoreError(f"{self.location}: no {ref.kind} {ref.name!r} (no {key})")
        if ref.kind == "tag" and await self.repo.get(key + ".deleted") is not None:
            raise StoreError(f"{self.location}: tag {ref.name!r} was deleted")
        doc = parse_json(raw, f"{self.location}/{key}")
        snapshot = doc.get("snapshot")
        if not isinstance(snapshot, str) or not _ID.match(snapshot):
            raise MetadataError(f"{self.location}/{key}: 'snapshot' must be a 20-character id, "
                                f"got {snapshot!r}")
        return snapshot

    async def _load(self) -> Snapshot:
        snapshot = await self.read_snapshot(await self.resolve(self.ref))
        info = await self.repo_info()
        if info is not None:  # format 2 keeps the parent in the repo file
            snapshot.parent = info.snapshots[snapshot.id][0]
        return snapshot

    async def history(self, limit: int = 100) -> list[dict]:
        """The snapshot read and its ancestors, newest first: id, time (UTC), message."""
        out = []
        snapshot: Snapshot | None = await self.snapshot()
        info = await self.repo_info()
        while snapshot is not None and len(out) < min(limit, MAX_HISTORY):
            out.append({"id": snapshot.id, "time": snapshot.time, "message": snapshot.message})
            if snapshot.parent is None:
                snapshot = None
            elif info is not None:
                parent, flushed_at, message = info.snapshots[snapshot.parent]
                snapshot = Snapshot(snapshot.parent, parent, flushed_at, message, {})
            else:
                snapshot = await self.read_snapshot(snapshot.parent)
        return out

    async def refs(self) -> dict[str, list[str]]:
        """Branch and tag names: from the repo file (format 2), else where the repository can be
        listed (format 1 in a folder; not over HTTP)."""
        info = await self.repo_info()
        if info is not None:
            return {"branches": sorted(info.branches),
                    "tags": sorted(set(info.tags) - info.deleted_tags)}
        if not self.repo.can_list:
            return {"branches": [], "tags": []}
        _, dirs = await self.repo.list_dir("refs/")
        names = {"branch": [], "tag": []}
        for d in dirs:
            kind, _, name = d.partition(".")
            if kind in names:
                keys, _ = await self.repo.list_dir(f"refs/{d}/")
                if "ref.json" in keys and "ref.json.deleted" not in keys:
                    names[kind].append(name)
        return {"branches": sorted(names["branch"]), "tags": sorted(names["tag"])}

    # --------------------------------------------------------------------- the Zarr store
    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        snapshot = await self.snapshot()
        if key == "zarr.json" or key.endswith("/zarr.json"):
            node = snapshot.nodes.get("/" + key[:-len("zarr.json")].rstrip("/"))
            return None if node is None else slice_value(node.user_data, byte_range)
        found = self._chunk(snapshot, key)
        if found is None:
            return None
        node, index = found
        ref = await self._chunk_ref(node, index)
        if ref is None or isinstance(ref, bytes):
            return None if ref is None else slice_value(ref, byte_range)
        where = f"{self.location} ({self.ref}): chunk {key!r} -> {ref.url}"
        if ref.url.startswith("chunks/"):
            return await read_target(self.repo, ref.url, ref.request(byte_range), where)
        url = ref.url
        if self.target_base is not None:
            url = f"{self.target_base.rstrip('/')}/{url.rsplit('/', 1)[-1]}"
            where += f" (fetched from {url})"
        return await read_target(self.targets, url, ref.request(byte_range), where)

    def _chunk(self, snapshot: Snapshot, key: str) -> tuple[NodeInfo, tuple[int, ...]] | None:
        """The array node and chunk index of a chunk KEY (``a/c/0/1``, or other encodings)."""
        parts = key.split("/")
        for i in range(len(parts) - 1, -1, -1):
            node = snapshot.nodes.get("/" + "/".join(parts[:i]))
            if node is None or node.shape is None:
                continue
            rest = "/".join(parts[i:])
            if rest == "c":
                text = []
            elif rest[:2] in ("c/", "c."):
                text = rest[2:].split(rest[1])
            else:
                text = re.split(r"[./]", rest)
            try:
                index = tuple(int(t) for t in text)
            except ValueError:
                return None
            return (node, index) if len(index) == len(node.shape) else None
        return None

    async def _chunk_ref(self, node: NodeInfo, index: tuple[int, ...]):
        for manifest_id, extents in node.manifests:
            if len(extents) == len(index) and all(a <= i < b for i, (a, b) in zip(index, extents)):
                return (await self._manifest(manifest_id, node.node_id)).get(index)
        return None

    async def _manifest(self, manifest_id: str, node_id: bytes) -> dict:
        entry = (manifest_id, node_id)
        refs = self._manifests.get(entry)
        if refs is None:
            key = f"manifests/{manifest_id}"
            refs = parse_manifest(await self._file(key, 2), f"{self.location}/{key}", node_id)
            self._manifests[entry] = refs
            while len(self._manifests) > MANIFESTS_KEPT:
                self._manifests.popitem(last=False)
        self._manifests.move_to_end(entry)
        return refs

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        snapshot = await self.snapshot()
        keys = [f"{p[1:]}/zarr.json" if p != "/" else "zarr.json" for p in snapshot.nodes]
        return split_listing(keys, prefix)

    async def _all_refs(self, prefix: str):
        """(array key, chunk index, reference) of every chunk of the arrays under PREFIX."""
        snapshot = await self.snapshot()
        for path, node in snapshot.nodes.items():
            key = path[1:]
            if node.shape is None or (prefix and not (key + "/").startswith(prefix)):
                continue
            for manifest_id, _ in node.manifests:
                for index, ref in (await self._manifest(manifest_id, node.node_id)).items():
                    yield key, index, ref

    async def sizes(self, prefix: str) -> dict[str, int]:
        """Stored sizes of the chunks of the arrays under PREFIX, from their manifests."""
        out = {}
        async for key, index, ref in self._all_refs(prefix):
            chunk = "/".join(["c", *map(str, index)])
            out[f"{key}/{chunk}" if key else chunk] = len(ref) if isinstance(ref, bytes) else ref.length or 0
        return out

    async def chunk_files(self, prefix: str) -> dict[str, tuple[int, int]]:
        """Virtual chunks' files; native chunks count under the repository's ``chunks/``, inline
        ones under "inline"."""
        out: dict[str, tuple[int, int]] = {}
        async for _, _, ref in self._all_refs(prefix):
            if isinstance(ref, bytes):
                where, size = "inline", len(ref)
            else:
                where = f"{self.location}/chunks/" if ref.url.startswith("chunks/") else ref.url
                size = ref.length or 0
            count, total = out.get(where, (0, 0))
            out[where] = (count + 1, total + size)
        return out

    def info(self) -> dict:
        return {"kind": "icechunk", "ref": str(self.ref),
                "snapshot": None if self.snapshot.value is None else self.snapshot.value.id}

    def describe(self) -> str:
        return self.location

