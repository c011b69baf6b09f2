"""The queue rules of DESIGN.md §3, one behaviour per test, driven through `HallEngine.handle`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from hallq.config import example_config_path, load_hall_config
from server.engine import (
    AlreadyEvaluated,
    BadCommand,
    CallBack,
    CallNext,
    CallNumber,
    Cancel,
    CloseDay,
    CloseWindow,
    DayReset,
    EngineError,
    Evaluate,
    Finish,
    HallClosed,
    HallEngine,
    IssueTicket,
    NoShow,
    Park,
    PauseWindow,
    PersonLimitReached,
    QuickServe,
    QuotaExceeded,
    Recall,
    Rejoin,
    RejoinTooLate,
    ResumeWindow,
    Status,
    TicketCalled,
    TicketExpired,
    TicketFinished,
    TicketIssued,
    TicketTransferred,
    Transfer,
    UnknownService,
    UnknownTicket,
    UnknownWindow,
    WindowChanged,
    WindowNotOpen,
    WindowState,
)
from server.hall_rules import rules_from_config

from .conftest import START, Driver, small_rules
from .test_states import snapshot

# ---------------------------------------------------------------- numbering and the day


def test_numbers_run_per_prefix(hall: Driver) -> None:
    numbers = [hall.issue(s).number for s in "AABAC"]
    assert numbers == ["A001", "A002", "B001", "A003", "C001"]


def test_numbers_go_past_999_without_repeating(rules) -> None:
    hall = Driver(HallEngine.restore(rules, [], [], {"A": 998}, START.date()))
    assert [hall.issue("A").number for _ in range(3)] == ["A999", "A1000", "A1001"]


def test_a_new_local_day_expires_the_old_queue_and_restarts_numbers(hall: Driver) -> None:
    hall.open("1")
    parked, called = hall.issue("A"), hall.issue("A")
    waiting_b = hall.issue("B")
    assert hall.call("1") is parked  # oldest first
    hall.do(Park("1"))
    assert hall.call("1") is called
    left = hall.issue("A")
    # 16:00 UTC is 00:00 the next day in Shanghai: the first command of that day closes the old one
    hall.now = dt.datetime(2026, 11, 23, 16, 0, 30, tzinfo=dt.UTC)
    events = hall.do(IssueTicket(service="A", ticket_id="tomorrow", access="k"))
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("TicketExpired") == 3 and kinds.count("TicketFinished") == 1
    assert kinds.count("WindowChanged") == 3 and kinds[-2:] == ["DayReset", "TicketIssued"]
    reset = next(e for e in events if isinstance(e, DayReset))
    assert (reset.closed_day, reset.day, reset.expired, reset.finished) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 24),
        3,
        1,
    )
    assert [t.status for t in (left, parked, waiting_b, called)] == [Status.expired] * 3 + [Status.done]
    assert called.finished_by == "day-closed"
    assert hall.engine.ticket("tomorrow").number == "A001"  # type: ignore[union-attr]
    assert hall.engine.ticket(left.id) is left  # yesterday stays readable, for the store and evaluations
    assert hall.engine.ticket_by_number("A002") is None  # but numbers are today's
    assert hall.engine.waiting_counts()["A"][0] == 1
    assert hall.engine.served_today("1") == 0
    window = hall.engine.window("1")
    assert window is not None and window.state == WindowState.open and window.ticket is None


def test_a_refused_first_command_of_the_day_leaves_yesterday_untouched(hall: Driver) -> None:
    ticket = hall.issue("A")
    before = snapshot(hall.engine)
    hall.now = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    with pytest.raises(UnknownService):
        hall.do(IssueTicket(service="Z", ticket_id="x", access="k"))
    assert snapshot(hall.engine) == before and ticket.status == Status.waiting
    hall.open("1")  # a good command then rolls the day over: yesterday's ticket expires
    assert ticket.status == Status.expired and hall.engine.day == dt.date(2026, 11, 24)


def test_advance_closes_yesterday_without_a_command(hall: Driver) -> None:
    ticket = hall.issue("A")
    assert hall.engine.advance(hall.now) == []
    events = hall.engine.advance(dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC))  # 08:00 next day
    assert [type(e) for e in events][:1] == [TicketExpired] and isinstance(events[-1], DayReset)
    assert ticket.status == Status.expired and hall.engine.waiting_counts()["A"] == (0, 0)
    assert hall.engine.advance(dt.datetime(2026, 11, 24, 0, 1, tzinfo=dt.UTC)) == []


def test_close_day_expires_finishes_and_closes_windows(hall: Driver) -> None:
    hall.open("1", "2")
    served = hall.issue("A")
    hall.issue("B")
    hall.call("1")
    events = hall.do(CloseDay())
    assert served.status == Status.done and served.finished_by == "day-closed"
    assert sum(isinstance(e, TicketExpired) for e in events) == 1
    assert all(w.state == WindowState.closed for w in hall.engine.windows())
    assert isinstance(events[-1], DayReset) and events[-1].expired == 1
    assert hall.issue("A").number == "A002"  # the same day: numbers never repeat
    assert hall.engine.served_today("1") == 1


# ---------------------------------------------------------------- who is called next


def test_longest_waiting_across_the_windows_services(hall: Driver) -> None:
    hall.open("1")
    b, a = hall.issue("B"), hall.issue("A")
    hall.issue("C")  # window 1 does not serve C
    assert hall.call("1") is b
    assert hall.call("1") is a
    assert hall.call("1") is None


def test_priority_first_but_a_normal_ticket_after_two_in_a_row(hall: Driver) -> None:
    hall.open("1")
    normals = [hall.issue("A") for _ in range(3)]
    greens = [hall.issue("A", priority="green", green_reason="elderly") for _ in range(5)]
    order = hall.numbers_called("1", 8)
    g, n = [t.number for t in greens], [t.number for t in normals]
    assert order == [g[0], g[1], n[0], g[2], g[3], n[1], g[4], n[2]]


def test_appointments_before_green_before_normal(hall: Driver) -> None:
    hall.open("1")
    normal = hall.issue("A")
    green = hall.issue("B", priority="green")
    appointment = hall.issue("A", priority="appointment", channel="appointment")
    assert hall.call("1") is appointment
    assert hall.call("1") is green
    assert hall.call("1") is normal


def test_priority_runs_on_when_no_normal_ticket_waits(hall: Driver) -> None:
    hall.open("1")
    greens = [hall.issue("A", priority="green") for _ in range(4)]
    assert [hall.call("1") for _ in range(4)] == greens


def test_call_next_finishes_the_current_ticket_first(hall: Driver) -> None:
    hall.open("1")
    first, second = hall.issue("A"), hall.issue("A")
    hall.call("1")
    events = hall.do(CallNext("1"), after=120)
    assert [type(e) for e in events] == [TicketFinished, TicketCalled]
    finished, called = events
    assert isinstance(finished, TicketFinished) and isinstance(called, TicketCalled)
    assert finished.ticket_id == first.id and finished.automatic and finished.duration_s == 120
    assert called.ticket_id == second.id and called.finished == first.id
    assert first.status == Status.done and first.finished_by == "call-next"
    assert hall.engine.served_today("1") == 1


def test_nobody_waiting_gives_no_call(hall: Driver) -> None:
    hall.open("1")
    assert hall.do(CallNext("1")) == []


def test_call_next_needs_an_open_window(hall: Driver) -> None:
    hall.issue("A")
    with pytest.raises(WindowNotOpen, match="已关闭"):
        hall.do(CallNext("1"))
    hall.open("1")
    hall.do(PauseWindow("1", reason="取资料"))
    with pytest.raises(WindowNotOpen, match="paused"):
        hall.do(CallNext("1"))
    hall.do(ResumeWindow("1"))
    assert hall.call("1") is not None


def test_the_call_event_carries_the_announcement_and_no_personal_data(hall: Driver) -> None:
    hall.open("2")
    ticket = hall.issue("B", id_hash="h" * 64, masked_name="张*")
    events = hall.do(CallNext("2"))
    call = events[-1].to_dict()
    assert call["announce"] == "请B001号到2号窗口办理"
    assert (call["type"], call["window"], call["window_name"], call["service_name"]) == (
        "call",
        "2",
        "2号窗口",
        "医保业务",
    )
    every = json.dumps([e.to_dict() for e in hall.events], ensure_ascii=False)
    assert "h" * 64 not in every and ticket.access not in every
    issued = next(e for e in hall.events if isinstance(e, TicketIssued))
    assert issued.masked_name == "张*"


# ---------------------------------------------------------------- at the window


def test_recall_announces_again_and_counts(hall: Driver) -> None:
    hall.open("1")
    ticket = hall.issue("A")
    hall.call("1")
    (event,) = hall.do(Recall("1"))
    (event2,) = hall.do(Recall("1"))
    assert isinstance(event2, TicketCalled) and isinstance(event, TicketCalled)
    assert (event.type, event.recall_count, event2.recall_count) == ("recall", 1, 2)
    assert event.announce == "请A001号到1号窗口办理"
    assert ticket.recall_count == 2 and ticket.status == Status.called
    assert [c.ticket_id for c in hall.engine.recent_calls()] == [ticket.id]


def test_no_show_then_rejoin_behind_k_places(hall: Driver) -> None:
    hall.open("1")
    missed = hall.issue("A")
    others = [hall.issue("A") for _ in range(4)]
    hall.call("1")
    hall.do(NoShow("1"))
    assert missed.status == Status.no_show
    (event,) = hall.do(Rejoin(missed.id), after=600)
    assert missed.status == Status.waiting and event.to_dict()["ahead"] == 2  # rejoin_after_places = 2
    assert hall.engine.ahead(missed.id) == 2
    order = [t.number for t in [hall.call("1") for _ in range(5)] if t]
    assert order == [others[0].number, others[1].number, missed.number, others[2].number, others[3].number]


def test_rejoin_at_the_end_when_fewer_wait_and_refused_after_the_window(hall: Driver) -> None:
    hall.open("1")
    first = hall.issue("A")
    second = hall.issue("A")
    hall.call("1")
    hall.do(NoShow("1"))
    hall.do(Rejoin(first.id))
    assert hall.call("1") is second
    assert hall.call("1") is first
    hall.do(NoShow("1"))
    with pytest.raises(RejoinTooLate, match="30"):
        hall.do(Rejoin(first.id), after=31 * 60)
    assert first.status == Status.no_show


def test_rejoin_with_zero_places_goes_first() -> None:
    hall = Driver(HallEngine(small_rules(rejoin_after_places=0)))
    hall.open("1")
    missed = hall.issue("A")
    [hall.issue("A") for _ in range(3)]
    hall.call("1")
    hall.do(NoShow("1"))
    hall.do(Rejoin(missed.id))
    assert hall.engine.ahead(missed.id) == 0
    assert hall.call("1") is missed


def test_park_then_call_back(hall: Driver) -> None:
    hall.open("1")
    parked, other = hall.issue("A"), hall.issue("A")
    hall.call("1")
    hall.do(Park("1"))
    assert hall.call("1") is other  # the window goes on while the citizen fetches a document
    events = hall.do(CallBack("1", parked.id))
    assert [type(e) for e in events] == [TicketFinished, TicketCalled]
    assert parked.status == Status.called and other.status == Status.done
    assert events[-1].to_dict()["via"] == "call-back"


def test_transfer_to_a_service_keeps_number_and_place(hall: Driver) -> None:
    hall.open("1", "3")
    moved = hall.issue("A")
    later = hall.issue("C")
    hall.call("1")
    (event,) = hall.do(Transfer(window="1", to_service="C"))
    assert isinstance(event, TicketTransferred) and (event.from_service, event.to_service) == ("A", "C")
    assert moved.number == "A001" and moved.service == "C" and moved.status == Status.waiting
    assert moved.transferred_from == "1" and hall.engine.window("1").ticket is None  # type: ignore[union-attr]
    called = hall.call("3")
    assert called is moved  # issued before `later`: it keeps its original place
    assert hall.engine.recent_calls()[0].transferred_from == "1"
    assert hall.call("3") is later


def test_transfer_to_a_window_is_called_there_first(hall: Driver) -> None:
    hall.open("1", "2")
    moved = hall.issue("A")
    older_b = hall.issue("B")
    hall.call("1")
    assert hall.call("1") is older_b
    hall.do(Finish("1"))
    other = hall.issue("A")
    assert hall.call("1") is other
    hall.do(Transfer(window="1", to_window="2"))
    assert hall.engine.waiting_for_window("2") == {"B": 0, "A": 1}
    assert hall.engine.targeted_count("2") == 1 and hall.engine.targeted_count("1") == 0
    assert hall.engine.estimated_wait_s(other) == 0  # first in window 2's own line
    assert hall.call("1") is None  # window 1 does not take a ticket sent to window 2
    events = hall.do(CallNext("2"))
    assert events[-1].to_dict()["via"] == "targeted" and other.window == "2"
    del moved


def test_a_targeted_ticket_returns_to_its_line_when_that_window_closes(hall: Driver) -> None:
    hall.open("1", "2")
    ticket = hall.issue("A")
    hall.call("1")
    hall.do(Transfer(window="1", to_window="2"))
    events = hall.do(CloseWindow("2"))
    assert [type(e) for e in events] == [TicketTransferred, WindowChanged]
    assert ticket.target_window is None and ticket.status == Status.waiting
    assert hall.call("1") is ticket


def test_transfer_needs_exactly_one_target(hall: Driver) -> None:
    hall.open("1")
    hall.issue("A")
    hall.call("1")
    for command in (
        Transfer(window="1"),
        Transfer(window="1", to_service="B", to_window="2"),
        Transfer(window="1", to_window="1"),
    ):
        with pytest.raises(BadCommand):
            hall.do(command)
    with pytest.raises(UnknownWindow):
        hall.do(Transfer(window="1", to_window="99"))
    with pytest.raises(UnknownService):
        hall.do(Transfer(window="1", to_service="Z"))


def test_call_a_specific_number(hall: Driver) -> None:
    hall.open("3")
    first, second = hall.issue("A"), hall.issue("A")
    events = hall.do(CallNumber("3", "a002"))
    assert events[-1].to_dict()["via"] == "number" and second.window == "3"
    assert first.status == Status.waiting
    with pytest.raises(UnknownTicket):
        hall.do(CallNumber("3", "A999"))


def test_quick_serve_issues_and_calls_at_once(hall: Driver) -> None:
    hall.open("1")
    waiting = hall.issue("A")
    events = hall.do(QuickServe(window="1", service="C", ticket_id="walk-in", access="k"))
    assert [type(e) for e in events] == [TicketIssued, TicketCalled]
    walk_in = hall.engine.ticket("walk-in")
    assert walk_in is not None and walk_in.status == Status.called and walk_in.channel == "counter"
    assert walk_in.number == "C001" and waiting.status == Status.waiting
    hall.do(Finish("1"))
    assert hall.engine.served_today("1") == 1


def test_window_close_finishes_its_ticket(hall: Driver) -> None:
    hall.open("1")
    ticket = hall.issue("A")
    hall.call("1")
    events = hall.do(CloseWindow("1"))
    assert isinstance(events[0], TicketFinished) and ticket.finished_by == "window-closed"
    window = hall.engine.window("1")
    assert window is not None and (window.state, window.clerk) == (WindowState.closed, None)


def test_pause_keeps_a_reason(hall: Driver) -> None:
    hall.open("1")
    (event,) = hall.do(PauseWindow("1", reason="系统维护"))
    assert event.to_dict()["reason"] == "系统维护" and event.to_dict()["state"] == "paused"
    window = hall.engine.window("1")
    assert window is not None and window.reason == "系统维护" and window.clerk == "clerk1"


def test_cancel_by_a_citizen(hall: Driver) -> None:
    ticket, behind = hall.issue("A"), hall.issue("A")
    assert hall.engine.ahead(behind.id) == 1
    hall.do(Cancel(ticket.id, by="citizen"))
    assert ticket.status == Status.cancelled and ticket.cancelled_by == "citizen"
    assert hall.engine.ahead(behind.id) == 0 and hall.engine.waiting_counts()["A"][0] == 1


def test_evaluate_once_with_a_score_from_1_to_5(hall: Driver) -> None:
    hall.open("1")
    ticket = hall.issue("A")
    hall.call("1")
    hall.do(Finish("1"))
    for bad in (0, 6):
        with pytest.raises(BadCommand):
            hall.do(Evaluate(ticket_id=ticket.id, score=bad))
    (event,) = hall.do(Evaluate(ticket_id=ticket.id, score=5, comment="很快"))
    assert event.to_dict()["score"] == 5 and ticket.score == 5
    with pytest.raises(AlreadyEvaluated):
        hall.do(Evaluate(ticket_id=ticket.id, score=1))


# ---------------------------------------------------------------- refusals at the kiosk


def test_quota_per_service_per_day_and_cancel_frees_a_place(hall: Driver) -> None:
    tickets = [hall.issue("B") for _ in range(5)]
    with pytest.raises(QuotaExceeded, match="5") as caught:
        hall.issue("B")
    assert caught.value.http_status == 409
    hall.do(Cancel(tickets[0].id))
    assert hall.issue("B").number == "B006"


def test_per_person_limit_by_id_hash(hall: Driver) -> None:
    hall.issue("A", id_hash="p1")
    hall.issue("A", id_hash="p1")
    with pytest.raises(PersonLimitReached, match="您今天已在本业务取号 2 次"):
        hall.issue("A", id_hash="p1")
    hall.issue("A", id_hash="p2")  # someone else
    hall.issue("C", id_hash="p1")  # another service
    hall.issue("A")  # no ID card read


def test_hours_holidays_and_last_ticket_from_the_config() -> None:
    config = load_hall_config(example_config_path())
    engine = HallEngine(rules_from_config(config))

    def issue(moment: dt.datetime) -> None:
        engine.handle(IssueTicket(service="A", ticket_id=moment.isoformat(), access="k"), moment)

    issue(dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC))  # Monday 09:00 local
    with pytest.raises(HallClosed, match="08:30-12:00"):
        issue(dt.datetime(2026, 11, 23, 9, 10, tzinfo=dt.UTC))  # 17:10, after A's last ticket at 17:00
    with pytest.raises(HallClosed):
        issue(dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC))  # Sunday
    with pytest.raises(HallClosed):
        issue(dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC))  # National Day


def test_unknown_names_are_404(hall: Driver) -> None:
    for command, error in (
        (IssueTicket(service="Z", ticket_id="x", access="k"), UnknownService),
        (CallNext("99"), UnknownWindow),
        (Cancel("nope"), UnknownTicket),
    ):
        with pytest.raises(error) as caught:
            hall.do(command)
        assert caught.value.http_status == 404 and str(caught.value)


def test_bad_issue_commands(hall: Driver) -> None:
    hall.issue("A", ticket_id="same")
    for fields in (
        {"ticket_id": "same"},
        {"priority": "vip"},
        {"priority": "green", "green_reason": "rich"},
        {"channel": "fax"},
    ):
        with pytest.raises(BadCommand) as caught:
            hall.issue("A", **fields)
        assert caught.value.http_status == 422
    with pytest.raises(ValueError):
        hall.engine.handle(CallNext("1"), dt.datetime(2026, 11, 23, 10, 0))


# ---------------------------------------------------------------- estimates


def test_estimated_wait_uses_staffed_windows_and_learns_service_time(hall: Driver) -> None:
    tickets = [hall.issue("A") for _ in range(4)]
    # nobody logged in yet: both windows serving A (1 and 2) are assumed; 300 s each
    assert hall.engine.estimated_wait_s(tickets[2]) == 2 * 300 // 2
    hall.open("1")
    assert hall.engine.estimated_wait_s(tickets[2]) == 2 * 300
    assert hall.engine.waiting_counts()["A"] == (4, 4 * 300)
    hall.call("1")
    hall.do(Finish("1"), after=60)  # 60 s: EWMA 0.2*60 + 0.8*300 = 252
    assert hall.engine.ewma_service_s("A") == pytest.approx(252)
    assert hall.engine.estimated_wait_s(tickets[3]) == round(2 * 252)
    assert hall.engine.estimated_wait_s(tickets[0]) == 0


def test_recent_calls_newest_first_one_per_ticket(hall: Driver) -> None:
    hall.open("1")
    tickets = [hall.issue("A") for _ in range(12)]
    for _ in range(12):
        hall.call("1")
    hall.do(Recall("1"))
    recent = hall.engine.recent_calls()
    assert len(recent) == 10 and recent[0].ticket_id == tickets[-1].id and recent[0].type == "recall"
    assert [c.ticket_id for c in recent[1:3]] == [tickets[-2].id, tickets[-3].id]
    assert len(hall.engine.recent_calls(3)) == 3


def test_events_are_json_and_name_their_rows(hall: Driver) -> None:
    hall.open("1")
    ticket = hall.issue("A")
    hall.call("1")
    hall.do(Finish("1"))
    hall.do(Evaluate(ticket_id=ticket.id, score=4))
    hall.do(CloseDay())
    for event in hall.events:
        data = json.loads(json.dumps(event.to_dict()))
        assert data["kind"] == event.kind and "at" in data
        assert event.ticket_id or event.window or isinstance(event, DayReset)
        assert dataclasses.is_dataclass(event)
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.at = START  # type: ignore[misc]


def test_engine_errors_speak_chinese_and_english(hall: Driver) -> None:
    ticket = hall.issue("A")
    hall.do(Cancel(ticket.id))
    with pytest.raises(EngineError) as caught:
        hall.do(Cancel(ticket.id))
    text = str(caught.value)
    assert "A001号已取消" in text and "Cannot cancel ticket A001: it is cancelled." in text
