"""Monthly reports at the hub (统一情况汇总): a hall's month, or a 市中心 / 分中心's area (the hall and
every hall below it), from the hub's roll-ups of the shipped events, drawn by the halls' own report
code (server/stats/report.py). Blocking SQL: call from a thread.

The numbers are the halls' own (`grouped` with each hall's target waits, from its profile), summed
across the area's halls as server/network/stats.py sums them; ratings included. Not at the hub: the
cases (they are not shipped as events: the report's 办件 section says to read the hall's own report)
and the hour rows' mean queue (a hall's own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hallq.stats_models import StatsBy, StatsRow
from server.network.levels import Node, subtree
from server.network.registry import RegisteredHall
from server.network.stats import add, target_waits
from server.stats.cases import CaseStats
from server.stats.histogram import Histogram, merge
from server.stats.monthly import MonthlyNumbers, month_end, wait_bands, wait_histogram
from server.stats.queries import NO_WINDOW, Group, grouped, stats_row
from server.stats.rollups import folded_seq
from server.store import Store

AREA_SUFFIX = "（含下辖大厅）"
CASES_NOTE = "办件数据不上传市中心，请查阅各大厅自行生成的月报。"


def hub_monthly_numbers(store: Store, registered: list[RegisteredHall], hall: str, month: dt.date, today: dt.date,
                        generated_at: dt.datetime, area: bool = False) -> MonthlyNumbers:  # fmt: skip
    """The month of `hall` (with `area`: of it and every hall below it) up to its end, or `today`."""
    halls = {r.hall: r for r in registered}
    counted = subtree({r.hall: Node(r.hall, r.kind, r.parent) for r in registered}, hall) if area else [hall]
    last_day = min(month_end(month), today)
    rows: dict[str, list[StatsRow]] = {}
    total = Group()
    for by in ("service", "window", "hour", "day"):
        rows[by], by_total = _rows(store, [halls[h] for h in counted], month, last_day, by, prefix_hall=area)
        if by == "service":
            total = by_total
    histogram: Histogram = {}
    for name in counted:
        merge(histogram, wait_histogram(store, name, month, last_day))
    own = halls[hall]
    return MonthlyNumbers(
        hall=hall,
        hall_name=own.name + (AREA_SUFFIX if area and len(counted) > 1 else ""),
        month=month,
        last_day=last_day,
        generated_at=generated_at,
        total=stats_row("total", "合计", total),
        by_service=rows["service"],
        by_window=rows["window"],
        by_hour=rows["hour"],
        by_day=rows["day"],
        wait_bands=wait_bands(histogram),
        folded_seq=min(folded_seq(store, name) for name in counted),
        cases=CaseStats(),
        cases_note=CASES_NOTE,
    )


def _rows(store: Store, halls: list[RegisteredHall], start: dt.date, end: dt.date, by: StatsBy,
          prefix_hall: bool) -> tuple[list[StatsRow], Group]:  # fmt: skip
    """The halls' rows of one grouping, summed by key (windows: one row per hall's window in an area)."""
    per_key: dict[str, Group] = {}
    labels: dict[str, str] = {}
    order: list[str] = []
    total = Group()
    for hall in halls:
        groups, hall_total = grouped(store, hall.hall, target_waits(hall), start, end, by)
        add(total, hall_total)
        label = _labeller(hall, by)
        for key in sorted(groups, key=_order(hall, by)):
            if by == "window" and not key and prefix_hall:
                merged = ""  # what happened before any window: one row for the area
            else:
                merged = f"{hall.hall}/{key}" if by == "window" and prefix_hall else key
            if merged not in per_key:
                order.append(merged)
                shown = label(key)
                labels[merged] = f"{hall.name} {shown}" if merged != key and merged else shown
            add(per_key.setdefault(merged, Group()), groups[key])
    if by in ("hour", "day"):
        order.sort()
    if "" in order:
        order.remove("")
        order.append("")
    return [stats_row(key, labels[key], per_key[key]) for key in order], total


def _labeller(hall: RegisteredHall, by: StatsBy) -> Callable[[str], str]:
    profile = hall.profile
    if by == "hour":
        return lambda key: f"{key}:00-{int(key) + 1:02d}:00"
    if by == "service":
        names = {s.code: s.name for s in profile.services} if profile else {}
        return lambda key: names.get(key, key)
    if by == "window":
        windows = {w.id: w.name for w in profile.windows} if profile else {}
        return lambda key: windows.get(key, key) if key else NO_WINDOW
    return lambda key: key


def _order(hall: RegisteredHall, by: StatsBy) -> Callable[[str], tuple[int, str]]:
    """Services and windows in the hall's config order (its profile), '' last, the rest by key."""
    profile = hall.profile
    codes: list[str] = []
    if profile is not None and by == "service":
        codes = [s.code for s in profile.services]
    elif profile is not None and by == "window":
        codes = [w.id for w in profile.windows]
    return lambda key: (1_000_000, "") if key == "" else (codes.index(key) if key in codes else len(codes), key)
