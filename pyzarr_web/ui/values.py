"""Turning decoded values into something a plot can show, and summarising them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPLEX_PARTS = ("magnitude", "phase", "real", "imaginary")


def is_numeric(dtype: np.dtype) -> bool:
    """Whether values of DTYPE can be drawn as an image or a line."""
    return dtype.kind in "biufcmM"


def to_float(data: np.ndarray, complex_part: str = "magnitude", dtype=np.float64) -> np.ndarray:
    """Floats (DTYPE) of numeric data for plotting; datetimes become their integer ticks."""
    if data.dtype.kind == "c":
        part = {"magnitude": np.abs, "phase": np.angle, "real": np.real, "imaginary": np.imag}[complex_part]
        return part(data).astype(dtype)
    if data.dtype.kind in "mM":
        as_int = data.view(np.int64).astype(dtype)
        as_int[np.isnat(data)] = np.nan
        return as_int
    return data.astype(dtype)


@dataclass(frozen=True)
class Summary:
    """Statistics of a displayed slice, computed from the decoded values."""

    shape: tuple[int, ...]
    min: float | None
    max: float | None
    mean: float | None
    nan_count: int

    def as_dict(self) -> dict:
        return {"shape": list(self.shape), "min": self.min, "max": self.max, "mean": self.mean,
                "nan_count": self.nan_count}


def summarise(data: np.ndarray, complex_part: str = "magnitude") -> Summary:
    """Exact min/max/mean ignoring NaN, and the NaN count, of numeric DATA.

    Integers are summarised as they are (no float copy: this runs on every slider move)."""
    if data.size and data.dtype.kind in "biu":
        return Summary(data.shape, float(data.min()), float(data.max()), float(data.mean(dtype=np.float64)), 0)
    values = data if data.dtype.kind == "f" else to_float(data, complex_part)
    nan = np.isnan(values)
    nan_count = int(nan.sum())
    finite = values[~nan] if nan_count else values
    if finite.size == 0:
        return Summary(data.shape, None, None, None, nan_count)
    return Summary(data.shape, float(finite.min()), float(finite.max()), float(finite.mean(dtype=np.float64)),
                   nan_count)


def sample(values: np.ndarray, max_samples: int = 1 << 18) -> np.ndarray:
    """An evenly strided subset of at most about MAX_SAMPLES values, for estimates (contrast
    percentiles, histogram shape) that need not touch every value of a large slice."""
    flat = values.reshape(-1)
    return flat[::max(1, flat.size // max_samples)]


def robust_limits(values: np.ndarray, low: float = 2.0, high: float = 98.0) -> tuple[float, float]:
    """Contrast limits from percentiles so a few outliers do not wash out the image."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [low, high]))
    if lo == hi:
        lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        hi = lo + 1.0
    return lo, hi
