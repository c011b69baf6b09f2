"""The case's path (办件流程) as one transition table, and its deadlines. Pure: no I/O, the clock is an argument.

    draft ─complete─▶ received 收件 ─accept─▶ accepted 受理 ─approve─▶ approved ─┬─ready─▶ ready 待取件 ─┐
      └abandon▶ abandoned     │  ▲                       └─reject──▶ rejected ─┘ └─post──▶ posted 已邮寄 ─┤
                      correct │  │ resubmit                                                               deliver
                              ▼  │                                                            delivered 送达 ◀┘
                        correction 补正                                          archived 归档 ◀─archive─┘

An instant item (即办件) accepted at a comprehensive window runs accept → approve → deliver in one step
and is archived the same day.

Behind the window (前台综合受理、后台分类审批), for a department that decides its own cases:

    approved / rejected ─send_result 结果移交─▶ result_sent ─ready / post (出件窗口核验无误)─▶ ready / posted
                    result_sent ─refuse_result 退回─▶ result_refused ─send_result (更正后)─▶ result_sent
    delivered ─return_receipt 送达回执交回─▶ receipt_returned ─archive─▶ archived

网上预审 from the phone: draft ─submit_online─▶ prereview ─pass_prereview─▶ prereviewed ─complete (the
window, originals seen)─▶ received; prereview ─fix_prereview─▶ prereview_fix ─submit_online─▶ prereview.

A part of a 一件事 that comes after others (前置 → 后置) starts as `pending` and is released to `received`
when they are approved (or abandoned when one is refused).

Each action belongs to a desk (DESK_OF_ACTION): the comprehensive window receives, the department
accepts, decides, hands the result over and archives, the output window checks the result, hands it
out and returns the 送达回执. `refusal` says who may not, as a sentence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from server.cases.calendar import WorkingCalendar

ACCEPT_WITHIN_WORKING_DAYS = 2  # 受理或补正 within 2 working days of 收件
PREREVIEW_WITHIN_WORKING_DAYS = 2  # 网上预审: pass, or say what to fix, within 2 working days


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
    prereview = "prereview"  # 网上预审: materials sent from the phone, the department reviews them
    prereview_fix = "prereview_fix"
    prereviewed = "prereviewed"
    pending = "pending"  # 一件事: waits for the parts it comes after (前置)
    result_sent = "result_sent"
    result_refused = "result_refused"
    receipt_returned = "receipt_returned"


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
    submit_online = "submit_online"
    pass_prereview = "pass_prereview"
    fix_prereview = "fix_prereview"
    hold = "hold"
    release = "release"
    send_result = "send_result"
    refuse_result = "refuse_result"
    return_receipt = "return_receipt"


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
    CaseStatus.prereview: "网上预审中",
    CaseStatus.prereview_fix: "预审需补正材料",
    CaseStatus.prereviewed: "预审通过，请携带原件到窗口",
    CaseStatus.pending: "等待前置事项办结",
    CaseStatus.result_sent: "结果已移交，待出件窗口核验",
    CaseStatus.result_refused: "结果被退回，待部门更正",
    CaseStatus.receipt_returned: "送达回执已交回，待归档",
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
    CaseAction.submit_online: "网上提交预审",
    CaseAction.pass_prereview: "预审通过",
    CaseAction.fix_prereview: "预审补正告知",
    CaseAction.hold: "等待前置事项",
    CaseAction.release: "前置事项已办结，开始办理",
    CaseAction.send_result: "结果移交出件窗口",
    CaseAction.refuse_result: "退回结果",
    CaseAction.return_receipt: "送达回执交回部门",
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
    (S.approved, A.send_result): S.result_sent,
    (S.rejected, A.send_result): S.result_sent,
    (S.result_refused, A.send_result): S.result_sent,
    (S.result_sent, A.refuse_result): S.result_refused,
    (S.result_sent, A.ready): S.ready,
    (S.result_sent, A.post): S.posted,
    (S.delivered, A.return_receipt): S.receipt_returned,
    (S.receipt_returned, A.archive): S.archived,
    (S.draft, A.submit_online): S.prereview,
    (S.prereview_fix, A.submit_online): S.prereview,
    (S.prereview, A.pass_prereview): S.prereviewed,
    (S.prereview, A.fix_prereview): S.prereview_fix,
    (S.prereviewed, A.complete): S.received,
    (S.received, A.hold): S.pending,
    (S.pending, A.release): S.received,
    (S.pending, A.abandon): S.abandoned,
}
# Actions a clerk takes in the back office; complete / resubmit / abandon come from the citizen's kiosk.
OFFICE_ACTIONS = frozenset(
    {
        A.accept,
        A.correct,
        A.approve,
        A.reject,
        A.ready,
        A.post,
        A.deliver,
        A.archive,
        A.send_result,
        A.refuse_result,
        A.return_receipt,
        A.pass_prereview,
        A.fix_prereview,
    }
)
OPEN_STATUSES = frozenset(
    {
        S.received,
        S.correction,
        S.accepted,
        S.approved,
        S.rejected,
        S.ready,
        S.posted,
        S.result_sent,
        S.result_refused,
        S.pending,
        S.forwarded,
    }
)


# Shortcuts a hall deciding at the window takes, closed to a case decided behind it: the result goes
# to the output window on a 《办理结果交接表》, and the 送达回执 goes back to the department before 归档.
WINDOW_ONLY: frozenset[tuple[CaseStatus, CaseAction]] = frozenset(
    {(S.approved, A.ready), (S.approved, A.post), (S.rejected, A.ready), (S.rejected, A.post), (S.delivered, A.archive)}
)


def next_steps(status: CaseStatus, back_office: bool) -> list[CaseAction]:
    """The office's steps open to a case in this status."""
    return [
        a
        for (s, a) in TRANSITIONS
        if s == status and a in OFFICE_ACTIONS and not (back_office and (s, a) in WINDOW_ONLY)
    ]


class Desk(StrEnum):
    """Who does a step (每个环节由谁办理)."""

    window = "window"  # 综合受理窗口: 收件, 材料交接
    department = "department"  # 业务部门: 受理或补正, 审批, 结果移交, 归档
    output = "output"  # 综合出件窗口: 核验结果, 出件, 送达, 送达回执


DESK_LABELS = {Desk.window: "综合受理窗口", Desk.department: "业务部门", Desk.output: "综合出件窗口"}
DESK_OF_ACTION: dict[CaseAction, Desk] = {
    A.complete: Desk.window,
    A.resubmit: Desk.window,
    A.abandon: Desk.window,
    A.submit_online: Desk.window,
    A.pass_prereview: Desk.department,
    A.fix_prereview: Desk.department,
    A.hold: Desk.window,
    A.release: Desk.department,
    A.accept: Desk.department,
    A.correct: Desk.department,
    A.approve: Desk.department,
    A.reject: Desk.department,
    A.send_result: Desk.department,
    A.archive: Desk.department,
    A.refuse_result: Desk.output,
    A.ready: Desk.output,
    A.post: Desk.output,
    A.deliver: Desk.output,
    A.return_receipt: Desk.output,
    # 转报 (server/network/forwarding.py): the receiving window sends it on; the rest is the other hall's news
    A.forward: Desk.window,
    A.forward_in: Desk.window,
    A.remote_update: Desk.department,
    A.remote_approve: Desk.department,
    A.remote_reject: Desk.department,
}
WINDOW_ROLE, DEPARTMENT_ROLE = "clerk", "department"
ALL_DESK_ROLES = frozenset({"supervisor", "admin"})


def refusal(
    action: CaseAction,
    *,
    role: str,
    own_department: str | None,
    case_department: str,
    back_office: bool,
) -> str | None:
    """Why this person may not take this step on this case (None: they may).

    Supervisors and admins may take any step. A department's staff act only on their department's
    cases, and only at the department's desk. Window clerks take the window's and the output window's
    steps; a department's steps too where that department does not work behind the window
    (`back_office` False: small halls decide at the window)."""
    desk = DESK_OF_ACTION[action]
    if role in ALL_DESK_ROLES:
        return None
    if role == DEPARTMENT_ROLE:
        if own_department != case_department:
            return f"该办件属于{case_department}，您是{own_department or '未分配部门'}的工作人员，不能办理"
        if desk != Desk.department:
            return f"「{ACTION_LABELS[action]}」由{DESK_LABELS[desk]}办理"
        return None
    if role == WINDOW_ROLE:
        if desk == Desk.department and back_office:
            return f"「{ACTION_LABELS[action]}」由{case_department}在后台办理，窗口只收件"
        return None
    return f"角色 {role} 不能办理办件"


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
    result_fix_due: dt.date | None = None  # 退回的结果更正期限
    receipt_due: dt.date | None = None  # 送达回执交回部门期限
    prereview_due: dt.date | None = None  # 网上预审期限


def deadlines(
    calendar: WorkingCalendar,
    *,
    received_on: dt.date | None,
    accepted_on: dt.date | None,
    promised_days: int,
    defer_days: int,
    has_deferred: bool,
    refused_on: dt.date | None = None,
    delivered_on: dt.date | None = None,
    result_fix_days: int = 1,
    receipt_days: int = 1,
    prereview_on: dt.date | None = None,
) -> Deadlines:
    """`refused_on` / `delivered_on` only for a case decided behind the window (结果交接, 送达回执)."""
    accept_due = calendar.add_working_days(received_on, ACCEPT_WITHIN_WORKING_DAYS) if received_on else None
    decide_due = calendar.add_working_days(accepted_on, promised_days) if accepted_on else None
    start = accepted_on or received_on
    deferred_due = calendar.add_working_days(start, defer_days) if has_deferred and start else None
    fix_due = calendar.add_working_days(refused_on, result_fix_days) if refused_on else None
    receipt_due = calendar.add_working_days(delivered_on, receipt_days) if delivered_on else None
    prereview_due = calendar.add_working_days(prereview_on, PREREVIEW_WITHIN_WORKING_DAYS) if prereview_on else None
    return Deadlines(accept_due, decide_due, deferred_due, fix_due, receipt_due, prereview_due)


def overdue_flags(status: CaseStatus, due: Deadlines, today: dt.date, deferred_outstanding: bool) -> list[str]:
    """Which deadlines have passed without the step being done (empty when on time)."""
    flags: list[str] = []
    if status == S.received and due.accept_due and today > due.accept_due:
        flags.append("accept")
    if status == S.accepted and due.decide_due and today > due.decide_due:
        flags.append("decide")
    if deferred_outstanding and status in OPEN_STATUSES and due.deferred_due and today > due.deferred_due:
        flags.append("deferred")
    if status == S.prereview and due.prereview_due and today > due.prereview_due:
        flags.append("prereview")
    if status == S.result_refused and due.result_fix_due and today > due.result_fix_due:
        flags.append("result_fix")
    if status == S.delivered and due.receipt_due and today > due.receipt_due:
        flags.append("receipt")
    return flags


def handover_due(
    calendar: WorkingCalendar,
    received: dt.datetime,
    *,
    noon: dt.time,
    morning_by: dt.time,
    afternoon_by: dt.time,
) -> dt.datetime:
    """By when paper received at `received` (hall-local, aware) must reach the department (材料交接):
    a working morning's by `morning_by` the same day, an afternoon's (or a day off's) by
    `afternoon_by` on the next working day."""
    day = received.date()
    if calendar.is_working_day(day) and received.time() < noon:
        return dt.datetime.combine(day, morning_by, received.tzinfo)
    return dt.datetime.combine(calendar.add_working_days(day, 1), afternoon_by, received.tzinfo)


def handover_late(due: dt.datetime, signed: dt.datetime | None, now: dt.datetime) -> bool:
    """Late: signed for after its deadline, or not signed for and the deadline has passed."""
    return (signed or now) > due


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
