"""The transition tables decide: change a row and the handler's outcome changes with it, remove one
and that command becomes an IllegalTransition naming it, with the hall left exactly as it was."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest

from server.engine import (
    TRANSITIONS,
    WINDOW_TRANSITIONS,
    Action,
    CallBack,
    CallNext,
    Cancel,
    CloseDay,
    DayReset,
    HallEngine,
    HallRules,
    IllegalTransition,
    NoShow,
    OpenWindow,
    Park,
    PauseWindow,
    QuickServe,
    Status,
    Ticket,
    TicketExpired,
    TicketFinished,
    Transfer,
    WindowAction,
    WindowState,
)
from server.engine.commands import Command

from .conftest import Driver
from .test_states import ACTIONS, in_state, snapshot

COMMANDS: dict[Action, Callable[[Ticket], Command]] = {
    **ACTIONS,
    Action.call_next: lambda t: CallNext("1"),
    Action.quick_serve: lambda t: QuickServe(window="1", service="A", ticket_id="walk-in", access="k"),
}
ROWS = sorted((row for row in TRANSITIONS if row[1] != Action.expire), key=lambda r: (r[0].value, r[1].value))


def ticket_for(hall: Driver, status: Status, action: Action) -> Ticket:
    """The ticket a command of `action` acts on, in `status` (quick serve makes its own: a stand-in)."""
    if action == Action.quick_serve:
        hall.open("1")
        day, now = hall.now.date(), hall.now
        return Ticket(
            id="-", access="-", number="A001", service="A", priority="normal", day=day, issued_at=now, queue_pos=0
        )
    return in_state(hall, status)


def check_lines(engine: HallEngine) -> None:
    """The lines hold exactly the waiting tickets, whatever the table made of the others."""
    waiting = Counter(t.service for t in engine.tickets() if t.status == Status.waiting)
    assert {code: engine.waiting_count(code) for code in waiting} == dict(waiting)
    assert sum(engine.waiting_count(code) for code in "ABC") == sum(waiting.values())


@pytest.mark.parametrize(("status", "action"), ROWS, ids=[f"{s.value}-{a.value}" for s, a in ROWS])
def test_removing_a_row_refuses_the_command(
    hall: Driver, status: Status, action: Action, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = ticket_for(hall, status, action)
    monkeypatch.delitem(TRANSITIONS, (status, action))
    before = snapshot(hall.engine)
    with pytest.raises(IllegalTransition) as caught:
        hall.do(COMMANDS[action](ticket))
    assert (caught.value.command, caught.value.state) == (action.value, status.value)
    assert snapshot(hall.engine) == before


@pytest.mark.parametrize(("status", "action"), ROWS, ids=[f"{s.value}-{a.value}" for s, a in ROWS])
def test_changing_a_row_changes_where_the_ticket_lands(
    hall: Driver, status: Status, action: Action, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = ticket_for(hall, status, action)
    elsewhere = Status.parked if TRANSITIONS[(status, action)] != Status.parked else Status.no_show
    monkeypatch.setitem(TRANSITIONS, (status, action), elsewhere)
    hall.do(COMMANDS[action](ticket))
    acted_on = hall.engine.ticket("walk-in" if action == Action.quick_serve else ticket.id)
    assert acted_on is not None and acted_on.status == elsewhere
    check_lines(hall.engine)


def test_a_missed_ticket_can_go_back_in_line_by_the_table_alone(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TRANSITIONS, (Status.called, Action.no_show), Status.waiting)
    hall.open("1")
    first, second = hall.issue("A"), hall.issue("A")
    assert hall.call("1") is first
    hall.do(NoShow("1"))
    assert first.status == Status.waiting and hall.engine.waiting_count("A") == 2
    assert hall.call("1") is first  # its place in line was kept
    assert second.status == Status.waiting


def test_new_rows_open_new_moves(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TRANSITIONS, (Status.no_show, Action.call_back), Status.called)
    monkeypatch.setitem(TRANSITIONS, (Status.parked, Action.transfer), Status.waiting)
    hall.open("1", "2")
    missed, parked = hall.issue("A"), hall.issue("A")
    hall.call("1")
    hall.do(NoShow("1"))
    hall.do(CallBack("2", missed.id))  # call back a no-show by its id
    assert missed.status == Status.called and missed.window == "2"
    assert hall.call("1") is parked
    hall.do(Park("1"))
    hall.do(Transfer(window="1", to_service="B"))  # a parked ticket sent to another service
    assert parked.status == Status.waiting and parked.service == "B"
    assert hall.engine.waiting_count("B") == 1


def test_call_next_asks_the_table_before_finishing_the_current_ticket(
    hall: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall.open("1")
    served = hall.issue("A")
    hall.issue("A")
    hall.call("1")
    monkeypatch.delitem(TRANSITIONS, (Status.called, Action.finish))
    before = snapshot(hall.engine)
    with pytest.raises(IllegalTransition) as caught:
        hall.do(CallNext("1"))
    assert (caught.value.command, caught.value.state) == ("finish", "called")
    assert snapshot(hall.engine) == before and served.status == Status.called


# ---------------------------------------------------------------- the day's close


def a_day(hall: Driver) -> dict[str, Ticket]:
    hall.open("1", "2")
    tickets = {name: hall.issue("A") for name in ("parked", "missed", "called", "waiting")}
    assert hall.call("1") is tickets["parked"]
    hall.do(Park("1"))
    assert hall.call("1") is tickets["missed"]
    hall.do(NoShow("1"))
    assert hall.call("1") is tickets["called"]
    return tickets


def test_the_day_closes_as_the_table_says(hall: Driver) -> None:
    tickets = a_day(hall)
    events = hall.do(CloseDay())
    assert {name: t.status for name, t in tickets.items()} == {
        "parked": Status.expired,
        "missed": Status.no_show,
        "called": Status.done,
        "waiting": Status.expired,
    }
    reset = events[-1]
    assert isinstance(reset, DayReset) and (reset.expired, reset.finished) == (2, 1)


def test_a_changed_expire_row_changes_the_days_close(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TRANSITIONS, (Status.called, Action.expire), Status.expired)
    monkeypatch.setitem(TRANSITIONS, (Status.no_show, Action.expire), Status.expired)
    monkeypatch.delitem(TRANSITIONS, (Status.parked, Action.expire))
    tickets = a_day(hall)
    events = hall.do(CloseDay())
    assert {name: t.status for name, t in tickets.items()} == {
        "parked": Status.parked,  # kept for tomorrow's documents
        "missed": Status.expired,
        "called": Status.expired,
        "waiting": Status.expired,
    }
    assert not any(isinstance(e, TicketFinished) for e in events)
    assert sorted(e.was for e in events if isinstance(e, TicketExpired)) == ["called", "no_show", "waiting"]
    assert isinstance(events[-1], DayReset) and (events[-1].expired, events[-1].finished) == (3, 0)
    hall.open("1")
    hall.do(CallBack("1", tickets["parked"].id))  # the same day, after the close
    assert tickets["parked"].status == Status.called


def test_a_waiting_ticket_the_table_keeps_stays_in_line(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(TRANSITIONS, (Status.waiting, Action.expire))
    hall.open("1")
    ticket = hall.issue("A")
    hall.do(CloseDay())
    assert ticket.status == Status.waiting and hall.engine.waiting_count("A") == 1
    hall.open("1")
    assert hall.call("1") is ticket


def test_the_window_table_decides_the_days_close_too(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    hall.open("1", "2")
    hall.do(PauseWindow("2", reason="午休"))
    hall.issue("A")
    monkeypatch.delitem(WINDOW_TRANSITIONS, (WindowState.paused, WindowAction.close))
    before = snapshot(hall.engine)
    with pytest.raises(IllegalTransition) as caught:
        hall.do(CloseDay())
    assert (caught.value.command, caught.value.state) == ("close", "paused")
    assert snapshot(hall.engine) == before
    monkeypatch.setitem(WINDOW_TRANSITIONS, (WindowState.paused, WindowAction.close), WindowState.paused)
    hall.do(CloseDay())
    states = {w.id: w.state for w in hall.engine.windows()}
    assert states == {"1": WindowState.closed, "2": WindowState.paused, "3": WindowState.closed}
    hall.do(OpenWindow("2"))
    assert hall.engine.window("2").state == WindowState.open  # type: ignore[union-attr]


def test_cancel_of_a_called_ticket_when_the_table_allows_it(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TRANSITIONS, (Status.called, Action.cancel), Status.cancelled)
    hall.open("1")
    ticket = hall.issue("A")
    hall.call("1")
    hall.do(Cancel(ticket.id, by="supervisor"))
    assert ticket.status == Status.cancelled
    events = hall.do(CallNext("1"))
    assert not any(isinstance(e, TicketFinished) for e in events)  # nothing left to finish there


def test_a_quick_serve_the_table_refuses_issues_nothing(hall: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    hall.open("1")
    hall.issue("A")
    hall.call("1")
    monkeypatch.delitem(TRANSITIONS, (Status.called, Action.finish))
    before = snapshot(hall.engine)
    with pytest.raises(IllegalTransition):
        hall.do(COMMANDS[Action.quick_serve](hall.engine.ticket_by_number("A001")))  # type: ignore[arg-type]
    assert snapshot(hall.engine) == before and hall.engine.ticket("walk-in") is None


def test_an_earlier_days_tickets_close_by_the_table_after_a_restart(
    hall: Driver, rules: HallRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TRANSITIONS, (Status.no_show, Action.expire), Status.expired)
    tickets = a_day(hall)
    rows = [dataclasses.replace(t) for t in hall.engine.tickets()]
    later = HallEngine.restore(rules, rows, [], {}, dt.date(2026, 11, 24))  # down over midnight
    events = later.advance(dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC))
    assert sorted(e.was for e in events if isinstance(e, TicketExpired)) == ["no_show", "parked", "waiting"]
    assert [e.number for e in events if isinstance(e, TicketFinished)] == [tickets["called"].number]
    assert later.ticket(tickets["missed"].id).status == Status.expired  # type: ignore[union-attr]
