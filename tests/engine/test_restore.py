"""A dispatcher restarted in the middle of a day carries on where it stopped."""

from __future__ import annotations

import dataclasses
import datetime as dt

from server.engine import (
    CallNext,
    Finish,
    HallEngine,
    HallRules,
    NoShow,
    OpenWindow,
    Status,
    TicketExpired,
    TicketFinished,
    Transfer,
)

from .conftest import Driver
from .test_states import snapshot


def restart(hall: Driver, rules: HallRules) -> Driver:
    """What the store does: copy every row, then build a new engine from the copies."""
    engine = hall.engine
    twin = HallEngine.restore(
        rules,
        [dataclasses.replace(t) for t in engine.tickets()],
        [dataclasses.replace(w) for w in engine.windows()],
        engine.counters(),
        engine.day,
    )
    again = Driver(twin, hall.now)
    again.serial = hall.serial
    return again


def test_numbering_queues_and_windows_survive_a_restart(hall: Driver, rules: HallRules) -> None:
    hall.open("1", "2")
    tickets = [hall.issue(s) for s in "AABBA"]
    hall.issue("A", priority="green")
    hall.call("1")
    hall.call("1")
    hall.do(Transfer(window="1", to_window="2"))
    hall.call("2")
    hall.do(NoShow("2"))
    again = restart(hall, rules)
    assert snapshot(again.engine) == snapshot(hall.engine)
    assert again.issue("A").number == hall.issue("A").number == "A005"
    for ticket in tickets:
        assert again.engine.ahead(ticket.id) == hall.engine.ahead(ticket.id)
    assert [again.call(w).number for w in "1212"] == [hall.call(w).number for w in "1212"]  # type: ignore[union-attr]


def test_counters_alone_keep_numbers_unique(rules: HallRules) -> None:
    """Even if the store kept only the counters (tickets archived), numbers go on."""
    engine = HallEngine.restore(rules, [], [], {"A": 41}, dt.date(2026, 11, 23))
    hall = Driver(engine)
    assert hall.issue("A").number == "A042"


def test_a_missing_day_is_taken_from_the_tickets(hall: Driver, rules: HallRules) -> None:
    hall.issue("A")
    hall.issue("A")
    engine = HallEngine.restore(rules, [dataclasses.replace(t) for t in hall.engine.tickets()], [], {}, None)
    assert engine.day == hall.engine.day
    again = Driver(engine, hall.now)
    again.serial = hall.serial
    assert again.issue("A").number == "A003"


def test_open_tickets_of_an_earlier_day_are_closed_by_the_first_command(hall: Driver, rules: HallRules) -> None:
    hall.open("1")
    served, called = hall.issue("A"), hall.issue("A")
    hall.do(CallNext("1"))
    hall.do(Finish("1"))
    assert served.status == Status.done
    hall.call("1")
    left = hall.issue("B")
    rows = [dataclasses.replace(t) for t in hall.engine.tickets()]
    later = HallEngine.restore(rules, rows, [], {}, dt.date(2026, 11, 24))
    now = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
    events = later.handle(OpenWindow("1"), now)
    kinds = [type(e) for e in events]
    assert TicketFinished in kinds and kinds[-1].__name__ == "WindowChanged"
    restored_called = later.ticket(called.id)
    assert restored_called is not None and restored_called.status == Status.done
    assert restored_called.finished_by == "day-closed"
    assert [e.ticket_id for e in events if isinstance(e, TicketExpired)] == [left.id]
    assert later.ticket(served.id).status == Status.done  # type: ignore[union-attr]
    assert later.ticket(left.id).status == Status.expired  # type: ignore[union-attr]
