"""The rows the engine keeps and the store persists: one `Ticket` per ticket, one `WindowStatus` per window.

They are plain mutable dataclasses owned by the engine. Read them (after `handle` returns, in the
same thread) to write rows; never change them: the engine's queues are indexed on their fields.
Every field is needed to rebuild the engine with `HallEngine.restore`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .states import Status, WindowState


@dataclass(slots=True)
class Ticket:
    id: str  # random, from the caller; also the key of the citizen's status page
    access: str  # token that lets a phone read the ticket (the `k=` of the QR code)
    number: str  # A001; kept through transfers
    service: str  # current service code (changes on a transfer to another service)
    priority: str  # appointment | green | normal
    day: dt.date  # the hall's local day of issue
    issued_at: dt.datetime
    queue_pos: int  # place in line: the issue sequence, or the place taken on rejoin
    queue_sub: int = 0  # tie-break after queue_pos (rejoins behind the same ticket)
    status: Status = Status.waiting
    green_reason: str | None = None
    id_hash: str | None = None  # HMAC of the ID number (never the number itself)
    masked_name: str | None = None  # 张*; never the full name
    channel: str = "kiosk"
    device: str | None = None
    issued_service: str | None = None  # the service the ticket was issued for (before transfers)
    window: str | None = None  # the window that called it last
    clerk: str | None = None  # the clerk logged in at that window then
    target_window: str | None = None  # transferred to this window explicitly: it calls it first
    transferred_from: str | None = None  # the window it was transferred from
    called_at: dt.datetime | None = None  # the latest call or recall
    called_via: str | None = None  # next | priority | targeted | number | call-back | quick-serve
    first_called_at: dt.datetime | None = None  # for waiting-time statistics
    finished_at: dt.datetime | None = None
    finished_by: str | None = None  # clerk | call-next | window-closed | day-closed
    no_show_at: dt.datetime | None = None
    parked_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    cancelled_by: str | None = None
    recall_count: int = 0
    transfer_count: int = 0
    score: int | None = None
    comment: str | None = None
    evaluated_at: dt.datetime | None = None

    @property
    def rank(self) -> tuple[int, int, str]:
        """Sort key within a queue: lower is served first among tickets of the same class."""
        return (self.queue_pos, self.queue_sub, self.id)


@dataclass(slots=True)
class WindowStatus:
    id: str
    name: str
    state: WindowState = WindowState.closed
    reason: str | None = None  # why it is paused (暂停服务)
    clerk: str | None = None
    ticket: str | None = None  # id of the ticket last called here, while it belongs to this window
    consecutive_priority: int = 0  # priority calls in a row by call-next (anti-starvation)
    served_today: int = 0  # tickets finished here today (recomputed by restore)
    changed_at: dt.datetime | None = None
