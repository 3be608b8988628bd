"""Percentiles and the summary every timed figure is reported with."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_ms(seconds: Sequence[float]) -> dict:
    """p50/p95/p99/max of durations given in seconds, in milliseconds."""
    def ms(p: float) -> float | None:
        value = percentile(seconds, p)
        return None if value is None else round(value * 1000, 3)

    return {"count": len(seconds), "p50_ms": ms(50), "p95_ms": ms(95), "p99_ms": ms(99),
            "max_ms": round(max(seconds) * 1000, 3) if seconds else None}


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)
