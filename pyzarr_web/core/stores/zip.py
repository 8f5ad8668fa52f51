"""A zipped store. Members stored without compression are range-read in place.

A zip made by zipping the store directory itself (``x.zarr/zarr.json`` …) is found too: if the root
holds no Zarr metadata but a single top-level directory does, that directory becomes the root.
"""

from __future__ import annotations

import os
import zipfile
from typing import BinaryIO

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, check_range, key_segments, split_listing

_ROOT_MARKERS = ("zarr.json", ".zgroup", ".zarray", ".zmetadata")


class ZipStore(Store):
    can_list = True

    def __init__(self, path: str | os.PathLike | BinaryIO, name: str | None = None):
        """PATH: a zip file's path, or a seekable binary file (NAME then says what it is)."""
        self.path = name or str(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as e:
            raise StoreError(f"{self.path}: cannot open zip ({e})") from e
        names = [n for n in self._zip.namelist() if not n.endswith("/")]
        self.prefix = _find_root(names)
        self._names = {n[len(self.prefix):]: n for n in names if n.startswith(self.prefix)}

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        key_segments(key, self.path)
        name = self._names.get(key)
        if name is None:
            return None
        check_range(byte_range, f"{self.path}: member {name!r}")
        try:
            with self._zip.open(name) as f:
                if byte_range is None:
                    return f.read()
                if isinstance(byte_range, SuffixRequest):
                    size = self._zip.getinfo(name).file_size
                    f.seek(max(size - byte_range.length, 0))
                    return f.read()
                assert isinstance(byte_range, RangeRequest)
                f.seek(byte_range.offset)
                return f.read(byte_range.length)
        except (OSError, zipfile.BadZipFile, EOFError) as e:
            raise StoreError(f"{self.path}: cannot read member {name!r} ({e})") from e

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        return split_listing(self._names, prefix)

    async def sizes(self, prefix: str) -> dict[str, int]:
        """Member sizes as the reader sees them (uncompressed), from the zip's directory."""
        return {k: self._zip.getinfo(name).file_size for k, name in self._names.items()
                if k.startswith(prefix)}

    def describe(self) -> str:
        return self.path


def _find_root(names: list[str]) -> str:
    if any(n in _ROOT_MARKERS for n in names):
        return ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1:
        top = tops.pop() + "/"
        if any(n[len(top):] in _ROOT_MARKERS for n in names if n.startswith(top)):
            return top
    return ""
