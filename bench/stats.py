"""Medians, spreads and percentiles of repeated measurements."""

import math
import statistics


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile (``fraction`` from 0 to 1) of the values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict:
    """Median and range of repeated measurements (NaN when there are none)."""
    clean = [value for value in values if value is not None and not math.isnan(value)]
    if not clean:
        return {"median": math.nan, "min": math.nan, "max": math.nan, "runs": 0}
    return {
        "median": statistics.median(clean),
        "min": min(clean),
        "max": max(clean),
        "runs": len(clean),
    }


def ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """Ratios of paired runs (the same round), which cancel drift shared by both."""
    return [a / b for a, b in zip(numerators, denominators, strict=True) if b]
