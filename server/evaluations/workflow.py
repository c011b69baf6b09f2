"""The national levels and channels, and the rectification order's path (整改单) as one transition table,
with its deadlines in working days. Pure: no I/O, the clock is an argument.

    open ─verify 核实─▶ verified ─rectify 整改─▶ rectified ─call back 回访: satisfied─▶ closed
     │  ▲                  ▲                          │
     │  └─reject 驳回─┐    └── not satisfied (once) ──┤
     │                │                               └── not satisfied again ──▶ escalated ─close─▶ closed
     └─appeal 申诉─▶ appealed ─uphold 申诉成立─▶ upheld (the rating no longer counts)

`escalated` goes to the hall's head (an admin), who closes it with the decision taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from server.cases.calendar import WorkingCalendar

LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_SCORES = frozenset({1, 2})
# The national platform's `pf` (评价渠道) code of each channel a rating may come from.
CHANNEL_PF: dict[str, int] = {"web": 1, "app": 2, "qr": 3, "evaluator": 4, "terminal": 5, "kiosk": 5}
CITIZEN_CHANNELS = frozenset({"web", "app", "qr"})  # the citizen's own phone or browser
REOPEN_LIMIT = 1  # an unsatisfied call-back sends the order back to 核实 once, then it is escalated


def is_bad(score: int) -> bool:
    return score in BAD_SCORES


class OrderStatus(StrEnum):
    open = "open"
    verified = "verified"
    rectified = "rectified"
    closed = "closed"
    escalated = "escalated"
    appealed = "appealed"
    upheld = "upheld"


class OrderAction(StrEnum):
    verify = "verify"
    rectify = "rectify"
    satisfied = "satisfied"  # 回访: the citizen is satisfied
    unsatisfied = "unsatisfied"  # 回访: not satisfied, the first time
    unsatisfied_again = "unsatisfied_again"  # 回访: not satisfied after the order was reopened
    appeal = "appeal"
    uphold = "uphold"
    reject = "reject"
    close = "close"


STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.open: "待核实",
    OrderStatus.verified: "已核实，待整改",
    OrderStatus.rectified: "已整改，待回访",
    OrderStatus.closed: "已办结",
    OrderStatus.escalated: "回访不满意，已提级",
    OrderStatus.appealed: "申诉中",
    OrderStatus.upheld: "申诉成立，差评不计",
}

ACTION_LABELS: dict[OrderAction, str] = {
    OrderAction.verify: "核实",
    OrderAction.rectify: "整改",
    OrderAction.satisfied: "回访（满意）",
    OrderAction.unsatisfied: "回访（不满意，重新整改）",
    OrderAction.unsatisfied_again: "回访（仍不满意，提级处理）",
    OrderAction.appeal: "申诉",
    OrderAction.uphold: "申诉成立",
    OrderAction.reject: "驳回申诉",
    OrderAction.close: "提级结案",
}

S, A = OrderStatus, OrderAction
TRANSITIONS: dict[tuple[OrderStatus, OrderAction], OrderStatus] = {
    (S.open, A.verify): S.verified,
    (S.verified, A.rectify): S.rectified,
    (S.rectified, A.satisfied): S.closed,
    (S.rectified, A.unsatisfied): S.verified,
    (S.rectified, A.unsatisfied_again): S.escalated,
    (S.escalated, A.close): S.closed,
    (S.open, A.appeal): S.appealed,
    (S.appealed, A.uphold): S.upheld,
    (S.appealed, A.reject): S.open,
}
FINAL_STATUSES = frozenset({S.closed, S.upheld})
# The window's own clerk may appeal a rating of their window and record the measures taken there;
# every other step is the supervisor's (核实, the appeal's decision, 回访) or the hall head's (close).
WINDOW_CLERK_ACTIONS = frozenset({A.appeal, A.rectify})
ADMIN_ACTIONS = frozenset({A.close})


class IllegalOrderAction(Exception):
    """An action the order's status does not allow; the message names both, for the supervisor."""

    def __init__(self, action: OrderAction, status: OrderStatus) -> None:
        allowed = "、".join(ACTION_LABELS[a] for (s, a) in TRANSITIONS if s == status) or "无"
        super().__init__(
            f"整改单状态为「{STATUS_LABELS[status]}」，不能「{ACTION_LABELS[action]}」（可执行：{allowed}）"
            f" — cannot {action.value} a rectification order that is {status.value}"
        )
        self.action, self.status = action, status


def next_status(status: OrderStatus, action: OrderAction) -> OrderStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalOrderAction(action, status) from None


def call_back_action(satisfied: bool, reopened: int) -> OrderAction:
    """回访's outcome as an action of the table: the first 'not satisfied' reopens, the next escalates."""
    if satisfied:
        return A.satisfied
    return A.unsatisfied if reopened < REOPEN_LIMIT else A.unsatisfied_again


@dataclass(frozen=True)
class Deadlines:
    verify: dt.date  # 核实 by
    rectify: dt.date  # 整改 by
    call_back: dt.date | None  # 回访 by, once 整改 is done


def deadlines(
    calendar: WorkingCalendar,
    *,
    opened_on: dt.date,
    rectified_on: dt.date | None,
    verify_days: int,
    rectify_days: int,
    call_back_days: int,
) -> Deadlines:
    """核实 and 整改 count from the day of the 差评, 回访 from the day of 整改 (次日起算, working days)."""
    return Deadlines(
        verify=calendar.add_working_days(opened_on, verify_days),
        rectify=calendar.add_working_days(opened_on, rectify_days),
        call_back=calendar.add_working_days(rectified_on, call_back_days) if rectified_on else None,
    )


def _pending_steps(status: OrderStatus, due: Deadlines) -> list[tuple[str, dt.date]]:
    """The steps still to do in this status, each with its deadline. An appeal stops no clock."""
    if status in (S.open, S.appealed):
        return [("verify", due.verify), ("rectify", due.rectify)]
    if status == S.verified:
        return [("rectify", due.rectify)]
    if status == S.rectified and due.call_back is not None:
        return [("call_back", due.call_back)]
    return []


def overdue_flags(status: OrderStatus, due: Deadlines, today: dt.date) -> list[str]:
    """The steps whose deadline has passed without them being done (empty when on time)."""
    return [step for step, by in _pending_steps(status, due) if today > by]


def due_soon(status: OrderStatus, due: Deadlines, today: dt.date, calendar: WorkingCalendar) -> bool:
    """A step is due today or on the next working day, and none is overdue yet."""
    steps = _pending_steps(status, due)
    horizon = calendar.add_working_days(today, 1)
    return not overdue_flags(status, due, today) and any(today <= by <= horizon for _, by in steps)
