"""The hub's HTTP contract in process (server/network/hub_api.py): the hall's own token, the 409 for a
gap with the seq needed, 422 for a batch out of order, staff-only reading, the demo login only in
demo mode. The real processes are in test_network.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.auth import sha256_hex
from server.network.registry import HallRegistry
from server.store import Store
from tests.network.inprocess import hub_client, in_loop

TOWN_TOKEN = "town-uplink-token-0123456789"
CITY_TOKEN = "city-uplink-token-0123456789"
AT = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def register(database: str) -> None:
    store = Store(database)
    store.migrate()
    registry = HallRegistry(store.engine)
    registry.add("city", name="市中心", kind="center", parent=None, timezone="Asia/Shanghai",
                 token_sha256=sha256_hex(CITY_TOKEN))  # fmt: skip
    registry.add("town", name="下蜀镇", kind="town", parent="city", timezone="Asia/Shanghai",
                 token_sha256=sha256_hex(TOWN_TOKEN))  # fmt: skip
    store.close()


def events(first: int, last: int) -> list[dict[str, Any]]:
    return [
        {"seq": seq, "kind": "day_reset", "payload": {"at": AT.isoformat()}, "created_at": AT.isoformat()}
        for seq in range(first, last + 1)
    ]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@in_loop
async def test_a_hall_ships_with_its_own_token_and_a_gap_is_refused(hub_database: str) -> None:
    register(hub_database)
    async with hub_client(hub_database) as hub:
        body = {"from_seq": 1, "events": events(1, 3)}
        url = "/hub/halls/town/events"
        assert (await hub.post(url, json=body)).status_code == 401
        assert (await hub.post(url, json=body, headers=bearer("not-a-token-of-any-hall"))).status_code == 401
        other = await hub.post(url, json=body, headers=bearer(CITY_TOKEN))
        assert other.status_code == 403 and "city" in other.json()["detail"]
        ok = await hub.post(url, json=body, headers=bearer(TOWN_TOKEN))
        assert ok.status_code == 200 and ok.json() == {"acked_seq": 3}
        again = await hub.post(url, json={"from_seq": 2, "events": events(2, 4)}, headers=bearer(TOWN_TOKEN))
        assert again.json() == {"acked_seq": 4}
        gap = await hub.post(url, json={"from_seq": 7, "events": events(7, 8)}, headers=bearer(TOWN_TOKEN))
        assert gap.status_code == 409
        assert gap.json()["expected_seq"] == 5 and gap.json()["acked_seq"] == 4 and "5" in gap.json()["detail"]
        shuffled = {"from_seq": 5, "events": events(6, 6)}
        refused = await hub.post(url, json=shuffled, headers=bearer(TOWN_TOKEN))
        assert refused.status_code == 422 and "expected 5" in refused.json()["detail"]


@in_loop
async def test_staff_read_the_halls_and_devices_or_halls_do_not(hub_database: str) -> None:
    register(hub_database)
    async with hub_client(hub_database) as hub:
        body = {"from_seq": 1, "events": events(1, 2)}
        await hub.post("/hub/halls/town/events", json=body, headers=bearer(TOWN_TOKEN))
        assert (await hub.get("/hub/halls")).status_code == 401
        assert (await hub.get("/hub/halls", headers=bearer(TOWN_TOKEN))).status_code == 401
        login = await hub.post("/auth/login", json={"username": "admin", "password": "demo"})
        assert login.status_code == 200, login.text
        halls = (await hub.get("/hub/halls", headers=bearer(login.json()["access_token"]))).json()
        assert [(h["hall"], h["kind"], h["parent"], h["acked_seq"], h["online"]) for h in halls] == [
            ("city", "center", None, 0, False),
            ("town", "town", "city", 2, True),
        ]
        assert halls[1]["last_event_at"] == AT.isoformat()


@in_loop
async def test_the_demo_login_works_only_in_demo_mode(tmp_path: Any) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    register(database)
    async with hub_client(database, demo=False) as hub:
        refused = await hub.post("/auth/login", json={"username": "admin", "password": "demo"})
        assert refused.status_code == 401
    async with hub_client(database, demo=True) as hub:
        window = await hub.post("/auth/login", json={"username": "admin", "password": "demo", "window": "1"})
        assert window.status_code == 401 and "window" in window.json()["detail"]


@in_loop
async def test_a_profile_in_another_time_zone_is_refused(tmp_path: Any) -> None:
    database = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    register(database)
    profile = {"name": "下蜀镇", "kind": "town", "parent": "city", "timezone": "Asia/Shanghai",
               "target_wait_min": 20, "services": [{"code": "A", "name": "社保", "target_wait_min": 15}],
               "windows": [{"id": "1", "name": "1号窗口"}]}  # fmt: skip
    async with hub_client(database) as hub:
        ok = await hub.put("/hub/halls/town/profile", json=profile, headers=bearer(TOWN_TOKEN))
        assert ok.status_code == 200 and ok.json()["online"] is True
        moved = await hub.put(
            "/hub/halls/town/profile", json={**profile, "timezone": "Asia/Urumqi"}, headers=bearer(TOWN_TOKEN)
        )
        assert moved.status_code == 409 and "Asia/Urumqi" in moved.json()["detail"]
