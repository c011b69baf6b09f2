"""The month's numbers for the monthly report (统一情况汇总): read from the roll-ups only, through the
same queries as `/stats`, plus the month's summed waiting-time histogram for its distribution, and
the cases' numbers (server/stats/cases.py) per item with the overdue list.

`report.py` turns a `MonthlyNumbers` into a PDF or an XLSX; nothing here draws anything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa

from hallq.config import HallConfig
from hallq.stats_models import StatsRow
from server.stats.cases import CaseStats, case_stats
from server.stats.histogram import OVERFLOW, Histogram, merge
from server.stats.queries import hall_stats
from server.stats.tables import stats_daily
from server.store import Store

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Waiting-time bands of the distribution chart, in minutes: each upper bound is a bucket bound
# (whole minutes), so the counts are exact.
WAIT_BANDS_MIN = (5, 10, 15, 20, 30, 45, 60)


class BadMonth(ValueError):
    """The month asked for cannot have a report (422)."""


@dataclass(frozen=True)
class WaitBand:
    label: str  # 0-5分钟, …, 60分钟以上
    count: int


@dataclass(frozen=True)
class MonthlyNumbers:
    """Everything the monthly report shows, already computed."""

    hall: str
    hall_name: str
    month: dt.date  # its first day
    last_day: dt.date  # the last day counted: the month's end, or today for the current month
    generated_at: dt.datetime  # the hall's local time
    total: StatsRow
    by_service: list[StatsRow]
    by_window: list[StatsRow]
    by_hour: list[StatsRow]
    by_day: list[StatsRow]
    wait_bands: list[WaitBand]
    folded_seq: int  # the last event counted
    cases: CaseStats  # judged as of `last_day`
    cases_note: str | None = None  # said instead of the cases' numbers where there are none to have (the hub)

    @property
    def empty(self) -> bool:
        """Nothing happened in the hall this month (no ticket, no call, no window open, no case)."""
        total = self.total
        return not (total.issued or total.called or total.open_s or total.rating.count or self.has_cases)

    @property
    def has_cases(self) -> bool:
        c = self.cases.total
        return bool(c.received or c.accepted or c.decided or c.overdue)

    @property
    def title(self) -> str:
        return f"{self.month.year}年{self.month.month}月"


def parse_month(text: str, today: dt.date) -> dt.date:
    """The first day of the month `YYYY-MM`; a malformed or future month is BadMonth with a sentence."""
    match = MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise BadMonth(f"月份应写作YYYY-MM，例如2026-11。 The month must be YYYY-MM, e.g. 2026-11 (got {text!r}).")
    month = dt.date(int(match.group(1)), int(match.group(2)), 1)
    if month > today:
        raise BadMonth(
            f"{month.year}年{month.month}月尚未开始，没有月报。 {text} has not begun yet: there is no report for it."
        )
    return month


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def monthly_numbers(store: Store, config: HallConfig, month: dt.date, today: dt.date,
                    generated_at: dt.datetime) -> MonthlyNumbers:  # fmt: skip
    """The month's numbers up to its end, or up to `today` while it is the current month."""
    last_day = min(month_end(month), today)
    by = {
        name: hall_stats(store, config, month, last_day, name, with_cases=False)
        for name in ("service", "window", "hour", "day")
    }
    return MonthlyNumbers(
        hall=config.hall.id,
        hall_name=config.hall.name,
        month=month,
        last_day=last_day,
        generated_at=generated_at,
        total=by["service"].total,
        by_service=by["service"].rows,
        by_window=by["window"].rows,
        by_hour=by["hour"].rows,
        by_day=by["day"].rows,
        wait_bands=wait_bands(wait_histogram(store, config.hall.id, month, last_day)),
        folded_seq=by["service"].folded_seq,
        cases=case_stats(store.engine, config, month, last_day, today),
    )


def wait_histogram(store: Store, hall: str, start: dt.date, end: dt.date) -> Histogram:
    """Every first call's wait in the range, summed from the daily roll-ups' histograms."""
    table = stats_daily
    query = sa.select(table.c.wait_hist).where(
        table.c.hall == hall,
        table.c.day >= start.isoformat(),
        table.c.day <= end.isoformat(),
        table.c.called > 0,
    )
    total: Histogram = {}
    with store.engine.connect() as conn:
        for (histogram,) in conn.execute(query):
            merge(total, histogram or {})
    return total


def wait_bands(histogram: Histogram) -> list[WaitBand]:
    """The histogram regrouped into the report's bands (0-5分钟, 5-10分钟, …, 60分钟以上)."""
    counts = [0] * (len(WAIT_BANDS_MIN) + 1)
    for key, count in histogram.items():
        seconds = None if key == OVERFLOW else int(key)
        index = next(
            (i for i, bound in enumerate(WAIT_BANDS_MIN) if seconds is not None and seconds <= bound * 60),
            len(WAIT_BANDS_MIN),
        )
        counts[index] += int(count)
    lows = (0, *WAIT_BANDS_MIN)
    labels = [f"{low}-{high}分钟" for low, high in zip(lows, WAIT_BANDS_MIN, strict=False)]
    labels.append(f"{WAIT_BANDS_MIN[-1]}分钟以上")
    return [WaitBand(label, count) for label, count in zip(labels, counts, strict=True)]
