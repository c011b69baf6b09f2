"""A hand-computed day at a small hall: two services (A: target 20 min, the hall's default; B: its own
10 min), two windows, known issues, calls, recalls, a no-show, a transfer, a cancel, a pause, ratings
and the day's close at known local times, driven through `Dispatcher.execute` with explicit `now=`.
The expected numbers in test_scenario.py are worked out by hand from this script (see its comments)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from hallq.config import HallConfig
from server.engine import commands as c
from server.runtime import Dispatcher
from server.usecases.common import nothing
from tests.server.conftest import demo_config, make_settings, running_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Far in the future: the app's ticker advances the hall to the real clock, which is then earlier and
# does nothing (a clock that jumps back), so the scenario's day is never closed under it.
DAY = dt.date(2036, 12, 2)


def small_hall() -> HallConfig:
    data = demo_config().model_dump()
    data["services"] = [s for s in data["services"] if s["code"] in ("A", "B")]
    for service in data["services"]:
        service["daily_quota"] = None
        if service["code"] == "B":
            service["target_wait_min"] = 10
    data["windows"] = [{**w, "services": ["A", "B"] if w["id"] == "1" else ["B", "A"]}
                       for w in data["windows"] if w["id"] in ("1", "2")]  # fmt: skip
    for device in data["credentials"]["devices"]:
        device["windows"] = [w for w in device["windows"] if w in ("1", "2")]
    # the back office's departments and 一件事 name services this small hall does not have
    data["departments"], data["bundles"] = [], []
    data["credentials"]["users"] = [u for u in data["credentials"]["users"] if u["role"] != "department"]
    return HallConfig.model_validate(data)


def local(clock: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), SHANGHAI)


class Hall:
    """The demo hall's dispatcher driven at explicit local times."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.tickets: dict[str, str] = {}  # number → ticket id

    async def run(self, clock: str, command: Any, day: dt.date = DAY) -> list[str]:
        """Run a command at a local time; returns the numbers of the tickets it called."""
        runtime = self.dispatcher.runtime("demo")
        before = runtime.last_seq
        await self.dispatcher.execute("demo", command, nothing, now=local(clock, day))
        events = await self._events_after(before)
        return [e.payload["number"] for e in events if e.kind == "ticket_called"]

    async def _events_after(self, seq: int) -> list[Any]:
        return await asyncio.to_thread(self.dispatcher.store.events_since, "demo", seq)

    async def issue(self, clock: str, service: str, day: dt.date = DAY) -> str:
        ticket_id = uuid.uuid4().hex
        await self.dispatcher.execute(
            "demo", c.IssueTicket(service=service, ticket_id=ticket_id, access="k" * 16), nothing, now=local(clock, day)
        )
        number = self.dispatcher.runtime("demo").live().ticket(ticket_id).number  # type: ignore[union-attr]
        self.tickets[number] = ticket_id
        return number


async def the_day(hall: Hall) -> None:
    """The scenario; each comment gives what the statistics must count for it."""
    run, issue = hall.run, hall.issue
    await run("08:59:00", c.OpenWindow(window="1", clerk="clerk1"))  # W1 open from 08:59 (clerk1)
    await run("09:00:00", c.OpenWindow(window="2", clerk="clerk2"))  # W2 open from 09:00 (clerk2)
    assert await issue("09:00:00", "A") == "A001"  # t1
    assert await issue("09:02:00", "A") == "A002"  # t2
    assert await issue("09:05:00", "B") == "B001"  # t3
    assert await issue("09:10:00", "A") == "A003"  # t4
    assert await issue("09:20:00", "B") == "B002"  # t5
    assert await issue("09:30:00", "A") == "A004"  # t6
    assert await issue("10:00:00", "B") == "B003"  # t7
    assert await run("09:10:00", c.CallNext(window="1")) == ["A001"]  # wait 600 s, A, W1
    assert await run("09:12:00", c.CallNext(window="2")) == ["A002"]  # wait 600 s, A, W2
    await run("09:18:00", c.Finish(window="1"))  # A001 served at W1: 480 s
    assert await run("09:20:00", c.CallNext(window="1")) == ["B001"]  # wait 900 s, B (over its 10 min)
    assert await run("09:21:00", c.Recall(window="1")) == ["B001"]  # a recall at W1
    await run("09:23:00", c.NoShow(window="1"))  # B001 a no-show at W1
    await run("09:25:00", c.Transfer(window="2", to_service="B"))  # A002 transferred from A at W2
    assert await run("09:26:00", c.CallNext(window="2")) == ["A002"]  # called again: no second wait sample
    await run("09:40:00", c.Finish(window="2"))  # A002 served as B at W2: 840 s
    await run("09:41:00", c.Cancel(ticket_id=hall.tickets["A004"]))  # A004 cancelled
    assert await run("09:45:00", c.CallNext(window="1")) == ["A003"]  # wait 2100 s, A (over 20 min)
    await run("10:05:00", c.Finish(window="1"))  # A003 served at W1: 1200 s
    assert await run("10:06:00", c.CallNext(window="2")) == ["B002"]  # wait 2760 s, B
    await run("10:10:00", c.PauseWindow(window="1", reason="会议"))  # W1 open 08:59-10:10
    await run("10:30:00", c.ResumeWindow(window="1"))  # W1 open again from 10:30
    assert await run("10:31:00", c.CallNext(window="1")) == ["B003"]  # wait 1860 s, B
    await run("10:40:00", c.Finish(window="1"))  # B003 served at W1: 540 s
    await run("10:41:00", c.Finish(window="2"))  # B002 served at W2: 2100 s
    await run("10:45:00", c.Evaluate(ticket_id=hall.tickets["A001"], score=5))  # 好评 for W1 / clerk1 / A
    await run("10:46:00", c.Evaluate(ticket_id=hall.tickets["A002"], score=2))  # 差评 for W2 / clerk2 / B
    assert await issue("11:00:00", "A") == "A005"  # t8, never called
    await run("11:00:00", c.CloseWindow(window="1"))  # W1 open 10:30-11:00
    await run("12:00:00", c.CloseDay())  # A005 expires (on its issue hour 11); W2 open 09:00-12:00


@contextlib.asynccontextmanager
async def hall_app(database: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Hall]]:
    async with running_app(make_settings(database, small_hall())) as (client, app):
        yield client, app, Hall(app.state.dispatcher)


async def login(client: httpx.AsyncClient, username: str, window: str | None = None) -> dict[str, str]:
    body = {"username": username, "password": "demo", **({"window": window} if window else {})}
    response = await client.post("/auth/login", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def folded(app: Any) -> None:
    assert await asyncio.to_thread(app.state.stats_folder.wait_folded, 30)
