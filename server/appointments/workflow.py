"""A booking's path as one transition table, and when it may be checked in. Pure: the clock is an argument.

    booked ──check in (30 min before … 15 min after the start)──▶ checked_in  (an `appointment` ticket)
      │    └─check in late (… until the slot's end + 15 min)─────▶ checked_in  (a normal ticket)
      ├──cancel (the citizen, a kiosk, staff) / reschedule────────▶ cancelled
      └──(not checked in by the slot's end + the late margin)──────▶ no_show   (computed when read)

`no_show` is never written: a booking still `booked` after its deadline *is* a no-show, so there is
no timer to miss and the 爽约 count is a query over the person's past bookings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    booked = "booked"
    checked_in = "checked_in"
    cancelled = "cancelled"
    no_show = "no_show"


class Action(StrEnum):
    check_in = "check_in"
    cancel = "cancel"


STATUS_LABELS: dict[Status, str] = {
    Status.booked: "已预约",
    Status.checked_in: "已签到取号",
    Status.cancelled: "已取消",
    Status.no_show: "已过期（爽约）",
}
ACTION_LABELS: dict[Action, str] = {Action.check_in: "签到", Action.cancel: "取消"}
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.booked, Action.check_in): Status.checked_in,
    (Status.booked, Action.cancel): Status.cancelled,
}


class IllegalAppointmentAction(Exception):
    """An action the booking's status does not allow (409); the sentence names both."""

    def __init__(self, action: Action, status: Status) -> None:
        super().__init__(
            f"该预约{STATUS_LABELS[status]}，不能{ACTION_LABELS[action]}。"
            f" Cannot {action.value.replace('_', ' ')} a booking that is {status.value}."
        )
        self.action, self.status = action, status


def next_status(status: Status, action: Action) -> Status:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalAppointmentAction(action, status) from None


@dataclass(frozen=True)
class Margins:
    early: dt.timedelta  # check-in opens this long before the start
    late: dt.timedelta  # an on-time check-in until this long after the start; a late one until end + late


def effective_status(stored: str, end: dt.datetime, margins: Margins, now: dt.datetime) -> Status:
    """The stored status, or `no_show` for a booking never checked in by its slot's end + the late margin."""
    status = Status(stored)
    if status == Status.booked and now > end + margins.late:
        return Status.no_show
    return status


class Arrival(StrEnum):
    early = "early"
    on_time = "on_time"
    late = "late"


def arrival(start: dt.datetime, margins: Margins, now: dt.datetime) -> Arrival:
    """When a citizen checks in, measured against the start: too early, on time (→ `appointment`), late."""
    if now < start - margins.early:
        return Arrival.early
    if now <= start + margins.late:
        return Arrival.on_time
    return Arrival.late
