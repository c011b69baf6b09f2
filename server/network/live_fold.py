"""A hall right now, as the hub sees it from the hall's shipped events (pure: no I/O, no clock).

The hall computes its own live numbers from its engine (server/stats/live.py); the hub has only the
events, so it replays them into the little it needs: which tickets wait (and since when they were
issued), and each window's state. The rules follow the engine's (server/engine/states.py):

- a ticket waits from `ticket_issued`, and again after `ticket_transferred` (keeping its issue time)
  or `ticket_rejoined`; it stops waiting when called, cancelled, expired, parked, finished;
- the longest wait is the oldest issue time among waiting tickets not sent to one window (as
  `HallEngine.oldest_waiting`); tickets sent to a window still count as waiting;
- `day_reset` ends the day's queue (its expiries come as events before it; anything left is dropped);
- windows keep their state over midnight: the last `window_changed` of each window decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STOPS_WAITING = frozenset(
    {"ticket_called", "ticket_cancelled", "ticket_expired", "ticket_parked", "ticket_finished", "ticket_no_show"}
)


@dataclass(frozen=True)
class WaitingTicket:
    service: str
    issued_at: dt.datetime
    targeted: bool  # sent to one window: not in the service's line for the longest wait


@dataclass(frozen=True)
class LiveSummary:
    waiting: int
    waiting_by_service: dict[str, int]
    oldest_issued_at: dt.datetime | None  # of the longest-waiting ticket in a service's line
    windows_open: int
    window_states: dict[str, str]

    def longest_wait_s(self, now: dt.datetime) -> int:
        if self.oldest_issued_at is None:
            return 0
        return max(0, round((now - self.oldest_issued_at).total_seconds()))


@dataclass
class HallLiveState:
    """The fold's state; `apply` each event in seq order, read `summary()`."""

    last_seq: int = 0
    issued_at: dict[str, dt.datetime] = field(default_factory=dict)  # the day's tickets
    waiting: dict[str, WaitingTicket] = field(default_factory=dict)
    windows: dict[str, str] = field(default_factory=dict)

    def apply(self, seq: int, kind: str, payload: Mapping[str, Any]) -> None:
        self.last_seq = seq
        ticket = payload.get("ticket_id")
        if kind == "window_changed":
            self.windows[str(payload["window"])] = str(payload["state"])
        elif kind == "day_reset":
            self.waiting.clear()
            self.issued_at.clear()
        elif kind == "ticket_issued" and ticket:
            issued = _when(payload["at"])
            self.issued_at[ticket] = issued
            self.waiting[ticket] = WaitingTicket(str(payload["service"]), issued, targeted=False)
        elif kind == "ticket_transferred" and ticket:
            self._waits_again(ticket, str(payload["to_service"]), targeted=payload.get("to_window") is not None)
        elif kind == "ticket_rejoined" and ticket:
            self._waits_again(ticket, str(payload["service"]), targeted=False)
        elif kind in STOPS_WAITING and ticket:
            self.waiting.pop(ticket, None)

    def _waits_again(self, ticket: str, service: str, targeted: bool) -> None:
        issued = self.issued_at.get(ticket)
        if issued is not None:  # a ticket of an earlier day (before the fold began) is not known
            self.waiting[ticket] = WaitingTicket(service, issued, targeted)

    def summary(self) -> LiveSummary:
        by_service: dict[str, int] = {}
        for waiting in self.waiting.values():
            by_service[waiting.service] = by_service.get(waiting.service, 0) + 1
        in_line = [w.issued_at for w in self.waiting.values() if not w.targeted]
        return LiveSummary(
            waiting=len(self.waiting),
            waiting_by_service=by_service,
            oldest_issued_at=min(in_line, default=None),
            windows_open=sum(1 for state in self.windows.values() if state == "open"),
            window_states=dict(self.windows),
        )


def _when(text: Any) -> dt.datetime:
    when = dt.datetime.fromisoformat(str(text))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
