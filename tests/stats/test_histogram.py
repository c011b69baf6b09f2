"""The fixed-bucket histograms: nearest-rank percentiles, exact on 30-second steps, capped by the
exact maximum, and sums of histograms giving the percentiles of all their samples."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from server.stats.histogram import BOUNDS, OVERFLOW, add_sample, bucket_of, count_within, percentile, summed


def histogram_of(samples: list[int]) -> dict[str, int]:
    histogram: dict[str, int] = {}
    for seconds in samples:
        add_sample(histogram, seconds)
    return histogram


def nearest_rank(samples: list[int], fraction: float) -> int:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def test_buckets_are_half_minutes_then_five_minutes_then_hours() -> None:
    assert [bucket_of(s) for s in (0, 1, 30, 31, 3600, 3601, 14400, 14401)] == [
        "0", "30", "30", "60", "3600", "3900", "14400", "18000",
    ]  # fmt: skip
    assert bucket_of(86400) == "86400" and bucket_of(86401) == OVERFLOW and bucket_of(-5) == "0"
    assert list(BOUNDS) == sorted(set(BOUNDS))


@given(st.lists(st.integers(min_value=0, max_value=120).map(lambda n: n * 30), min_size=1, max_size=60))
def test_percentiles_are_exact_on_half_minute_steps(samples: list[int]) -> None:
    histogram = histogram_of(samples)
    for fraction in (0.5, 0.9):
        assert percentile(histogram, fraction, max(samples)) == nearest_rank(samples, fraction)


@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=60))
def test_percentiles_are_never_below_the_truth_nor_above_the_max(samples: list[int]) -> None:
    histogram = histogram_of(samples)
    for fraction in (0.5, 0.9):
        value = percentile(histogram, fraction, max(samples))
        assert value is not None and nearest_rank(samples, fraction) <= value <= max(samples)
        if nearest_rank(samples, fraction) <= 3600:
            assert value - nearest_rank(samples, fraction) < 30


@given(st.lists(st.lists(st.integers(min_value=0, max_value=7200), max_size=20), min_size=1, max_size=10))
def test_summed_histograms_are_the_histogram_of_all_samples(groups: list[list[int]]) -> None:
    everything = [s for group in groups for s in group]
    assert summed(histogram_of(g) for g in groups) == histogram_of(everything)


def test_within_a_whole_minute_target_is_exact() -> None:
    histogram = histogram_of([0, 599, 600, 601, 1200, 1201])
    assert count_within(histogram, 600) == 3 and count_within(histogram, 1200) == 5
    assert percentile({}, 0.5, 0) is None
