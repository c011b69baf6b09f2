"""The demo's month of history (server/stats/demo_history.py): made through the real dispatcher on the
hall's working days only, every ticket accounted for, ratings with a few 差评 (each with its order),
the same month for the same seed, and the statistics folded when it is done."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from server.evaluations.tables import ratings, rectifications
from server.stats.demo_history import HistoryPlan, Seeded, plan_days, seed_database
from server.stats.queries import hall_stats
from server.store import Store
from tests.server.conftest import demo_config, make_settings

# 18 days before 2026-10-14, around the National Day: its holidays (10-01 to 10-07), the weekends,
# and the 调休 Saturday 10-10 on which the hall works (the demo config's holidays and workdays).
TODAY = dt.date(2026, 10, 14)
PLAN = HistoryPlan(days=18, per_day=150, seed=7)  # the lower end of a mid-size hall: queues form
WORKING = [dt.date(2026, 9, d) for d in (28, 29, 30)] + [dt.date(2026, 10, d) for d in (8, 9, 10, 12, 13)]


def seeded_hall(database: str, plan: HistoryPlan = PLAN) -> tuple[Seeded, dict[str, Any]]:
    config = demo_config(around_the_clock=False)  # the demo hall's real hours
    seeded = seed_database(make_settings(database, config), plan, today=TODAY)
    store = Store(database)
    try:
        start = TODAY - dt.timedelta(days=plan.days)
        answers = {by: hall_stats(store, config, start, TODAY, by) for by in ("day", "hour", "service", "window")}
        with store.engine.connect() as conn:
            answers["ratings"] = conn.execute(sa.select(sa.func.count()).select_from(ratings)).scalar_one()
            answers["orders"] = conn.execute(sa.select(sa.func.count()).select_from(rectifications)).scalar_one()
    finally:
        store.close()
    return seeded, answers


def test_a_month_of_working_days_with_every_ticket_accounted_for(sqlite_url: str) -> None:
    seeded, stats = seeded_hall(sqlite_url)
    assert seeded.days == plan_days(demo_config(), TODAY, PLAN.days) == WORKING
    busy = [dt.date.fromisoformat(row.key) for row in stats["day"].rows if row.issued > 0]
    assert busy == WORKING  # issued on working days only
    total = stats["service"].total
    assert total.issued == seeded.issued > 100 * len(WORKING)
    assert total.served == total.issued - total.no_show - total.cancelled - total.expired
    assert total.no_show > 0 and total.transferred > 0 and total.cancelled > 0
    assert {row.key for row in stats["hour"].rows if row.issued} <= {f"{h:02d}" for h in range(8, 17)}
    assert total.wait_s.count > 0 and total.service_s.mean and total.utilisation_pct
    rating = total.rating
    assert rating.count == seeded.ratings == stats["ratings"] > 0
    assert rating.good_pct is not None and rating.good_pct > 80
    assert 0 < rating.bad < rating.count * 0.1 and stats["orders"] == rating.bad  # each 差评 has its order
    assert len([row for row in stats["window"].rows if row.key and row.served]) == len(demo_config().windows)
    assert seeded.events_folded > total.issued * 3


def test_the_same_seed_gives_the_same_month(tmp_path: Any) -> None:
    week = HistoryPlan(days=7, per_day=60, seed=7)
    first = seeded_hall(f"sqlite:///{tmp_path / 'a.sqlite3'}", week)
    again = seeded_hall(f"sqlite:///{tmp_path / 'b.sqlite3'}", week)
    other = seeded_hall(f"sqlite:///{tmp_path / 'c.sqlite3'}", HistoryPlan(days=7, per_day=60, seed=8))
    assert first == again
    assert first[1]["service"] != other[1]["service"]
