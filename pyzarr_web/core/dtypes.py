"""Zarr v2 / v3 data types and fill values → numpy.

v3 arrays read back in native byte order (the ``bytes`` codec decides the stored order); v2 arrays
keep the byte order written in ``.zarray`` — both as zarr-python returns them.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from .errors import MetadataError

_V3_SIMPLE = {name: np.dtype(name) for name in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}
#: v3 variable-length types: decoded into object arrays of str / bytes
VLEN_V3 = {"string": str, "variable_length_bytes": bytes, "bytes": bytes}
OBJECT = np.dtype(object)


def parse_v3_dtype(spec: Any) -> np.dtype:
    """numpy dtype of a v3 ``data_type`` (plain name or ``{"name", "configuration"}``)."""
    if isinstance(spec, str):
        if spec in _V3_SIMPLE:
            return _V3_SIMPLE[spec]
        if spec in VLEN_V3:
            return OBJECT
        if spec.startswith("r") and spec[1:].isdigit() and int(spec[1:]) % 8 == 0 \
                and int(spec[1:]) > 0:
            return np.dtype(f"V{int(spec[1:]) // 8}")
        raise MetadataError(f"unsupported data_type {spec!r}")
    if not isinstance(spec, dict) or "name" not in spec:
        raise MetadataError(f"malformed data_type {spec!r}")
    name, conf = spec["name"], spec.get("configuration", {})
    if not isinstance(conf, dict) or not isinstance(name, str):
        raise MetadataError(f"malformed data_type {spec!r}")
    try:
        if name in ("numpy.datetime64", "numpy.timedelta64"):
            scale = conf.get("scale_factor", 1)
            code = "M8" if name.endswith("datetime64") else "m8"
            return np.dtype(f"{code}[{'' if scale == 1 else scale}{conf['unit']}]")
        if name == "fixed_length_utf32":
            return np.dtype(f"U{conf['length_bytes'] // 4}")
        if name == "null_terminated_bytes":
            return np.dtype(f"S{conf['length_bytes']}")
        if name == "raw_bytes":
            return np.dtype(f"V{conf['length_bytes']}")
        if name == "structured":
            return np.dtype([(field, parse_v3_dtype(dt)) for field, dt in conf["fields"]])
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise MetadataError(f"malformed data_type {spec!r}: {e}") from e
    return parse_v3_dtype(name)


def parse_v2_dtype(spec: Any) -> np.dtype:
    """numpy dtype of a v2 ``dtype`` (typestr or structured field list)."""
    try:
        if isinstance(spec, list):
            return np.dtype([_v2_field(f) for f in spec])
        dt = np.dtype(spec)
    except (TypeError, ValueError, OverflowError) as e:
        raise MetadataError(f"unsupported dtype {spec!r}: {e}") from e
    return dt


def _v2_field(field: list) -> tuple:
    name, dt, *shape = field
    return (name, parse_v2_dtype(dt), *(tuple(s) for s in shape))


def _float(value: Any, dtype: np.dtype) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    if value in special:
        return special[value]
    if isinstance(value, str) and value.startswith("0x"):  # bit pattern, v3 spec
        raw = int(value, 16).to_bytes(dtype.itemsize, "big")
        return np.frombuffer(raw, dtype.newbyteorder(">"))[0]
    raise ValueError(f"not a float: {value!r}")


def parse_fill_value(value: Any, dtype: np.dtype, zarr_format: int, vlen: type | None = None) -> Any:
    """numpy scalar (or str/bytes for variable-length types; None for v2 ``null``)."""
    if value is None:
        return None
    try:
        if vlen is not None:
            if vlen is bytes:
                return base64.b64decode(value) if isinstance(value, str) else bytes(value)
            return value
        if dtype == OBJECT:  # v2 object array: the fill value is stored as is
            return value
        kind = dtype.kind
        if kind == "b":
            if not isinstance(value, bool) and not (zarr_format == 2 and value in (0, 1)):
                raise TypeError("a boolean fill value must be true or false")
            return np.bool_(value)
        if kind in "iu":
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("an integer fill value must be a JSON integer")
            return dtype.type(value)
        if kind == "f":
            return dtype.type(_float(value, dtype))
        if kind == "c":
            if isinstance(value, (list, tuple)):
                re, im = value
                part = np.dtype(f"f{dtype.itemsize // 2}")
                return dtype.type(complex(_float(re, part), _float(im, part)))
            return dtype.type(value)
        if kind in "mM":
            unit = np.datetime_data(dtype)
            return dtype.type(value, unit) if isinstance(value, int) else dtype.type(value)
        if kind == "U":
            return np.array(value, dtype)[()]
        if kind in "SV":
            if isinstance(value, list):  # v3 r* types: a list of byte values
                value = bytes(value)
            elif isinstance(value, str):
                value = base64.b64decode(value)
            elif isinstance(value, int) and kind == "V":
                value = value.to_bytes(dtype.itemsize, "little")
            return np.frombuffer(value.ljust(dtype.itemsize, b"\0")[:dtype.itemsize], dtype)[0]
    except (TypeError, ValueError, OverflowError) as e:
        raise MetadataError(f"fill_value {value!r} does not fit dtype {dtype} ({e})") from e
    raise MetadataError(f"fill_value {value!r}: unsupported dtype {dtype}")


def default_fill(dtype: np.dtype, vlen: type | None = None) -> Any:
    """What a missing chunk holds when no fill value is given (zarr-python: zero / empty)."""
    if vlen is not None:
        return vlen()
    if dtype == OBJECT:
        return 0
    return np.zeros((), dtype)[()]
