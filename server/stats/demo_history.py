"""A month of plausible past traffic for the demo hall, so its statistics, pages and monthly report
show something real on first start.

Every ticket goes through the real dispatcher (`Dispatcher.execute` with a moving `now`): citizens
arrive by hour and weekday in the services' mix, windows open at 08:30 with their clerk, call, recall,
mark no-shows, transfer, finish, pause for lunch (the specialist windows) and close; citizens cancel
and rate (mostly 满意, a few 差评, each 差评 opening its rectification order as a real rating does);
the day is closed at 18:00. Only the hall's working days are simulated (the national calendar with the
hall's own holidays and 调休 days). Then the statistics are folded from the events, as the server does.

Commands are handed to the dispatcher without waiting for their commit (the engine has handled each
one before the next is made), so the group commit writes them in large batches: a month of a
mid-size hall takes a few seconds. A fixed seed makes it reproducible.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hallq.config import HallConfig
from hallq.evaluation_models import RatingBody
from server.cases.calendar import WorkingCalendar
from server.engine import commands as c
from server.engine.states import EngineError, Status
from server.evaluations.service import RatedService
from server.evaluations.usecases import rated_ticket, service_for
from server.runtime import Answer, Dispatcher, HallRuntime
from server.settings import ServerSettings
from server.stats.rollups import fold_all
from server.store import Store

SEED = 2026
DAYS = 30  # calendar days before today
PER_DAY = 220  # tickets on an ordinary weekday
WEEKDAY_LOAD = (1.25, 1.0, 0.95, 1.0, 0.85)  # Monday is the busiest, Friday afternoon the quietest
# (start, end, relative arrivals per hour): the morning peak, the quiet lunch hours, the afternoon.
ARRIVALS = (
    ("08:30", "09:00", 0.8), ("09:00", "10:00", 1.7), ("10:00", "11:00", 1.5), ("11:00", "12:00", 1.0),
    ("12:00", "13:30", 0.3), ("13:30", "14:00", 0.7), ("14:00", "15:00", 1.3), ("15:00", "16:00", 1.1),
    ("16:00", "17:00", 0.6),
)  # fmt: skip
OPEN_AT, LUNCH, CLOSE_AT, DAY_CLOSE = "08:30", ("12:00", "13:30"), "17:30", "18:00"
NO_SHOW, TRANSFER, CANCEL, GREEN, RATED = 0.04, 0.03, 0.04, 0.1, 0.4
SCORES = ((5, 0.72), (4, 0.2), (3, 0.065), (2, 0.01), (1, 0.005))  # mostly good, a few 差评
BAD_COMMENTS = ("等候时间太长", "材料要求没有一次说清楚", "窗口人员态度一般")


@dataclass(frozen=True)
class HistoryPlan:
    days: int = DAYS
    per_day: int = PER_DAY
    seed: int = SEED


@dataclass
class Seeded:
    """What a seeding made (for the command line and the tests)."""

    days: list[dt.date] = field(default_factory=list)
    issued: int = 0
    served: int = 0
    ratings: int = 0
    events_folded: int = 0


@dataclass
class Desk:
    """The simulation's view of one window."""

    id: str
    services: tuple[str, ...]
    specialist: bool
    state: str = "closed"  # closed | open | paused
    ticket: str | None = None  # called here, not finished yet
    busy: bool = False  # a call or its outcome is scheduled


def plan_days(config: HallConfig, today: dt.date, days: int) -> list[dt.date]:
    """The hall's working days among the `days` calendar days before `today`."""
    calendar = WorkingCalendar(config.hall.holidays, config.hall.workdays)
    first = today - dt.timedelta(days=days)
    every = (first + dt.timedelta(days=n) for n in range(days))
    return [day for day in every if calendar.is_working_day(day)]


def seed_database(settings: ServerSettings, plan: HistoryPlan, today: dt.date | None = None) -> Seeded:
    """Seed a fresh database (the demo's) for its first hall, then fold the statistics."""
    config = settings.halls[0]
    tz = ZoneInfo(config.hall.timezone)
    # A demo's seed needs no fsync per commit: if it is cut short, the next demo starts afresh anyway.
    store = Store(settings.database, sqlite_synchronous="NORMAL")
    try:
        seeded = asyncio.run(_seed(settings, store, plan, today or dt.datetime.now(tz).date()))
        seeded.events_folded = fold_all(store, config.hall.id, tz)
    finally:
        store.close()
    return seeded


async def _seed(settings: ServerSettings, store: Store, plan: HistoryPlan, today: dt.date) -> Seeded:
    dispatcher = Dispatcher(settings, store)
    await dispatcher.start()
    try:
        config = settings.halls[0]
        seeded = Seeded(days=plan_days(config, today, plan.days))
        rng = random.Random(plan.seed)
        for day in seeded.days:
            await DaySimulation(dispatcher, config, day, rng, plan.per_day, seeded).run()
        return seeded
    finally:
        await dispatcher.stop()


class DaySimulation:
    """One working day, as a time-ordered list of things that happen, each one a command."""

    def __init__(self, dispatcher: Dispatcher, config: HallConfig, day: dt.date, rng: random.Random,
                 per_day: int, seeded: Seeded) -> None:  # fmt: skip
        self.dispatcher, self.config, self.day, self.rng, self.seeded = dispatcher, config, day, rng, seeded
        self.hall = config.hall.id
        self.tz = ZoneInfo(config.hall.timezone)
        self.desks = [Desk(w.id, tuple(w.services), w.kind == "specialist") for w in config.windows]
        self.agenda: list[tuple[dt.datetime, int, Callable[[dt.datetime], Any], tuple[Any, ...]]] = []
        self.order = 0
        self.writes: list[asyncio.Future[Answer]] = []
        self.ratings: list[tuple[RatedService, RatingBody, dt.datetime]] = []
        self.per_day = per_day

    def at(self, clock: str) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time.fromisoformat(clock), self.tz)

    def later(self, when: dt.datetime, action: Callable[..., Any], *args: Any) -> None:
        self.order += 1
        heapq.heappush(self.agenda, (when, self.order, action, args))

    async def run(self) -> None:
        for desk in self.desks:
            self.later(self.at(OPEN_AT) + self.minutes(0, 6), self.open_desk, desk)
            if desk.specialist:
                self.later(self.at(LUNCH[0]), self.if_idle, desk)
            self.later(self.at(CLOSE_AT), self.if_idle, desk)
        self.plan_arrivals()
        self.later(self.at(DAY_CLOSE), self.close_day)
        while self.agenda:
            when, _, action, args = heapq.heappop(self.agenda)
            await action(when, *args)
        await asyncio.gather(*self.writes)  # every command of the day committed
        await asyncio.to_thread(self.record_ratings)

    def minutes(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(seconds=round(self.rng.uniform(low, high) * 60))

    # ---- arrivals ---------------------------------------------------------------------------------

    def plan_arrivals(self) -> None:
        load = WEEKDAY_LOAD[self.day.weekday()] if self.day.weekday() < 5 else 0.5  # a 调休 Saturday
        count = round(self.per_day * load * self.rng.uniform(0.9, 1.1))
        spans = [(self.at(a), self.at(b), rate * (self.at(b) - self.at(a)).seconds) for a, b, rate in ARRIVALS]
        codes, weights = self.service_mix()
        for _ in range(count):
            start, end, _w = self.rng.choices(spans, weights=[s[2] for s in spans])[0]
            moment = start + dt.timedelta(seconds=self.rng.randrange(int((end - start).total_seconds())))
            self.later(moment, self.arrive, self.rng.choices(codes, weights=weights)[0])

    def service_mix(self) -> tuple[list[str], list[float]]:
        """Each service in proportion to the windows' capacity for it (windows shared between
        services count a share each), so no queue grows without end."""
        weights: dict[str, float] = {}
        for window in self.config.windows:
            for code in window.services:
                service = self.config.service(code)
                minutes = (service.avg_service_min if service else None) or 10.0
                weights[code] = weights.get(code, 0.0) + 1 / len(window.services) / minutes
        # A quick service alone at its window (the output window's 3 minutes) would take a third of
        # the hall: no service gets more than twice the median's share.
        cap = 2 * sorted(weights.values())[len(weights) // 2]
        return list(weights), [min(weight, cap) for weight in weights.values()]

    async def arrive(self, when: dt.datetime, service: str) -> None:
        green = self.rng.random() < GREEN
        ticket_id = f"{self.rng.getrandbits(128):032x}"
        command = c.IssueTicket(
            service=service,
            ticket_id=ticket_id,
            access=f"{self.rng.getrandbits(128):032x}",
            priority="green" if green else "normal",
            green_reason="elderly" if green else None,
            channel="kiosk",
            device="kiosk-1",
        )
        events = await self.run_command(command, when, refusable=True)
        if not events:
            return  # refused: the service's quota or its last ticket time
        self.seeded.issued += 1
        if self.rng.random() < CANCEL:
            self.later(when + self.minutes(3, 25), self.cancel, ticket_id)
        self.wake(when, service)

    def wake(self, when: dt.datetime, service: str) -> None:
        """An idle open window serving `service` calls soon."""
        for desk in self.desks:
            if desk.state == "open" and not desk.busy and service in desk.services:
                desk.busy = True
                self.later(when + self.minutes(0.1, 0.8), self.call, desk)
                return

    async def cancel(self, when: dt.datetime, ticket_id: str) -> None:
        ticket = self.engine().ticket(ticket_id)
        if ticket is not None and ticket.status == Status.waiting:
            await self.run_command(c.Cancel(ticket_id=ticket_id), when)

    # ---- windows ----------------------------------------------------------------------------------

    async def if_idle(self, when: dt.datetime, desk: Desk) -> None:
        """Lunch or closing time for a window with nobody to call (a busy one sees to it when free)."""
        if desk.state == "open" and not desk.busy:
            desk.busy = True
            await self.call(when, desk)

    async def open_desk(self, when: dt.datetime, desk: Desk) -> None:
        await self.run_command(c.OpenWindow(window=desk.id, clerk=f"clerk{desk.id}"), when)
        desk.state, desk.busy = "open", True
        self.later(when, self.call, desk)

    async def call(self, when: dt.datetime, desk: Desk) -> None:
        """The window's next step when it is free: lunch, closing time, or the next ticket."""
        if when >= self.at(CLOSE_AT):
            await self.run_command(c.CloseWindow(window=desk.id), when)
            desk.state, desk.busy = "closed", False
            return
        if desk.specialist and self.at(LUNCH[0]) <= when < self.at(LUNCH[1]):
            await self.run_command(c.PauseWindow(window=desk.id, reason="午休"), when)
            desk.state = "paused"
            self.later(self.at(LUNCH[1]) + self.minutes(0, 5), self.resume, desk)
            return
        events = await self.run_command(c.CallNext(window=desk.id), when)
        called = next((e for e in events if e.kind == "ticket_called"), None)
        if called is None:
            desk.busy = False  # idle until a ticket for it arrives
            return
        desk.ticket = called.ticket_id
        self.plan_outcome(when, desk, called.service)

    def plan_outcome(self, when: dt.datetime, desk: Desk, service: str) -> None:
        roll = self.rng.random()
        if roll < NO_SHOW:
            self.later(when + self.minutes(1, 1.5), self.step, desk, c.Recall(window=desk.id))
            self.later(when + self.minutes(2.5, 3.5), self.step, desk, c.NoShow(window=desk.id))
        elif roll < NO_SHOW + TRANSFER:
            others = [s.code for s in self.config.services if s.code != service and s.code != "Q"]
            target = self.rng.choice(others)
            self.later(when + self.minutes(2, 5), self.transfer, desk, target)
        else:
            self.later(when + self.service_time(service), self.finish, desk)

    def service_time(self, code: str) -> dt.timedelta:
        service = self.config.service(code)
        average = (service.avg_service_min if service else None) or 10.0
        minutes = min(max(self.rng.lognormvariate(math.log(average * 0.9), 0.45), 1.0), 4 * average)
        return dt.timedelta(seconds=round(minutes * 60))

    async def step(self, when: dt.datetime, desk: Desk, command: Any) -> None:
        await self.run_command(command, when)
        if isinstance(command, c.NoShow):
            self.next_call(when, desk)

    async def transfer(self, when: dt.datetime, desk: Desk, service: str) -> None:
        await self.run_command(c.Transfer(window=desk.id, to_service=service), when)
        self.next_call(when, desk)
        self.wake(when, service)

    async def finish(self, when: dt.datetime, desk: Desk) -> None:
        ticket_id = desk.ticket
        await self.run_command(c.Finish(window=desk.id), when)
        self.seeded.served += 1
        if ticket_id and self.rng.random() < RATED:
            self.later(when + self.minutes(0.2, 1), self.rate, ticket_id)
        self.next_call(when, desk)

    def next_call(self, when: dt.datetime, desk: Desk) -> None:
        desk.ticket = None
        self.later(when + self.minutes(0.2, 1), self.call, desk)

    async def resume(self, when: dt.datetime, desk: Desk) -> None:
        await self.run_command(c.ResumeWindow(window=desk.id), when)
        desk.state = "open"
        self.later(when, self.call, desk)

    async def rate(self, when: dt.datetime, ticket_id: str) -> None:
        """As a rating device does: the engine's Evaluate, and the rating's row (a 差评 opens its order),
        stored at the day's end so its transactions do not stall the day's group commits."""
        runtime = self.dispatcher.runtime(self.hall)
        ticket = self.engine().ticket(ticket_id)
        if ticket is None or ticket.status != Status.done:
            return
        score = self.rng.choices([s for s, _ in SCORES], weights=[w for _, w in SCORES])[0]
        body = RatingBody(score=score, channel="evaluator", **self.bad_parts(score))
        self.ratings.append((rated_ticket(runtime, ticket), body, when))
        await self.run_command(c.Evaluate(ticket_id=ticket_id, score=score, comment=body.comment), when)
        self.seeded.ratings += 1

    def record_ratings(self) -> None:
        service = service_for(self.dispatcher, self.hall)
        for rated, body, when in self.ratings:
            service.rate(rated, score=body.score, reasons=body.reasons, comment=body.comment or "",
                         channel="evaluator", contact_phone=None, now=when)  # fmt: skip

    def bad_parts(self, score: int) -> dict[str, Any]:
        if score > 2:
            return {}
        reasons = list(self.config.evaluation.reason_labels(score))[:1]
        return {"reasons": reasons, "comment": self.rng.choice(BAD_COMMENTS)}

    async def close_day(self, when: dt.datetime) -> None:
        for desk in self.desks:
            if desk.state != "closed":
                await self.run_command(c.CloseWindow(window=desk.id), when)
                desk.state = "closed"
        await self.run_command(c.CloseDay(), when)
        self.agenda.clear()  # what would come later (a rating, a cancel) is not part of this day

    # ---- the dispatcher -----------------------------------------------------------------------------

    def engine(self) -> Any:
        return self.dispatcher.runtime(self.hall).live()

    async def run_command(self, command: Any, when: dt.datetime, refusable: bool = False) -> list[Any]:
        """Hand the command to the dispatcher and return its events as soon as the engine has handled
        it; its commit is awaited at the day's end (the group commit batches the day's writes). A
        `refusable` command the engine refuses (a quota, the last ticket time) makes no events."""
        handled: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()

        def respond(_runtime: HallRuntime, events: list[Any]) -> Answer:
            handled.set_result(events)
            return Answer(200, None)

        write = asyncio.ensure_future(self.dispatcher.execute(self.hall, command, respond, now=when))
        self.writes.append(write)
        either: set[asyncio.Future[Any]] = {write, handled}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not handled.done():  # the engine refused it: nothing was written
            self.writes.remove(write)
            if refusable and isinstance(write.exception(), EngineError):
                return []
            write.result()
        return handled.result()
