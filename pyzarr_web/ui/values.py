"""Turning decoded values into something a plot can show, and summarising them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPLEX_PARTS = ("magnitude", "phase", "real", "imaginary")


def is_numeric(dtype: np.dtype) -> bool:
    """Whether values of DTYPE can be drawn as an image or a line."""
    return dtype.kind in "biufcmM"


def to_float(data: np.ndarray, complex_part: str = "magnitude") -> np.ndarray:
    """float64 view of numeric data for plotting; datetimes become their integer ticks."""
    if data.dtype.kind == "c":
        part = {"magnitude": np.abs, "phase": np.angle, "real": np.real, "imaginary": np.imag}[complex_part]
        return part(data).astype(np.float64)
    if data.dtype.kind in "mM":
        as_int = data.view(np.int64).astype(np.float64)
        as_int[np.isnat(data)] = np.nan
        return as_int
    return data.astype(np.float64)


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


def summarise(values: np.ndarray) -> Summary:
    """min/max/mean ignoring NaN, and the NaN count, of float VALUES."""
    finite = values[~np.isnan(values)]
    nan_count = int(values.size - finite.size)
    if finite.size == 0:
        return Summary(values.shape, None, None, None, nan_count)
    return Summary(values.shape, float(finite.min()), float(finite.max()), float(finite.mean()), nan_count)


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
