"""Waiting and service times as histograms with fixed buckets, so they add up over any range.

A time goes into the first bucket whose upper bound (in seconds) it does not exceed: 30-second steps
up to an hour, 5-minute steps up to 4 hours, hours up to a day, then one overflow bucket. A
percentile is the nearest rank (the smallest time at least p of the samples do not exceed), read as
its bucket's upper bound and never above the exact maximum: exact for times on a 30-second step,
at most 30 s high below an hour. Whole-minute targets are bucket bounds, so "within the target"
counts are exact.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping

BOUNDS: tuple[int, ...] = (
    tuple(range(0, 3600 + 1, 30)) + tuple(range(3900, 14400 + 1, 300)) + tuple(range(18000, 86400 + 1, 3600))
)
OVERFLOW = "inf"

Histogram = dict[str, int]  # bucket upper bound as text (JSON keys are text) → count


def bucket_of(seconds: int) -> str:
    index = bisect.bisect_left(BOUNDS, max(seconds, 0))
    return str(BOUNDS[index]) if index < len(BOUNDS) else OVERFLOW


def add_sample(histogram: Histogram, seconds: int) -> None:
    key = bucket_of(seconds)
    histogram[key] = histogram.get(key, 0) + 1


def merge(into: Histogram, other: Mapping[str, int]) -> None:
    for key, count in other.items():
        into[key] = into.get(key, 0) + int(count)


def _ordered(histogram: Mapping[str, int]) -> list[tuple[float, int]]:
    return sorted((math.inf if key == OVERFLOW else float(key), count) for key, count in histogram.items() if count)


def percentile(histogram: Mapping[str, int], fraction: float, maximum: int) -> int | None:
    """Nearest-rank percentile (fraction 0.5 for p50), capped by the exact maximum; None without samples."""
    buckets = _ordered(histogram)
    total = sum(count for _, count in buckets)
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bound, count in buckets:
        seen += count
        if seen >= rank:
            return maximum if bound == math.inf else min(int(bound), maximum)
    return maximum


def count_within(histogram: Mapping[str, int], limit_s: int) -> int:
    """Samples of at most `limit_s` seconds (exact when `limit_s` is a bucket bound: whole minutes)."""
    return sum(count for bound, count in _ordered(histogram) if bound <= limit_s)


def summed(histograms: Iterable[Mapping[str, int]]) -> Histogram:
    total: Histogram = {}
    for histogram in histograms:
        merge(total, histogram)
    return total
