"""Every cell of the ticket transition table: legal moves land where the table says, the rest raise
an error naming the command and the state, and leave the hall exactly as it was."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from server.engine import (
    TRANSITIONS,
    WINDOW_TRANSITIONS,
    Action,
    CallBack,
    CallNumber,
    Cancel,
    CloseDay,
    CloseWindow,
    EngineError,
    Evaluate,
    Finish,
    HallEngine,
    IllegalTransition,
    NoCurrentTicket,
    NoShow,
    OpenWindow,
    Park,
    PauseWindow,
    Recall,
    Rejoin,
    ResumeWindow,
    Status,
    Ticket,
    Transfer,
    WindowAction,
    WindowState,
)
from server.engine.commands import Command

from .conftest import Driver


def snapshot(engine: HallEngine) -> dict[str, Any]:
    """Everything observable about the hall, to prove a refused command changed nothing."""
    return {
        "tickets": [dataclasses.asdict(t) for t in engine.tickets()],
        "windows": [dataclasses.asdict(w) for w in engine.windows()],
        "waiting": engine.waiting_counts(),
        "recent": engine.recent_calls(),
        "counters": engine.counters(),
        "day": engine.day,
    }


def in_state(hall: Driver, status: Status) -> Ticket:
    """A ticket of service A in `status`, with window 1 open and (where it was called) pointing at it."""
    hall.open("1")
    ticket = hall.issue("A")
    if status == Status.cancelled:
        hall.do(Cancel(ticket.id))
    elif status == Status.expired:
        hall.do(CloseDay())
        hall.open("1")
    elif status != Status.waiting:
        assert hall.call("1") is ticket
        follow_up: dict[Status, Command] = {
            Status.done: Finish("1"),
            Status.no_show: NoShow("1"),
            Status.parked: Park("1"),
        }
        if status in follow_up:
            hall.do(follow_up[status])
    assert ticket.status == status
    return ticket


ACTIONS: dict[Action, Callable[[Ticket], Command]] = {
    Action.call_number: lambda t: CallNumber("1", t.number),
    Action.call_back: lambda t: CallBack("1", t.id),
    Action.recall: lambda t: Recall("1"),
    Action.no_show: lambda t: NoShow("1"),
    Action.finish: lambda t: Finish("1"),
    Action.park: lambda t: Park("1"),
    Action.transfer: lambda t: Transfer(window="1", to_service="B"),
    Action.cancel: lambda t: Cancel(t.id),
    Action.rejoin: lambda t: Rejoin(t.id),
    Action.evaluate: lambda t: Evaluate(ticket_id=t.id, score=5),
}

CELLS = [(status, action) for status in Status for action in ACTIONS]


@pytest.mark.parametrize(("status", "action"), CELLS, ids=[f"{s.value}-{a.value}" for s, a in CELLS])
def test_every_cell_of_the_table(hall: Driver, status: Status, action: Action) -> None:
    ticket = in_state(hall, status)
    command = ACTIONS[action](ticket)
    expected = TRANSITIONS.get((status, action))
    if expected is not None:
        hall.do(command)
        assert ticket.status == expected
        return
    before = snapshot(hall.engine)
    with pytest.raises(EngineError) as caught:
        hall.do(command)
    assert snapshot(hall.engine) == before
    if isinstance(caught.value, IllegalTransition):
        assert caught.value.command == action.value
        assert caught.value.state == status.value
        assert ticket.number in str(caught.value) and status.value in str(caught.value)
    else:  # a window command with no ticket at the window: the ticket was never called there
        assert isinstance(caught.value, NoCurrentTicket)
        assert status in (Status.waiting, Status.cancelled, Status.expired)
        assert "1号窗口" in str(caught.value)


def test_the_table_matches_the_design() -> None:
    """The arrows of DESIGN.md §3, and nothing leaves done/cancelled/expired but an evaluation."""
    assert TRANSITIONS[(Status.waiting, Action.call_next)] == Status.called
    assert TRANSITIONS[(Status.called, Action.finish)] == Status.done
    assert TRANSITIONS[(Status.called, Action.recall)] == Status.called
    assert TRANSITIONS[(Status.called, Action.no_show)] == Status.no_show
    assert TRANSITIONS[(Status.no_show, Action.rejoin)] == Status.waiting
    assert TRANSITIONS[(Status.called, Action.park)] == Status.parked
    assert TRANSITIONS[(Status.parked, Action.call_back)] == Status.called
    assert TRANSITIONS[(Status.called, Action.transfer)] == Status.waiting
    assert TRANSITIONS[(Status.waiting, Action.cancel)] == Status.cancelled
    assert TRANSITIONS[(Status.waiting, Action.expire)] == Status.expired
    final = {s for (s, a) in TRANSITIONS if s in (Status.done, Status.cancelled, Status.expired)}
    assert final == {Status.done}
    assert {a for (s, a) in TRANSITIONS if s == Status.done} == {Action.evaluate}


WINDOW_COMMANDS: dict[WindowAction, Callable[[], Command]] = {
    WindowAction.open: lambda: OpenWindow("1", clerk="clerk1"),
    WindowAction.pause: lambda: PauseWindow("1", reason="午休"),
    WindowAction.resume: lambda: ResumeWindow("1"),
    WindowAction.close: lambda: CloseWindow("1"),
}
WINDOW_CELLS = [(state, action) for state in WindowState for action in WindowAction]


@pytest.mark.parametrize(("state", "action"), WINDOW_CELLS, ids=[f"{s.value}-{a.value}" for s, a in WINDOW_CELLS])
def test_every_window_transition(hall: Driver, state: WindowState, action: WindowAction) -> None:
    if state != WindowState.closed:
        hall.open("1")
    if state == WindowState.paused:
        hall.do(PauseWindow("1", reason="取资料"))
    window = hall.engine.window("1")
    assert window is not None and window.state == state
    expected = WINDOW_TRANSITIONS.get((state, action))
    if expected is not None:
        events = hall.do(WINDOW_COMMANDS[action]())
        assert window.state == expected
        assert events[-1].to_dict()["state"] == expected.value
        return
    before = snapshot(hall.engine)
    with pytest.raises(IllegalTransition) as caught:
        hall.do(WINDOW_COMMANDS[action]())
    assert (caught.value.command, caught.value.state) == (action.value, state.value)
    assert "1号窗口" in str(caught.value)
    assert snapshot(hall.engine) == before
