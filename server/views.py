"""The hall's read models, built from the live engine and typed with the shared contract models:
the board snapshot and a window's state (DESIGN.md §5 `board` and `windows/{window}`), and the HTTP
answers (`hallq.api_models`: a citizen's ticket, the ticket at a window, a window, the hall).

Used by the use cases (HTTP and MQTT answers) and by server/publisher.py for the retained topics, so
the HTTP and MQTT views of the hall are the same object. Call them while holding the hall's lock.
Nothing here ever includes a name (beyond the masked one on the citizen's own ticket) or an ID number.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any, NamedTuple, cast

from hallq.api_models import (
    HallInfo,
    ItemRef,
    ServiceInfo,
    TicketAnswer,
    TicketAtWindow,
    TicketPlace,
    TicketStatus,
    WindowAnswer,
    WindowInfo,
    WindowState,
)
from hallq.contract import BoardSnapshot, WindowStateMessage
from server.engine.model import Ticket, WindowStatus
from server.engine.states import UnknownWindow
from server.runtime import HallRuntime


def _window(runtime: HallRuntime, window: str) -> WindowStatus:
    status = runtime.live().window(window)
    if status is None:
        raise UnknownWindow(window)
    return status


def board_snapshot(runtime: HallRuntime, seq: int, now: dt.datetime) -> BoardSnapshot:
    return BoardSnapshot.model_validate(_board_data(runtime, seq, now))


def _board_data(runtime: HallRuntime, seq: int, now: dt.datetime) -> dict[str, Any]:
    """The board as plain data, validated once by whoever needs the model: pydantic checks the nested
    calls, windows and services in one pass (a model for each was half the board's cost)."""
    engine = runtime.live()
    config = runtime.config
    windows = []
    for w in config.windows:
        status = _window(runtime, w.id)
        ticket = _ticket_at(runtime, status)  # a finished ticket is no longer the window's (as GET /windows/{w})
        state = str(status.state)
        windows.append(
            {
                "window": w.id,
                "name": w.name,
                "state": state,
                "ticket": ticket.number if ticket else None,
                "reason": status.reason if state == "paused" else None,
            }
        )
    waiting = {
        s.code: {"name": s.name, "count": engine.waiting_count(s.code), "est_wait_s": engine.estimated_wait_s(s.code)}
        for s in config.services
    }
    recent = [
        {"ticket": c.number, "window": c.window, "window_name": c.window_name, "service": c.service, "at": c.at}
        for c in engine.recent_calls()[:10]
    ]
    return {"seq": seq, "at": now, "recent_calls": recent, "windows": windows, "waiting": waiting,
            "notice": config.hall.notice}  # fmt: skip


class WindowLine(NamedTuple):
    """What a window's retained message says (`windows/{window}`), without its seq."""

    state: str
    ticket: str | None
    text: str


class HallView:
    """The hall at one seq as plain data: what the publisher takes as a batch goes to the database.
    The board and the windows' messages are validated only when published: under load most views are
    superseded by a later batch's before the publisher gets to them (more than half, measured)."""

    def __init__(self, seq: int, board: dict[str, Any], windows: dict[str, WindowLine]) -> None:
        self.seq = seq
        self._board = board
        self.windows = windows  # window id → its line: what decides whether its message is sent again

    @cached_property
    def board(self) -> BoardSnapshot:
        return BoardSnapshot.model_validate(self._board)

    def window_message(self, window: str) -> WindowStateMessage:
        return WindowStateMessage(seq=self.seq, **self.windows[window]._asdict())


def hall_view(runtime: HallRuntime, seq: int, now: dt.datetime) -> HallView:
    lines = {w.id: window_line(runtime, w.id) for w in runtime.config.windows}
    return HallView(seq, _board_data(runtime, seq, now), lines)


def window_text(state: str, number: str | None, name: str) -> str:
    """What an LED strip above the window shows."""
    if state == "paused":
        return "暂停服务"
    if state == "closed":
        return f"{name} 暂停办理"
    return f"请{number}号" if number else name


def _ticket_at(runtime: HallRuntime, status: WindowStatus) -> Ticket | None:
    """The ticket a window is serving now: the last one it called, until it is finished, missed,
    parked or transferred (the window keeps a reference to it for its history)."""
    ticket = runtime.live().ticket(status.ticket) if status.ticket else None
    return ticket if ticket is not None and str(ticket.status) == "called" else None


def window_line(runtime: HallRuntime, window: str) -> WindowLine:
    status = _window(runtime, window)
    ticket = _ticket_at(runtime, status)
    number = ticket.number if ticket else None
    state = str(status.state)
    return WindowLine(state, number, window_text(state, number, status.name))


# ---- HTTP views -------------------------------------------------------------------------------


def status_url(runtime: HallRuntime, ticket: Ticket) -> str:
    base = runtime.config.hall.status_base_url.rstrip("/")
    return f"{base}/t/{runtime.hall}/{ticket.id}?k={ticket.access}"


def _service_name(runtime: HallRuntime, code: str) -> str:
    service = runtime.config.service(code)
    return service.name if service else code


def _window_name(runtime: HallRuntime, window: str | None) -> str | None:
    if window is None:
        return None
    found = runtime.config.window(window)
    return found.name if found else window


def _ticket_fields(runtime: HallRuntime, ticket: Ticket) -> dict[str, Any]:
    """What every view of a ticket says: number, service, priority, status, times, masked name."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "service_name": _service_name(runtime, ticket.service),
        "priority": ticket.priority,
        "green_reason": ticket.green_reason,
        "status": str(ticket.status),
        "issued_at": ticket.issued_at,
        "called_at": ticket.called_at,
        "masked_name": ticket.masked_name,
        "channel": ticket.channel,
    }


def ticket_view(runtime: HallRuntime, ticket: Ticket) -> TicketAnswer:
    """A citizen's ticket: what the kiosk prints and the phone page shows."""
    engine = runtime.live()
    waiting = ticket.status == "waiting"
    return TicketAnswer(
        **_ticket_fields(runtime, ticket),
        ahead=engine.ahead(ticket.id) if waiting else 0,
        estimated_wait_s=engine.estimated_wait_s(ticket) if waiting else 0,
        window=ticket.window,
        window_name=_window_name(runtime, ticket.window),
        status_url=status_url(runtime, ticket),
    )


def ticket_place(runtime: HallRuntime, ticket: Ticket) -> TicketPlace:
    """A ticket's place for its live stream: the few fields that move (two O(log n) look-ups)."""
    engine = runtime.live()
    waiting = ticket.status == "waiting"
    return TicketPlace(
        status=cast(TicketStatus, str(ticket.status)),
        ahead=engine.ahead(ticket.id) if waiting else 0,
        estimated_wait_s=engine.estimated_wait_s(ticket) if waiting else 0,
        window=ticket.window,
        window_name=_window_name(runtime, ticket.window),
    )


def ticket_at_window(runtime: HallRuntime, ticket: Ticket, now: dt.datetime) -> TicketAtWindow:
    """The ticket as the clerk's terminal shows it."""
    start = ticket.first_called_at or ticket.called_at or now
    return TicketAtWindow(
        **_ticket_fields(runtime, ticket),
        waited_s=max(0, int((start - ticket.issued_at).total_seconds())),
        transferred_from=ticket.transferred_from,
        recall_count=ticket.recall_count,
    )


def window_view(runtime: HallRuntime, window: str, clerk_name: str | None, now: dt.datetime) -> WindowAnswer:
    engine = runtime.live()
    status = _window(runtime, window)
    ticket = _ticket_at(runtime, status)
    return WindowAnswer(
        window=window,
        name=status.name,
        state=cast(WindowState, str(status.state)),
        reason=status.reason,
        clerk=clerk_name,
        ticket=ticket_at_window(runtime, ticket, now) if ticket else None,
        waiting_for_my_services=engine.waiting_for_window(window),
        served_today=status.served_today,
    )


def hall_info(runtime: HallRuntime, now: dt.datetime) -> HallInfo:
    engine = runtime.live()
    config = runtime.config
    hall = config.hall
    return HallInfo(
        id=hall.id,
        name=hall.name,
        notice=hall.notice,
        timezone=hall.timezone,
        around_the_clock=hall.around_the_clock,
        announce_template=hall.announce_template,
        address=hall.address,
        phone=hall.phone,
        services=[
            ServiceInfo(
                code=s.code,
                name=s.name,
                department=s.department,
                kind=str(s.kind),
                open_now=config.is_open(now, s),
                waiting=engine.waiting_count(s.code),
                est_wait_s=engine.estimated_wait_s(s.code),
                items=[ItemRef(code=i.code, name=i.name) for i in s.items],
            )
            for s in config.services
        ],
        windows=[
            WindowInfo(id=w.id, name=w.name, kind=str(w.kind), services=list(w.services), zone=w.zone)
            for w in config.windows
        ],
    )
