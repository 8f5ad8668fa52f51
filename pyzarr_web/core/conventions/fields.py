"""Lenient typed reads of convention attributes. Unlike the Zarr metadata itself, a convention is
optional: a wrong type in it must not stop the node from opening, so each read returns None (or
an empty value) and records a problem naming the group, the field and what was expected."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..metadata.fields import show
from ..nodepaths import resolve

MISSING = object()
#: problems kept per group; the rest are counted (a hostile list must not fill memory)
MAX_PROBLEMS = 50


def is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


class Notes:
    """Problems found reading the attributes of the group at ``where``."""

    def __init__(self, where: str):
        self.where = where or "/"
        self._problems: list[str] = []
        self._dropped = 0

    @property
    def problems(self) -> list[str]:
        more = [f"{self.where}: {self._dropped} more problems not listed"] if self._dropped else []
        return self._problems + more

    def bad(self, field: str, expected: str, value: Any = MISSING) -> None:
        got = "nothing (missing)" if value is MISSING else show(value)
        self.note(f"{field}: expected {expected}, got {got}")

    def note(self, message: str) -> None:
        if len(self._problems) < MAX_PROBLEMS:
            self._problems.append(f"{self.where}: {message}")
        else:
            self._dropped += 1

    def obj(self, value: Any, field: str, required: bool = False) -> dict | None:
        if isinstance(value, dict):
            return value
        if value is not MISSING and value is not None or required:
            self.bad(field, "a JSON object", value)
        return None

    def items(self, value: Any, field: str, required: bool = False) -> list:
        if isinstance(value, list):
            return value
        if value is not MISSING and value is not None or required:
            self.bad(field, "a JSON list", value)
        return []

    def text(self, value: Any, field: str, required: bool = False) -> str | None:
        if isinstance(value, str):
            return value
        if value is not MISSING and value is not None or required:
            self.bad(field, "a string", value)
        return None

    def numbers(self, value: Any, field: str, count: int | None = None,
                nonzero: bool = False) -> tuple[float, ...] | None:
        """A list of finite numbers (``count`` of them if given); None and a problem if not."""
        if value is MISSING or value is None:
            return None
        if (not isinstance(value, list) or not all(is_number(v) for v in value)
                or (count is not None and len(value) != count)
                or (nonzero and any(v == 0 for v in value))):
            what = f"{count} " if count is not None else ""
            kind = "non-zero finite numbers" if nonzero else "finite numbers"
            self.bad(field, f"a list of {what}{kind}", value)
            return None
        return tuple(float(v) for v in value)

    def path(self, value: Any, field: str) -> str | None:
        """A node path relative to the group (no ``..``, absolute paths, URLs or hidden names)."""
        text = self.text(value, field, required=True)
        if text is None:
            return None
        if resolve("", text) is None:
            self.bad(field, "a relative node path below this group", text)
            return None
        return resolve("", text)

    def entries_with_path(self, entries: list, field: str, key: str = "path") -> Iterator[tuple]:
        """(index, field name, entry, path) of each object of ENTRIES (a list, as :meth:`items`
        gives) whose KEY is a usable relative path; the others are noted and skipped."""
        for i, entry in enumerate(entries):
            entry_field = f"{field}[{i}]"
            if self.obj(entry, entry_field, required=True) is None:
                continue
            path = self.path(get(entry, key), f"{entry_field}.{key}")
            if path is not None:
                yield i, entry_field, entry, path


def get(doc: dict | None, key: str) -> Any:
    """``doc[key]``, or :data:`MISSING` when absent (or when ``doc`` is not an object)."""
    return doc.get(key, MISSING) if isinstance(doc, dict) else MISSING
