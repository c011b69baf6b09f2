"""The hall right now: waiting, longest wait and open windows per service, windows' states, and the
three alerts (a wait over target, a window paused too long, too many waiting per open window)."""

from __future__ import annotations

import asyncio
import datetime as dt

from server.engine import commands as c
from server.stats.live import live_stats
from tests.stats.scenario import Hall, hall_app, local, login


async def busy_morning(hall: Hall) -> None:
    await hall.run("09:00:00", c.OpenWindow(window="1", clerk="clerk1"))
    await hall.run("09:00:00", c.OpenWindow(window="2", clerk="clerk2"))
    for i in range(25):  # A001…A025, one every 10 s from 09:00
        await hall.issue((local("09:00:00") + dt.timedelta(seconds=10 * i)).strftime("%H:%M:%S"), "A")
    await hall.issue("09:01:00", "B")
    await hall.run("09:05:00", c.PauseWindow(window="2", reason="会议"))
    await hall.run("09:06:00", c.CallNext(window="1"))  # A001 leaves the line: A002 (09:00:10) is the oldest


def test_live_numbers_and_every_alert(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (_client, app, hall):
            await busy_morning(hall)
            live = await live_stats(app.state.dispatcher, "demo", now=local("09:30:10"))
            services = [
                (s.service, s.waiting, s.longest_wait_s, s.open_windows, s.target_wait_s) for s in live.services
            ]
            assert services == [
                ("A", 24, 1800, 1, 1200),  # W2 is paused: only W1 is open for A
                ("B", 1, 1750, 1, 600),
            ]  # fmt: skip
            assert [(w.window, w.state, w.since_s) for w in live.windows] == [
                ("1", "open", 1810),
                ("2", "paused", 1510),
            ]
            assert [(a.kind, a.service, a.window) for a in live.alerts] == [
                ("wait_over_target", "A", None),
                ("open_another_window", "A", None),
                ("wait_over_target", "B", None),
                ("window_paused", None, "2"),
            ]
            texts = [a.text for a in live.alerts]
            assert texts[0].startswith("社保业务最长已等候30分钟，超过目标20分钟。")
            assert "请增开窗口" in texts[1] and "open another window" in texts[1]
            assert texts[3].startswith("2号窗口已暂停服务25分钟")
            calm = await live_stats(app.state.dispatcher, "demo", now=local("09:06:30"))
            assert [a.kind for a in calm.alerts] == ["open_another_window"]  # 24 waiting for 1 window

    asyncio.run(main())


def test_live_over_http_is_for_supervisors(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, _app, hall):
            await busy_morning(hall)
            answer = await client.get("/halls/demo/stats/live", headers=await login(client, "supervisor"))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert [s["waiting"] for s in body["services"]] == [24, 1]
            assert [w["state"] for w in body["windows"]] == ["open", "paused"]
            # the clock of the request is today's, before the scenario's day: only the count alerts
            assert [a["kind"] for a in body["alerts"]] == ["open_another_window"]
            device = await client.get("/halls/demo/stats/live", headers={"Authorization": "Bearer demo-device-token"})
            assert device.status_code == 403

    asyncio.run(main())
