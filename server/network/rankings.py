"""The halls ranked (排名) over a range of days, from the city's numbers by hall (server/network/stats.py
`hub_stats(by="hall")`): pure, the rows in, the rankings out.

Each ranking leaves out the halls without a sample for it (no rating: no 好评率), so a hall that rated
nobody is not "worst"; ties share a rank (1, 1, 3) and are listed by hall id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hallq.city_models import RankedHall, Ranking, RankingMetric
from hallq.stats_models import StatsRow


@dataclass(frozen=True)
class Metric:
    name: RankingMetric
    label: str
    unit: str
    value: Callable[[StatsRow], float | None]
    samples: Callable[[StatsRow], int]
    higher_is_better: bool


def _minutes(seconds: float | int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


METRICS = (
    Metric("good_pct", "好评率", "%", lambda r: r.rating.good_pct, lambda r: r.rating.count, True),
    Metric("wait_mean", "平均等候时间", "分钟", lambda r: _minutes(r.wait_s.mean), lambda r: r.wait_s.count, False),
    Metric("served", "办结人次", "人次", lambda r: float(r.served), lambda r: r.served, True),
    Metric("within_target_pct", "目标时间内叫号占比", "%", lambda r: r.within_target_pct, lambda r: r.called, True),
    Metric("longest_wait", "最长等候时间", "分钟", lambda r: _minutes(r.wait_s.max), lambda r: r.wait_s.count, False),
)


@dataclass(frozen=True)
class HallName:
    name: str
    kind: str


def rank(rows: list[StatsRow], halls: Mapping[str, HallName], metric: Metric) -> Ranking:
    scored = [(row, value) for row in rows if metric.samples(row) and (value := metric.value(row)) is not None]
    sign = -1 if metric.higher_is_better else 1
    scored.sort(key=lambda pair: (sign * pair[1], pair[0].key))
    ranked: list[RankedHall] = []
    for position, (row, value) in enumerate(scored, start=1):
        tied = ranked and ranked[-1].value == value
        named = halls.get(row.key, HallName(row.label, "town"))
        ranked.append(
            RankedHall(
                rank=ranked[-1].rank if tied else position,
                hall=row.key,
                name=named.name,
                kind=named.kind,  # type: ignore[arg-type]  # a registered hall's kind
                value=value,
                samples=metric.samples(row),
            )
        )
    return Ranking(metric=metric.name, label=metric.label, unit=metric.unit, rows=ranked)


def rankings(rows: list[StatsRow], halls: Mapping[str, HallName]) -> list[Ranking]:
    return [rank(rows, halls, metric) for metric in METRICS]
