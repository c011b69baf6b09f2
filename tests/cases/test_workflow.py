"""Working days and the case transition table."""

from __future__ import annotations

import datetime as dt

import pytest

from server.cases.calendar import WorkingCalendar
from server.cases.workflow import (
    TRANSITIONS,
    CaseAction,
    CaseStatus,
    IllegalCaseAction,
    deadlines,
    due_soon,
    handover_due,
    next_status,
    next_steps,
    overdue_flags,
    receipt_number,
    refusal,
)

D = dt.date


def test_national_holidays_and_makeup_days() -> None:
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(D(2026, 10, 1))  # National Day
    assert calendar.is_working_day(D(2026, 10, 10))  # Saturday made a working day (调休)
    assert not calendar.is_working_day(D(2026, 11, 22))  # an ordinary Sunday
    assert calendar.is_working_day(D(2026, 11, 23))


def test_hall_overrides_win_over_the_national_calendar() -> None:
    calendar = WorkingCalendar(holidays=[D(2026, 11, 24)], workdays=[D(2026, 11, 22)])
    assert calendar.is_working_day(D(2026, 11, 22))
    assert not calendar.is_working_day(D(2026, 11, 24))


def test_adding_working_days_across_national_day_and_a_makeup_saturday() -> None:
    calendar = WorkingCalendar()
    # Received Wednesday 30 September: the holiday runs 1-7 October; 8 and 9 October are working days,
    # and so is Saturday 10 October (调休). Sunday 11 October is not.
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert calendar.add_working_days(D(2026, 10, 8), 2) == D(2026, 10, 10)
    assert calendar.add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)
    assert calendar.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4
    assert calendar.add_working_days(D(2026, 11, 20), 2) == D(2026, 11, 24)  # Friday → Tuesday
    assert calendar.add_working_days(D(2026, 11, 20), 0) == D(2026, 11, 20)


def test_years_without_national_data_fall_back_to_weekends_and_say_so() -> None:
    calendar = WorkingCalendar(holidays=[D(2031, 1, 1)])
    assert not calendar.is_working_day(D(2031, 1, 1))
    assert calendar.is_working_day(D(2031, 1, 2))
    assert not calendar.is_working_day(D(2031, 1, 4))
    assert 2031 in calendar.unknown_years


def test_transition_table_covers_the_whole_path() -> None:
    status = CaseStatus.draft
    for action in (
        CaseAction.complete,
        CaseAction.correct,
        CaseAction.resubmit,
        CaseAction.accept,
        CaseAction.approve,
        CaseAction.post,
        CaseAction.deliver,
        CaseAction.archive,
    ):
        status = next_status(status, action)
    assert status == CaseStatus.archived
    assert next_status(CaseStatus.accepted, CaseAction.reject) == CaseStatus.rejected
    assert next_status(CaseStatus.rejected, CaseAction.ready) == CaseStatus.ready
    reachable = {after for (_, _), after in TRANSITIONS.items()}
    assert set(CaseStatus) - {CaseStatus.draft} <= reachable


def test_illegal_action_names_action_and_state() -> None:
    with pytest.raises(IllegalCaseAction) as caught:
        next_status(CaseStatus.received, CaseAction.approve)
    text = str(caught.value)
    assert "已收件" in text and "审批通过" in text and "受理" in text


def test_deadlines_and_overdue_flags() -> None:
    calendar = WorkingCalendar()
    due = deadlines(
        calendar, received_on=D(2026, 9, 30), accepted_on=None, promised_days=5, defer_days=5, has_deferred=True
    )
    assert due.accept_due == D(2026, 10, 9) and due.decide_due is None
    assert overdue_flags(CaseStatus.received, due, D(2026, 10, 9), False) == []
    assert overdue_flags(CaseStatus.received, due, D(2026, 10, 10), False) == ["accept"]
    assert due_soon(CaseStatus.received, due, D(2026, 10, 8), calendar)
    assert not due_soon(CaseStatus.received, due, D(2026, 9, 30), calendar)
    accepted = deadlines(
        calendar,
        received_on=D(2026, 9, 30),
        accepted_on=D(2026, 10, 9),
        promised_days=5,
        defer_days=5,
        has_deferred=True,
    )
    assert accepted.decide_due == D(2026, 10, 15)  # counts Saturday 10 October, skips Sunday
    assert overdue_flags(CaseStatus.accepted, accepted, D(2026, 10, 15), True) == []
    assert overdue_flags(CaseStatus.accepted, accepted, D(2026, 10, 16), True) == ["decide", "deferred"]


def test_receipt_number_format() -> None:
    assert receipt_number(D(2026, 11, 23), 7) == "SJ202611230007"


# ---- the back office: who takes which step, when paper is due --------------------------------------


def test_each_step_belongs_to_a_desk_and_a_department_acts_on_its_own_cases_only() -> None:
    def why(role: str, action: CaseAction, back_office: bool = True, own: str | None = None) -> str | None:
        return refusal(action, role=role, own_department=own, case_department="卫健", back_office=back_office)

    assert why("department", CaseAction.accept, own="卫健") is None
    assert "该办件属于卫健" in (why("department", CaseAction.accept, own="市场监管") or "")
    assert "综合出件窗口" in (why("department", CaseAction.deliver, own="卫健") or "")
    assert "窗口只收件" in (why("clerk", CaseAction.approve) or "")
    assert why("clerk", CaseAction.approve, back_office=False) is None  # a hall deciding at the window
    assert why("clerk", CaseAction.refuse_result) is None and why("supervisor", CaseAction.archive) is None
    assert why("kiosk", CaseAction.accept) is not None


def test_behind_the_window_results_go_on_a_sheet_and_receipts_back_before_the_archive() -> None:
    assert next_steps(CaseStatus.approved, back_office=False) == [
        CaseAction.ready,
        CaseAction.post,
        CaseAction.send_result,
    ]
    assert next_steps(CaseStatus.approved, back_office=True) == [CaseAction.send_result]
    assert next_steps(CaseStatus.delivered, back_office=True) == [CaseAction.return_receipt]
    assert next_steps(CaseStatus.result_sent, back_office=True) == [
        CaseAction.refuse_result,
        CaseAction.ready,
        CaseAction.post,
    ]


def test_paper_reaches_the_department_by_three_the_same_day_or_ten_the_next_working_day() -> None:
    calendar = WorkingCalendar(holidays=[dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7)])
    zone = dt.timezone(dt.timedelta(hours=8))
    rules = {"noon": dt.time(12), "morning_by": dt.time(15), "afternoon_by": dt.time(10)}

    def due(text: str) -> str:
        received = dt.datetime.fromisoformat(text).replace(tzinfo=zone)
        return f"{handover_due(calendar, received, **rules):%Y-%m-%d %H:%M}"

    assert due("2026-09-29 11:59") == "2026-09-29 15:00"
    assert due("2026-09-29 12:00") == "2026-09-30 10:00"
    assert due("2026-09-30 14:10") == "2026-10-08 10:00"  # across the National Day holiday
    assert due("2026-10-03 09:00") == "2026-10-08 10:00"  # the 24-hour zone on a holiday morning
