"""Typed reads of one JSON object's fields. Each read either returns a value the Zarr specs allow or
raises :class:`MetadataError` naming the document, the field and what was expected, so nothing
downstream does arithmetic on a value it has not checked."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import MetadataError

#: numpy 1's maximum number of dimensions (numpy 2 allows 64): the bound every numpy can hold
MAX_NDIM = 32
#: sizes, offsets and element counts must fit numpy's int64 (``np.prod``, ``np.empty``)
INT64_MAX = 2**63 - 1
_MISSING = object()


def show(value: Any, limit: int = 80) -> str:
    """A value as JSON text, shortened; ASCII only, so a hostile value cannot reach a terminal."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = ascii(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def is_int(value: Any) -> bool:
    """JSON integers only: ``true`` is not 1 here."""
    return isinstance(value, int) and not isinstance(value, bool)


def product(values: Sequence[int]) -> int:
    """Exact (Python int) product, for overflow checks before numpy sees the numbers."""
    return math.prod(values)


class Fields:
    """The fields of one JSON object ``doc`` found at ``where`` (a key or URL, plus a path
    inside the document such as ``codecs[1].configuration``)."""

    def __init__(self, doc: Any, where: str, path: str = ""):
        if not isinstance(doc, dict):
            raise MetadataError(f"{where}: {path or 'document'}: expected a JSON object, "
                                f"got {show(doc)}")
        self.doc = doc
        self.where = where
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, expected: str, value: Any = _MISSING) -> MetadataError:
        got = "nothing (missing)" if value is _MISSING else show(value)
        return MetadataError(f"{self.where}: field {self.name(key)!r}: expected {expected}, "
                             f"got {got}")

    @contextmanager
    def parsing(self, key: str) -> Iterator[None]:
        """Errors of a parser run on field ``key`` (codecs, data types) name the document and
        the field too."""
        try:
            yield
        except MetadataError as e:
            raise MetadataError(f"{self.where}: field {self.name(key)!r}: {e}") from e

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value as is; ``default`` when absent (a missing required field is an error)."""
        if key in self.doc:
            return self.doc[key]
        if default is _MISSING:
            raise self.fail(key, "a value")
        return default

    def sub(self, key: str, default: Any = _MISSING) -> Fields:
        """A nested object, read with the same checks."""
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise self.fail(key, "a JSON object", value)
        return Fields(value, self.where, self.name(key))

    def object(self, key: str, default: Any = _MISSING) -> dict:
        return self.sub(key, default).doc

    def text(self, key: str, choices: Sequence[str] | None = None,
             default: Any = _MISSING) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or (choices is not None and value not in choices):
            expected = ("one of " + ", ".join(map(show, choices)) if choices is not None
                        else "a string")
            raise self.fail(key, expected, value)
        return value

    def integer(self, key: str, lo: int = 0, hi: int = INT64_MAX,
                default: Any = _MISSING) -> int:
        value = self.raw(key, default)
        if not is_int(value) or not lo <= value <= hi:
            raise self.fail(key, f"an integer from {lo} to {hi}", value)
        return value

    def number(self, key: str, nonzero: bool = False, default: Any = _MISSING) -> float:
        value = self.raw(key, default)
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not math.isfinite(value) or (nonzero and value == 0)):
            raise self.fail(key, "a non-zero finite number" if nonzero else "a finite number",
                            value)
        return value

    def shape(self, key: str, lo: int = 0, ndim: int | None = None) -> tuple[int, ...]:
        """A list of at most :data:`MAX_NDIM` integers ≥ ``lo`` (``ndim`` of them if given)
        whose product fits int64."""
        value = self.raw(key)
        what = "non-negative" if lo == 0 else "positive"
        if (not isinstance(value, list) or not all(is_int(v) and lo <= v <= INT64_MAX
                                                   for v in value)):
            raise self.fail(key, f"a list of {what} integers", value)
        if ndim is not None and len(value) != ndim:
            raise self.fail(key, f"{ndim} {what} integers (one per dimension)", value)
        if len(value) > MAX_NDIM:
            raise self.fail(key, f"at most {MAX_NDIM} dimensions (the most numpy 1 can hold)",
                            value)
        if product(value) > INT64_MAX:
            raise self.fail(key, "a shape whose element count fits a 64-bit integer", value)
        return tuple(value)

    def items(self, key: str, default: Any = _MISSING) -> list | None:
        """A list; null too when ``default`` is None (v2's ``"filters": null``)."""
        value = self.raw(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, list):
            raise self.fail(key, "a JSON list", value)
        return value
