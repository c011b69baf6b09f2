"""The hub's fold of a hall's events into its live state (server/network/live_fold.py): the engine's
rules for who waits, from when, and which windows are open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.network.live_fold import HallLiveState

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def at(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def fold(*events: tuple[str, dict[str, Any]]) -> HallLiveState:
    state = HallLiveState()
    for seq, (kind, payload) in enumerate(events, start=1):
        state.apply(seq, kind, payload)
    return state


def issued(ticket: str, service: str, minutes: int) -> tuple[str, dict[str, Any]]:
    return "ticket_issued", {"ticket_id": ticket, "service": service, "at": at(minutes)}


def test_a_ticket_waits_until_called_and_again_after_a_transfer_keeping_its_issue_time() -> None:
    state = fold(
        issued("t1", "A", 0),
        issued("t2", "A", 5),
        ("ticket_called", {"ticket_id": "t1", "at": at(10)}),
        ("ticket_transferred", {"ticket_id": "t1", "to_service": "B", "to_window": None, "at": at(12)}),
    )
    summary = state.summary()
    assert summary.waiting == 2 and summary.waiting_by_service == {"A": 1, "B": 1}
    assert summary.oldest_issued_at == T0, "a transferred ticket keeps its place in time"
    assert summary.longest_wait_s(T0 + dt.timedelta(minutes=20)) == 20 * 60


def test_a_ticket_sent_to_one_window_waits_but_is_not_the_longest_wait() -> None:
    state = fold(
        issued("t1", "A", 0),
        issued("t2", "A", 5),
        ("ticket_called", {"ticket_id": "t1", "at": at(6)}),
        ("ticket_transferred", {"ticket_id": "t1", "to_service": "A", "to_window": "3", "at": at(7)}),
    )
    summary = state.summary()
    assert summary.waiting == 2
    assert summary.oldest_issued_at == T0 + dt.timedelta(minutes=5)


def test_no_show_rejoin_cancel_and_the_days_close() -> None:
    state = fold(
        issued("t1", "A", 0),
        issued("t2", "B", 1),
        ("ticket_called", {"ticket_id": "t1", "at": at(2)}),
        ("ticket_no_show", {"ticket_id": "t1", "at": at(3)}),
        ("ticket_rejoined", {"ticket_id": "t1", "service": "A", "at": at(4)}),
        ("ticket_cancelled", {"ticket_id": "t2", "at": at(5)}),
    )
    assert state.summary().waiting_by_service == {"A": 1}
    state.apply(7, "ticket_expired", {"ticket_id": "t1"})
    state.apply(8, "day_reset", {})
    assert state.summary().waiting == 0 and state.summary().oldest_issued_at is None
    state.apply(9, "ticket_rejoined", {"ticket_id": "t1", "service": "A", "at": at(600)})
    assert state.summary().waiting == 0, "yesterday's ticket does not come back"


def test_windows_keep_their_last_state_over_the_days_close() -> None:
    state = fold(
        ("window_changed", {"window": "1", "state": "open"}),
        ("window_changed", {"window": "2", "state": "open"}),
        ("window_changed", {"window": "2", "state": "paused"}),
        ("day_reset", {}),
    )
    summary = state.summary()
    assert summary.windows_open == 1 and summary.window_states == {"1": "open", "2": "paused"}
