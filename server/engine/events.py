"""Events: what happened, in order, as frozen dataclasses with a `kind` and a JSON-able `to_dict()`.

Each event names the rows it changed: `ticket_id` (a ticket row to upsert) and `window` (a window
row to upsert); the store reads those rows from the engine after `handle` returns. No event carries
a name or an ID number: at most the masked name (张*) the citizen already sees on the ticket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, ClassVar


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class Event:
    kind: ClassVar[str] = "event"
    at: dt.datetime
    ticket_id: str | None = None  # the ticket row this event changed, if any
    window: str | None = None  # the window row this event changed, if any

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            data[f.name] = _jsonable(getattr(self, f.name))
        return data


@dataclass(frozen=True, kw_only=True)
class TicketIssued(Event):
    kind: ClassVar[str] = "ticket_issued"
    number: str
    service: str
    service_name: str
    priority: str
    green_reason: str | None
    channel: str
    device: str | None
    masked_name: str | None
    ahead: int
    estimated_wait_s: int


@dataclass(frozen=True, kw_only=True)
class TicketCalled(Event):
    """A call or recall to announce: the payload of the `calls` topic (minus `seq`)."""

    kind: ClassVar[str] = "ticket_called"
    type: str  # call | recall
    via: str  # next | priority | targeted | number | call-back | quick-serve | recall
    number: str
    window_name: str
    service: str
    service_name: str
    priority: str
    announce: str
    recall_count: int
    transferred_from: str | None
    finished: str | None = None  # id of the ticket this window finished first, if any


@dataclass(frozen=True, kw_only=True)
class TicketFinished(Event):
    kind: ClassVar[str] = "ticket_finished"
    number: str
    service: str
    duration_s: int  # from (last) call to finish
    automatic: bool = False  # finished by call-next, closing the window, or the day's close
    by: str = "clerk"  # clerk | call-next | window-closed | day-closed (statistics skip day-closed times)


@dataclass(frozen=True, kw_only=True)
class TicketNoShow(Event):
    kind: ClassVar[str] = "ticket_no_show"
    number: str
    service: str
    recall_count: int


@dataclass(frozen=True, kw_only=True)
class TicketParked(Event):
    kind: ClassVar[str] = "ticket_parked"
    number: str
    service: str


@dataclass(frozen=True, kw_only=True)
class TicketRejoined(Event):
    kind: ClassVar[str] = "ticket_rejoined"
    number: str
    service: str
    ahead: int


@dataclass(frozen=True, kw_only=True)
class TicketTransferred(Event):
    kind: ClassVar[str] = "ticket_transferred"
    number: str
    from_window: str | None
    from_service: str
    to_service: str
    to_window: str | None
    reason: str = "transfer"  # transfer | window-closed (a targeted ticket goes back to its service)


@dataclass(frozen=True, kw_only=True)
class TicketCancelled(Event):
    kind: ClassVar[str] = "ticket_cancelled"
    number: str
    service: str
    by: str


@dataclass(frozen=True, kw_only=True)
class TicketExpired(Event):
    kind: ClassVar[str] = "ticket_expired"
    number: str
    service: str
    was: str  # waiting | parked
    day: dt.date


@dataclass(frozen=True, kw_only=True)
class WindowChanged(Event):
    kind: ClassVar[str] = "window_changed"
    state: str
    reason: str | None
    clerk: str | None
    window_name: str


@dataclass(frozen=True, kw_only=True)
class TicketEvaluated(Event):
    kind: ClassVar[str] = "ticket_evaluated"
    number: str
    score: int
    comment: str | None


@dataclass(frozen=True, kw_only=True)
class DayReset(Event):
    """The queue closed for `closed_day`; numbering, quotas and limits restart when `day` differs."""

    kind: ClassVar[str] = "day_reset"
    day: dt.date  # the hall's current local day after the reset
    closed_day: dt.date  # the day whose queue was closed
    expired: int
    finished: int
