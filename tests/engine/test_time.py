"""Time passing is an input: `advance(now)` closes the day at the hall's local midnight, once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from server.engine import (
    CloseDay,
    DayReset,
    Event,
    HallEngine,
    HallRules,
    IssueTicket,
    Park,
    PauseWindow,
    Status,
    Ticket,
    TicketExpired,
    TicketFinished,
    WindowChanged,
    WindowState,
)

from .conftest import START, Driver

MIDNIGHT = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)  # 00:00 on Tuesday 24 November in Shanghai
MONDAY, TUESDAY = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
MICROSECOND = dt.timedelta(microseconds=1)


def evening(hall: Driver) -> dict[str, Ticket]:
    """Window 1 open with a parked ticket, window 2 paused while serving one, window 3 closed;
    a ticket waiting for each of windows 2 and 3."""
    hall.open("1", "2")
    tickets = {name: hall.issue(code) for name, code in (("parked", "A"), ("called", "A"), ("b", "B"), ("c", "C"))}
    assert hall.call("1") is tickets["parked"]
    hall.do(Park("1"))
    assert hall.call("2") is tickets["called"]
    hall.do(PauseWindow("2", reason="午休"))
    return tickets


def rows(events: list[Event]) -> list[tuple[str, Any]]:
    def what(e: Event) -> Any:
        if isinstance(e, TicketExpired):
            return (e.number, e.was)
        if isinstance(e, TicketFinished):
            return (e.number, e.window, e.automatic)
        if isinstance(e, WindowChanged):
            return (e.window, e.state, e.reason, e.clerk)
        if isinstance(e, DayReset):
            return (e.closed_day, e.day, e.expired, e.finished)
        return e.ticket_id

    return [(type(e).__name__, what(e)) for e in events]


def test_advance_at_midnight_closes_the_day_once_and_keeps_the_windows(hall: Driver) -> None:
    tickets = evening(hall)
    assert hall.engine.advance(MIDNIGHT - MICROSECOND) == []  # 23:59:59.999999: nothing due yet
    assert tickets["b"].status == Status.waiting
    events = hall.engine.advance(MIDNIGHT)
    assert rows(events) == [
        ("TicketExpired", ("A001", "parked")),
        ("TicketFinished", ("A002", "2", True)),
        ("TicketExpired", ("B001", "waiting")),
        ("TicketExpired", ("C001", "waiting")),
        ("WindowChanged", ("1", "open", None, "clerk1")),
        ("WindowChanged", ("2", "paused", "午休", "clerk2")),
        ("WindowChanged", ("3", "closed", None, None)),
        ("DayReset", (MONDAY, TUESDAY, 3, 1)),
    ]
    assert all(e.at == MIDNIGHT for e in events)
    assert [t.status for t in tickets.values()] == [Status.expired, Status.done, Status.expired, Status.expired]
    assert tickets["called"].finished_by == "day-closed"
    engine = hall.engine
    assert engine.day == TUESDAY and engine.waiting_counts() == {"A": (0, 0), "B": (0, 0), "C": (0, 0)}
    assert [(w.state, w.ticket, w.served_today) for w in engine.windows()] == [
        (WindowState.open, None, 0),
        (WindowState.paused, None, 0),
        (WindowState.closed, None, 0),
    ]
    for later in (MIDNIGHT, MIDNIGHT + MICROSECOND, MIDNIGHT + dt.timedelta(hours=8)):
        assert engine.advance(later) == []
    assert engine.advance(MIDNIGHT - dt.timedelta(hours=1)) == []  # a clock that jumps back
    assert engine.day == TUESDAY


def test_numbering_restarts_the_next_day(hall: Driver) -> None:
    evening(hall)
    hall.engine.advance(MIDNIGHT)
    hall.now = MIDNIGHT + dt.timedelta(hours=8, minutes=30)
    assert [hall.issue(code).number for code in "AAB"] == ["A001", "A002", "B001"]
    assert hall.engine.ticket_by_number("A001").day == TUESDAY  # type: ignore[union-attr]
    assert hall.call("1").number == "A001"  # type: ignore[union-attr]  # window 1 stayed open


def twin_evenings(rules: HallRules) -> tuple[Driver, Driver]:
    first, second = Driver(HallEngine(rules)), Driver(HallEngine(rules))
    evening(first)
    evening(second)
    return first, second


FIRST_COMMAND = IssueTicket(service="A", ticket_id="morning", access="k")


def test_the_tick_and_the_first_command_give_the_same_events(rules: HallRules) -> None:
    ticked, untouched = twin_evenings(rules)
    now = MIDNIGHT + dt.timedelta(minutes=1)
    with_tick = ticked.engine.advance(now) + ticked.engine.handle(FIRST_COMMAND, now)
    alone = untouched.engine.handle(FIRST_COMMAND, now)
    assert [e.to_dict() for e in with_tick] == [e.to_dict() for e in alone]


def test_a_tick_at_midnight_then_a_command_in_the_morning(rules: HallRules) -> None:
    """What the boards see at midnight is what the first command would have closed at 08:30."""
    ticked, untouched = twin_evenings(rules)
    morning = MIDNIGHT + dt.timedelta(hours=8, minutes=30)
    at_midnight = ticked.engine.advance(MIDNIGHT)
    in_the_morning = ticked.engine.handle(FIRST_COMMAND, morning)
    alone = untouched.engine.handle(FIRST_COMMAND, morning)

    def timeless(events: list[Event]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.to_dict().items() if k not in ("at", "duration_s")} for e in events]

    assert timeless(at_midnight + in_the_morning) == timeless(alone)
    assert [type(e) for e in in_the_morning] == [type(alone[-1])]


def test_close_day_stays_the_supervisors_explicit_close(hall: Driver) -> None:
    tickets = evening(hall)
    hall.now = START.replace(hour=10)  # 18:00 in Shanghai
    events = hall.do(CloseDay())
    assert [e.kind for e in events].count("day_reset") == 1
    assert isinstance(events[-1], DayReset) and events[-1].closed_day == events[-1].day == MONDAY
    assert all(w.state == WindowState.closed for w in hall.engine.windows())
    assert [t.status for t in tickets.values()] == [Status.expired, Status.done, Status.expired, Status.expired]
    assert hall.engine.advance(hall.now + dt.timedelta(hours=2)) == []
    at_midnight = hall.engine.advance(MIDNIGHT)
    assert rows(at_midnight) == [
        ("WindowChanged", ("1", "closed", None, None)),
        ("WindowChanged", ("2", "closed", None, None)),
        ("WindowChanged", ("3", "closed", None, None)),
        ("DayReset", (MONDAY, TUESDAY, 0, 0)),
    ]


def test_a_restart_after_the_tick_does_not_close_the_day_again(hall: Driver, rules: HallRules) -> None:
    tickets = evening(hall)
    hall.engine.advance(MIDNIGHT)
    engine = hall.engine
    saved = [dataclasses.replace(t) for t in (*tickets.values(), *engine.tickets())]  # both days' rows
    again = HallEngine.restore(rules, saved, [dataclasses.replace(w) for w in engine.windows()], {}, engine.day)
    assert again.advance(MIDNIGHT + dt.timedelta(minutes=1)) == []
    assert [w.state for w in again.windows()] == [WindowState.open, WindowState.paused, WindowState.closed]
    events = again.handle(IssueTicket(service="A", ticket_id="x", access="k"), MIDNIGHT + dt.timedelta(hours=9))
    assert [e.kind for e in events] == ["ticket_issued"] and again.ticket("x").number == "A001"  # type: ignore[union-attr]


def test_a_restart_before_the_tick_closes_the_day_at_the_first_input(hall: Driver, rules: HallRules) -> None:
    evening(hall)
    engine = hall.engine
    saved = [dataclasses.replace(t) for t in engine.tickets()]
    again = HallEngine.restore(rules, saved, [dataclasses.replace(w) for w in engine.windows()], {}, engine.day)
    assert rows(again.advance(MIDNIGHT)) == rows(engine.advance(MIDNIGHT))


def test_a_fresh_hall_starts_its_day_silently(rules: HallRules) -> None:
    engine = HallEngine(rules)
    assert engine.advance(START) == [] and engine.day == MONDAY
    events = engine.advance(MIDNIGHT)
    assert [e.kind for e in events] == ["window_changed"] * 3 + ["day_reset"]
    engine.handle(IssueTicket(service="A", ticket_id="t", access="k"), MIDNIGHT)
    assert engine.ticket("t").number == "A001"  # type: ignore[union-attr]
