"""Commands: what a kiosk, a clerk, a citizen or the clock asks of the hall. Frozen, no behaviour.

The caller supplies every random value (ticket ids, access tokens) so the engine stays
deterministic: the same commands at the same moments always give the same events.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class IssueTicket:
    service: str
    ticket_id: str
    access: str
    priority: str = "normal"  # normal | green | appointment
    green_reason: str | None = None  # elderly | disabled | pregnant | military
    id_hash: str | None = None  # HMAC of the ID number, for the per-person limit
    masked_name: str | None = None
    channel: str = "kiosk"  # kiosk | counter | phone | appointment
    device: str | None = None


@dataclass(frozen=True)
class CallNext:
    window: str
    clerk: str | None = None


@dataclass(frozen=True)
class Recall:
    window: str


@dataclass(frozen=True)
class NoShow:
    window: str


@dataclass(frozen=True)
class Finish:
    window: str


@dataclass(frozen=True)
class Park:
    window: str


@dataclass(frozen=True)
class CallBack:
    window: str
    ticket_id: str


@dataclass(frozen=True, kw_only=True)
class QuickServe:
    """A walk-in served at once: issued and called at `window` in one step."""

    window: str
    service: str
    ticket_id: str
    access: str
    priority: str = "normal"
    green_reason: str | None = None
    id_hash: str | None = None
    masked_name: str | None = None


@dataclass(frozen=True)
class Cancel:
    ticket_id: str
    by: str = "citizen"  # citizen | supervisor | a username


@dataclass(frozen=True)
class Rejoin:
    ticket_id: str


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """Send the window's current ticket to another service's queue or to one window (exactly one)."""

    window: str
    to_service: str | None = None
    to_window: str | None = None


@dataclass(frozen=True)
class CallNumber:
    """特呼: call a ticket by its number at this window, out of turn."""

    window: str
    number: str


@dataclass(frozen=True)
class OpenWindow:
    window: str
    clerk: str | None = None


@dataclass(frozen=True)
class PauseWindow:
    window: str
    reason: str = ""


@dataclass(frozen=True)
class ResumeWindow:
    window: str


@dataclass(frozen=True)
class CloseWindow:
    window: str


@dataclass(frozen=True, kw_only=True)
class Evaluate:
    ticket_id: str
    score: int  # 1 (非常不满意) .. 5 (非常满意)
    comment: str | None = None


@dataclass(frozen=True)
class CloseDay:
    """The hall closes: waiting and parked tickets expire, called ones finish, windows close."""


Command = (
    IssueTicket
    | CallNext
    | Recall
    | NoShow
    | Finish
    | Park
    | CallBack
    | QuickServe
    | Cancel
    | Rejoin
    | Transfer
    | CallNumber
    | OpenWindow
    | PauseWindow
    | ResumeWindow
    | CloseWindow
    | Evaluate
    | CloseDay
)
