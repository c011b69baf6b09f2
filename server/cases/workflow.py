"""The case's path (办件流程) as one transition table, and its deadlines. Pure: no I/O, the clock is an argument.

    draft ─complete─▶ received 收件 ─accept─▶ accepted 受理 ─approve─▶ approved ─┬─ready─▶ ready 待取件 ─┐
      └abandon▶ abandoned     │  ▲                       └─reject──▶ rejected ─┘ └─post──▶ posted 已邮寄 ─┤
                      correct │  │ resubmit                                                               deliver
                              ▼  │                                                            delivered 送达 ◀┘
                        correction 补正                                          archived 归档 ◀─archive─┘

An instant item (即办件) accepted at a comprehensive window runs accept → approve → deliver in one step
and is archived the same day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from server.cases.calendar import WorkingCalendar

ACCEPT_WITHIN_WORKING_DAYS = 2  # 受理或补正 within 2 working days of 收件


class CaseStatus(StrEnum):
    draft = "draft"
    received = "received"
    correction = "correction"
    accepted = "accepted"
    approved = "approved"
    rejected = "rejected"
    ready = "ready"
    posted = "posted"
    delivered = "delivered"
    archived = "archived"
    abandoned = "abandoned"
    forwarded = "forwarded"  # 转报: decided at another hall, the result comes back here


class CaseAction(StrEnum):
    complete = "complete"
    abandon = "abandon"
    accept = "accept"
    correct = "correct"
    resubmit = "resubmit"
    approve = "approve"
    reject = "reject"
    ready = "ready"
    post = "post"
    deliver = "deliver"
    archive = "archive"
    # 转报 (server/network/forwarding.py): sent to the deciding hall, taken in there, its news, its result
    forward = "forward"
    forward_in = "forward_in"
    remote_update = "remote_update"
    remote_approve = "remote_approve"
    remote_reject = "remote_reject"


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.draft: "填写中",
    CaseStatus.received: "已收件，待受理",
    CaseStatus.correction: "需补正材料",
    CaseStatus.accepted: "已受理，审批中",
    CaseStatus.approved: "已准予，待出件",
    CaseStatus.rejected: "不予批准，待出件",
    CaseStatus.ready: "可领取",
    CaseStatus.posted: "已邮寄",
    CaseStatus.delivered: "已送达",
    CaseStatus.archived: "已办结归档",
    CaseStatus.abandoned: "已放弃",
    CaseStatus.forwarded: "已转报，异地办理中",
}

ACTION_LABELS: dict[CaseAction, str] = {
    CaseAction.complete: "收件",
    CaseAction.abandon: "放弃",
    CaseAction.accept: "受理",
    CaseAction.correct: "补正告知",
    CaseAction.resubmit: "补正提交",
    CaseAction.approve: "审批通过",
    CaseAction.reject: "不予批准",
    CaseAction.ready: "出件（窗口领取）",
    CaseAction.post: "出件（邮寄）",
    CaseAction.deliver: "送达",
    CaseAction.archive: "归档",
    CaseAction.forward: "转报",
    CaseAction.forward_in: "转报收件",
    CaseAction.remote_update: "异地办理进度",
    CaseAction.remote_approve: "异地审批通过",
    CaseAction.remote_reject: "异地不予批准",
}

S, A = CaseStatus, CaseAction
TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.draft, A.complete): S.received,
    (S.draft, A.abandon): S.abandoned,
    (S.received, A.accept): S.accepted,
    (S.received, A.correct): S.correction,
    (S.correction, A.resubmit): S.received,
    (S.accepted, A.approve): S.approved,
    (S.accepted, A.reject): S.rejected,
    (S.approved, A.ready): S.ready,
    (S.approved, A.post): S.posted,
    (S.rejected, A.ready): S.ready,
    (S.rejected, A.post): S.posted,
    (S.ready, A.deliver): S.delivered,
    (S.posted, A.deliver): S.delivered,
    (S.delivered, A.archive): S.archived,
    (S.received, A.forward): S.forwarded,
    (S.forwarded, A.remote_approve): S.approved,
    (S.forwarded, A.remote_reject): S.rejected,
}
# Actions a clerk takes in the back office; complete / resubmit / abandon come from the citizen's kiosk.
OFFICE_ACTIONS = frozenset({A.accept, A.correct, A.approve, A.reject, A.ready, A.post, A.deliver, A.archive})
OPEN_STATUSES = frozenset(
    {S.received, S.correction, S.accepted, S.approved, S.rejected, S.ready, S.posted, S.forwarded}
)


class IllegalCaseAction(Exception):
    """An action the case's status does not allow; the message names both, for the clerk."""

    def __init__(self, action: CaseAction, status: CaseStatus) -> None:
        allowed = "、".join(ACTION_LABELS[a] for (s, a) in TRANSITIONS if s == status) or "无"
        super().__init__(
            f"办件状态为「{STATUS_LABELS[status]}」，不能「{ACTION_LABELS[action]}」（可执行：{allowed}）"
            f" — cannot {action.value} a case that is {status.value}"
        )
        self.action, self.status = action, status


def next_status(status: CaseStatus, action: CaseAction) -> CaseStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalCaseAction(action, status) from None


@dataclass(frozen=True)
class Deadlines:
    accept_due: dt.date | None  # 受理（或一次性告知补正）期限
    decide_due: dt.date | None  # 审批（承诺）期限
    deferred_due: dt.date | None  # 容缺材料补交期限


def deadlines(
    calendar: WorkingCalendar,
    *,
    received_on: dt.date | None,
    accepted_on: dt.date | None,
    promised_days: int,
    defer_days: int,
    has_deferred: bool,
) -> Deadlines:
    accept_due = calendar.add_working_days(received_on, ACCEPT_WITHIN_WORKING_DAYS) if received_on else None
    decide_due = calendar.add_working_days(accepted_on, promised_days) if accepted_on else None
    start = accepted_on or received_on
    deferred_due = calendar.add_working_days(start, defer_days) if has_deferred and start else None
    return Deadlines(accept_due, decide_due, deferred_due)


def overdue_flags(status: CaseStatus, due: Deadlines, today: dt.date, deferred_outstanding: bool) -> list[str]:
    """Which deadlines have passed without the step being done (empty when on time)."""
    flags: list[str] = []
    if status == S.received and due.accept_due and today > due.accept_due:
        flags.append("accept")
    if status == S.accepted and due.decide_due and today > due.decide_due:
        flags.append("decide")
    if deferred_outstanding and status in OPEN_STATUSES and due.deferred_due and today > due.deferred_due:
        flags.append("deferred")
    return flags


def due_soon(status: CaseStatus, due: Deadlines, today: dt.date, calendar: WorkingCalendar) -> bool:
    """Due today or on the next working day, and not yet overdue."""
    target = due.accept_due if status == S.received else due.decide_due if status == S.accepted else None
    return target is not None and today <= target <= calendar.add_working_days(today, 1)


class MaterialStatus(StrEnum):
    missing = "missing"
    provided = "provided"
    deferred = "deferred"  # 容缺: promised to supply within the item's defer_days


def missing_materials(materials: list[tuple[str, MaterialStatus]]) -> list[str]:
    """Names of materials neither provided nor deferred: a submission with any cannot be completed."""
    return [name for name, status in materials if status == MaterialStatus.missing]


def receipt_number(day: dt.date, sequence: int) -> str:
    """收件编号: SJ + date + 4-digit number of the hall's day, e.g. SJ202611230007."""
    return f"SJ{day:%Y%m%d}{sequence:04d}"
