"""Stores over files the user picked or dropped on the page (a folder, a .zip or an OME-Zarr .ozx),
read in the worker a slice at a time — never a whole file or folder into memory.

The page hands the worker ``File`` objects (handles, not contents) as a numbered set; the
worker's ``self.pyzarrPicked`` reads slices of them (``Blob.slice``). A source
``picked://SET/NAME`` is the folder NAME of that set, or the zip file NAME, read through
:class:`~.zip.ZipStore` whose central directory and members are read by range.
"""

from __future__ import annotations

import io

import js  # type: ignore[import-not-found]

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, check_range, key_segments, split_listing
from .zip import ZipStore

SCHEME = "picked://"


def picked_store(source: str) -> Store:
    """The store for ``picked://SET/NAME``."""
    set_id, _, name = source[len(SCHEME):].partition("/")
    try:
        number = int(set_id)
    except ValueError:
        raise StoreError(f"{source}: not a set of picked files") from None
    paths = list(js.pyzarrPicked.paths(number))
    if not paths:
        raise StoreError(f"{source}: these local files are no longer available (after a reload or a "
                         f"restart the browser forgets them): open the folder or file again")
    if name.lower().endswith((".zip", ".ozx")) and name in paths:
        return ZipStore(PickedFile(number, name), name=source)
    return PickedFolderStore(number, name, paths, source)


class PickedFolderStore(Store):
    """A picked folder: the paths below NAME are the keys."""

    can_list = True

    def __init__(self, set_id: int, name: str, paths: list[str], source: str):
        self.set_id, self.source = set_id, source
        prefix = f"{name}/" if name else ""
        self._paths = {p[len(prefix):]: p for p in paths if p.startswith(prefix)}

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        key_segments(key, self.source)
        path = self._paths.get(key)
        if path is None:
            return None
        size = int(js.pyzarrPicked.size(self.set_id, path))
        check_range(byte_range, f"{self.source}/{key}")
        if byte_range is None:
            start, end = 0, size
        elif isinstance(byte_range, SuffixRequest):
            start, end = max(size - byte_range.length, 0), size
        else:
            assert isinstance(byte_range, RangeRequest)
            start, end = byte_range.offset, min(byte_range.offset + byte_range.length, size)
        data = await js.pyzarrPicked.slice(self.set_id, path, start, end)
        return bytes(data.to_py())

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        return split_listing(self._paths, prefix)

    async def sizes(self, prefix: str) -> dict[str, int]:
        return {k: int(js.pyzarrPicked.size(self.set_id, p)) for k, p in self._paths.items() if k.startswith(prefix)}

    def describe(self) -> str:
        return self.source


class PickedFile(io.RawIOBase):
    """A picked file as a seekable binary file, each read one synchronous slice (zipfile reads
    the central directory and then only the members asked for)."""

    def __init__(self, set_id: int, path: str):
        self.set_id, self.path = set_id, path
        self.size = int(js.pyzarrPicked.size(set_id, path))
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        end = min(self.position + len(buffer), self.size)
        if end <= self.position:
            return 0
        data = js.pyzarrPicked.sliceSync(self.set_id, self.path, self.position, end).to_py()
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)
