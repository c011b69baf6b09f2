"""Which calls are said: once per seq, recalls again, not stale ones, only this zone's, never bad ones."""

from __future__ import annotations

import datetime as dt

import pytest

from caller.voice.rules import CallRules, MalformedCall, Verdict, parse_call, zone_windows
from hallq.api_models import HallInfo
from hallq.contract import CallMessage

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def call(seq: int, ticket: str = "A012", window: str = "3", age_s: float = 1.0, kind: str = "call") -> CallMessage:
    return CallMessage(
        seq=seq, type=kind, ticket=ticket, window=window, window_name=f"{window}号窗口", service="A",
        service_name="社保", at=NOW - dt.timedelta(seconds=age_s), announce=f"请{ticket}号到{window}号窗口办理",
    )  # fmt: skip


def test_each_seq_is_announced_at_most_once() -> None:
    rules = CallRules()
    assert rules.decide(call(1), NOW).verdict is Verdict.announce
    assert rules.decide(call(1), NOW + dt.timedelta(seconds=2)).verdict is Verdict.duplicate
    assert rules.decide(call(2, "A013"), NOW).verdict is Verdict.announce


def test_a_recall_has_its_own_seq_and_is_announced_again() -> None:
    rules = CallRules()
    assert rules.decide(call(5), NOW).verdict is Verdict.announce
    assert rules.decide(call(9, kind="recall"), NOW + dt.timedelta(seconds=30)).verdict is Verdict.announce


def test_calls_older_than_the_limit_are_skipped() -> None:
    rules = CallRules(max_age_s=60)
    assert rules.decide(call(1, age_s=59), NOW).verdict is Verdict.announce
    decision = rules.decide(call(2, age_s=61), NOW)
    assert decision.verdict is Verdict.stale and "61 s ago" in decision.reason
    assert CallRules(max_age_s=0).decide(call(3, age_s=3600), NOW).verdict is Verdict.announce


def test_a_backlog_after_an_outage_is_not_read_out() -> None:
    rules = CallRules(max_age_s=60)
    backlog = [call(seq, f"A{seq:03d}", age_s=300 - seq) for seq in range(1, 20)]
    assert {rules.decide(c, NOW).verdict for c in backlog} == {Verdict.stale}
    assert rules.decide(call(20, "A020", age_s=2), NOW).verdict is Verdict.announce


def test_a_duplicate_redelivered_late_is_still_a_duplicate() -> None:
    rules = CallRules(max_age_s=60)
    rules.decide(call(1), NOW)
    assert rules.decide(call(1), NOW + dt.timedelta(seconds=30)).verdict is Verdict.duplicate


def test_old_seqs_are_forgotten_so_a_restarted_dispatcher_is_heard() -> None:
    """A dispatcher on a fresh database counts seq from 1 again: those calls are new and fresh."""
    rules = CallRules(max_age_s=60)
    rules.decide(call(1), NOW)
    later = NOW + dt.timedelta(hours=1)
    fresh = call(1, "B001").model_copy(update={"at": later})
    assert rules.decide(fresh, later).verdict is Verdict.announce


def test_a_zone_caller_announces_only_its_windows() -> None:
    rules = CallRules(windows=frozenset({"1", "2", "3"}))
    assert rules.decide(call(1, window="3"), NOW).verdict is Verdict.announce
    assert rules.decide(call(2, window="7"), NOW).verdict is Verdict.other_zone


def test_naive_times_are_taken_as_utc() -> None:
    naive = call(1).model_copy(update={"at": (NOW - dt.timedelta(seconds=5)).replace(tzinfo=None)})
    assert CallRules().decide(naive, NOW).age_s == pytest.approx(5)


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"[]", b'{"seq": 1}', b'{"seq": 0, "type": "call"}', "\u00ff".encode("latin-1")],
)
def test_malformed_payloads_raise_one_clear_error(payload: bytes) -> None:
    with pytest.raises(MalformedCall, match="not a call message"):
        parse_call(payload)


def test_zone_windows_from_the_hall_info() -> None:
    windows = [{"id": "1", "name": "1号窗口", "zone": "1F"}, {"id": "2", "name": "2号窗口", "zone": "1F"}]
    info = HallInfo.model_validate(
        {"id": "demo", "name": "大厅", "windows": [*windows, {"id": "7", "name": "7号", "zone": "2F"}]}
    )
    assert zone_windows(info, "1F") == {"1", "2"}
    assert zone_windows(info, "2f") == {"7"}
    with pytest.raises(ValueError, match="zones: 1F, 2F"):
        zone_windows(info, "3F")
