"""Ranking the halls (server/network/rankings.py): best first, ties share a rank, a hall without a
sample for a ranking is left out rather than put last."""

from __future__ import annotations

from hallq.stats_models import Durations, Ratings, StatsRow
from server.network.rankings import METRICS, HallName, rank, rankings

NAMES = {h: HallName(f"{h}大厅", "town") for h in ("a", "b", "c")}


def row(hall: str, *, good_pct: float | None, ratings: int, wait_mean: float | None, served: int) -> StatsRow:
    waits = Durations(count=served, mean=wait_mean, p50=None, p90=None, max=None)
    return StatsRow(
        key=hall, label=hall, issued=served, called=served, served=served, no_show=0, cancelled=0, expired=0,
        abandoned=0, transferred=0, recalled=0, wait_s=waits, service_s=Durations(count=0, mean=None, p50=None,
        p90=None, max=None), within_target=served, within_target_pct=100.0 if served else None, open_s=0,
        utilisation_pct=None, rating=Ratings(count=ratings, mean=None, good_pct=good_pct, bad=0),
    )  # fmt: skip


ROWS = [
    row("a", good_pct=90.0, ratings=10, wait_mean=600.0, served=40),
    row("b", good_pct=None, ratings=0, wait_mean=300.0, served=40),
    row("c", good_pct=95.0, ratings=4, wait_mean=900.0, served=12),
]
METRIC = {m.name: m for m in METRICS}


def test_higher_is_better_and_a_hall_without_ratings_is_left_out() -> None:
    ranked = rank(ROWS, NAMES, METRIC["good_pct"])
    assert [(r.rank, r.hall, r.value, r.samples) for r in ranked.rows] == [(1, "c", 95.0, 4), (2, "a", 90.0, 10)]
    assert ranked.label == "好评率" and ranked.rows[0].name == "c大厅"


def test_a_shorter_wait_ranks_first_in_minutes() -> None:
    ranked = rank(ROWS, NAMES, METRIC["wait_mean"])
    assert [(r.hall, r.value) for r in ranked.rows] == [("b", 5.0), ("a", 10.0), ("c", 15.0)]


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    ranked = rank(ROWS, NAMES, METRIC["served"])
    assert [(r.rank, r.hall) for r in ranked.rows] == [(1, "a"), (1, "b"), (3, "c")]


def test_every_metric_is_ranked_once() -> None:
    assert [r.metric for r in rankings(ROWS, NAMES)] == [
        "good_pct", "wait_mean", "served", "within_target_pct", "longest_wait",
    ]  # fmt: skip
