"""A directory on the local file system (CPython, or Pyodide's virtual file system)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, key_segments


class LocalStore(Store):
    can_list = True

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise StoreError(f"{self.root}: not a directory")

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key_segments(key, str(self.root)))

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                if byte_range is None:
                    return f.read()
                if isinstance(byte_range, SuffixRequest):
                    size = f.seek(0, os.SEEK_END)
                    f.seek(max(size - byte_range.length, 0))
                    return f.read()
                assert isinstance(byte_range, RangeRequest)
                f.seek(byte_range.offset)
                return f.read(byte_range.length)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as e:
            raise StoreError(f"{path}: cannot read ({e})") from e

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        d = self._path(prefix.rstrip("/")) if prefix else self.root
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        return ([e.name for e in entries if e.is_file()], [e.name for e in entries if e.is_dir()])

    async def sizes(self, prefix: str) -> dict[str, int]:
        out: dict[str, int] = {}
        stack = [(self._path(prefix.rstrip("/")) if prefix else self.root, prefix)]
        while stack:
            directory, key_prefix = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                raise StoreError(f"{directory}: cannot list ({e})") from e
            for entry in entries:
                if entry.is_dir():
                    stack.append((entry.path, f"{key_prefix}{entry.name}/"))
                elif entry.is_file():
                    out[key_prefix + entry.name] = entry.stat().st_size
        return out

    def describe(self) -> str:
        return str(self.root)
