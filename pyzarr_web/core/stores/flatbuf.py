"""Just enough of the FlatBuffers binary format to read tables written by any FlatBuffers
writer (https://flatbuffers.dev/internals/): a root offset, tables found through their vtables,
scalars, inline structs, strings and vectors. Every read is bounds-checked, so a corrupt or
hostile buffer raises :class:`FlatBufferError` (naming the field) instead of reading garbage.
"""

from __future__ import annotations

import struct

from ..errors import MetadataError


class FlatBufferError(MetadataError):
    """A buffer that does not hold a valid table where one was expected."""


class Table:
    """One table in BUF at byte POS. Fields are addressed by their id (declaration order,
    counting a union as two: its type, then its value)."""

    __slots__ = ("buf", "pos", "_vtable", "_vsize")

    def __init__(self, buf: bytes | memoryview, pos: int, what: str = "table"):
        self.buf = buf
        self.pos = pos
        soffset = _unpack("<i", buf, pos, what)
        self._vtable = pos - soffset
        self._vsize = _unpack("<H", buf, self._vtable, what)
        if self._vsize < 4 or self._vsize % 2:
            raise FlatBufferError(f"{what}: bad vtable size {self._vsize}")

    @classmethod
    def root(cls, buf: bytes | memoryview, what: str) -> Table:
        return cls(buf, _unpack("<I", buf, 0, what), what)

    def _field(self, field: int) -> int:
        """Position of FIELD's value, or 0 when absent."""
        at = 4 + 2 * field
        if at + 2 > self._vsize:
            return 0
        offset = _unpack("<H", self.buf, self._vtable + at, "vtable")
        return self.pos + offset if offset else 0

    def has(self, field: int) -> bool:
        return self._field(field) != 0

    def scalar(self, field: int, fmt: str, default=0):
        pos = self._field(field)
        return default if not pos else _unpack("<" + fmt, self.buf, pos, f"field {field}")

    def struct_bytes(self, field: int, size: int) -> bytes | None:
        """An inline struct of SIZE bytes (e.g. a 12-byte id), or None when absent."""
        pos = self._field(field)
        return None if not pos else _slice(self.buf, pos, size, f"field {field}")

    def _target(self, field: int) -> int:
        pos = self._field(field)
        return 0 if not pos else pos + _unpack("<I", self.buf, pos, f"field {field}")

    def table(self, field: int) -> Table | None:
        pos = self._target(field)
        return None if not pos else Table(self.buf, pos, f"field {field}")

    def string(self, field: int) -> str | None:
        data = self.bytes(field)
        if data is None:
            return None
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise FlatBufferError(f"field {field}: not UTF-8 text") from None

    def bytes(self, field: int) -> bytes | None:
        """A string or a [uint8] vector, as bytes."""
        pos = self._target(field)
        if not pos:
            return None
        n = _unpack("<I", self.buf, pos, f"field {field}")
        return _slice(self.buf, pos + 4, n, f"field {field}")

    def vector_length(self, field: int) -> tuple[int, int]:
        """(position of the first element, element count); (0, 0) when absent."""
        pos = self._target(field)
        if not pos:
            return 0, 0
        return pos + 4, _unpack("<I", self.buf, pos, f"field {field}")

    def scalars(self, field: int, fmt: str) -> tuple:
        start, n = self.vector_length(field)
        size = struct.calcsize("<" + fmt)
        _slice(self.buf, start, n * size, f"field {field}")
        return struct.unpack_from(f"<{n}{fmt}", self.buf, start) if n else ()

    def structs(self, field: int, fmt: str) -> list[tuple]:
        """A vector of structs laid out as FMT (struct module syntax, padding included)."""
        start, n = self.vector_length(field)
        size = struct.calcsize("<" + fmt)
        _slice(self.buf, start, n * size, f"field {field}")
        return [struct.unpack_from("<" + fmt, self.buf, start + i * size) for i in range(n)]

    @staticmethod
    def string_at(buf, at: int, what: str) -> str:
        """The string an offset at AT points to (an element of a vector of strings)."""
        pos = at + _unpack("<I", buf, at, what)
        n = _unpack("<I", buf, pos, what)
        try:
            return _slice(buf, pos + 4, n, what).decode()
        except UnicodeDecodeError:
            raise FlatBufferError(f"{what}: not UTF-8 text") from None

    def tables(self, field: int) -> list[Table]:
        start, n = self.vector_length(field)
        _slice(self.buf, start, 4 * n, f"field {field}")
        out = []
        for i in range(n):
            at = start + 4 * i
            out.append(Table(self.buf, at + _unpack("<I", self.buf, at, f"field {field}"), f"field {field}[{i}]"))
        return out


def _unpack(fmt: str, buf, pos: int, what: str):
    try:
        if pos < 0:
            raise struct.error("negative position")
        return struct.unpack_from(fmt, buf, pos)[0]
    except struct.error:
        raise FlatBufferError(f"{what}: offset {pos} lies outside the {len(buf)}-byte buffer") from None


def _slice(buf, pos: int, size: int, what: str) -> bytes:
    if pos < 0 or size < 0 or pos + size > len(buf):
        raise FlatBufferError(f"{what}: {size} bytes at offset {pos} lie outside the "
                              f"{len(buf)}-byte buffer")
    return bytes(buf[pos:pos + size])
