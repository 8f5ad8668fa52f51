"""A directory on the local file system (CPython, or Pyodide's virtual file system)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, check_range, key_segments


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
        check_range(byte_range, str(path))
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

    def _scandir(self, directory) -> list[os.DirEntry]:
        try:
            return sorted(os.scandir(directory), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as e:
            raise StoreError(f"{directory}: cannot list ({e})") from e

    def _no_cycle(self, entry: os.DirEntry, above: set[str]) -> None:
        """Refuse a directory symlink back to a directory it lies in (walking it never ends)."""
        if entry.is_symlink() and os.path.realpath(entry.path) in above:
            raise StoreError(f"{entry.path}: symbolic link cycle (it points back to "
                             f"{os.path.realpath(entry.path)}, which contains it)")

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        parts = prefix.rstrip("/").split("/") if prefix else []
        d = self._path("/".join(parts)) if parts else self.root
        above = {os.path.realpath(self.root.joinpath(*parts[:i])) for i in range(len(parts) + 1)}
        entries = self._scandir(d)
        dirs = [e for e in entries if e.is_dir()]
        for e in dirs:
            self._no_cycle(e, above)
        return [e.name for e in entries if e.is_file()], [e.name for e in dirs]

    async def sizes(self, prefix: str) -> dict[str, int]:
        out: dict[str, int] = {}
        start = self._path(prefix.rstrip("/")) if prefix else self.root
        stack = [(start, prefix, frozenset({os.path.realpath(start)}))]
        while stack:
            directory, key_prefix, above = stack.pop()
            for entry in self._scandir(directory):
                if entry.is_dir():
                    self._no_cycle(entry, above)
                    stack.append((entry.path, f"{key_prefix}{entry.name}/",
                                  above | {os.path.realpath(entry.path)}))
                elif entry.is_file():
                    out[key_prefix + entry.name] = entry.stat().st_size
        return out

    def describe(self) -> str:
        return str(self.root)
