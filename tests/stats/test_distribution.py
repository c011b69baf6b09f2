"""The waiting-time distribution (/stats/waits) of the hand-computed day: each first call's wait in its
bin, a clerk's view with only their calls, and a bad range refused with a sentence."""

from __future__ import annotations

import asyncio

from tests.stats.scenario import folded, hall_app, login, the_day

DAY = {"from": "2036-12-02", "to": "2036-12-02"}


def counts(body: dict[str, object]) -> dict[str, int]:
    bins = body["bins"]
    assert isinstance(bins, list)
    return {b["label"]: b["count"] for b in bins if b["count"]}


def test_waits_fall_into_their_bins(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            supervisor = await login(client, "supervisor")
            answer = await client.get("/halls/demo/stats/waits", params=DAY, headers=supervisor)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            # waits: A001 600, A002 600 (clerk2), B001 900, A003 2100, B002 2760 (clerk2), B003 1860 s
            assert counts(body) == {"5-10分钟": 2, "10-15分钟": 1, "30-45分钟": 2, "45-60分钟": 1}
            assert body["count"] == 6 and body["bins"][0]["label"] == "0-5分钟"
            assert body["bins"][-1] == {"label": "120分钟以上", "from_s": 7200, "to_s": None, "count": 0}
            clerk2 = await client.get("/halls/demo/stats/waits", params=DAY, headers=await login(client, "clerk2"))
            assert counts(clerk2.json()) == {"5-10分钟": 1, "45-60分钟": 1}
            backwards = await client.get(
                "/halls/demo/stats/waits", params={"from": "2036-12-02", "to": "2036-12-01"}, headers=supervisor
            )
            assert backwards.status_code == 422 and "早于" in backwards.json()["detail"]
            device = await client.get(
                "/halls/demo/stats/waits", params=DAY, headers={"Authorization": "Bearer demo-device-token"}
            )
            assert device.status_code == 403

    asyncio.run(main())
