"""Metadata documents from bytes to a JSON object, with their size and nesting bounded before
``json.loads`` runs: its recursion on deeply nested input kills Pyodide outright ("Pyodide has
suffered a fatal error"), which no ``except`` can catch."""

from __future__ import annotations

import json
import re

import numpy as np

from ..errors import MetadataError

#: largest metadata document read (a consolidated listing of thousands of nodes fits easily)
MAX_DOCUMENT_BYTES = 32 << 20
#: deepest nesting of lists and objects accepted; real metadata stays below 20
MAX_JSON_DEPTH = 100

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BLOCK = 1 << 20


def json_depth(raw: bytes) -> int:
    """Deepest nesting of ``[``/``{`` in JSON text, brackets inside strings skipped; counted
    in numpy over blocks, so the scan stays cheap and its memory bounded."""
    text = _STRING.sub(b'""', raw)
    deepest = level = 0
    for start in range(0, len(text), _BLOCK):
        block = np.frombuffer(text, np.uint8, min(_BLOCK, len(text) - start), start)
        steps = (np.isin(block, (ord("["), ord("{"))).astype(np.int32)
                 - np.isin(block, (ord("]"), ord("}"))))
        steps = steps[steps != 0]
        if steps.size:
            running = level + np.cumsum(steps, dtype=np.int64)
            deepest = max(deepest, int(running.max()))
            level = int(running[-1])
    return deepest


def parse_json(raw: bytes, where: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> dict:
    """The JSON object in ``raw`` (the document at key/URL ``where``), or MetadataError."""
    if len(raw) > max_bytes:
        raise MetadataError(f"{where}: metadata document of {len(raw)} bytes is larger than "
                            f"the limit of {max_bytes} bytes")
    raw = bytes(raw)
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise MetadataError(f"{where}: JSON nested {depth} levels deep, more than the limit of "
                            f"{MAX_JSON_DEPTH}")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise MetadataError(f"{where}: invalid JSON ({e})") from e
    if not isinstance(doc, dict):
        raise MetadataError(f"{where}: expected a JSON object, got {type(doc).__name__}")
    return doc
