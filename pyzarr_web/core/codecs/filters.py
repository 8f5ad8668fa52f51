"""numcodecs filters as array→array codecs (v2 ``filters`` and v3 ``numcodecs.*`` names).

``decode_flat`` mirrors numcodecs' decode on a flat buffer: numcodecs is the reference.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import parse_v2_dtype
from ..errors import MetadataError
from ..metadata.fields import Fields
from .base import ArrayArrayCodec, ChunkSpec, as_bytes_view, register


class Filter(ArrayArrayCodec):
    #: dtype fields of the configuration, each checked when the codec is built
    dtype_fields: tuple[str, ...] = ()

    def __init__(self, config: Fields):
        self.config = config.doc
        for key in self.dtype_fields:
            try:
                self._dt(key)
            except (MetadataError, KeyError) as e:
                raise config.fail(key, "a numpy dtype", config.raw(key, None)) from e
        self.check(config)

    def check(self, config: Fields) -> None:
        """Refuse configuration values numcodecs would refuse or misuse."""

    def _dt(self, key: str, default: str | None = None) -> np.dtype:
        value = self.config.get(key) or default or self.config["dtype"]
        return parse_v2_dtype(value)

    def encoded_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return spec

    def decode_flat(self, buf) -> np.ndarray:
        raise NotImplementedError

    def decode(self, arr, spec: ChunkSpec) -> np.ndarray:
        return self.decode_flat(arr).reshape(spec.shape)

    def __repr__(self) -> str:
        conf = ", ".join(f"{k}={v}" for k, v in self.config.items() if k != "id")
        return f"{self.name}({conf})"


def _view(buf, dtype: np.dtype) -> np.ndarray:
    return as_bytes_view(buf).view(dtype)


@register("delta", "numcodecs.delta")
class Delta(Filter):
    name = "delta"
    dtype_fields = ("dtype", "astype")

    def encoded_spec(self, spec):
        return spec.with_(dtype=self._dt("astype"))

    def decode_flat(self, buf):
        enc = _view(buf, self._dt("astype"))
        dec = np.empty_like(enc, dtype=self._dt("dtype"))
        np.cumsum(enc, out=dec)
        return dec


@register("fixedscaleoffset", "numcodecs.fixedscaleoffset")
class FixedScaleOffset(Filter):
    name = "fixedscaleoffset"
    dtype_fields = ("dtype", "astype")

    def check(self, config):
        config.number("scale", nonzero=True)  # decoding divides by it
        config.number("offset")

    def encoded_spec(self, spec):
        return spec.with_(dtype=self._dt("astype"))

    def decode_flat(self, buf):
        enc = _view(buf, self._dt("astype"))
        dec = (enc / self.config["scale"]) + self.config["offset"]
        return dec.astype(self._dt("dtype"), copy=False)


@register("quantize", "numcodecs.quantize")
class Quantize(Filter):
    name = "quantize"
    dtype_fields = ("dtype", "astype")

    def encoded_spec(self, spec):
        return spec.with_(dtype=self._dt("astype"))

    def decode_flat(self, buf):
        return _view(buf, self._dt("astype")).astype(self._dt("dtype"), copy=False)


@register("bitround", "numcodecs.bitround")
class BitRound(Filter):
    """Rounding is lossy on encode only; decoding is the identity."""

    name = "bitround"

    def decode(self, arr, spec):
        return arr

    def decode_flat(self, buf):
        return buf


@register("astype", "numcodecs.astype")
class AsType(Filter):
    name = "astype"
    dtype_fields = ("encode_dtype", "decode_dtype")

    def encoded_spec(self, spec):
        return spec.with_(dtype=self._dt("encode_dtype"))

    def decode_flat(self, buf):
        return _view(buf, self._dt("encode_dtype")).astype(self._dt("decode_dtype"), copy=False)


@register("packbits", "numcodecs.packbits")
class PackBits(Filter):
    """Booleans packed 8 per byte, after one byte giving the number of padding bits."""

    name = "packbits"

    def encoded_spec(self, spec):
        n = int(np.prod(spec.shape, dtype=np.int64))
        return spec.with_(shape=(1 + -(-n // 8),), dtype=np.dtype("u1"))

    def decode_flat(self, buf):
        enc = as_bytes_view(buf)
        padding = int(enc[0])
        dec = np.unpackbits(enc[1:])
        if padding:
            dec = dec[:-padding]
        return dec.view(bool)


@register("categorize", "numcodecs.categorize")
class Categorize(Filter):
    """Small integers standing for labels (1-based; 0 means the empty string)."""

    name = "categorize"
    dtype_fields = ("dtype", "astype")

    def check(self, config):
        if not all(isinstance(label, str) for label in config.items("labels")):
            raise config.fail("labels", "a list of strings", config.raw("labels"))

    def encoded_spec(self, spec):
        return spec.with_(dtype=self._dt("astype"))

    def decode_flat(self, buf):
        enc = _view(buf, self._dt("astype"))
        dec = np.full(enc.shape, "", dtype=self._dt("dtype"))
        for i, label in enumerate(self.config["labels"]):
            dec[enc == (i + 1)] = label
        return dec
