"""The rectification order's transition table and its deadlines in working days (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.cases.calendar import WorkingCalendar
from server.evaluations.workflow import (
    CHANNEL_PF,
    LEVELS,
    TRANSITIONS,
    IllegalOrderAction,
    OrderAction,
    OrderStatus,
    call_back_action,
    deadlines,
    due_soon,
    is_bad,
    next_status,
    overdue_flags,
)

D = dt.date
S, A = OrderStatus, OrderAction


def test_levels_and_channels_follow_the_national_codes() -> None:
    assert LEVELS == {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    assert [s for s in LEVELS if is_bad(s)] == [2, 1]
    assert CHANNEL_PF == {"web": 1, "app": 2, "qr": 3, "evaluator": 4, "terminal": 5, "kiosk": 5}


def test_the_whole_loop_and_its_branches() -> None:
    path = [A.verify, A.rectify, A.unsatisfied, A.rectify, A.unsatisfied_again, A.close]
    status = S.open
    seen = []
    for action in path:
        status = next_status(status, action)
        seen.append(status)
    assert seen == [S.verified, S.rectified, S.verified, S.rectified, S.escalated, S.closed]
    assert next_status(S.rectified, A.satisfied) == S.closed
    assert next_status(next_status(S.open, A.appeal), A.uphold) == S.upheld
    assert next_status(next_status(S.open, A.appeal), A.reject) == S.open


def test_call_back_reopens_once_then_escalates() -> None:
    assert call_back_action(True, 0) == A.satisfied
    assert call_back_action(True, 1) == A.satisfied
    assert call_back_action(False, 0) == A.unsatisfied
    assert call_back_action(False, 1) == A.unsatisfied_again


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("action", list(OrderAction))
def test_every_missing_row_is_refused_naming_the_status(status: OrderStatus, action: OrderAction) -> None:
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(status, action)]
        return
    with pytest.raises(IllegalOrderAction) as refused:
        next_status(status, action)
    assert status.value in str(refused.value) and "整改单状态为" in str(refused.value)


def test_closed_and_upheld_orders_take_no_further_step() -> None:
    assert [a for (s, a) in TRANSITIONS if s in (S.closed, S.upheld)] == []


# Spring Festival 2025: 28 January - 4 February off; Sunday 26 January and Saturday 8 February are
# make-up working days (调休), from the national calendar.
def test_deadlines_across_the_spring_festival_and_its_make_up_days() -> None:
    calendar = WorkingCalendar()
    due = deadlines(calendar, opened_on=D(2025, 1, 25), rectified_on=None, verify_days=1, rectify_days=15,
                    call_back_days=3)  # fmt: skip
    assert due.verify == D(2025, 1, 26), "the make-up Sunday is a working day"
    assert due.call_back is None
    # 26 (Sun, 调休) and 27 January, then 5, 6, 7, 8 (Sat, 调休) February, 10-14, 17-20 February: 15
    assert due.rectify == D(2025, 2, 20)
    after = deadlines(calendar, opened_on=D(2025, 1, 24), rectified_on=D(2025, 1, 27), verify_days=1,
                      rectify_days=15, call_back_days=3)  # fmt: skip
    assert after.verify == D(2025, 1, 26)
    assert after.call_back == D(2025, 2, 7), "回访 counts 3 working days after 整改, across the holiday"


def test_the_hall_s_own_days_move_the_deadline() -> None:
    calendar = WorkingCalendar(holidays=[D(2026, 11, 24)], workdays=[D(2026, 11, 22)])
    due = deadlines(calendar, opened_on=D(2026, 11, 21), rectified_on=None, verify_days=1, rectify_days=2,
                    call_back_days=3)  # fmt: skip
    assert (due.verify, due.rectify) == (D(2026, 11, 22), D(2026, 11, 23))


def test_overdue_and_due_soon_follow_the_step_still_to_do() -> None:
    calendar = WorkingCalendar()
    due = deadlines(calendar, opened_on=D(2026, 11, 23), rectified_on=None, verify_days=1, rectify_days=15,
                    call_back_days=3)  # fmt: skip
    assert due.verify == D(2026, 11, 24)
    assert overdue_flags(S.open, due, D(2026, 11, 24)) == []
    assert due_soon(S.open, due, D(2026, 11, 23), calendar)
    assert overdue_flags(S.open, due, D(2026, 11, 25)) == ["verify"]
    assert overdue_flags(S.appealed, due, D(2026, 11, 25)) == ["verify"], "an appeal stops no clock"
    assert overdue_flags(S.verified, due, D(2026, 11, 25)) == []
    assert not due_soon(S.verified, due, D(2026, 11, 25), calendar)
    assert overdue_flags(S.verified, due, due.rectify + dt.timedelta(days=1)) == ["rectify"]
    rectified = deadlines(calendar, opened_on=D(2026, 11, 23), rectified_on=D(2026, 11, 27), verify_days=1,
                          rectify_days=15, call_back_days=3)  # fmt: skip
    assert rectified.call_back == D(2026, 12, 2)
    assert due_soon(S.rectified, rectified, D(2026, 12, 1), calendar)
    assert overdue_flags(S.rectified, rectified, D(2026, 12, 3)) == ["call_back"]
    assert overdue_flags(S.closed, rectified, D(2027, 1, 1)) == []
