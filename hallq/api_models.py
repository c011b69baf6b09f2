"""The HTTP contract (DESIGN.md section 6): request bodies and answers, one pydantic model each.

The dispatcher declares these as its routes' bodies and `response_model`s; the kiosk, the terminal,
the board and the voice caller parse the answers into the same models, so a field renamed here is
renamed for both sides at once. Answers ignore unknown fields (a newer dispatcher may add some);
bodies forbid them (a typo is a 422, not a silently dropped option). Nothing here ever holds a full
name or ID number beyond the `IdCard` a kiosk sends (the dispatcher keeps only an HMAC and a masked
name).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, model_validator

Priority = Literal["normal", "green", "appointment"]
GreenReason = Literal["elderly", "disabled", "pregnant", "military"]
Channel = Literal["kiosk", "counter", "phone", "appointment"]
TicketStatus = Literal["waiting", "called", "done", "no_show", "parked", "cancelled", "expired"]
WindowState = Literal["open", "paused", "closed"]
MOBILE = r"^1[3-9]\d{9}$"  # a mainland mobile number (11 digits)
Role = Literal["clerk", "supervisor", "admin", "department"]
# A moment with its offset, written as Python's isoformat (2026-12-04T03:20:21.5+00:00), as the
# dispatcher has always written it.
Timestamp = Annotated[AwareDatetime, PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json")]


class Body(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class AnswerModel(BaseModel):
    """An answer: unknown fields are ignored so older devices keep working with a newer dispatcher."""

    model_config = ConfigDict(extra="ignore")


# ---- bodies ---------------------------------------------------------------------------------------


class IdCard(Body):
    """As read by the kiosk's card reader. Only an HMAC of the number and the masked name are kept."""

    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=40)
    birth: str = Field(pattern=r"^\d{8}$", description="YYYYMMDD")


class CardBody(Body):
    """`{id_card}`: a citizen identified by their ID card at a kiosk (e.g. to rate the service they had)."""

    id_card: IdCard


class IssueBody(Body):
    service: str = Field(min_length=1, max_length=4)
    priority: Literal["normal", "green"] = "normal"
    green_reason: GreenReason | None = None
    id_card: IdCard | None = None
    channel: Channel = "kiosk"
    device: str | None = Field(None, max_length=48)
    notify_phone: str | None = Field(
        None,
        pattern=MOBILE,
        description="a mobile number for the SMS 还有N位 / 请到X号窗口 (phone and kiosk tickets); kept only until "
        "the ticket ends, never shown or answered",
    )


class PhoneTicketBody(Body):
    """线上取号 from the phone page: the service and the citizen's ID number (the same per-person limits
    as at a kiosk; only its HMAC is kept), and a mobile for the SMS if they want one."""

    service: str = Field(min_length=1, max_length=4)
    id_number: str = Field(min_length=18, max_length=18, description="the resident ID number (18 characters)")
    notify_phone: str | None = Field(None, pattern=MOBILE, description="for 还有N位 / 请到X号窗口 by SMS")


class EvaluationBody(Body):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=500)


class PauseBody(Body):
    reason: str = Field("", max_length=40, description="shown as 暂停服务 (reason)")


class CallBackBody(Body):
    ticket: str = Field(min_length=1, max_length=64, description="id of the parked ticket")


class CallNumberBody(Body):
    number: str = Field(min_length=2, max_length=16, pattern=r"^[A-Za-z]{1,2}\d{1,5}$")


class TransferBody(Body):
    service: str | None = Field(None, min_length=1, max_length=4)
    window: str | None = Field(None, min_length=1, max_length=16)

    @model_validator(mode="after")
    def _exactly_one(self) -> TransferBody:
        if (self.service is None) == (self.window is None):
            raise ValueError("give exactly one of service or window 转业务或转窗口二选一")
        return self


class QuickServeBody(Body):
    service: str = Field(min_length=1, max_length=4)
    priority: Literal["normal", "green"] = "normal"
    green_reason: GreenReason | None = None
    id_card: IdCard | None = None


class WindowEvaluationBody(Body):
    """A rating from the window's evaluator (the MQTT `evaluate` command): for the window's current
    ticket unless it names one."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=500)
    ticket_id: str | None = Field(None, min_length=1, max_length=64, description="default: the window's ticket")


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    window: str | None = Field(None, min_length=1, max_length=16)
    hall: str | None = Field(None, min_length=1, max_length=32, description="needed only on multi-hall servers")


# ---- answers --------------------------------------------------------------------------------------


class TicketAnswer(AnswerModel):
    """A citizen's ticket: what the kiosk prints and the phone page shows."""

    id: str
    number: str
    service: str
    service_name: str
    priority: Priority
    green_reason: GreenReason | None = None
    status: TicketStatus
    ahead: int = Field(ge=0)
    estimated_wait_s: int = Field(ge=0)
    issued_at: Timestamp
    called_at: Timestamp | None = None
    window: str | None = None
    window_name: str | None = None
    masked_name: str | None = None
    channel: Channel
    status_url: str


class TicketPlace(AnswerModel):
    """One event of `GET /halls/{hall}/tickets/{id}/events` (Server-Sent Events, DESIGN.md §13): the
    ticket's place now, sent whenever it changes; the phone page shows it without polling."""

    status: TicketStatus
    ahead: int = Field(ge=0, description="tickets to be called before this one (0 unless waiting)")
    estimated_wait_s: int = Field(ge=0)
    window: str | None = Field(None, description="the window that called it (called, done, parked, no_show)")
    window_name: str | None = None


class TicketAtWindow(AnswerModel):
    """The ticket as the clerk's terminal shows it."""

    id: str
    number: str
    service: str
    service_name: str
    priority: Priority
    green_reason: GreenReason | None = None
    status: TicketStatus
    waited_s: int = Field(ge=0)
    issued_at: Timestamp
    called_at: Timestamp | None = None
    transferred_from: str | None = None
    recall_count: int = Field(0, ge=0)
    masked_name: str | None = None
    channel: Channel


class CalledAnswer(AnswerModel):
    """200 of call-next, call-back, 特呼 and quick-serve: the ticket now called at the window."""

    ticket: TicketAtWindow


class WindowAnswer(AnswerModel):
    """A window's state for its terminal (GET /windows/{w} and every window action)."""

    window: str
    name: str
    state: WindowState
    reason: str | None = None
    clerk: str | None = Field(None, description="display name of the clerk logged in to it")
    ticket: TicketAtWindow | None = Field(None, description="the ticket being served now, if any")
    waiting_for_my_services: dict[str, int] = Field(default_factory=dict)
    served_today: int = Field(0, ge=0)


class ItemRef(AnswerModel):
    code: str
    name: str


class ServiceInfo(AnswerModel):
    code: str
    name: str
    department: str = ""
    kind: str = "instant"
    open_now: bool = True
    waiting: int = Field(0, ge=0)
    est_wait_s: int = Field(0, ge=0)
    items: list[ItemRef] = Field(default_factory=list)


class WindowInfo(AnswerModel):
    id: str
    name: str
    kind: str = "comprehensive"
    services: list[str] = Field(default_factory=list)
    zone: str = ""


class HallInfo(AnswerModel):
    """GET /halls/{hall}: services (open now, waiting, estimate, items) and windows, what a kiosk shows."""

    id: str
    name: str
    notice: str = ""
    timezone: str = "Asia/Shanghai"
    around_the_clock: bool = False
    announce_template: str = "请{number}号到{window}办理"
    address: str = ""
    phone: str = ""
    services: list[ServiceInfo] = Field(default_factory=list)
    windows: list[WindowInfo] = Field(default_factory=list)

    def service(self, code: str) -> ServiceInfo | None:
        return next((s for s in self.services if s.code == code), None)


class HallHealth(AnswerModel):
    state: Literal["active", "standby", "recovering"]
    seq: int = Field(ge=0)


class HealthAnswer(AnswerModel):
    status: Literal["ok"] = "ok"
    halls: dict[str, HallHealth] = Field(default_factory=dict)


class AuditEntry(AnswerModel):
    id: int
    hall: str | None = None
    at: Timestamp | None = None
    actor: str
    role: str
    action: str
    target: str | None = None
    detail: dict[str, object] = Field(default_factory=dict)


class LoginAnswer(AnswerModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: Role
    window: str | None = None
    hall: str | None = None
    display_name: str


class LogoutAnswer(AnswerModel):
    logged_out: bool


class MeAnswer(AnswerModel):
    kind: Literal["user", "device"]
    name: str
    role: str = Field(description="clerk, supervisor or admin; for a device its kind (kiosk, board …)")
    display_name: str
    hall: str | None = None
    window: str | None = None
    windows: list[str] = Field(default_factory=list)


class NotifyStatus(AnswerModel):
    """GET /halls/{hall}/notify (supervisor, admin): the phone queue's SMS now. Counts only, no number."""

    sms: Literal["none", "file", "http"]
    waiting: int = Field(ge=0, description="messages planned and not yet taken by the gateway")
    phones: int = Field(ge=0, description="open tickets with a phone left for messages")
    sent: int = Field(ge=0, description="messages delivered since this dispatcher started")
    last_error: str | None = Field(None, description="why the gateway last failed, while it still does")


class ErrorAnswer(AnswerModel):
    """Every error: one sentence, in Chinese and English, that a clerk or a citizen can act on."""

    detail: str
