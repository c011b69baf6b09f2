"""The city's numbers (server/network/stats.py) are the halls' own: a day of the demo hall's traffic
made by the real engine, shipped to the hub as two halls, folded there by the halls' code; the hub's
rows by hall, day, hour, area and level against `hall_stats` of the hall's own database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hallq.network_models import EventBatch
from hallq.stats_models import StatsRow
from server.network.ingest import store_batch
from server.network.registry import HallRegistry
from server.network.stats import UnknownHall, hub_stats
from server.network.uplink import hall_profile
from server.settings import build_settings
from server.stats.demo_history import HistoryPlan, seed_database
from server.stats.queries import BadRange, hall_stats
from server.stats.rollups import fold_all
from server.store import Store

WEDNESDAY = dt.date(2026, 12, 2)
TUESDAY = WEDNESDAY - dt.timedelta(days=1)


def without_names(row: StatsRow) -> dict[str, Any]:
    return row.model_dump(exclude={"key", "label", "cases", "queue_mean", "open_windows_mean"})


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo hall's Tuesday (real engine), and a hub holding it as hall `a` (市中心) and `b` (a town)."""
    folder: Path = tmp_path_factory.mktemp("city")
    settings = build_settings(demo=True, database=f"sqlite:///{folder / 'hall.sqlite3'}", environ={})
    seed_database(settings, HistoryPlan(days=1, per_day=60), today=WEDNESDAY)
    hall = Store(settings.database)
    events = hall.events_since("demo", 0, 1_000_000)
    hub = Store(f"sqlite:///{folder / 'hub.sqlite3'}")
    hub.migrate()
    registry = HallRegistry(hub.engine)
    config = settings.halls[0]
    for name, kind, parent in (("a", "center", None), ("b", "town", "a")):
        registered = registry.add(name, name=f"hall {name}", kind=kind, parent=parent, timezone="Asia/Shanghai",
                                  token_sha256=name * 64)  # fmt: skip
        registry.save_profile(registered, hall_profile(config))
        shipped = [{"seq": e.seq, "kind": e.kind, "payload": e.payload, "created_at": e.created_at} for e in events]
        for start in range(0, len(shipped), 500):
            batch = EventBatch.model_validate({"from_seq": start + 1, "events": shipped[start : start + 500]})
            store_batch(hub.engine, name, batch)
        fold_all(hub, name, config.hall.tz())
    yield hall, hub, config
    hall.close()
    hub.close()


def test_each_halls_row_is_its_own_total_and_the_total_their_sum(city: Any) -> None:
    hall, hub, config = city
    own = hall_stats(hall, config, TUESDAY, TUESDAY, "day", with_cases=False).total
    assert own.issued > 40 and own.rating.count > 0 and own.wait_s.p90 is not None
    answer = hub_stats(hub, HallRegistry(hub.engine).all(), TUESDAY, TUESDAY, "hall", None)
    assert [(r.key, r.label) for r in answer.rows] == [("a", "hall a"), ("b", "hall b")]
    for row in answer.rows:
        assert without_names(row) == without_names(own)
    assert answer.total.issued == 2 * own.issued and answer.total.served == 2 * own.served
    assert answer.total.wait_s.p50 == own.wait_s.p50  # two identical halls: the same distribution
    assert answer.total.within_target == 2 * own.within_target


def test_by_day_and_hour_add_the_halls_up(city: Any) -> None:
    hall, hub, config = city
    halls = HallRegistry(hub.engine).all()
    for by in ("day", "hour"):
        own = {r.key: r for r in hall_stats(hall, config, TUESDAY, TUESDAY, by, with_cases=False).rows}  # type: ignore[arg-type]
        rows = {r.key: r for r in hub_stats(hub, halls, TUESDAY, TUESDAY, by, None).rows}  # type: ignore[arg-type]
        assert rows.keys() == own.keys()
        assert {k: r.issued for k, r in rows.items()} == {k: 2 * r.issued for k, r in own.items()}
        assert {k: r.rating.count for k, r in rows.items()} == {k: 2 * r.rating.count for k, r in own.items()}


def test_levels_areas_and_a_subtree(city: Any) -> None:
    _hall, hub, _config = city
    halls = HallRegistry(hub.engine).all()
    by_hall = {r.key: r for r in hub_stats(hub, halls, TUESDAY, TUESDAY, "hall", None).rows}
    levels = hub_stats(hub, halls, TUESDAY, TUESDAY, "level", None)
    assert [(r.key, r.label) for r in levels.rows] == [("center", "市中心"), ("town", "便民服务中心")]
    assert without_names(levels.rows[1]) == without_names(by_hall["b"])
    area = hub_stats(hub, halls, TUESDAY, TUESDAY, "area", None)
    assert [r.key for r in area.rows] == ["a"] and area.rows[0].issued == 2 * by_hall["a"].issued
    under = hub_stats(hub, halls, TUESDAY, TUESDAY, "hall", "b")
    assert under.halls == ["b"] and without_names(under.total) == without_names(by_hall["b"])
    with pytest.raises(UnknownHall):
        hub_stats(hub, halls, TUESDAY, TUESDAY, "hall", "nowhere")
    with pytest.raises(BadRange):
        hub_stats(hub, halls, WEDNESDAY, TUESDAY, "hall", None)
