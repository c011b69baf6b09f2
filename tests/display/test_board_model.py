"""The board presenter: snapshots, calls, seq gaps, flashing, stale state, zones, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from display.board.model import CONNECTING_TEXT, STALE_BANNER, BoardModel, ZoneFilter, wait_text
from hallq.contract import DispatcherStatus
from tests.display.samples import T0, ZONE_1F, call, snapshot


def secs(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def live_model(**kw: object) -> BoardModel:
    model = BoardModel(hall_name="句容市政务服务中心", **kw)  # type: ignore[arg-type]
    model.set_broker_connected(True, T0)
    return model


def test_snapshot_fills_every_part_of_the_board() -> None:
    model = live_model()
    snap = snapshot(serving={"1": "A001", "3": "A012"}, paused={"7": "午间休息"}, calls=[("A012", "3", 100)])
    assert model.apply_snapshot(snap, T0)
    view = model.view(T0)
    assert view.current is not None and (view.current.ticket, view.current.window_name) == ("A012", "3号窗口")
    assert not view.flashing  # a call 100 s old is shown, not flashed
    rows = {w.window: w for w in view.windows}
    assert len(rows) == 12
    assert (rows["3"].status, rows["3"].ticket) == ("办理中", "A012")
    assert (rows["2"].status, rows["2"].ticket) == ("空闲", "")
    assert rows["7"].status == "暂停服务"
    assert [w.window for w in view.windows][:3] == ["1", "2", "3"]
    assert {w.service for w in view.waiting} >= {"A", "Q"}
    assert view.notice.startswith("请持号码")
    assert view.banner == ""
    assert view.seq == 10


def test_a_call_flashes_for_a_few_seconds_then_stays_current() -> None:
    model = live_model(flash_s=8.0)
    model.apply_snapshot(snapshot(seq=10, calls=[("A011", "2", 60)]), T0)
    assert model.apply_call(call(11, "A012", "3", at=T0 + secs(1)), T0 + secs(1))
    during = model.view(T0 + secs(5))
    assert during.flashing and during.current is not None and during.current.ticket == "A012"
    assert [c.ticket for c in during.recent] == ["A011"]
    after = model.view(T0 + secs(10))
    assert not after.flashing and after.current == during.current
    rows = {w.window: w for w in after.windows}
    assert rows["3"].ticket == "A012"
    assert model.seq == 11 and not model.resync_pending


def test_recall_flashes_again_and_does_not_duplicate_history() -> None:
    model = live_model()
    model.apply_snapshot(snapshot(seq=10), T0)
    model.apply_call(call(11, "A012", "3", at=T0), T0)
    model.apply_call(call(12, "A012", "3", at=T0 + secs(30), kind="recall"), T0 + secs(30))
    view = model.view(T0 + secs(31))
    assert view.flashing and view.current is not None and view.current.ticket == "A012"
    assert all(c.ticket != "A012" for c in view.recent)


def test_the_same_call_via_snapshot_and_calls_flashes_once() -> None:
    model = live_model(flash_s=8.0)
    model.apply_snapshot(snapshot(seq=10), T0)
    model.apply_snapshot(snapshot(seq=11, at=T0 + secs(1), calls=[("A012", "3", 0)]), T0 + secs(1))
    assert model.view(T0 + secs(1)).flashing
    # the call message of the same seq arriving after the snapshot neither restarts nor rolls back
    message = call(11, "A012", "3", at=T0 + secs(1))
    assert not model.apply_call(message, T0 + secs(7))
    assert not model.view(T0 + secs(10)).flashing


def test_old_calls_after_an_outage_do_not_flash() -> None:
    model = live_model(max_call_age_s=60)
    model.apply_snapshot(snapshot(seq=10), T0)
    model.apply_call(call(11, "A012", "3", at=T0), T0 + secs(300))
    view = model.view(T0 + secs(300))
    assert not view.flashing
    assert view.current is not None and view.current.ticket == "A012"  # but it is the latest call


def test_seq_gap_asks_for_a_resync_that_a_newer_snapshot_satisfies() -> None:
    model = live_model(resync_grace_s=3, resync_retry_s=5)
    model.apply_snapshot(snapshot(seq=10), T0)
    assert not model.resync_pending
    model.apply_call(call(14, "B003", "2"), T0)
    assert model.resync_pending
    assert not model.resync_due(T0 + secs(1))  # give the retained snapshot a moment
    assert model.resync_due(T0 + secs(3))
    model.note_resync_attempt(T0 + secs(3))
    assert not model.resync_due(T0 + secs(4))
    assert model.resync_due(T0 + secs(8))
    assert not model.apply_snapshot(snapshot(seq=12), T0 + secs(8))  # older than the call: ignored
    assert model.resync_pending
    assert model.apply_snapshot(snapshot(seq=14, serving={"2": "B003"}), T0 + secs(9))
    assert not model.resync_pending and not model.resync_due(T0 + secs(60))


def test_start_and_reconnect_want_a_resync_until_a_snapshot_arrives() -> None:
    model = BoardModel(hall_name="x", resync_grace_s=3)
    assert model.view(T0).banner == CONNECTING_TEXT
    assert model.resync_due(T0)  # not connected yet: poll GET /board right away
    model.note_resync_attempt(T0)
    model.set_broker_connected(True, T0 + secs(1))
    assert model.resync_pending and not model.resync_due(T0 + secs(2))
    model.apply_snapshot(snapshot(seq=5), T0 + secs(2))
    assert not model.resync_pending
    model.set_broker_connected(False, T0 + secs(20))
    assert model.view(T0 + secs(20)).banner == STALE_BANNER
    assert model.resync_due(T0 + secs(20))  # broker away: poll the dispatcher instead
    model.set_broker_connected(True, T0 + secs(40))
    assert model.resync_pending  # retained snapshot or GET /board after reconnect
    model.apply_snapshot(snapshot(seq=5), T0 + secs(41))  # same seq is up to date
    assert not model.resync_pending
    assert model.view(T0 + secs(41)).banner == ""


def test_dispatcher_away_marks_the_state_stale_and_keeps_it() -> None:
    model = live_model()
    model.apply_snapshot(snapshot(seq=10, serving={"3": "A012"}), T0)
    before = model.view(T0)
    model.apply_dispatcher_status(DispatcherStatus(online=False, at=T0), T0)
    stale = model.view(T0 + secs(1))
    assert stale.banner == STALE_BANNER
    assert stale.windows == before.windows and stale.waiting == before.waiting
    model.apply_dispatcher_status(DispatcherStatus(online=True, at=T0), T0 + secs(5))
    assert model.resync_pending  # it may have missed events while it was away
    assert model.view(T0 + secs(5)).banner == ""


def test_authoritative_snapshot_may_go_back_in_seq() -> None:
    model = live_model()
    model.apply_snapshot(snapshot(seq=50), T0)
    assert not model.apply_snapshot(snapshot(seq=3), T0)
    assert model.apply_snapshot(snapshot(seq=3), T0, authoritative=True)
    assert model.seq == 3


@pytest.mark.parametrize(
    "kind, payload",
    [
        ("board", b"not json"),
        ("board", b'{"seq": -1, "at": "2026-11-23T02:00:00Z"}'),
        ("board", b'{"seq": 99}'),
        ("calls", b'{"seq": 99, "type": "call"}'),
        ("calls", b"\xff\xfe"),
        ("calls", b"[]"),
        ("dispatcher", b'{"online": "maybe"}'),
    ],
)
def test_malformed_messages_change_nothing(kind: str, payload: bytes) -> None:
    model = live_model()
    model.apply_snapshot(snapshot(seq=10, serving={"3": "A012"}, calls=[("A012", "3", 100)]), T0)
    before = model.view(T0)
    assert not model.apply_message(kind, payload, T0)
    assert model.view(T0) == before
    assert model.malformed == 1 and model.seq == 10 and not model.resync_pending


def test_valid_messages_through_apply_message() -> None:
    model = live_model()
    assert model.apply_message("board", snapshot(seq=10).to_json(), T0)
    assert model.apply_message("calls", call(11, "C001", "6").to_json(), T0)
    assert model.view(T0).current is not None
    with pytest.raises(ValueError):
        model.apply_message("weather", b"{}", T0)


def test_zone_shows_only_its_windows_services_and_calls() -> None:
    hall_windows = [
        {"id": str(n), "zone": "1F" if n <= 5 else "2F", "services": ["A", "B"] if n <= 5 else ["C"]}
        for n in range(1, 13)
    ]
    zone = ZoneFilter.for_zone("1F", hall_windows)
    assert zone.windows == frozenset(ZONE_1F) and zone.services == frozenset({"A", "B"})
    model = live_model(zone=zone)
    model.apply_snapshot(snapshot(seq=10, calls=[("A001", "1", 50)]), T0)
    model.apply_call(call(11, "C004", "6"), T0)  # another floor: not flashed here
    view = model.view(T0)
    assert not view.flashing
    assert view.current is not None and view.current.ticket == "A001"
    assert [w.window for w in view.windows] == ZONE_1F
    assert {w.service for w in view.waiting} == {"A", "B"}
    assert view.zone_label == "1F"
    with pytest.raises(ValueError, match="zone"):
        ZoneFilter.for_zone("9F", hall_windows)


def test_wait_text() -> None:
    assert wait_text(0, 0) == "无需等候"
    assert wait_text(3, 10) == "1分钟"
    assert wait_text(3, 601) == "11分钟"


def test_a_fresh_model_from_the_same_snapshot_has_the_same_hall_state() -> None:
    live = live_model()
    live.apply_snapshot(snapshot(seq=10, calls=[("A011", "2", 100)]), T0)
    live.apply_call(call(11, "A012", "3", at=T0 - secs(50)), T0)
    fresh = live_model()
    fresh.apply_snapshot(snapshot(seq=11, serving={"3": "A012"}, calls=[("A012", "3", 50), ("A011", "2", 100)]), T0)
    assert live.view(T0).same_hall_state(fresh.view(T0))


def test_a_lasting_problem_is_the_banner() -> None:
    model = live_model()
    model.apply_snapshot(snapshot(seq=1), T0)
    model.problem = "叫号系统拒绝了本屏的登录凭据"
    assert model.view(T0).banner == "叫号系统拒绝了本屏的登录凭据"


def test_a_late_call_after_a_gap_does_not_roll_the_windows_back() -> None:
    model = live_model()
    model.apply_snapshot(snapshot(seq=10), T0)
    model.apply_call(call(13, "A013", "3"), T0)  # gap: 11 and 12 missing
    model.apply_call(call(11, "A011", "3", at=T0 - secs(5)), T0)  # arrives late
    model.apply_call(call(13, "A013", "3"), T0)  # and a duplicate
    rows = {w.window: w for w in model.view(T0).windows}
    assert rows["3"].ticket == "A013" and model.seq == 13
    assert [c.ticket for c in model.view(T0).recent].count("A013") == 0  # current, not repeated below
