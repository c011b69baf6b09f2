"""The waiting-time distribution over a date range: the days' wait histograms summed, then read into
a few bins a supervisor reads at a glance (0-5 min, 5-10 min, …). Every bin edge is a bucket bound
of server/stats/histogram.py, so the counts are exact."""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa

from hallq.stats_models import WaitBin, WaitDistribution
from server.stats.histogram import OVERFLOW, Histogram, merge
from server.stats.queries import check_range
from server.stats.rollups import folded_seq
from server.stats.tables import stats_daily
from server.store import Store

EDGES_MIN = (5, 10, 15, 20, 30, 45, 60, 90, 120)  # bin upper bounds in minutes; then 120+


def wait_distribution(
    store: Store, hall: str, start: dt.date, end: dt.date, clerk: str | None = None
) -> WaitDistribution:
    """First calls' waits from `start` to `end` (local days, both included); `clerk`: only theirs."""
    check_range(start, end)
    table = stats_daily
    where = [table.c.hall == hall, table.c.day >= start.isoformat(), table.c.day <= end.isoformat(), table.c.called > 0]
    if clerk is not None:
        where.append(table.c.clerk == clerk)
    summed: Histogram = {}
    with store.engine.connect() as conn:
        for (histogram,) in conn.execute(sa.select(table.c.wait_hist).where(*where)):
            merge(summed, histogram or {})
    bins = binned(summed)
    return WaitDistribution(
        hall=hall, from_=start, to=end, count=sum(b.count for b in bins), bins=bins, folded_seq=folded_seq(store, hall)
    )


def binned(histogram: Histogram) -> list[WaitBin]:
    edges = [0, *(m * 60 for m in EDGES_MIN)]
    bins = [
        WaitBin(label=f"{low // 60}-{high // 60}分钟", from_s=low, to_s=high, count=0)
        for low, high in zip(edges, edges[1:], strict=False)
    ]
    bins.append(WaitBin(label=f"{EDGES_MIN[-1]}分钟以上", from_s=edges[-1], to_s=None, count=0))
    for key, count in histogram.items():
        bound = math.inf if key == OVERFLOW else int(key)
        index = next((i for i, b in enumerate(bins) if b.to_s is not None and bound <= b.to_s), len(bins) - 1)
        bins[index].count += int(count)
    return bins
