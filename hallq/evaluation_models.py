"""好差评 over HTTP (DESIGN.md §11): the rating body and answer, the rectification orders and their actions.

Shared by the dispatcher (bodies and `response_model`s) and the devices and pages that rate. No answer
here holds a citizen's phone number: a 实名 rating shows the masked phone only.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from hallq.api_models import AnswerModel, Body, Timestamp

RatingChannel = Literal["web", "app", "qr", "evaluator", "terminal", "kiosk"]
OrderStatusName = Literal["open", "verified", "rectified", "closed", "escalated", "appealed", "upheld"]
MOBILE_PATTERN = r"^1[3-9]\d{9}$"


class RatingBody(Body):
    """`{score, reasons?, comment?, channel?, contact_phone?}`; `{score, comment?}` alone still works.

    `channel` is taken from the device's identity when a device rates; the citizen's own phone names
    web / app / qr (default qr, the ticket's QR page). `contact_phone` makes the rating 实名."""

    score: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    reasons: list[str] = Field(default_factory=list, max_length=10, description="codes of the level's reasons")
    comment: str | None = Field(None, max_length=500)
    channel: RatingChannel | None = None
    contact_phone: str | None = Field(None, pattern=MOBILE_PATTERN, description="a mobile number for 回访")


class TicketRatingBody(RatingBody):
    """`POST /halls/{hall}/evaluations`: the rating of one ticket, answered as §11 says (201)."""

    ticket_id: str = Field(min_length=1, max_length=64)


class Reason(AnswerModel):
    code: str
    label: str


class LevelOptions(AnswerModel):
    score: int
    label: str
    is_bad: bool
    reasons: list[Reason]


class RatingOptions(AnswerModel):
    """What a rating screen offers: the five levels, each with the hall's reasons."""

    levels: list[LevelOptions]
    window_days: int


class EvaluationView(AnswerModel):
    id: str
    subject: Literal["ticket", "case"]
    subject_id: str
    number: str
    round: int = Field(0, description="0 the rating, 1 the 追评 after its order was rectified")
    score: int
    level: str
    is_bad: bool
    reasons: list[Reason]
    comment: str
    channel: RatingChannel
    pf: int
    window: str | None
    clerk: str | None
    service: str | None
    task_code: str
    task_name: str
    real_name: bool
    masked_phone: str
    counts: bool
    void_reason: str | None
    served_at: Timestamp
    rated_at: Timestamp


class OrderDue(AnswerModel):
    verify: dt.date
    rectify: dt.date
    call_back: dt.date | None


class OrderStep(AnswerModel):
    at: Timestamp
    actor: str
    role: str
    action: str
    label: str
    from_status: OrderStatusName | None
    to_status: OrderStatusName
    note: str


class ServiceTimes(AnswerModel):
    """The rated ticket's times as the queue recorded them: waiting (first call − issue) and service
    (finish − the last call, at the rated window)."""

    issued_at: Timestamp
    called_at: Timestamp | None
    finished_at: Timestamp | None
    wait_s: int | None = Field(description="等候时长, seconds")
    service_s: int | None = Field(description="办理时长, seconds")


class RectificationView(AnswerModel):
    id: str
    status: OrderStatusName
    status_label: str
    evaluation: EvaluationView
    ticket: str | None
    case: str | None
    window: str | None
    due: OrderDue
    overdue: list[str]
    due_soon: bool
    reopened: int
    escalated: bool
    facts: str
    measures: str
    call_back: str
    satisfied: bool | None
    appeal: str
    decision: str
    history: list[OrderStep]
    times: ServiceTimes | None = Field(None, description="the rated ticket's times; none for a case")


class RatingAnswer(AnswerModel):
    """201 of a rating: a 差评 carries the rectification order it opened."""

    id: str
    score: int
    is_bad: bool
    rectification: RectificationView | None = None


class FollowUpAnswer(RatingAnswer):
    """201 of a 追评: linked to the rating it follows up; it opens no order."""

    follows: str = Field(description="the id of the first rating")


class RatingState(AnswerModel):
    """The citizen's page: their rating (None: not rated yet), its order's state, and the 追评 on offer."""

    rating: EvaluationView | None
    order_status: OrderStatusName | None
    order_status_label: str | None
    follow_up_open: bool
    follow_up: EvaluationView | None


class FeedStatus(AnswerModel):
    """How far the hall's ratings have gone to the provincial platform (`evaluation.sink`)."""

    sink: Literal["none", "file", "http"]
    recorded: int = Field(description="records written to the feed's outbox (ratings and their changes)")
    delivered: int = Field(description="records the sink has delivered, in order")
    pending: int
    last_error: str | None = Field(description="why the last delivery stopped; None while it flows")


class VerifyBody(Body):
    facts: str = Field(min_length=2, max_length=1000, description="核实情况: what happened, as found")


class ReasonBody(Body):
    reason: str = Field(min_length=2, max_length=500)


class RectifyBody(Body):
    measures: str = Field(min_length=2, max_length=1000, description="整改措施")


class CallBackBody(Body):
    satisfied: bool
    note: str = Field("", max_length=500, description="回访记录")


class CloseBody(Body):
    note: str = Field(min_length=2, max_length=500, description="the hall head's decision")


SummaryBy = Literal["hall", "window", "clerk", "service"]


class SummaryRow(AnswerModel):
    """One hall, window, clerk or service over a month. Ratings whose appeal was upheld are left out of
    every number; the three rates are shares of the 实名 差评 whose order has reached that step."""

    key: str = Field(description="the hall, window id, clerk's staff id or service code; '' for none")
    label: str
    count: int = Field(description="ratings counted (an upheld appeal's rating is not)")
    good: int = Field(description="好评: ratings of 4 and 5")
    good_pct: float | None = Field(description="好评率: good over count, %, one decimal; none without ratings")
    bad: int = Field(description="差评: ratings of 1 and 2")
    bad_real_name: int = Field(description="实名差评: 差评 that left a phone for 回访")
    replied_pct: float | None = Field(description="回复率: 实名差评 verified (核实) or further, %")
    rectified_pct: float | None = Field(description="整改率: 实名差评 rectified (整改) or further, %")
    called_back_pct: float | None = Field(description="回访率: 实名差评 called back (回访), %")
    rank: int | None = Field(None, description="by=window: the month's rank (好评率, then fewer 差评)")


class EvaluationSummary(AnswerModel):
    """`GET /halls/{hall}/evaluations/summary?month&by`: the month's 好差评 numbers (考核)."""

    month: str
    by: SummaryBy
    rows: list[SummaryRow]
    total: SummaryRow
    excluded: int = Field(description="ratings left out because their appeal was upheld")
