"""Reading the roll-ups: a date range of the hall's daily rows (hourly ones for `by=hour`), grouped
`by` day, hour, service, window or clerk, into the rows of §12 (and one total). Only roll-up rows
are read, never tickets; the cases' numbers (by day, by service and in the total) come from
server/stats/cases.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hallq.config import HallConfig
from hallq.stats_models import Durations, Ratings, StatsAnswer, StatsBy, StatsRow
from server.stats.cases import CaseStats, CaseTally, case_stats
from server.stats.folding import Cell
from server.stats.histogram import count_within, merge, percentile
from server.stats.rollups import folded_seq
from server.stats.tables import COUNTERS, HISTOGRAMS, MAXIMA, stats_daily, stats_hourly
from server.store import Store

MAX_RANGE_DAYS = 366
NO_WINDOW = "（未到窗口）"  # issued, cancelled, expired: no window had the ticket
NO_CLERK = "（无柜员）"
# The groupings a case belongs to (its day, service, item); by hour, window or clerk it has no row, and
# its numbers are left out of the total too (ask by=day): they cost a read of the range's cases.
CASE_GROUPINGS = ("day", "service", "item")


class BadRange(ValueError):
    """The from / to of a statistics request cannot be answered (422)."""


@dataclass
class Group:
    cell: Cell = field(default_factory=Cell)
    within_target: int = 0


def check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise BadRange(f"结束日期早于开始日期。 'to' ({end}) is before 'from' ({start}).")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise BadRange(f"统计范围最长{MAX_RANGE_DAYS}天。 A range covers at most {MAX_RANGE_DAYS} days.")


def hall_stats(store: Store, config: HallConfig, start: dt.date, end: dt.date, by: StatsBy,
               clerk: str | None = None, today: dt.date | None = None,
               with_cases: bool = True) -> StatsAnswer:  # fmt: skip
    """The hall's numbers from `start` to `end` (local days, both included); `clerk` keeps only the
    rows of that clerk's work (a clerk's own view, without the cases). The cases' numbers are in the
    rows and the total by day, service or item; `today` (the hall's, by default) is when their
    deadlines are judged; `with_cases=False` leaves them out (`cases: null`)."""
    check_range(start, end)
    groups: dict[str, Group] = {}
    if by == "item":  # the cases only: a ticket has a service, not an item; the total is the hall's
        total = _groups(store, config, start, end, "service", clerk)[1]
    else:
        groups, total = _groups(store, config, start, end, by, clerk)
    cases = None
    if clerk is None and with_cases and by in CASE_GROUPINGS:
        cases = case_stats(store.engine, config, start, end, today or dt.datetime.now(config.hall.tz()).date())
        for key in _case_groups(cases, by):
            groups.setdefault(key, Group())
    label = _labeller(config, by)
    ordered = sorted(groups.items(), key=lambda item: _order(config, by, item[0]))
    days = _days_worked(store, config.hall.id, start, end) if by == "hour" and clerk is None else 0
    rows = [stats_row(key, label(key), group, days) for key, group in ordered]
    total_row = stats_row("total", "合计", total)
    if cases is not None:
        by_key = _case_groups(cases, by)
        for row in rows:
            row.cases = by_key.get(row.key, CaseTally()).numbers()
        total_row.cases = cases.total.numbers()
    return StatsAnswer(
        hall=config.hall.id,
        from_=start,
        to=end,
        by=by,
        rows=rows,
        total=total_row,
        folded_seq=folded_seq(store, config.hall.id),
    )


def _case_groups(cases: CaseStats, by: StatsBy) -> dict[str, CaseTally]:
    return {"day": cases.by_day, "service": cases.by_service, "item": cases.by_item}.get(by, {})


def _days_worked(store: Store, hall: str, start: dt.date, end: dt.date) -> int:
    """Days of the range with any number (a closed day has no roll-up row)."""
    query = sa.select(sa.func.count(sa.distinct(stats_daily.c.day))).where(
        stats_daily.c.hall == hall, stats_daily.c.day >= start.isoformat(), stats_daily.c.day <= end.isoformat()
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _groups(store: Store, config: HallConfig, start: dt.date, end: dt.date, by: StatsBy,
            clerk: str | None) -> tuple[dict[str, Group], Group]:  # fmt: skip
    """The roll-ups' rows of the range summed by the grouping's key, and their total."""
    return grouped(store, config.hall.id, config.target_wait_s, start, end, by, clerk)


def grouped(store: Store, hall: str, target_wait_s: Callable[[str], int], start: dt.date, end: dt.date,
            by: StatsBy, clerk: str | None = None) -> tuple[dict[str, Group], Group]:  # fmt: skip
    """As `_groups`, for a hall known by its id and its services' target waits (in seconds) only:
    the hub reads the halls' shipped events with it (server/network/stats.py)."""
    table = stats_hourly if by == "hour" else stats_daily  # a day's rows summed: ~10× fewer to read
    where = [
        table.c.hall == hall,
        table.c.day >= start.isoformat(),
        table.c.day <= end.isoformat(),
    ]
    if clerk is not None:
        where.append(table.c.clerk == clerk)
    column = table.c[_COLUMN[by]]
    # Counters and maxima add up in the database; only rows with samples bring histograms back.
    sums = (
        sa.select(
            column.label("key"),
            table.c.service,
            *(sa.func.sum(table.c[name]).label(name) for name in COUNTERS),
            *(sa.func.max(table.c[name]).label(name) for name in MAXIMA),
        )
        .where(*where)
        .group_by(column, table.c.service)
    )
    samples = sa.select(column.label("key"), table.c.service, *(table.c[h] for h in HISTOGRAMS)).where(
        *where, sa.or_(table.c.called > 0, table.c.service_count > 0)
    )
    with store.engine.connect() as conn:
        summed_rows = conn.execute(sums).all()
        sample_rows = conn.execute(samples).all()
    parts: dict[tuple[str, str], Cell] = {}
    for row in summed_rows:
        parts[(_key(by, row.key), row.service)] = Cell(
            counts={name: int(getattr(row, name) or 0) for name in COUNTERS},
            wait_max_s=int(row.wait_max_s or 0),
            service_max_s=int(row.service_max_s or 0),
        )
    for row in sample_rows:
        part = parts[(_key(by, row.key), row.service)]
        merge(part.wait_hist, row.wait_hist or {})
        merge(part.service_hist, row.service_hist or {})
    groups: dict[str, Group] = {key: Group() for key in _filled_keys(by, start, end)}
    total = Group()
    for (key, service), part in parts.items():
        within = count_within(part.wait_hist, target_wait_s(service)) if service else 0
        for group in (groups.setdefault(key, Group()), total):
            group.cell.absorb(part)
            group.within_target += within
    if by == "service":
        groups.pop("", None)  # the windows' open time belongs to no service; the total keeps it
    return groups, total


def stats_row(key: str, label: str, group: Group, days_worked: int = 0) -> StatsRow:
    """One row; `days_worked` (by=hour rows) adds the hour's mean queue length and open windows."""
    counts, cell = group.cell.counts, group.cell
    called = counts.get("called", 0)
    service_count = counts.get("service_count", 0)
    service_sum = counts.get("service_sum_s", 0)
    open_s = counts.get("open_s", 0)
    ratings = counts.get("rating_count", 0)
    return StatsRow(
        key=key,
        label=label,
        issued=counts.get("issued", 0),
        called=called,
        served=counts.get("served", 0),
        no_show=counts.get("no_show", 0),
        cancelled=counts.get("cancelled", 0),
        expired=counts.get("expired", 0),
        abandoned=counts.get("cancelled", 0) + counts.get("expired", 0),
        transferred=counts.get("transferred", 0),
        recalled=counts.get("recalled", 0),
        wait_s=_durations(called, counts.get("wait_sum_s", 0), cell.wait_hist, cell.wait_max_s),
        service_s=_durations(service_count, service_sum, cell.service_hist, cell.service_max_s),
        within_target=group.within_target,
        within_target_pct=_pct(group.within_target, called),
        open_s=open_s,
        utilisation_pct=_pct(service_sum, open_s),
        rating=Ratings(
            count=ratings,
            mean=round(counts.get("rating_sum", 0) / ratings, 2) if ratings else None,
            good_pct=_pct(counts.get("rating_good", 0), ratings),
            bad=counts.get("rating_bad", 0),
        ),
        queue_mean=round(counts.get("queue_s", 0) / 3600 / days_worked, 2) if days_worked else None,
        open_windows_mean=round(open_s / 3600 / days_worked, 2) if days_worked else None,
    )


def _durations(count: int, total: int, histogram: dict[str, int], maximum: int) -> Durations:
    if count == 0:
        return Durations(count=0, mean=None, p50=None, p90=None, max=None)
    return Durations(
        count=count,
        mean=round(total / count, 1),
        p50=percentile(histogram, 0.5, maximum),
        p90=percentile(histogram, 0.9, maximum),
        max=maximum,
    )


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


_COLUMN = {"day": "day", "hour": "hour", "service": "service", "window": "window", "clerk": "clerk"}


def _key(by: StatsBy, value: Any) -> str:
    return f"{int(value):02d}" if by == "hour" else str(value)


def _filled_keys(by: StatsBy, start: dt.date, end: dt.date) -> Iterable[str]:
    """Every day of the range has a row (a chart's axis has no holes); other groupings list what has data."""
    if by != "day":
        return ()
    return ((start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1))


def _labeller(config: HallConfig, by: StatsBy) -> Callable[[str], str]:
    if by == "hour":
        return lambda key: f"{key}:00-{int(key) + 1:02d}:00"
    if by == "service":
        return lambda key: s.name if (s := config.service(key)) else key
    if by == "window":
        return lambda key: (w.name if (w := config.window(key)) else key) if key else NO_WINDOW
    if by == "clerk":
        return lambda key: key or NO_CLERK
    if by == "item":
        return lambda key: found[1].name if (found := config.item(key)) else key
    return lambda key: key


def _order(config: HallConfig, by: StatsBy, key: str) -> tuple[int, str]:
    """Services and windows in the hall config's order, the rest by key; '' (none) last."""
    if key == "":
        return (1_000_000, "")
    if by == "service":
        codes = [s.code for s in config.services]
        return (codes.index(key) if key in codes else len(codes), key)
    if by == "window":
        ids = [w.id for w in config.windows]
        return (ids.index(key) if key in ids else len(ids), key)
    if by == "item":
        items = [i.code for s in config.services for i in s.items]
        return (items.index(key) if key in items else len(items), key)
    return (0, key)
