"""A small city for the /city tests: a hub (SQLite: trying it out; the network tests cover PostgreSQL)
and two halls (a 市中心 and a town under it), each a real `hallq server` shipping to the hub, with a
morning's traffic that leaves tickets waiting, a ticket at a window, a window paused, and ratings.

    with small_city(tmp_path) as (hub, halls):
        hub.live()                     # GET /api/v1/hub/live as admin
        halls["zhen"].own_live()       # the hall's own GET …/stats/live as its supervisor
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.network.halls import CityHall, shipped, wait_until
from tests.support.hub import Hub, start_hub

CENTER, TOWN = "shi", "zhen"


def live(hub: Hub) -> dict[str, Any]:
    answer = httpx.get(f"{hub.api}/hub/live", headers=hub.headers(), timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def own_live(hall: CityHall) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {hall.d.login('supervisor')}"}
    answer = httpx.get(f"{hall.d.api}/halls/{hall.hall}/stats/live", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def morning(hall: CityHall, tickets: int, good: int, bad: int) -> None:
    """`tickets` issued over three services; windows 1 and 2 serve one each (rated `good` then `bad`
    times out of what they served), window 2 calls another and keeps it, window 3 opens and pauses."""
    issued = {t["id"]: t for t in (hall.issue(("A", "B", "H")[n % 3]) for n in range(tickets))}
    served = []
    for window in ("1", "2"):
        called = hall.window_action(window, "call-next")
        assert called.status_code == 200, called.text
        assert hall.window_action(window, "finish").status_code == 200
        served.append(issued[called.json()["ticket"]["id"]])
    for ticket, score in zip(served, [5] * good + [1] * bad, strict=False):
        hall.rate(ticket, score, None)
    assert hall.window_action("2", "call-next").status_code == 200
    assert hall.window_action("3", "open").status_code == 200
    assert hall.window_action("3", "pause").status_code == 200


def all_shipped(hub: Hub, halls: dict[str, CityHall]) -> None:
    for hall in halls.values():
        wait_until(lambda hall=hall: shipped(hub, hall), f"the hub to hold and count every event of {hall.hall}")


@contextlib.contextmanager
def small_city(tmp_path: Path) -> Iterator[tuple[Hub, dict[str, CityHall]]]:
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    halls = {
        CENTER: CityHall(tmp_path, CENTER, name="句容市政务服务中心", kind="center", parent=None, database=None),
        TOWN: CityHall(tmp_path, TOWN, name="下蜀镇便民服务中心", kind="town", parent=CENTER, database=None),
    }
    try:
        for hall in halls.values():
            hall.start(hub.url, hub.add_hall(hall.hall, name=hall.name, kind=hall.kind, parent=hall.parent))
        morning(halls[CENTER], tickets=5, good=2, bad=0)
        morning(halls[TOWN], tickets=9, good=1, bad=1)
        all_shipped(hub, halls)
        yield hub, halls
    finally:
        for hall in halls.values():
            if hall.dispatcher is not None:
                hall.dispatcher.kill()
        hub.kill()
