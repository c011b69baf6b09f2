"""The month's 好差评 numbers for the hall's assessment (考核, DESIGN.md §11/§12): 好评率, 差评, and the
三个100% of the 实名差评 (回复率, 整改率, 回访率), by hall, window, clerk or service, with the windows'
monthly ranking.

Read from the ratings and their orders as they stand when asked (not from the statistics' roll-ups,
which know nothing of orders and appeals). A rating whose appeal was upheld counts nowhere. Only the
first rating of a service (一次一评) counts, so a later 追评 does not count one citizen twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hallq.config import HallConfig
from server.evaluations import tables as t
from server.evaluations.export import month_bounds
from server.evaluations.service import EvaluationService
from server.evaluations.workflow import OrderStatus, is_bad

S = OrderStatus
# How far an order has come, by its status now. A reopened order (回访 not satisfied, back to 已核实)
# is verified but not rectified again yet; an escalated one was rectified and called back.
REPLIED = frozenset({S.verified, S.rectified, S.closed, S.escalated})
RECTIFIED = frozenset({S.rectified, S.closed, S.escalated})
CALLED_BACK = frozenset({S.closed, S.escalated})
GOOD_SCORES = frozenset({4, 5})  # 满意, 非常满意: 好评
NONE_LABEL = "（无）"


@dataclass(frozen=True)
class Rated:
    """One rating as the summary sees it: where it belongs, its level, and its order's status."""

    window: str | None
    clerk: str | None
    service: str | None
    score: int
    counts: bool
    real_name: bool
    order_status: str | None


@dataclass
class Tally:
    count: int = 0
    good: int = 0
    bad: int = 0
    bad_real_name: int = 0
    replied: int = 0
    rectified: int = 0
    called_back: int = 0

    def add(self, rated: Rated) -> None:
        self.count += 1
        self.good += rated.score in GOOD_SCORES
        if not is_bad(rated.score):
            return
        self.bad += 1
        if rated.real_name:
            self.bad_real_name += 1
            status = S(rated.order_status) if rated.order_status else None
            self.replied += status in REPLIED
            self.rectified += status in RECTIFIED
            self.called_back += status in CALLED_BACK


def pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def row(key: str, label: str, tally: Tally) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "count": tally.count,
        "good": tally.good,
        "good_pct": pct(tally.good, tally.count),
        "bad": tally.bad,
        "bad_real_name": tally.bad_real_name,
        "replied_pct": pct(tally.replied, tally.bad_real_name),
        "rectified_pct": pct(tally.rectified, tally.bad_real_name),
        "called_back_pct": pct(tally.called_back, tally.bad_real_name),
        "rank": None,
    }


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The windows' ranking: higher 好评率 first, then fewer 差评; equal ones share a rank (1, 1, 3).
    A window with no counted rating has no rank and comes last."""
    ranked = sorted((r for r in rows if r["good_pct"] is not None), key=lambda r: (-r["good_pct"], r["bad"]))
    last, place = None, 0
    for n, current in enumerate(ranked, start=1):
        standing = (current["good_pct"], current["bad"])
        place = place if standing == last else n
        current["rank"], last = place, standing
    return ranked + [r for r in rows if r["good_pct"] is None]


def fold(ratings: Iterable[Rated], key_of: Callable[[Rated], str]) -> tuple[dict[str, Tally], Tally, int]:
    """The tallies per key and in all, and how many ratings an upheld appeal left out."""
    groups: dict[str, Tally] = {}
    total, excluded = Tally(), 0
    for rated in ratings:
        if not rated.counts:
            excluded += 1
            continue
        groups.setdefault(key_of(rated), Tally()).add(rated)
        total.add(rated)
    return groups, total, excluded


def _key_of(by: str, hall: str) -> Callable[[Rated], str]:
    if by == "hall":
        return lambda _: hall
    return lambda rated: getattr(rated, by) or ""


def _labeller(config: HallConfig, by: str) -> Callable[[str], str]:
    def label(key: str) -> str:
        if not key:
            return NONE_LABEL
        if by == "hall":
            return config.hall.name
        if by == "window":
            return w.name if (w := config.window(key)) else key
        if by == "service":
            return s.name if (s := config.service(key)) else key
        return key  # a clerk by staff id

    return label


def _config_order(config: HallConfig, by: str) -> Callable[[str], tuple[int, str]]:
    order = {"window": [w.id for w in config.windows], "service": [s.code for s in config.services]}.get(by, [])

    def position(key: str) -> tuple[int, str]:
        if not key:
            return (1_000_001, "")
        return (order.index(key) if key in order else 1_000_000, key)

    return position


def read_month(service: EvaluationService, start: dt.datetime, end: dt.datetime) -> list[Rated]:
    r, o = t.ratings, t.rectifications
    query = (
        sa.select(r.c.window, r.c.clerk, r.c.service, r.c.score, r.c.counts, r.c.masked_phone, o.c.status)
        .select_from(r.outerjoin(o, sa.and_(o.c.hall == r.c.hall, o.c.rating_id == r.c.id)))
        .where(r.c.hall == service.hall, r.c.round == 0)
        .where(r.c.rated_at >= start.astimezone(dt.UTC), r.c.rated_at < end.astimezone(dt.UTC))
    )
    with service.engine.connect() as conn:
        return [
            Rated(x.window, x.clerk, x.service, x.score, bool(x.counts), bool(x.masked_phone), x.status)
            for x in conn.execute(query)
        ]


def summary(
    service: EvaluationService, month: str, by: str, window: str | None = None, clerk: str | None = None
) -> dict[str, Any]:
    """The month's rows by `by`, and the total. `window` keeps one window's ratings, `clerk` one staff
    id's (a clerk's views); a window's rank is still its place among all the hall's windows."""
    config = service.config
    start, end = month_bounds(month, config.hall.tz())
    every = read_month(service, start, end)
    ratings = [x for x in every if (window is None or x.window == window) and (clerk is None or x.clerk == clerk)]
    narrowed = window is not None or clerk is not None
    key_of, label = _key_of(by, service.hall), _labeller(config, by)
    groups, total, excluded = fold(ratings, key_of)
    rows = [row(key, label(key), groups[key]) for key in sorted(groups, key=_config_order(config, by))]
    if by == "window":
        hall_groups = fold(every, key_of)[0]
        places = {r["key"]: r["rank"] for r in rank([row(k, k, g) for k, g in hall_groups.items()])}
        rows = [{**r, "rank": places[r["key"]]} for r in rows] if narrowed else rank(rows)
    total_label = config.hall.name
    if window is not None:
        total_label = _labeller(config, "window")(window)
    elif clerk is not None:
        total_label = _labeller(config, "clerk")(clerk)
    return {"month": month, "by": by, "rows": rows, "total": row("", total_label, total), "excluded": excluded}
