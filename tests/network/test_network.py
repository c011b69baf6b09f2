"""The network of halls with real processes on the loopback (DESIGN §14, issue 16): a hub on
PostgreSQL, three halls (the city centre on PostgreSQL, a sub-centre and a town on SQLite) with
traffic in all three; the hub killed and brought back; the town's line cut in the middle of a batch
and an answer lost; the town's dispatcher killed -9 while shipping. Afterwards the hub holds every
event of every hall exactly once, as the hall holds it (the rating's free text withheld), and the
city's numbers are the halls' own, hall by hall, area by area and in total."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.network.registry import HallRegistry
from server.store import Store
from tests.network.halls import (
    PERSONAL_COMMENT,
    CityHall,
    comparable,
    local_days,
    read_events,
    shipped,
    wait_until,
)
from tests.support.hub import Hub, start_hub
from tests.support.postgres import fresh_pg_database
from tests.support.tcp_proxy import TcpProxy

# Several outages with the uplink's real backoff (up to a minute): minutes on a loaded machine.
pytestmark = [pytest.mark.pg, pytest.mark.slow, pytest.mark.timeout(1200)]
SUMMED = ("issued", "called", "served", "no_show", "cancelled", "expired", "transferred", "recalled", "open_s")


@pytest.fixture
def city(tmp_path: Path) -> Iterator[tuple[Hub, dict[str, CityHall], TcpProxy]]:
    with fresh_pg_database("hallq_hub") as hub_db, fresh_pg_database("hallq_city") as city_db:
        hub = start_hub(tmp_path, hub_db)
        halls = {
            "city": CityHall(tmp_path, "city", name="句容市政务服务中心", kind="center", parent=None, database=city_db),
            "south": CityHall(tmp_path, "south", name="华阳分中心", kind="sub_center", parent="city", database=None),
            "baohua": CityHall(tmp_path, "baohua", name="宝华镇便民中心", kind="town", parent="south", database=None),
        }
        tokens = {h.hall: hub.add_hall(h.hall, name=h.name, kind=h.kind, parent=h.parent) for h in halls.values()}
        proxy = TcpProxy((hub.host, hub.port)).start()  # the town's WAN line
        try:
            halls["city"].start(hub.url, tokens["city"])
            halls["south"].start(hub.url, tokens["south"])
            halls["baohua"].start(proxy.url, tokens["baohua"])
            yield hub, halls, proxy
        finally:
            proxy.stop()
            for hall in halls.values():
                if hall.dispatcher is not None:
                    hall.dispatcher.kill()
            hub.kill()


def hub_acked(hub: Hub, hall: str) -> int:
    """Read from the hub's database (the hub process may be down)."""
    store = Store(hub.database)
    try:
        registered = HallRegistry(store.engine).get(hall)
    finally:
        store.close()
    assert registered is not None
    return registered.acked_seq


def all_shipped(hub: Hub, halls: dict[str, CityHall]) -> None:
    for hall in halls.values():
        wait_until(lambda hall=hall: shipped(hub, hall), f"the hub to hold and count every event of {hall.hall}")


def test_every_event_reaches_the_hub_once_through_outages_cuts_and_a_kill(
    city: tuple[Hub, dict[str, CityHall], TcpProxy],
) -> None:
    hub, halls, proxy = city
    town = halls["baohua"]
    for hall in halls.values():
        hall.traffic(12)
    all_shipped(hub, halls)

    # The hub goes away for a while: every hall goes on working, then the hub catches up by itself.
    hub.kill()
    for hall in halls.values():
        hall.traffic(9)
    assert all(hub_acked(hub, hall.hall) < hall.last_seq() for hall in halls.values())
    hub.start()
    all_shipped(hub, halls)

    # The town's line drops in the middle of a batch, then an answer is lost on the way back.
    proxy.stop()
    town.traffic(60)
    proxy.cut_after(8_000)
    proxy.lose_next_answer()
    proxy.start()
    wait_until(lambda: shipped(hub, town), "the town's events through a cut line and a lost answer")
    assert (proxy.cuts, proxy.answers_lost) == (1, 1)

    # The town's dispatcher is killed -9 while a batch is on the (slow) line.
    proxy.stop()
    town.traffic(60)
    proxy.throttle(4_000)
    sent = proxy.bytes_up
    proxy.start()
    wait_until(lambda: proxy.bytes_up > sent + 4_000, "the town's uplink to be shipping")
    town.d.kill()
    assert hub_acked(hub, "baohua") < town.last_seq(), "killed before the batch on the line was stored"
    proxy.throttle(None)
    town.d.start()
    town.traffic(6)
    all_shipped(hub, halls)

    for hall in halls.values():
        assert read_events(hub.database, hall.hall) == hall.events(), f"the hub's events of {hall.hall}"
    every_payload = json.dumps([e[2] for h in halls for e in read_events(hub.database, h)], ensure_ascii=False)
    assert "13912345678" not in every_payload and "王大锤" not in every_payload
    own_comments = json.dumps([e[2] for e in read_events(town.database, "baohua")], ensure_ascii=False)
    assert PERSONAL_COMMENT in own_comments, "the town keeps the comment for its own 好差评"

    start, end = local_days()
    own = {name: hall.own_stats(start, end)["total"] for name, hall in halls.items()}
    by_hall = hub.stats(start, end, by="hall")
    assert [row["key"] for row in by_hall["rows"]] == ["city", "south", "baohua"]
    for row in by_hall["rows"]:
        assert comparable(row) == comparable(own[row["key"]]), f"hall {row['key']}"
        assert row["label"] == halls[row["key"]].name
    for field in SUMMED:
        assert by_hall["total"][field] == sum(t[field] for t in own.values()), field
    assert by_hall["total"]["rating"]["count"] == sum(t["rating"]["count"] for t in own.values())
    assert by_hall["total"]["rating"]["bad"] == sum(t["rating"]["bad"] for t in own.values()) > 0
    assert by_hall["total"]["wait_s"]["count"] == sum(t["wait_s"]["count"] for t in own.values())

    by_area = hub.stats(start, end, by="area")
    assert {row["key"]: row["issued"] for row in by_area["rows"]} == {
        "city": own["city"]["issued"],
        "south": own["south"]["issued"] + own["baohua"]["issued"],
    }
    south = hub.stats(start, end, by="hall", under="south")
    assert south["halls"] == ["south", "baohua"]
    assert south["total"]["served"] == own["south"]["served"] + own["baohua"]["served"]
    by_level = hub.stats(start, end, by="level")
    assert [(r["key"], r["label"], r["issued"]) for r in by_level["rows"]] == [
        ("center", "市中心", own["city"]["issued"]),
        ("sub_center", "分中心", own["south"]["issued"]),
        ("town", "便民服务中心", own["baohua"]["issued"]),
    ]
    assert comparable(by_level["total"]) == comparable(by_hall["total"])

    rows = hub.halls()
    assert {h: (r["kind"], r["parent"], r["online"]) for h, r in rows.items()} == {
        "city": ("center", None, True),
        "south": ("sub_center", "city", True),
        "baohua": ("town", "south", True),
    }
    assert httpx.get(f"{hub.api}/hub/stats", params={"from": start, "to": end}, timeout=10).status_code == 401


def test_only_the_dispatcher_holding_a_hall_ships_it_and_a_take_over_goes_on(tmp_path: Path) -> None:
    """The city centre on PostgreSQL with a standby dispatcher: the active one ships; killed -9, the
    standby takes the hall over, asks the hub where it stands and ships the rest, each event once."""
    with fresh_pg_database("hallq_hub") as hub_db, fresh_pg_database("hallq_city") as city_db:
        hub = start_hub(tmp_path, hub_db)
        hall = CityHall(tmp_path, "city", name="句容市政务服务中心", kind="center", parent=None, database=city_db)
        token = hub.add_hall("city", name=hall.name, kind="center")
        standby = None
        try:
            hall.start(hub.url, token)
            standby = hall.start_standby(hub.url, token)
            hall.traffic(9)
            wait_until(lambda: shipped(hub, hall), "the active dispatcher's events at the hub")
            assert "shipping the events of city" in standby.log_text()  # ready, but it leaves the hall alone
            hall.d.kill()
            hall.take_over(standby)
            hall.traffic(9)
            wait_until(lambda: shipped(hub, hall), "the events after the take-over at the hub")
            assert read_events(hub.database, "city") == hall.events()
        finally:
            for dispatcher in (hall.dispatcher, standby):
                if dispatcher is not None:
                    dispatcher.kill()
            hub.kill()
