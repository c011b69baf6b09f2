"""The hand-computed day (tests/stats/scenario.py) through the HTTP API: every metric exact, on SQLite
and PostgreSQL; a rebuild from the events gives the same numbers; a restart counts nothing twice."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
from openpyxl import load_workbook

from server.stats.rollups import rebuild
from tests.stats.scenario import SHANGHAI, folded, hall_app, login, the_day

DAY = {"from": "2036-12-02", "to": "2036-12-02"}
NONE = {"count": 0, "mean": None, "p50": None, "p90": None, "max": None}
NO_RATING = {"count": 0, "mean": None, "good_pct": None, "bad": 0}
ZERO = {"issued": 0, "called": 0, "served": 0, "no_show": 0, "cancelled": 0, "expired": 0, "abandoned": 0,
        "transferred": 0, "recalled": 0, "wait_s": NONE, "service_s": NONE, "within_target": 0,
        "within_target_pct": None, "open_s": 0, "utilisation_pct": None, "rating": NO_RATING,
        "queue_mean": None, "open_windows_mean": None, "cases": None}  # fmt: skip
# The day has no one-window case: the cases' numbers (by day, by service, the total) are all zero.
NO_CASES = {"received": 0, "instant": 0, "instant_pct": None, "deferred": 0, "accepted": 0, "accepted_in_time": 0,
            "accepted_in_time_pct": None, "decided": 0, "decided_in_time": 0, "on_time_pct": None,
            "overdue": 0}  # fmt: skip


def row(key: str, label: str, **metrics: Any) -> dict[str, Any]:
    return {"key": key, "label": label, **ZERO, **metrics}


def durations(count: int, mean: float, p50: int, p90: int, maximum: int) -> dict[str, Any]:
    return {"count": count, "mean": mean, "p50": p50, "p90": p90, "max": maximum}


# Waits (first call − issue): A001 600, A002 600, B001 900, A003 2100, B002 2760, B003 1860 s.
# Service times (last call → finish): A001 480, A002 840 (as B), A003 1200, B003 540, B002 2100 s.
# Open: W1 08:59-10:10 and 10:30-11:00 = 6060 s; W2 09:00-12:00 = 10800 s.
TOTAL = row(
    "total", "合计", issued=8, called=6, served=5, no_show=1, cancelled=1, expired=1, abandoned=2, transferred=1,
    recalled=1, wait_s=durations(6, 1470.0, 900, 2760, 2760), service_s=durations(5, 1032.0, 840, 2100, 2100),
    within_target=2, within_target_pct=33.3, open_s=16860, utilisation_pct=30.6,
    rating={"count": 2, "mean": 3.5, "good_pct": 50.0, "bad": 1},
)  # fmt: skip
WITH_CASES = {**TOTAL, "cases": NO_CASES}  # the total by day, service or item carries the cases' numbers
BY_SERVICE = [
    row("A", "社保业务", issued=5, called=3, served=2, cancelled=1, expired=1, abandoned=2, transferred=1,
        wait_s=durations(3, 1100.0, 600, 2100, 2100), service_s=durations(2, 840.0, 480, 1200, 1200),
        within_target=2, within_target_pct=66.7, rating={"count": 1, "mean": 5.0, "good_pct": 100.0, "bad": 0},
        cases=NO_CASES),
    row("B", "医保业务", issued=3, called=3, served=3, no_show=1, recalled=1,
        wait_s=durations(3, 1840.0, 1860, 2760, 2760), service_s=durations(3, 1160.0, 840, 2100, 2100),
        within_target=0, within_target_pct=0.0, rating={"count": 1, "mean": 2.0, "good_pct": 0.0, "bad": 1},
        cases=NO_CASES),
]  # fmt: skip
WINDOW_1 = dict(called=4, served=3, no_show=1, recalled=1, wait_s=durations(4, 1365.0, 900, 2100, 2100),
                service_s=durations(3, 740.0, 540, 1200, 1200), within_target=1, within_target_pct=25.0,
                open_s=6060, utilisation_pct=36.6,
                rating={"count": 1, "mean": 5.0, "good_pct": 100.0, "bad": 0})  # fmt: skip
WINDOW_2 = dict(called=2, served=2, transferred=1, wait_s=durations(2, 1680.0, 600, 2760, 2760),
                service_s=durations(2, 1470.0, 840, 2100, 2100), within_target=1, within_target_pct=50.0,
                open_s=10800, utilisation_pct=27.2,
                rating={"count": 1, "mean": 2.0, "good_pct": 0.0, "bad": 1})  # fmt: skip
NO_WINDOW = dict(issued=8, cancelled=1, expired=1, abandoned=2)
BY_WINDOW = [row("1", "1号窗口", **WINDOW_1), row("2", "2号窗口", **WINDOW_2), row("", "（未到窗口）", **NO_WINDOW)]
BY_CLERK = [
    row("clerk1", "clerk1", **WINDOW_1),
    row("clerk2", "clerk2", **WINDOW_2),
    row("", "（无柜员）", **NO_WINDOW),
]
# Queue time (issue → first call or cancel; A005 expires and is left out), split over the hours:
# 09: A001 600 + A002 600 + B001 900 + A003 2100 + B002 2400 (09:20-10:00) + A004 660 (cancelled) = 7260 s
# → 2.02 waiting on average; 10: B002 360 + B003 1860 = 2220 s → 0.62. Open windows: open_s ÷ 3600.
BY_HOUR = [
    row("08", "08:00-09:00", open_s=60, utilisation_pct=0.0, queue_mean=0.0, open_windows_mean=0.02),
    row("09", "09:00-10:00", issued=6, called=4, served=2, no_show=1, cancelled=1, abandoned=1, transferred=1,
        recalled=1, wait_s=durations(4, 1050.0, 600, 2100, 2100), service_s=durations(2, 660.0, 480, 840, 840),
        within_target=2, within_target_pct=50.0, open_s=7200, utilisation_pct=18.3, queue_mean=2.02,
        open_windows_mean=2.0),
    row("10", "10:00-11:00", issued=1, called=2, served=3, wait_s=durations(2, 2310.0, 1860, 2760, 2760),
        service_s=durations(3, 1280.0, 1200, 2100, 2100), within_target=0, within_target_pct=0.0, open_s=6000,
        utilisation_pct=64.0, rating={"count": 2, "mean": 3.5, "good_pct": 50.0, "bad": 1}, queue_mean=0.62,
        open_windows_mean=1.67),
    # A005, never called, expires at the close (12:00) but counts on its issue hour
    row("11", "11:00-12:00", issued=1, expired=1, abandoned=1, open_s=3600, utilisation_pct=0.0, queue_mean=0.0,
        open_windows_mean=1.0),
]  # fmt: skip
EXPECTED = {"service": BY_SERVICE, "window": BY_WINDOW, "clerk": BY_CLERK, "hour": BY_HOUR}
TOTALS = {by: WITH_CASES if by == "service" else TOTAL for by in EXPECTED}  # the total of each grouping


async def stats(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/halls/demo/stats", params={**DAY, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_metric_of_the_day_is_exact(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            supervisor = await login(client, "supervisor")
            for by, rows in EXPECTED.items():
                body = await stats(client, supervisor, by=by)
                assert (body["by"], body["from"], body["to"]) == (by, "2036-12-02", "2036-12-02")
                assert body["rows"] == rows, by
                assert body["total"] == TOTALS[by], by
            two_days = await stats(client, supervisor, by="hour", **{"from": "2036-12-02", "to": "2036-12-03"})
            assert [(r["key"], r["queue_mean"]) for r in two_days["rows"]][1] == ("09", 2.02)  # one day worked
            days = await stats(client, supervisor, by="day", **{"from": "2036-12-01", "to": "2036-12-03"})
            assert [r["key"] for r in days["rows"]] == ["2036-12-01", "2036-12-02", "2036-12-03"]
            assert days["rows"][1] == {**WITH_CASES, "key": "2036-12-02", "label": "2036-12-02"}
            empty_day = row("2036-12-01", "2036-12-01", cases=NO_CASES)
            assert days["rows"][0] == empty_day and days["total"] == WITH_CASES

    asyncio.run(main())


def test_a_rebuild_from_the_events_gives_the_same_numbers(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            supervisor = await login(client, "supervisor")
            before = {by: await stats(client, supervisor, by=by) for by in EXPECTED}
            store = app.state.dispatcher.store
            folded_events = await asyncio.to_thread(rebuild, store, "demo", SHANGHAI)
            assert folded_events == before["hour"]["folded_seq"] > 0
            after = {by: await stats(client, supervisor, by=by) for by in EXPECTED}
            assert after == before

    asyncio.run(main())


def test_a_restart_counts_nothing_twice_and_folds_what_came_while_down(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
        async with hall_app(database) as (client, app, hall):
            await folded(app)
            supervisor = await login(client, "supervisor")
            assert (await stats(client, supervisor, by="hour"))["total"] == TOTAL
            await hall.issue("13:00:00", "B")  # after the close: a new ticket of the same day
            await folded(app)
            total = (await stats(client, supervisor, by="service"))["total"]
            assert total == {**WITH_CASES, "issued": 9}

    asyncio.run(main())


def test_exports_carry_the_same_table_with_chinese_headers(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            supervisor = await login(client, "supervisor")
            csv = await client.get("/halls/demo/stats", params={**DAY, "by": "service", "format": "csv"},
                                   headers=supervisor)  # fmt: skip
            assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
            assert "stats-demo-2036-12-02-2036-12-02-service.csv" in csv.headers["content-disposition"]
            lines = csv.content.decode("utf-8-sig").splitlines()
            assert lines[0].startswith("编号,业务,取号数,叫号数,办结数,过号数,取消数,过期未办数,流失数,转移数")
            assert lines[1].startswith("A,社保业务,5,3,2,0,1,1,2,1,0,1100.0,600,2100,2100,840.0,480,2,66.7,0,,1,5.0")
            assert lines[3].startswith("total,合计,8,6,5,1,1,1,2,1,1,1470.0,900,2760,2760,1032.0,840,2,33.3,16860,")
            xlsx = await client.get("/halls/demo/stats", params={**DAY, "by": "window", "format": "xlsx"},
                                    headers=supervisor)  # fmt: skip
            assert xlsx.status_code == 200
            sheet = load_workbook(io.BytesIO(xlsx.content)).active
            assert sheet is not None
            cells = [[c.value for c in line] for line in sheet.iter_rows()]
            assert cells[1][:5] == ["编号", "窗口", "取号数", "叫号数", "办结数"]
            assert cells[2][:5] == ["1", "1号窗口", 0, 4, 3] and cells[2][19:21] == [6060, 36.6]
            assert cells[-1][:5] == ["total", "合计", 8, 6, 5]

    asyncio.run(main())


def test_who_may_read_the_numbers(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            params = {**DAY, "by": "clerk"}
            assert (await client.get("/halls/demo/stats", params=params)).status_code == 401
            device = {"Authorization": "Bearer demo-device-token"}
            refused = await client.get("/halls/demo/stats", params=params, headers=device)
            assert refused.status_code == 403 and "staff" in refused.json()["detail"]
            own = await stats(client, await login(client, "clerk1", window="1"), by="clerk")
            assert own["rows"] == [row("clerk1", "clerk1", **WINDOW_1)]
            assert own["total"]["served"] == 3 and own["total"]["issued"] == 0
            clerk_live = await client.get("/halls/demo/stats/live", headers=await login(client, "clerk2", "2"))
            assert clerk_live.status_code == 403

    asyncio.run(main())


def test_bad_requests_are_refused_with_a_sentence(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, _hall):
            supervisor = await login(client, "supervisor")
            backwards = await client.get("/halls/demo/stats", params={"from": "2036-12-03", "to": "2036-12-02"},
                                         headers=supervisor)  # fmt: skip
            assert backwards.status_code == 422 and "before" in backwards.json()["detail"]
            too_long = await client.get("/halls/demo/stats", params={"from": "2025-01-01", "to": "2036-12-02"},
                                        headers=supervisor)  # fmt: skip
            assert too_long.status_code == 422 and "366" in too_long.json()["detail"]
            bad_by = await client.get("/halls/demo/stats", params={**DAY, "by": "week"}, headers=supervisor)
            assert bad_by.status_code == 422 and "by" in bad_by.json()["detail"]
            unknown = await client.get("/halls/nowhere/stats", params=DAY, headers=supervisor)
            assert unknown.status_code == 404

    asyncio.run(main())
