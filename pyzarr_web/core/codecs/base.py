"""Codec kinds, the chunk spec they decode against, and the name → codec registry.

Three stages as in Zarr v3: array→array (transpose, numcodecs filters), array→bytes (bytes, vlen,
sharding, the v2 chunk layout) and bytes→bytes (compressors, checksums). Codecs only decode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import CodecError, MetadataError
from ..metadata.fields import Fields, show

#: variable-length chunks: bound on the mean item size and on all items of one chunk, so a
#: compressed chunk of strings cannot decompress without limit
VLEN_ITEM_CAP = 1 << 20
VLEN_CHUNK_CAP = 256 << 20


@dataclass(frozen=True)
class ChunkSpec:
    """What a decoded chunk must look like (``order``: memory layout of v2 chunk bytes)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any = None
    order: str = "C"
    vlen: type | None = None  # str / bytes for variable-length types

    @property
    def nbytes(self) -> int | None:
        """Decoded byte size, or None where variable-length items make it unknowable."""
        if self.vlen is not None or self.dtype.hasobject:
            return None
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def max_nbytes(self) -> int:
        """An upper bound of the byte size: :attr:`nbytes`, or for variable-length items their
        encoded size (uint32 count, a uint32 length per item) with at most
        :data:`VLEN_ITEM_CAP` bytes per item on average and :data:`VLEN_CHUNK_CAP` in all."""
        nbytes = self.nbytes
        if nbytes is not None:
            return nbytes
        n = int(np.prod(self.shape, dtype=np.int64))
        return 4 + 4 * n + min(n * VLEN_ITEM_CAP, VLEN_CHUNK_CAP)

    def with_(self, **changes) -> ChunkSpec:
        return replace(self, **changes)


class ArrayArrayCodec:
    def encoded_spec(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of this codec's encoded output (the input of the next stage when decoding)."""
        return spec

    def decode(self, arr: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        raise NotImplementedError


class ArrayBytesCodec:
    def encoded_nbytes(self, spec: ChunkSpec) -> int | None:
        """Size of the encoded bytes for a chunk of ``spec`` (None if data-dependent)."""
        return spec.nbytes

    def max_encoded_nbytes(self, spec: ChunkSpec) -> int:
        """An upper bound of the encoded size: what the codecs before it may decompress to."""
        return spec.max_nbytes

    def decode(self, data: bytes, spec: ChunkSpec) -> np.ndarray:
        raise NotImplementedError


class BytesBytesCodec:
    #: bytes this codec may add on encoding beyond compression (checksums), for size limits
    overhead = 0

    def decode(self, data: bytes, limit: int | None) -> bytes:
        """Decode; ``limit`` (if known) bounds the output so corrupt data cannot explode."""
        raise NotImplementedError


#: builds a codec from its configuration, read through the checks of :class:`Fields`
Factory = Callable[[Fields], Any]
REGISTRY: dict[str, Factory] = {}

#: codecs that would run code from the data; refused whatever the backend
REFUSED = {"pickle", "numcodecs.pickle"}


def register(*names: str):
    """Register a codec class (or factory) under its v2 ids and v3 names."""
    def wrap(factory):
        for name in names:
            REGISTRY[name] = factory
        return factory
    return wrap


def make_codec(name: str, config: dict | None):
    if not isinstance(name, str):
        raise MetadataError(f"codec name: expected a string, got {show(name)}")
    if config is not None and not isinstance(config, dict):
        raise MetadataError(f"codec {name!r}: configuration: expected a JSON object, got "
                            f"{show(config)}")
    if name in REFUSED:
        raise MetadataError(f"codec {name!r} is refused: unpickling data could run arbitrary code")
    factory = REGISTRY.get(name)
    if factory is None:
        raise MetadataError(f"unsupported codec {name!r}")
    try:
        return factory(Fields(dict(config or {}), f"codec {name!r}", "configuration"))
    except MetadataError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as e:
        raise MetadataError(f"codec {name!r}: bad configuration {show(config)} ({e})") from e


def check_size(what: str, got: int, expected: int | None) -> None:
    if expected is not None and got != expected:
        raise CodecError(f"{what}: decoded {got} bytes, expected {expected}")


def as_bytes_view(buf) -> np.ndarray:
    """A flat uint8 view of bytes or of any contiguous ndarray."""
    if isinstance(buf, np.ndarray):
        return np.ascontiguousarray(buf).reshape(-1).view(np.uint8)
    return np.frombuffer(buf, np.uint8)
