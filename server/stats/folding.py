"""Folding committed events into the hourly roll-ups: pure (events in, cells out), no I/O.

Where each event counts (the hall's local day and hour of the event unless said otherwise):
- ticket_issued: `issued`, under the service it was issued for, no window, no clerk.
- ticket_called: the first call of a ticket is one waiting-time sample (first call − issue) and one
  `called`, under the calling window, its clerk and the ticket's service then; a recall is `recalled`.
- ticket_finished: `served` at its window; its service time (last call or recall → finish) is a
  sample unless the day's close finished it (the clerk never did: the time means nothing).
- ticket_no_show, ticket_transferred (a clerk's transfer, not a closing window's release): at the
  window and its clerk, under the service the ticket had there.
- ticket_cancelled: under the ticket's service, no window.
- ticket_expired and the day's close finishing a called ticket: on the ticket's own day at its issue
  hour (the close runs at the next day's first moment, which is not when the citizen was there).
- ticket_evaluated: a rating at the window, clerk and service that served the ticket.
- queue time (`queue_s`): the seconds a ticket waited from its issue to its first call or its cancel,
  split over the local hours under its service and no window: an hour's sum ÷ 3600 is the mean number
  waiting then. A ticket that expires is left out (nobody knows when its citizen left), and so is
  waiting again after a transfer or a no-show.
- window_changed: the time a window was open (not paused, not closed), split over the hours, at the
  window and the clerk logged in there: `open_s`, for utilisation = service time ÷ open time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from server.stats.histogram import Histogram, add_sample, merge

CellKey = tuple[str, int, str, str, str]  # local day, local hour, service, window, clerk
# The evaluation window is 7 days (DESIGN §11): a ticket is remembered a little longer, then forgotten.
REMEMBER_DAYS = 8


@dataclass
class Cell:
    """What one roll-up row gains (or holds): counters, two maxima, two histograms."""

    counts: dict[str, int] = field(default_factory=dict)
    wait_max_s: int = 0
    service_max_s: int = 0
    wait_hist: Histogram = field(default_factory=dict)
    service_hist: Histogram = field(default_factory=dict)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def add_wait(self, seconds: int) -> None:
        self.add("called")
        self.add("wait_sum_s", seconds)
        self.wait_max_s = max(self.wait_max_s, seconds)
        add_sample(self.wait_hist, seconds)

    def add_service(self, seconds: int) -> None:
        self.add("service_count")
        self.add("service_sum_s", seconds)
        self.service_max_s = max(self.service_max_s, seconds)
        add_sample(self.service_hist, seconds)

    def absorb(self, other: Cell) -> None:
        for name, amount in other.counts.items():
            self.add(name, amount)
        self.wait_max_s = max(self.wait_max_s, other.wait_max_s)
        self.service_max_s = max(self.service_max_s, other.service_max_s)
        merge(self.wait_hist, other.wait_hist)
        merge(self.service_hist, other.service_hist)


@dataclass
class TicketMemory:
    day: str
    issued_hour: int
    issued_at: dt.datetime
    service: str = ""  # the ticket's service at its last call (issue service before)
    first_called_at: dt.datetime | None = None
    window: str | None = None
    clerk: str | None = None


@dataclass
class WindowMemory:
    state: str
    clerk: str | None
    since: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "clerk": self.clerk, "since": self.since.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowMemory:
        return cls(data["state"], data.get("clerk"), dt.datetime.fromisoformat(data["since"]))


@dataclass
class Fold:
    """One batch of events folded over what the folding remembers (`tickets`, `windows`)."""

    tz: ZoneInfo
    tickets: dict[str, TicketMemory]
    windows: dict[str, WindowMemory]
    cells: dict[CellKey, Cell] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # ticket ids whose memory changed
    forget_before: str | None = None  # local day: tickets of earlier days are forgotten

    def apply(self, kind: str, payload: dict[str, Any]) -> None:
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, payload, dt.datetime.fromisoformat(payload["at"]))

    # ---- helpers --------------------------------------------------------------------------------

    def cell(self, at: dt.datetime, service: str, window: str | None, clerk: str | None) -> Cell:
        local = at.astimezone(self.tz)
        return self.cell_at(local.date().isoformat(), local.hour, service, window, clerk)

    def cell_at(self, day: str, hour: int, service: str, window: str | None, clerk: str | None) -> Cell:
        key = (day, hour, service or "", window or "", clerk or "")
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = Cell()
        return found

    def clerk_at(self, window: str | None) -> str | None:
        memory = self.windows.get(window or "")
        return memory.clerk if memory else None

    def ticket(self, payload: dict[str, Any]) -> TicketMemory | None:
        return self.tickets.get(payload.get("ticket_id") or "")

    def remember(self, ticket_id: str, memory: TicketMemory) -> None:
        self.tickets[ticket_id] = memory
        self.touched.add(ticket_id)

    def on_issue_hour(self, memory: TicketMemory | None, at: dt.datetime, service: str) -> Cell:
        if memory is None:
            return self.cell(at, service, None, None)
        return self.cell_at(memory.day, memory.issued_hour, service, None, None)

    def add_queue_time(self, memory: TicketMemory, until: dt.datetime) -> None:
        """The ticket's first wait (issue → `until`), split over the local hours it spans."""
        for day, hour, seconds in split_by_local_hour(memory.issued_at, until, self.tz):
            self.cell_at(day, hour, memory.service, None, None).add("queue_s", seconds)

    # ---- events ---------------------------------------------------------------------------------

    def issued(self, payload: dict[str, Any], at: dt.datetime) -> None:
        local = at.astimezone(self.tz)
        memory = TicketMemory(local.date().isoformat(), local.hour, at, service=payload["service"])
        self.remember(payload["ticket_id"], memory)
        self.cell(at, payload["service"], None, None).add("issued")

    def called(self, payload: dict[str, Any], at: dt.datetime) -> None:
        window, clerk = payload.get("window"), self.clerk_at(payload.get("window"))
        if payload.get("type") == "recall":
            self.cell(at, payload["service"], window, clerk).add("recalled")
            return
        memory = self.ticket(payload)
        if memory is None:  # its issue is not in the events (never for events folded from seq 1)
            return
        if memory.first_called_at is None:
            memory.first_called_at = at
            wait_s = max(0, round((at - memory.issued_at).total_seconds()))
            self.cell(at, payload["service"], window, clerk).add_wait(wait_s)
            self.add_queue_time(memory, at)
        memory.service, memory.window, memory.clerk = payload["service"], window, clerk
        self.touched.add(payload["ticket_id"])

    def finished(self, payload: dict[str, Any], at: dt.datetime) -> None:
        memory = self.ticket(payload)
        service = payload["service"]
        window = payload.get("window")
        clerk = memory.clerk if memory and memory.window == window else self.clerk_at(window)
        if payload.get("by") == "day-closed":
            day, hour = (memory.day, memory.issued_hour) if memory else _local(at, self.tz)
            self.cell_at(day, hour, service, window, clerk).add("served")
            return
        cell = self.cell(at, service, window, clerk)
        cell.add("served")
        cell.add_service(int(payload.get("duration_s") or 0))

    def no_show(self, payload: dict[str, Any], at: dt.datetime) -> None:
        memory = self.ticket(payload)
        window = payload.get("window")
        clerk = memory.clerk if memory and memory.window == window else self.clerk_at(window)
        self.cell(at, payload["service"], window, clerk).add("no_show")

    def transferred(self, payload: dict[str, Any], at: dt.datetime) -> None:
        if payload.get("reason", "transfer") != "transfer":
            return  # a closing window handing its transferred tickets back is no clerk's transfer
        memory = self.ticket(payload)
        window = payload.get("from_window")
        clerk = memory.clerk if memory and memory.window == window else self.clerk_at(window)
        self.cell(at, payload["from_service"], window, clerk).add("transferred")

    def cancelled(self, payload: dict[str, Any], at: dt.datetime) -> None:
        self.cell(at, payload["service"], None, None).add("cancelled")
        memory = self.ticket(payload)
        if memory is not None and memory.first_called_at is None:
            self.add_queue_time(memory, at)

    def expired(self, payload: dict[str, Any], at: dt.datetime) -> None:
        self.on_issue_hour(self.ticket(payload), at, payload["service"]).add("expired")

    def evaluated(self, payload: dict[str, Any], at: dt.datetime) -> None:
        memory = self.ticket(payload)
        service = memory.service if memory else ""
        cell = self.cell(at, service, memory.window if memory else None, memory.clerk if memory else None)
        score = int(payload["score"])
        cell.add("rating_count")
        cell.add("rating_sum", score)
        cell.add("rating_good", 1 if score >= 4 else 0)
        cell.add("rating_bad", 1 if score <= 2 else 0)

    def window_changed(self, payload: dict[str, Any], at: dt.datetime) -> None:
        window = payload["window"]
        before = self.windows.get(window)
        if before is not None and before.state == "open":
            for day, hour, seconds in split_by_local_hour(before.since, at, self.tz):
                self.cell_at(day, hour, "", window, before.clerk).add("open_s", seconds)
        self.windows[window] = WindowMemory(payload["state"], payload.get("clerk"), at)

    def day_reset(self, payload: dict[str, Any], at: dt.datetime) -> None:
        closed = dt.date.fromisoformat(payload["closed_day"])
        self.forget_before = (closed - dt.timedelta(days=REMEMBER_DAYS)).isoformat()
        for ticket_id in [k for k, m in self.tickets.items() if m.day < self.forget_before]:
            del self.tickets[ticket_id]
            self.touched.discard(ticket_id)


_HANDLERS = {
    "ticket_issued": Fold.issued,
    "ticket_called": Fold.called,
    "ticket_finished": Fold.finished,
    "ticket_no_show": Fold.no_show,
    "ticket_transferred": Fold.transferred,
    "ticket_cancelled": Fold.cancelled,
    "ticket_expired": Fold.expired,
    "ticket_evaluated": Fold.evaluated,
    "window_changed": Fold.window_changed,
    "day_reset": Fold.day_reset,
}


def _local(at: dt.datetime, tz: ZoneInfo) -> tuple[str, int]:
    local = at.astimezone(tz)
    return local.date().isoformat(), local.hour


def split_by_local_hour(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> Iterator[tuple[str, int, int]]:
    """(local day, local hour, whole seconds) of the span start → end, one piece per local hour."""
    moment = start
    while moment < end:
        local = moment.astimezone(tz)
        next_hour = (local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)).astimezone(dt.UTC)
        piece_end = min(next_hour, end)
        seconds = round((piece_end - moment).total_seconds())
        if seconds:
            yield local.date().isoformat(), local.hour, seconds
        moment = piece_end
