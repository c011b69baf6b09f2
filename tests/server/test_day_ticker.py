"""The real day ticker across midnight and the next morning's opening (DESIGN.md §3: time passing is an
input like a command; its events are stored and published like any other), on SQLite and PostgreSQL.

The ticker runs as in `hallq server` (server/usecases/day.py `run_ticker`), with a clock the test
moves; the test waits for the commit it expects instead of sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from server.engine import commands as c
from server.runtime import Dispatcher
from server.store import Store
from server.usecases.common import nothing
from server.usecases.day import run_ticker, tick
from server.usecases.tickets import new_access, new_ticket_id
from tests.server.conftest import make_settings

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Today's evening in the hall, so the dispatcher's restore (which loads from yesterday on) sees it all.
TODAY = dt.datetime.now(SHANGHAI).date()
TOMORROW = TODAY + dt.timedelta(days=1)
EVENING = dt.datetime.combine(TODAY, dt.time(23, 58), SHANGHAI)
AFTER_MIDNIGHT = dt.datetime.combine(TOMORROW, dt.time(0, 0, 30), SHANGHAI)
OPENING = dt.datetime.combine(TOMORROW, dt.time(8, 30), SHANGHAI)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def _run(dispatcher: Dispatcher, command: Any, now: dt.datetime) -> None:
    await dispatcher.execute("demo", command, nothing, now=now)


async def _issue(dispatcher: Dispatcher, now: dt.datetime) -> str:
    ticket_id = new_ticket_id()
    await _run(dispatcher, c.IssueTicket(service="A", ticket_id=ticket_id, access=new_access()), now)
    return ticket_id


def _committed(dispatcher: Dispatcher) -> tuple[asyncio.Event, Callable[[], int]]:
    """An event set at the next commit, and the hall's last committed seq."""
    committed = asyncio.Event()
    dispatcher.on_commit.append(lambda _hall, _seq: committed.set())
    return committed, lambda: dispatcher.runtime("demo").last_seq


async def _evening(dispatcher: Dispatcher) -> dict[str, str]:
    """Window 1 open and serving, window 2 paused; one ticket called, one parked, one waiting."""
    await _run(dispatcher, c.OpenWindow("1", "clerk1"), EVENING)
    await _run(dispatcher, c.OpenWindow("2", "clerk2"), EVENING)
    await _run(dispatcher, c.PauseWindow("2", "午休"), EVENING)
    parked, called, waiting = [await _issue(dispatcher, EVENING) for _ in range(3)]
    await _run(dispatcher, c.CallNext("1", "clerk1"), EVENING)
    await _run(dispatcher, c.Park("1"), EVENING)
    await _run(dispatcher, c.CallNext("1", "clerk1"), EVENING)
    return {"parked": parked, "called": called, "waiting": waiting}


async def _midnight_through_opening(database: str) -> None:
    store = Store(database)
    dispatcher = Dispatcher(make_settings(database), store)
    await dispatcher.start()
    ticker: asyncio.Task[None] | None = None
    try:
        tickets = await _evening(dispatcher)
        before = dispatcher.runtime("demo").last_seq
        committed, last_seq = _committed(dispatcher)
        clock = Clock(AFTER_MIDNIGHT)
        ticker = asyncio.create_task(run_ticker(dispatcher, every_s=0.01, clock=clock))
        await asyncio.wait_for(committed.wait(), 30)

        events = store.events_since("demo", before, 1000)
        kinds = [e.kind for e in events]
        assert kinds.count("day_reset") == 1, kinds
        reset = next(e for e in events if e.kind == "day_reset").payload
        assert (reset["closed_day"], reset["day"]) == (TODAY.isoformat(), TOMORROW.isoformat())
        assert (reset["expired"], reset["finished"]) == (2, 1)
        expired = {e.payload["ticket_id"] for e in events if e.kind == "ticket_expired"}
        finished = {e.payload["ticket_id"] for e in events if e.kind == "ticket_finished"}
        assert expired == {tickets["parked"], tickets["waiting"]}
        assert finished == {tickets["called"]}

        engine = dispatcher.runtime("demo").live()
        states = {w.id: (str(w.state), w.ticket) for w in engine.windows()}
        # Midnight closes the queue, not the windows: a 24-hour zone keeps serving (DESIGN §3).
        assert states["1"] == ("open", None)
        assert states["2"][0] == "paused"
        assert engine.waiting_count("A") == 0

        # Later ticks of the same night find nothing due and write nothing.
        seq_after_midnight = last_seq()
        clock.now = AFTER_MIDNIGHT + dt.timedelta(minutes=5)
        assert await tick(dispatcher, clock.now) == 0
        ticker.cancel()
        assert last_seq() == seq_after_midnight

        # The opening: the morning's first ticket is A001 again, and no second reset is made.
        assert await tick(dispatcher, OPENING) == 0
        first = await _issue(dispatcher, OPENING)
        morning = engine.ticket(first)
        assert morning is not None and morning.number == "A001"
        later = store.events_since("demo", seq_after_midnight, 1000)
        assert [e.kind for e in later].count("day_reset") == 0
    finally:
        if ticker is not None:
            ticker.cancel()
        await dispatcher.stop()

    # A restart in the middle of the new day continues its numbering.
    store = Store(database)
    dispatcher = Dispatcher(make_settings(database), store)
    await dispatcher.start()
    try:
        second = await _issue(dispatcher, OPENING + dt.timedelta(minutes=1))
        ticket = dispatcher.runtime("demo").live().ticket(second)
        assert ticket is not None and ticket.number == "A002"
    finally:
        await dispatcher.stop()


def test_the_ticker_closes_the_day_at_midnight_once(database: str) -> None:
    asyncio.run(asyncio.wait_for(_midnight_through_opening(database), 120))
