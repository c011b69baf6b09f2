"""The month's 好差评 numbers (考核) on SQLite and PostgreSQL, against a scenario computed by hand:
ratings at three windows, 差评 with and without a phone, orders at every stage, one appeal upheld,
and ratings just inside and just outside the hall's local month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hallq.config import example_config_path, load_hall_config
from server.evaluations.service import Actor, EvaluationService, RatedService
from server.evaluations.summary import rank, summary
from server.store import Store
from tests.evaluations.test_api import bad_rating, run, staff, step
from tests.server.test_permissions import served_at_window_1, token_of

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
SUPERVISOR = Actor("user:supervisor", "supervisor")
ADMIN = Actor("user:admin", "admin")
PHONE = "13912345678"
# The steps each order takes after it opens (all by the supervisor).
LOOPS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "open": [],
    "verified": [("verify", {})],
    "closed": [("verify", {}), ("rectify", {}), ("call_back", {"satisfied": True})],
    "upheld": [("appeal", {}), ("uphold", {})],
    "reopened": [("verify", {}), ("rectify", {}), ("call_back", {"satisfied": False})],
    "escalated": [
        ("verify", {}), ("rectify", {}), ("call_back", {"satisfied": False}), ("rectify", {}),
        ("call_back", {"satisfied": False}),
    ],
}  # fmt: skip
# (window, clerk, service, score, 实名, the order's path, rated at): 1-2 are 差评, 4-5 好评.
SCENARIO: list[tuple[str, str, str, int, bool, str | None, dt.datetime]] = [
    ("1", "clerk1", "A", 5, False, None, dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC)),  # 1 Nov 00:30 local
    ("1", "clerk1", "A", 4, False, None, NOW),
    ("1", "clerk1", "A", 3, True, None, NOW),
    ("1", "clerk1", "A", 1, True, "closed", NOW),
    ("1", "clerk1", "A", 2, True, "verified", NOW),
    ("1", "clerk1", "A", 2, False, "open", NOW),
    ("2", "clerk2", "B", 5, False, None, NOW),
    ("2", "clerk2", "B", 5, True, None, NOW),
    ("2", "clerk2", "B", 1, True, "upheld", NOW),
    ("2", "clerk2", "B", 2, True, "open", NOW),
    ("3", "clerk3", "A", 4, False, None, NOW),
    ("3", "clerk3", "A", 2, True, "reopened", NOW),
    ("3", "clerk3", "A", 1, True, "escalated", NOW),
    ("3", "clerk3", "A", 5, False, None, dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)),  # 1 Dec local
    ("2", "clerk2", "B", 1, True, "open", dt.datetime(2026, 10, 31, 15, 59, tzinfo=dt.UTC)),  # 31 Oct local
]
# By hand: window 1 counts 6 (good 2, bad 3, 实名 bad 2: both verified, one rectified and called back);
# window 2 counts 3 (the upheld one is out: good 2, bad 1, 实名 bad 1 still open); window 3 counts 3
# (good 1, bad 2, both 实名: the reopened one verified only, the escalated one all three).
WINDOWS = {
    "1": ("1号窗口", 6, 2, 33.3, 3, 2, 100.0, 50.0, 50.0, 3),
    "2": ("2号窗口", 3, 2, 66.7, 1, 1, 0.0, 0.0, 0.0, 1),
    "3": ("3号窗口", 3, 1, 33.3, 2, 2, 100.0, 50.0, 50.0, 2),  # ties window 1 on 好评率, fewer 差评
}
FIELDS = ("label", "count", "good", "good_pct", "bad", "bad_real_name", "replied_pct", "rectified_pct",
          "called_back_pct", "rank")  # fmt: skip
TOTAL = ("句容市政务服务中心", 12, 5, 41.7, 6, 5, 80.0, 40.0, 40.0, None)


@pytest.fixture
def service(database: str) -> Iterator[EvaluationService]:
    store = Store(database)
    store.migrate()
    service = EvaluationService(store.engine, load_hall_config(example_config_path()), b"k" * 32)
    for n, (window, clerk, code, score, real_name, path, at) in enumerate(SCENARIO):
        rated = RatedService("ticket", f"t{n}", f"{code}{n:03d}", window, clerk, code, code, code, at)
        phone = PHONE if real_name else None
        answer = service.rate(rated, score=score, reasons=[], comment="", channel="qr", contact_phone=phone, now=at)
        for action, extra in LOOPS[path or "open"] if answer["rectification"] else []:
            actor = SUPERVISOR if action != "uphold" else ADMIN  # the one who appealed does not decide it
            service.act(answer["rectification"]["id"], action, actor, at, text="经办说明", **extra)
    yield service
    store.close()


def values(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[f] for f in FIELDS)


def test_by_window_every_number_and_the_ranking(service: EvaluationService) -> None:
    answer = summary(service, "2026-11", "window")
    assert [r["key"] for r in answer["rows"]] == ["2", "3", "1"], "ranked: 好评率, then fewer 差评"
    assert {r["key"]: values(r) for r in answer["rows"]} == WINDOWS
    assert values(answer["total"]) == TOTAL and answer["excluded"] == 1


def test_by_hall_service_and_clerk_add_up_the_same_ratings(service: EvaluationService) -> None:
    hall = summary(service, "2026-11", "hall")
    assert [values(r) for r in hall["rows"]] == [TOTAL]
    by_service = {r["key"]: values(r) for r in summary(service, "2026-11", "service")["rows"]}
    assert by_service == {
        "A": ("社保业务", 9, 3, 33.3, 5, 4, 100.0, 50.0, 50.0, None),
        "B": ("医保业务", 3, 2, 66.7, 1, 1, 0.0, 0.0, 0.0, None),
    }
    by_clerk = {r["key"]: values(r) for r in summary(service, "2026-11", "clerk")["rows"]}
    assert by_clerk == {f"clerk{k}": (f"clerk{k}", *v[1:-1], None) for k, v in WINDOWS.items()}
    october = summary(service, "2026-10", "window")
    assert [(r["key"], r["count"], r["bad"], r["bad_real_name"]) for r in october["rows"]] == [("2", 1, 1, 1)]
    assert october["rows"][0]["replied_pct"] == 0.0 and october["rows"][0]["good_pct"] == 0.0


def test_a_clerk_s_window_keeps_its_place_among_the_hall_s(service: EvaluationService) -> None:
    mine = summary(service, "2026-11", "window", window="1")
    assert [values(r) for r in mine["rows"]] == [WINDOWS["1"]]
    assert values(mine["total"])[:-1] == WINDOWS["1"][:-1] and mine["excluded"] == 0
    services = summary(service, "2026-11", "service", window="2")
    assert [(r["key"], r["count"]) for r in services["rows"]] == [("B", 3)] and services["excluded"] == 1


def test_equal_windows_share_a_rank_and_one_without_ratings_has_none() -> None:
    def r(key: str, good_pct: float | None, bad: int) -> dict[str, Any]:
        return {"key": key, "good_pct": good_pct, "bad": bad, "rank": None}

    ranked = rank([r("a", 80.0, 1), r("b", None, 0), r("c", 90.0, 2), r("d", 80.0, 1), r("e", 80.0, 0)])
    assert [(x["key"], x["rank"]) for x in ranked] == [("c", 1), ("e", 2), ("a", 3), ("d", 3), ("b", None)]


def test_summary_over_http_staff_only_a_clerk_sees_their_window(database: str) -> None:
    async def scenario(client: httpx.AsyncClient, _app: Any) -> None:
        who = await staff(client)
        order = (await bad_rating(client, who["clerk1"], contact_phone=PHONE))["rectification"]
        assert (await step(client, order["id"], "verify", who["supervisor"], facts="属实")).status_code == 200
        ticket_id, access = await served_at_window_1(client, who["clerk1"])
        good = {"ticket_id": ticket_id, "score": 5}
        assert (await client.post("/halls/demo/evaluations", params={"k": access}, json=good)).status_code == 201
        url = "/halls/demo/evaluations/summary"
        answer = (await client.get(url, headers=who["supervisor"])).json()
        month = dt.datetime.fromisoformat(order["evaluation"]["rated_at"]).astimezone(dt.UTC)
        assert answer["by"] == "window" and answer["month"][:4] == str(month.year)
        assert [(r["key"], r["count"], r["good_pct"], r["bad_real_name"], r["replied_pct"], r["rectified_pct"],
                 r["rank"]) for r in answer["rows"]] == [("1", 2, 50.0, 1, 100.0, 0.0, 1)]  # fmt: skip
        assert (await client.get(url, headers=who["clerk2"])).json()["rows"] == []
        mine = (await client.get(url, params={"by": "clerk"}, headers=who["clerk1"])).json()
        assert [(r["key"], r["count"]) for r in mine["rows"]] == [("clerk1", 2)]
        assert PHONE not in (await client.get(url, headers=who["admin"])).text
        device = await client.get(url, headers=token_of("kiosk-1"))
        assert device.status_code == 403 and len(device.json()["detail"]) > 10
        for bad in ({"month": "2026-13"}, {"month": "11/2026"}, {"by": "day"}):
            refused = await client.get(url, params=bad, headers=who["supervisor"])
            assert refused.status_code == 422, (bad, refused.text)
        assert "YYYY-MM" in (await client.get(url, params={"month": "2026-13"}, headers=who["admin"])).text

    run(database, scenario)
