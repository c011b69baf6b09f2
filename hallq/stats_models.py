"""The answers of the statistics endpoints (DESIGN.md §12, docs/stats.md), defined once.

Times are whole seconds; a percentage is 0-100 with one decimal, None where it has no denominator
(no call, no open time, no rating); p50 / p90 are nearest-rank from fixed buckets (docs/stats.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field

from hallq.api_models import AnswerModel, Timestamp

StatsBy = Literal["day", "hour", "service", "window", "clerk", "item"]
AlertKind = Literal["wait_over_target", "window_paused", "open_another_window"]


class Durations(AnswerModel):
    count: int
    mean: float | None
    p50: int | None
    p90: int | None
    max: int | None


class Ratings(AnswerModel):
    count: int
    mean: float | None
    good_pct: float | None = Field(description="好评率: 4 and 5 of all ratings")
    bad: int = Field(description="差评: ratings of 1 and 2")


class CaseNumbers(AnswerModel):
    """The one-window cases' numbers (docs/stats.md "办件"): each counted on the day of its own step."""

    received: int = Field(description="收件: first received in the range (the receipt number's day)")
    instant: int = Field(description="即办件 among those received")
    instant_pct: float | None = Field(description="即办件占比: instant ÷ received")
    deferred: int = Field(description="容缺受理: received with a signed promise to bring a material later")
    accepted: int = Field(description="受理 in the range")
    accepted_in_time: int = Field(description="受理 within 2 working days of the (last) receipt")
    accepted_in_time_pct: float | None
    decided: int = Field(description="办结 in the range: approved or rejected")
    decided_in_time: int = Field(description="办结 by the promised deadline")
    on_time_pct: float | None = Field(description="按时办结率: decided_in_time ÷ decided")
    overdue: int = Field(description="deadlines (受理 or 办结) in the range that were missed")


class DepartmentNumbers(CaseNumbers):
    """A department's case numbers and the back office's own (docs/stats.md "Per department")."""

    handed_over: int = Field(0, description="材料交接: cases whose paper the department signed for in the range")
    handovers_late: int = Field(0, description="of those, signed for after their deadline (逾期交接)")
    prereviewed: int = Field(0, description="网上预审 passed in the range")
    prereviewed_first_time: int = Field(0, description="of those, passed at the first submission")
    prereviewed_first_time_pct: float | None = Field(None, description="预审一次通过率")


class DepartmentRow(AnswerModel):
    department: str
    cases: DepartmentNumbers


class DepartmentStats(AnswerModel):
    """GET /halls/{hall}/stats/departments: the one-window numbers per department behind the window
    (docs/stats.md): 按期受理, 按时办结率, 逾期交接, 预审一次通过."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    rows: list[DepartmentRow] = Field(default_factory=list)


class StatsRow(AnswerModel):
    key: str = Field(description="the day (YYYY-MM-DD), the hour (09), the service code, window id, clerk or item")
    label: str = Field(description="what a person reads: 09:00-10:00, 社保业务, 1号窗口, the clerk's username")
    issued: int
    called: int = Field(description="first calls (each is one waiting-time sample)")
    served: int
    no_show: int
    cancelled: int
    expired: int = Field(description="still waiting when the day closed")
    abandoned: int = Field(description="left unserved: cancelled + expired")
    transferred: int
    recalled: int
    wait_s: Durations
    service_s: Durations
    within_target: int = Field(description="first calls within the service's target wait")
    within_target_pct: float | None
    open_s: int = Field(description="seconds a window was open (window and clerk rows)")
    utilisation_pct: float | None = Field(description="service time ÷ open time")
    rating: Ratings
    queue_mean: float | None = Field(
        default=None, description="by=hour: mean number waiting in that hour (time-weighted), per day worked"
    )
    open_windows_mean: float | None = Field(
        default=None, description="by=hour: mean number of open windows in that hour, per day worked"
    )
    cases: CaseNumbers | None = Field(
        default=None, description="the cases' numbers: by day, service or item, rows and total (not for a clerk)"
    )


class StatsAnswer(AnswerModel):
    hall: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    by: StatsBy
    rows: list[StatsRow]
    total: StatsRow
    folded_seq: int = Field(description="the last event counted: later ones are not in these numbers yet")

    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)


class LiveService(AnswerModel):
    service: str
    name: str
    waiting: int
    longest_wait_s: int = Field(description="the longest-waiting ticket's wait so far (0: nobody waits)")
    open_windows: int = Field(description="open windows serving it")
    target_wait_s: int


class LiveWindow(AnswerModel):
    window: str
    name: str
    state: Literal["open", "paused", "closed"]
    since_s: int | None = Field(description="seconds in this state (None: not known since the last restart)")


class Alert(AnswerModel):
    kind: AlertKind
    service: str | None = None
    window: str | None = None
    text: str


class LiveAnswer(AnswerModel):
    hall: str
    at: Timestamp
    services: list[LiveService]
    windows: list[LiveWindow]
    alerts: list[Alert]


class WaitBin(AnswerModel):
    label: str = Field(description="what a person reads: 5-10分钟")
    from_s: int = Field(description="waits longer than this …")
    to_s: int | None = Field(description="… and at most this (None: no upper bound)")
    count: int


class WaitDistribution(AnswerModel):
    hall: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    count: int = Field(description="first calls (waiting-time samples) in the range")
    bins: list[WaitBin]
    folded_seq: int

    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)


class StreamTicket(AnswerModel):
    """Opens one `stats/live/stream` (an EventSource cannot send an Authorization header)."""

    ticket: str
    expires_in_s: int = Field(description="unused after this many seconds it opens nothing")
    stream_url: str = Field(description="the stream's path with the ticket, for `new EventSource(...)`")
