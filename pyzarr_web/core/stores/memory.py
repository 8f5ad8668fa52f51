"""A dict-backed store, for tests and for data assembled in memory."""

from __future__ import annotations

from ..store import ByteRequest, Store, slice_value, split_listing


class MemoryStore(Store):
    can_list = True

    def __init__(self, values: dict[str, bytes] | None = None):
        self.values = dict(values or {})

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        data = self.values.get(key)
        return None if data is None else slice_value(bytes(data), byte_range)

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        return split_listing(self.values, prefix)

    async def sizes(self, prefix: str) -> dict[str, int]:
        return {k: len(v) for k, v in self.values.items() if k.startswith(prefix)}

    def describe(self) -> str:
        return "memory store"
